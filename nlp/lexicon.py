"""Drug lexicon: configs/lexicons/drugs.yaml (built by training/build_drug_lexicon.py).

`get_lexicon()` returns a process-wide cached `DrugLexicon`. `DrugLexicon.lookup(text)` maps a
drug mention as letters write it to `(generic, drug_class)` or None:

- case-insensitive; ``®``/``™`` and surrounding punctuation ignored;
- doses and packs dropped ("2mg", "5/325mg", "20%", "#30", "240g");
- salt and form words ignored (HCL, ER, sodium, citrate, "oral tablet" ...: the longest
  leading run of words that names a drug wins, so "Oxycodone HCL ER" -> oxycodone);
- small misspellings (one or two letters: "Ketaprofen", "Prosom", "Cyclobenzaprin");
- slash combinations without doses ("hydrocodone/APAP"). **Combination rule**: each part is
  looked up (APAP, ASA ... read as in `component_abbreviations`); if the lexicon has a product
  with exactly those ingredients its generic and class are used ("hydrocodone/APAP" ->
  hydrocodone/acetaminophen, opioid; "APAP/hydrocodone" too). Otherwise the generic is the
  parts' generics joined with "/" in the order written, and the class is `compounded` when the
  mention has a topical form word (cream, gel, patch ...) or a percent strength ("3%") or
  three or more ingredients, else
  the highest of the parts' classes in `combination_class_priority` (opioid first).
- a single drug written with a topical form word or a percent strength ("ketoprofen 20% in
  cream base", "Diclofenac sodium 3%") takes the
  lexicon's topical or compounded entry of the same generic when there is one, else the class
  `compounded` (not for classes in `topical_keeps_class`, e.g. fentanyl patch stays opioid).
- the package tier (configs/lexicons/drugs_package.tsv): the other drug names of the
  drug-named-entity-recognition dictionary, class `other` ("Invokana" -> canagliflozin). They are
  exact names only: no misspellings are read as them, and the seed's names win.

Pure Python; no spaCy.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from nlp.config import config_text, configs_dir, has_config, read_config, read_yaml

DRUGS = "lexicons/drugs.yaml"  # under configs/ (`nlp.config`, which finds them at each load)
FILTERS = "lexicons/drug_name_filters.yaml"
PACKAGE_TIER = "lexicons/drugs_package.tsv"
# where they were when this module was imported (for tools and tests that read the files)
LEXICON_DIR = configs_dir() / "lexicons"
DRUGS_PATH = configs_dir() / DRUGS
FILTERS_PATH = configs_dir() / FILTERS

_DOSE_RE = re.compile(
    r"""(?ix)
    \#\s*\d+(?:\.\d+)?                                   # #30
    | \b\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)*\s*        # 5/325, 7.5, 300/30
      (?:mg/g|mg/ml|mcg/hr|mcg/h|mg|mcg|gm|grams?|g|ml|%|units?|iu)?(?![a-z])
    """
)
_JUNK_RE = re.compile(r"[®™©*\"“”]")
_WS_RE = re.compile(r"\s+")
_TOKEN_STRIP = " .,;:()[]{}'\"!?"


@dataclass(frozen=True)
class DrugEntry:
    generic: str
    drug_class: str
    names: tuple[str, ...]
    brands: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    subclass: str | None = None
    source: str = "package"
    strengths: tuple[str, ...] = ()
    stance: str | None = None
    guideline: dict | None = field(default=None, compare=False, hash=False)
    product_only: bool = False


def trailing_words(filters: dict) -> set[str]:
    """Salt, release and dosage-form words of drug_name_filters.yaml: dropped from the end of a
    name when looking it up ("Oxycodone HCL ER", "oral tablet")."""
    return {str(w).lower() for key in ("salt_words", "release_words", "form_words") for w in filters[key]}


def _norm(text: str) -> str:
    text = _JUNK_RE.sub(" ", text.lower())
    return _WS_RE.sub(" ", text).strip(_TOKEN_STRIP + " -")


class DrugLexicon:
    """Surface name -> (generic, drug_class); see module docstring for the lookup rules."""

    def __init__(self, data: dict, filters: dict, tier: Iterable[tuple[str, str]] = ()):
        self.classes: dict[str, dict] = dict(data.get("classes") or {})
        self.entries: list[DrugEntry] = []
        self._index: dict[str, DrugEntry] = {}
        self._surface: list[str] = []
        for d in data.get("drugs") or []:
            e = DrugEntry(
                generic=str(d["generic"]).lower(),
                drug_class=str(d["class"]),
                names=tuple(str(n) for n in d.get("names", [])),
                brands=tuple(str(n) for n in d.get("brands", [])),
                components=tuple(str(c).lower() for c in d.get("components", [])),
                subclass=d.get("subclass"),
                source=d.get("source", "package"),
                strengths=tuple(str(s) for s in d.get("strengths", []) or []),
                stance=d.get("stance"),
                guideline=d.get("guideline"),
                product_only=bool(d.get("product_only", False)),
            )
            self.entries.append(e)
            for n in e.names:
                key = _norm(n)
                if key and key not in self._index:  # first entry in file order wins
                    self._index[key] = e
                    self._surface.append(n)
        tier_entries: dict[str, DrugEntry] = {}  # one per generic; kept out of `entries` (the seed's drugs)
        self._tier_names: list[str] = []
        for name, generic in tier:
            key = _norm(name)
            if key and key not in self._index:
                e = tier_entries.setdefault(generic, DrugEntry(generic=generic, drug_class="other", names=(),
                                                               source="package_tier"))
                self._index[key] = e
                self._tier_names.append(key)
        self._by_generic: dict[str, list[DrugEntry]] = {}
        for e in self.entries:
            self._by_generic.setdefault(e.generic, []).append(e)
        self._by_components: dict[frozenset, DrugEntry] = {}
        for e in self.entries:
            if e.components and not e.product_only:
                self._by_components.setdefault(frozenset(e.components), e)
        self._salt = trailing_words(filters)
        self._stop = {str(w).lower() for w in filters["ignored_words"]}
        self._topical = {w.lower() for w in filters["topical_form_words"] if " " not in w}
        self._abbrev = {k.lower(): v.lower() for k, v in filters["component_abbreviations"].items()}
        prio = filters["combination_class_priority"]
        self._prio = {c: i for i, c in enumerate(prio)}
        self._topical_keeps = set(filters["topical_keeps_class"])
        # misspellings are matched only against generics, seed brands and hand-added names,
        # not against the package's foreign synonyms ("fluid" is not "fluxid")
        fuzzy_keys = set()
        for d in data.get("drugs") or []:
            for n in [d["generic"], *d.get("brands", []), *d.get("added", [])]:
                k = _norm(str(n))
                if k in self._index and " " not in k and "/" not in k:
                    fuzzy_keys.add(k)
        self._by_initial: dict[str, list[str]] = {}
        for key in sorted(fuzzy_keys):
            self._by_initial.setdefault(key[0], []).append(key)
        self.lookup = lru_cache(maxsize=8192)(self._lookup)  # type: ignore[method-assign]
        self.entry = lru_cache(maxsize=8192)(self._entry)  # type: ignore[method-assign]
        self._max_words = max((k.count(" ") + 1 for k in self._index), default=1)

    # ------------------------------------------------------------------ public API
    @classmethod
    def load(cls, path: Path | str | None = None, filters_path: Path | str | None = None) -> "DrugLexicon":
        """The lexicon of the given files; by default configs/lexicons/ (`nlp.config.read_config`)."""
        return cls(read_yaml(path) if path else read_config(DRUGS),
                   read_yaml(filters_path) if filters_path else read_config(FILTERS),
                   () if path else package_tier())

    def find_any(self, text: str) -> bool:
        """Does `text` contain a surface name of the lexicon as whole words (case-insensitive)?"""
        words = re.findall(r"[a-z0-9][a-z0-9'-]*", text.lower())
        for n in range(1, self._max_words + 1):
            for i in range(len(words) - n + 1):
                if " ".join(words[i:i + n]) in self._index:
                    return True
        return False

    def surface_forms(self) -> list[str]:
        """Every surface name of the seed lexicon once (first spelling in the file), for an spaCy
        entity_ruler."""
        return list(self._surface)

    def tier_names(self) -> list[str]:
        """The package tier's names (lower case) that the seed lexicon does not have."""
        return list(self._tier_names)

    def names_by_class(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, e in self._index.items():
            out.setdefault(e.drug_class, []).append(key)
        return out

    def class_info(self, drug_class: str) -> dict | None:
        """`{"stance", "guideline"}` of a class (configs/lexicons/drugs.yaml)."""
        return self.classes.get(drug_class)

    def generics(self) -> set[str]:
        return {e.generic for e in self.entries}

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self.lookup(text) is not None

    def _lookup(self, text: str) -> tuple[str, str] | None:
        """(generic, drug_class) of a drug mention, or None."""
        res = self._resolve(text)
        return None if res is None else (res[0], res[1])

    def _entry(self, text: str) -> DrugEntry | None:
        """The lexicon entry behind a mention (None for combinations the lexicon lacks)."""
        res = self._resolve(text)
        return None if res is None else res[2]

    # ------------------------------------------------------------------ internals
    def _resolve(self, text: str) -> tuple[str, str, DrugEntry | None] | None:
        if not isinstance(text, str):
            return None
        key = _norm(text)
        if not key or len(key) > 300:
            return None
        e = self._index.get(key)
        if e is not None:
            return e.generic, e.drug_class, e
        s = _norm(_DOSE_RE.sub(" ", re.sub(r"\([^)]*\)", " ", key)))
        if not s:
            s = _norm(_DOSE_RE.sub(" ", key))
        if not s:
            return None
        e = self._index.get(s)
        if e is not None:
            return e.generic, e.drug_class, e
        words = [w.strip(_TOKEN_STRIP) for w in re.split(r"[\s]+", s)]
        # a topical form word or a percent strength marks a topical/compounded product
        topical = "%" in key or any(w in self._topical for w in re.split(r"[\s/\-+,]+", s))
        # slash/plus combinations
        if re.search(r"[a-z0-9.%)]\s*[/+]\s*[a-z]", s):
            combo = self._combination(re.split(r"\s*[/+]\s*", s), topical)
            if combo is not None:
                return combo
        if re.search(r"[a-z]\s*-\s*[a-z]", s):  # "Cyclobenzaprine 3%-Gabapentin 6%"
            combo = self._combination(re.split(r"\s*-\s*", s), topical, strict=True)
            if combo is not None:
                return combo
        found = self._single(words)
        if found is None:
            found = self._fuzzy(words)
        if found is None:
            return None
        if topical:
            found = self._topical_variant(found)
        return found.generic, found.drug_class, found

    def _single(self, words: list[str]) -> DrugEntry | None:
        """Longest leftmost run of words that names a drug; salt/form words may follow."""
        words = [w for w in words if w]
        n = len(words)
        for size in range(min(n, 6), 0, -1):
            for i in range(0, n - size + 1):
                chunk = words[i : i + size]
                if size == 1 and (chunk[0] in self._stop or chunk[0] in self._salt or chunk[0] in self._topical):
                    continue
                e = self._index.get(" ".join(chunk))
                if e is not None:
                    return e
        return None

    def _part(self, part: str) -> DrugEntry | None:
        p = _norm(part)
        if not p:
            return None
        p = self._abbrev.get(p, p)
        e = self._index.get(p)
        if e is not None:
            return e
        words = [w.strip(_TOKEN_STRIP) for w in p.split()]
        words = [self._abbrev.get(w, w) for w in words]
        return self._single(words) or self._fuzzy(words)

    def _combination(self, parts: list[str], topical: bool, strict: bool = False):
        parts = [p for p in (_norm(x) for x in parts) if p]
        if len(parts) < 2:
            return None
        found = [self._part(p) for p in parts]
        hits = [e for e in found if e is not None]
        if strict and len(hits) != len(parts):
            return None
        if not hits:
            return None
        comps: list[str] = []
        for e in hits:
            for c in e.components or (e.generic,):
                if c not in comps:
                    comps.append(c)
        if len(comps) == 1:
            e = hits[0]
            if topical:
                e = self._topical_variant(e)
            return e.generic, e.drug_class, e
        known = self._by_components.get(frozenset(comps))
        if known is not None:
            return known.generic, known.drug_class, known
        generic = "/".join(comps)
        if topical or len(comps) >= 3 or any(e.drug_class == "compounded" for e in hits):
            return generic, "compounded", None
        cls = min((e.drug_class for e in hits), key=lambda c: self._prio.get(c, len(self._prio)))
        return generic, cls, None

    def _fuzzy(self, words: list[str]) -> DrugEntry | None:
        cands = [w for w in words if len(w) >= 5 and w not in self._stop and w not in self._salt]
        joined = " ".join(words)
        tries = ([joined] if len(words) > 1 and len(joined) >= 5 else []) + cands
        for w in tries:
            pool = self._by_initial.get(w[0], [])
            # allow ~1 edit in 6 letters
            cutoff = 0.84 if len(w) >= 8 else 0.86
            m = difflib.get_close_matches(w, pool, n=1, cutoff=cutoff)
            if m:
                return self._index[m[0]]
        return None

    def _topical_variant(self, e: DrugEntry) -> DrugEntry:
        if e.drug_class in self._topical_keeps or e.components:
            return e
        variants = self._by_generic.get(e.generic, [])
        for cls in ("topical_analgesic", "compounded"):
            for v in variants:
                if v.drug_class == cls:
                    return v
        return DrugEntry(generic=e.generic, drug_class="compounded", names=(), source=e.source)


def package_tier() -> list[tuple[str, str]]:
    """(name, generic) pairs of configs/lexicons/drugs_package.tsv (none when the file is absent)."""
    if not has_config(PACKAGE_TIER):
        return []
    rows = (line.split("\t") for line in config_text(PACKAGE_TIER).splitlines() if line and not line.startswith("#"))
    return [(r[0], r[1]) for r in rows if len(r) == 2]


@lru_cache(maxsize=4)
def get_lexicon(path: str | None = None) -> DrugLexicon:
    """Process-wide cached lexicon (default configs/lexicons/drugs.yaml)."""
    return DrugLexicon.load(path)


def lookup(text: str) -> tuple[str, str] | None:
    """Shortcut for `get_lexicon().lookup(text)`."""
    return get_lexicon().lookup(text)


def surface_forms() -> list[str]:
    return get_lexicon().surface_forms()


__all__: Iterable[str] = ["DrugEntry", "DrugLexicon", "get_lexicon", "lookup", "surface_forms"]
