"""Build configs/lexicons/drugs.yaml from the hand seed and the drug-named-entity-recognition
dictionary.

    python -m training.build_drug_lexicon [--seed PATH] [--filters PATH] [--out PATH]

For every seed drug the surface names are: the generic, the seed `brands` and `names`, and the
synonyms the package dictionary lists for the seed's `package_keys` (default: the generic),
filtered (no codes or digits, no chemical or systematic names, no Latin or foreign spellings of
the generic, no manufacturer-labelled generics, no blocked words, no name claimed by two
drugs). A drug's `source` is `package` when the package knows one of its `package_keys` (default: the
generic), else `supplement` (hand-made entries have `package_keys: []`); `added` lists the names that come from the seed and not from the package.
"""

from __future__ import annotations

import argparse
import bz2
import difflib
import os
import pickle
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from nlp.config import configs_dir, plain, read_yaml
from nlp.lexicon import trailing_words

LEX = configs_dir() / "lexicons"


def load_package_dictionary() -> dict:
    import drug_named_entity_recognition as pkg

    path = os.path.join(os.path.dirname(pkg.__file__), "drug_ner_dictionary.pkl.bz2")
    with bz2.open(path, "rb") as fh:
        return pickle.load(fh)


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().lower())


class SynonymFilter:
    def __init__(self, filters: dict):
        self.salt_words = trailing_words(filters)
        self.blocked = {w.lower() for w in filters["blocked_names"]}
        self.first_words = {w.lower() for w in filters["blocked_first_words"]}
        self.min_len = int(filters["min_pulled_length"])
        frags = filters["chemical_fragments"]
        self.chem = re.compile("|".join(re.escape(f) for f in frags)) if frags else None

    def keep(self, variant: str, generic: str) -> bool:
        v = _norm(variant)
        g = _norm(generic)
        if v == g:
            return True
        if len(v) < self.min_len or len(v) > 30 or v in self.blocked:
            return False
        if re.split(r"[ \-]", v)[0] in self.first_words:
            return False
        if not re.fullmatch(r"[a-z][a-z .'\-]*[a-z]", v):  # ascii letters only: no codes, accents
            return False
        if len(v.split()) > 3:
            return False
        if v.startswith(g + " ") or v.startswith(g + "-"):
            # "tramadol hydrochloride" yes; "tramadol kern", "zolpidem abz" (makers) no
            rest = re.split(r"[ \-]", v[len(g) + 1 :])
            return all(w in self.salt_words for w in rest if w)
        if self.chem is not None and self.chem.search(v):
            return False
        if difflib.SequenceMatcher(None, v, g).ratio() >= 0.8:
            return False  # foreign/Latin spelling or misspelling of the generic
        if g in v:  # "sodium, naproxen", "naproxenate"
            return False
        return True


def build(seed_path: Path, filters_path: Path, pkgd: dict | None = None) -> tuple[dict, dict]:
    """(lexicon, report) from the seed, the filters and the package dictionary (loaded when not given)."""
    seed = read_yaml(seed_path)
    filters = read_yaml(filters_path)
    flt = SynonymFilter(filters)
    pkgd = load_package_dictionary() if pkgd is None else pkgd
    v2c: dict[str, list[str]] = pkgd["drug_variant_to_canonical"]
    by_canonical: dict[str, list[str]] = defaultdict(list)
    for variant, canonicals in v2c.items():
        for c in canonicals:
            by_canonical[c.lower()].append(variant)

    entries = []
    for d in seed["drugs"]:
        generic = _norm(d["generic"])
        keys = d.get("package_keys", [generic])
        seed_names = ([] if d.get("product_only") else [generic]) + list(d.get("brands", [])) + list(
            d.get("names", [])
        )
        pulled = []
        for k in keys:
            for v in by_canonical.get(k.lower(), []):
                if len(v2c.get(v, [])) == 1 and flt.keep(v, k.lower()) and flt.keep(v, generic):
                    pulled.append(v)
        in_package = any(k.lower() in by_canonical for k in keys)
        entries.append((d, generic, seed_names, pulled, in_package))

    # a name claimed by two drugs (different generic or class) is dropped unless the seed
    # gives it to exactly one drug (the seed wins)
    seed_owner: dict[str, set] = defaultdict(set)
    pulled_owner: dict[str, set] = defaultdict(set)
    for d, generic, seed_names, pulled, _ in entries:
        for n in seed_names:
            seed_owner[_norm(n)].add((generic, d["class"]))
        for n in pulled:
            pulled_owner[_norm(n)].add((generic, d["class"]))
    report: dict = {"dropped_ambiguous": [], "seed_conflicts": []}
    for n, owners in seed_owner.items():
        if len(owners) > 1:
            report["seed_conflicts"].append((n, sorted(owners)))

    drugs_out = []
    for d, generic, seed_names, pulled, in_package in entries:
        names: list[str] = []
        seen = set()
        added = []
        pkg_names = {_norm(v) for k in d.get("package_keys", [generic]) for v in by_canonical.get(k.lower(), [])}
        for n in seed_names:
            key = _norm(n)
            if key in seen:
                continue
            seen.add(key)
            names.append(n if n != generic else generic)
            if key not in pkg_names and len(v2c.get(key, [])) == 0:
                added.append(n)
        for n in pulled:
            key = _norm(n)
            if key in seen:
                continue
            if key in seed_owner or len(pulled_owner[key]) > 1:
                report["dropped_ambiguous"].append(n)
                continue
            seen.add(key)
            names.append(n)
        out = {"generic": generic, "class": d["class"]}
        if d.get("subclass"):
            out["subclass"] = d["subclass"]
        if d.get("components"):
            out["components"] = [_norm(c) for c in d["components"]]
        out["source"] = "package" if in_package else "supplement"
        if d.get("product_only"):
            out["product_only"] = True
        out["names"] = names
        brand_keys = {_norm(b) for b in d.get("brands", [])}
        out["brands"] = [n for n in names if _norm(n) in brand_keys]
        if added:
            out["added"] = added
        if d.get("strengths"):
            out["strengths"] = list(d["strengths"])
        for k in ("stance", "guideline"):
            if d.get(k) is not None:
                out[k] = d[k]
        drugs_out.append(out)

    lexicon = {"classes": seed["classes"], "drugs": drugs_out}
    return lexicon, report


def package_tier(package: dict, lexicon: dict, filters: dict, class_nouns) -> list[tuple[str, str]]:
    """(name, generic) of the package tier: the package's other single-word drug names, and the
    two-word ones that are their own generic ("insulin glargine"), by the rules of `package_tier` in
    drug_name_filters.yaml (names the seed lexicon has stay the seed's)."""
    rules = filters["package_tier"]
    blocked = {str(w).lower() for w in rules["blocked_names"]} | trailing_words(filters)
    blocked |= {n for c in class_nouns for n in (c.lower(), c.lower() + "s")}
    ends = tuple(str(e).lower() for e in rules["group_endings"])
    seed = {_norm(n) for d in lexicon["drugs"] for n in d["names"]}
    shape = re.compile(r"[a-z][a-z\-]{%d,29}" % (int(rules["min_length"]) - 1))
    two_words = re.compile(r"(?=.{%d,30}$)[a-z][a-z\-]{2,} [a-z][a-z\-]{2,}" % int(rules["min_length"]))
    data = package["drug_canonical_to_data"]
    out = []
    for name, canonicals in package["drug_variant_to_canonical"].items():
        if len(canonicals) != 1 or name in seed or name in blocked:
            continue
        generic = canonicals[0]
        if not shape.fullmatch(name) and not (name == generic and two_words.fullmatch(name)):
            continue
        if not re.fullmatch(r"[a-z][a-z\-]*(?: [a-z][a-z\-]*)?", generic) or generic.endswith(ends):
            continue
        if (generic != name or " " in name) and generic.endswith("s"):
            continue  # a group: "penicillins", "amino acids"
        if not (data.get(generic) or {}).get("drugbank_id"):
            continue
        out.append((name, generic))
    return sorted(out)


TIER_HEADER = """\
# GENERATED by training/build_drug_lexicon.py from the drug-named-entity-recognition dictionary and
# the `package_tier` rules of drug_name_filters.yaml: one drug name a line, TAB, its generic. Every
# name is a DRUG of class `other` (nlp/lexicon.py); the seed lexicon (drugs.yaml) wins where both name
# a drug. Rebuild with the lexicon: python -m training.build_drug_lexicon
"""


HEADER = """\
# GENERATED by training/build_drug_lexicon.py from configs/lexicons/drug_seed.yaml and the
# drug-named-entity-recognition dictionary; edit the seed and rebuild.
#
# classes: <class>: {stance, guideline}; drugs: one entry per (generic, class) with
#   names      surface forms as letters write them (generic, brands, package synonyms)
#   brands     well-known US brands (a subset of names; the corpus generator prefers them)
#   source     package (generic known to the package dictionary) | supplement (hand added)
#   added      names that come from the hand seed, not from the package
#   components ingredients of a fixed combination; generic is "a/b" in that order
# A generic may appear under two classes (gabapentin: anticonvulsant; Fanatrex, a compounded
# gabapentin suspension: compounded): the surface name decides the class.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=Path, default=LEX / "drug_seed.yaml")
    ap.add_argument("--filters", type=Path, default=LEX / "drug_name_filters.yaml")
    ap.add_argument("--out", type=Path, default=LEX / "drugs.yaml")
    ap.add_argument("--tier-out", type=Path, default=LEX / "drugs_package.tsv")
    args = ap.parse_args(argv)
    package = load_package_dictionary()  # a bz2 pickle of 100,000 names: read once for both files
    lexicon, report = build(args.seed, args.filters, package)
    text = HEADER + yaml.safe_dump(plain(lexicon), sort_keys=False, allow_unicode=False, width=100, default_flow_style=None)
    args.out.write_text(text)
    from nlp.ner.patterns import drug_class_nouns

    tier = package_tier(package, lexicon, read_yaml(args.filters), drug_class_nouns())
    args.tier_out.write_text(TIER_HEADER + "".join(f"{n}\t{g}\n" for n, g in tier), encoding="utf-8")
    print(f"wrote {args.tier_out}: {len(tier)} package-tier names", file=sys.stderr)
    n_names = sum(len(d["names"]) for d in lexicon["drugs"])
    generics = {d["generic"] for d in lexicon["drugs"]}
    classes = {d["class"] for d in lexicon["drugs"]}
    print(
        f"wrote {args.out}: {len(lexicon['drugs'])} entries, {n_names} names, "
        f"{len(generics)} generics, {len(classes)} classes",
        file=sys.stderr,
    )
    if report["seed_conflicts"]:
        print("seed names given to two drugs:", report["seed_conflicts"], file=sys.stderr)
    print(f"dropped {len(report['dropped_ambiguous'])} ambiguous package synonyms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
