"""Knowledge base and template loading; held-out sets for the test_unseen split."""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from nlp.config import read_yaml

from .text import Template

REPO = Path(__file__).resolve().parents[2]


def _load(path: Path):
    return read_yaml(path)  # the one config loader: a missing key raises ConfigError


def expand_pages(pages: str | None) -> list[int]:
    out = []
    if not pages:
        return out
    for part in str(pages).split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


@dataclass
class KB:
    treatments: dict
    by_cat: dict
    topics: dict
    documents: dict
    refs: dict
    forms: list
    paragraphs: list
    generic: dict  # mention text -> source
    drug_classes: dict
    drug_overrides: dict
    drugs: list
    drugs_by_class: dict
    drug_request_forms: list
    compound_request_forms: list
    templates: dict  # kind -> [Template]
    vocab: dict
    voices: dict
    compiled: dict = field(default_factory=dict)  # cache of compiled KB strings
    drug_by_name: dict = field(default_factory=dict)  # lower-cased surface name -> lexicon entry
    kb_drug_mentions: frozenset = frozenset()  # generics the KB texts name ([[D:...]])
    # real-letter forms (treatments.yaml count_forms / dosage_forms / drug_request_forms_dosing;
    # citations.yaml drug_topic_forms / multi_document / paired_mentions); empty: not written
    count_forms: dict = field(default_factory=dict)
    dosage_forms: dict = field(default_factory=dict)
    drug_request_forms_dosing: list = field(default_factory=list)
    drug_topic_forms: list = field(default_factory=list)
    drug_topic_share: float = 0.0
    multi_document: dict = field(default_factory=dict)
    paired_mentions: dict = field(default_factory=dict)
    # templates/layout_text.yaml: each layout's fixed prose (name -> str.format template) and
    # the short alternatives picked from it (name -> list)
    layout_text: dict = field(default_factory=dict)
    layout_choices: dict = field(default_factory=dict)

    def synonyms(self):
        """(compiled regex, table) of vocab.yaml `synonyms` (longest phrase first)."""
        if "_syn" not in self.compiled:
            import re as _re
            table = {k: list(v) for k, v in (self.vocab.get("synonyms") or {}).items()}
            keys = sorted(table, key=len, reverse=True)
            rx = _re.compile(r"(?<![\w-])(?:" + "|".join(_re.escape(k) for k in keys) + r")(?![\w-])") if keys else None
            self.compiled["_syn"] = (rx, table)
        return self.compiled["_syn"]

    def split_dosage_form(self, name: str) -> tuple[str, str]:
        """("Terocin", " lotion") for "Terocin lotion": a dosage-form word (`dosage_forms.words`),
        with a strength before it ("lidocaine 5% patch"), is not part of the drug's name (SPEC §2)."""
        if "_dosage" not in self.compiled:
            import re as _re
            words = sorted((self.dosage_forms or {}).get("words") or [], key=len, reverse=True)
            self.compiled["_dosage"] = _re.compile(
                r"^(?P<name>.*?\w)(?P<rest>(?:\s+\d+(?:\.\d+)?%)?\s+(?:" + "|".join(_re.escape(w) for w in words)
                + r"))$", _re.I) if words else None
        rx = self.compiled["_dosage"]
        m = rx.match(name) if rx else None
        return (m["name"], m["rest"]) if m else (name, "")

    def template_kinds(self) -> dict[str, str]:
        """Template id → its sentence kind (`summary_finding_met`, `r_gap`, ...)."""
        return {t.id: kind for kind, templates in self.templates.items() for t in templates}

    def tpl(self, text: str) -> Template:
        t = self.compiled.get(text)
        if t is None:
            t = self.compiled[text] = Template.compile(text)
        return t

    def drug_norm(self, name: str) -> dict:
        d = self.drug_by_name.get(name.lower())
        if d is None:
            return {"generic": name.lower(), "drug_class": "other"}
        return {"generic": d["generic"], "drug_class": d["class"]}

    def generic_norm(self, text: str) -> dict:
        src = self.generic.get(text)
        if src is None:
            raise KeyError(f"unknown generic guideline mention {text!r}")
        return {"source": src, "document": None, "topic": None, "pages": []}


def resolve(path: str | os.PathLike, base: Path = REPO) -> Path:
    """`path` relative to `base` (the checkout); a `configs/...` path is under the configs
    folder wherever `nlp.config.configs_dir()` finds it (an installed wheel, `IMR_CONFIGS`)."""
    p = Path(path)
    if p.is_absolute():
        return p
    if base == REPO and p.parts[:1] == ("configs",):
        from nlp.config import configs_dir

        return configs_dir().joinpath(*p.parts[1:])
    return base / p


def load_layout_text(path: Path) -> tuple[dict, dict]:
    """(name -> template text, name -> alternatives) of templates/layout_text.yaml. The fixed
    headings and line starts are fields there, filled by letter.py with `markers.written(...)`."""
    lt = _load(path)
    return ({name: t["text"] for name, t in lt["templates"].items()},
            {k: list(v) for k, v in lt["choices"].items()})


def load_kb(cfg: dict) -> KB:
    kbdir = resolve(cfg["kb_dir"])
    tdir = resolve(cfg["templates_dir"])
    tr = _load(kbdir / "treatments.yaml")
    rules = _load(kbdir / "rules.yaml")
    cit = _load(kbdir / "citations.yaml")
    sent = _load(tdir / "sentences.yaml")
    vocab = _load(tdir / "vocab.yaml")
    layout_text, layout_choices = load_layout_text(tdir / "layout_text.yaml")
    drug_path = os.environ.get("IMR_DRUG_LEXICON") or cfg["drug_lexicon"]
    lex = _load(resolve(drug_path))

    treatments = {}
    by_cat: dict = {}
    for t in tr["treatments"]:
        if t["id"] in treatments:
            raise ValueError(f"duplicate treatment id {t['id']}")
        if t["topic"] not in rules["topics"]:
            raise ValueError(f"treatment {t['id']}: unknown topic {t['topic']}")
        for r in t.get("mtus", []) + t.get("other", []):
            if r not in cit["refs"]:
                raise ValueError(f"treatment {t['id']}: unknown ref {r}")
        treatments[t["id"]] = t
        by_cat.setdefault(t["cat"], []).append(t["id"])

    generic = {}
    for src, names in cit["generic_mentions"].items():
        for n in names:
            generic[n] = src

    drugs = []
    by_class: dict = {}
    classes = lex.get("classes", {}) or {}
    for d in lex.get("drugs", []) or []:
        names = [n for n in (d.get("names") or []) if n and n == n.strip()]
        if not names:
            continue
        cls = d.get("class") or "other"
        dd = {"generic": str(d["generic"]).lower(), "class": cls, "names": names,
              "strengths": list(d.get("strengths") or []), "brands": list(d.get("brands") or []),
              "stance": (classes.get(cls) or {}).get("stance")}
        drugs.append(dd)
        by_class.setdefault(cls, []).append(dd)

    templates = {}
    for kind, lst in sent.items():
        if kind == "voices":
            continue
        seen = set()
        out = []
        for row in lst:
            tid, text = row[0], row[1]
            voices = row[2] if len(row) > 2 else ()
            eras = row[3] if len(row) > 3 else ()
            if tid in seen:
                raise ValueError(f"duplicate template id {tid}")
            seen.add(tid)
            out.append(Template.compile(text, tid, voices, eras))
        templates[kind] = out
    by_name = {}
    for d in drugs:
        for n in d["names"]:
            by_name.setdefault(n.lower(), d)
    raw = (kbdir / "rules.yaml").read_text(encoding="utf-8") + (tdir / "sentences.yaml").read_text(encoding="utf-8")
    import re as _re
    mentioned = frozenset(by_name[m.lower()]["generic"] for m in _re.findall(r"\[\[D:(.+?)\]\]", raw) if m.lower() in by_name)
    return KB(drug_by_name=by_name, kb_drug_mentions=mentioned, treatments=treatments, by_cat=by_cat, topics=rules["topics"],
              documents=cit["documents"], refs=cit["refs"], forms=cit["forms"],
              paragraphs=cit["paragraphs"], generic=generic,
              drug_classes=rules["drug_classes"], drug_overrides=rules["drug_overrides"],
              drugs=drugs, drugs_by_class=by_class,
              drug_request_forms=tr["drug_request_forms"],
              compound_request_forms=tr["compound_request_forms"],
              templates=templates, vocab=vocab, voices=sent["voices"],
              count_forms=tr["count_forms"], dosage_forms=tr["dosage_forms"],
              drug_request_forms_dosing=list(tr["drug_request_forms_dosing"]),
              drug_topic_forms=list(cit["drug_topic_forms"]),
              drug_topic_share=float(cit["drug_topic_share"]),
              multi_document=cit["multi_document"], paired_mentions=cit["paired_mentions"],
              layout_text=layout_text, layout_choices=layout_choices)


@dataclass
class Holdout:
    """Elements reserved for the test_unseen split (never drawn by other splits)."""
    treatments: frozenset
    drugs: frozenset  # generic names; all surface names of a held-out generic are held out
    drug_names: frozenset
    templates: frozenset

    def summary(self, kb: KB) -> dict:
        n_names = len({n.lower() for d in kb.drugs for n in d["names"]})
        n_tpl = sum(len(v) for v in kb.templates.values())
        return {"treatments": sorted(self.treatments), "drugs": sorted(self.drugs),
                "drug_names": sorted(self.drug_names), "templates": sorted(self.templates),
                "share_treatments": len(self.treatments) / max(1, len(kb.treatments)),
                "share_drug_names": len({n.lower() for n in self.drug_names}) / max(1, n_names),
                "share_templates": len(self.templates) / max(1, n_tpl)}


def choose_holdout(kb: KB, seed: int, cfg: dict) -> Holdout:
    rng = random.Random(f"holdout:{seed}")
    hcfg = cfg["holdout"]
    f_tr = float(hcfg["treatments"])
    f_dn = float(hcfg["drug_names"])
    per_kind = int(hcfg["templates_per_kind"])

    # treatments: stratified by category, never surgeries / associated services, never a
    # category's last treatments (every category must stay in train)
    held_t = set()
    cats = sorted(kb.by_cat)
    eligible = {c: sorted(t for t in kb.by_cat[c] if not kb.treatments[t].get("surgery")
                          and not kb.treatments[t].get("assoc")) for c in cats}
    for c in cats:
        cand = eligible[c]
        rng.shuffle(cand)
        k = int(round(len(kb.by_cat[c]) * f_tr))
        k = min(k, len(cand), len(kb.by_cat[c]) - 2)
        held_t.update(cand[:max(0, k)])
    pool = [t for c in cats for t in eligible[c] if t not in held_t]
    rng.shuffle(pool)
    while len(held_t) < f_tr * len(kb.treatments) + 1 and pool:
        t = pool.pop()
        c = kb.treatments[t]["cat"]
        if sum(1 for x in kb.by_cat[c] if x not in held_t) > 2:
            held_t.add(t)

    # drug names: whole generics, until the share of surface names is reached; every class
    # keeps at least one drug in train
    total_names = len({n.lower() for d in kb.drugs for n in d["names"]})
    by_generic: dict = {}
    for d in kb.drugs:
        by_generic.setdefault(d["generic"], []).append(d)
    order = sorted(by_generic)
    rng.shuffle(order)
    held_d, held_names = set(), set()
    left = {c: len({d["generic"] for d in v}) for c, v in kb.drugs_by_class.items()}
    owners: dict = {}
    for d in kb.drugs:
        for n in d["names"]:
            owners.setdefault(n.lower(), set()).add(d["generic"])
    for g in order:
        if len(held_names) >= f_dn * total_names:
            break
        entries = by_generic[g]
        classes = {d["class"] for d in entries}
        names = {n.lower() for d in entries for n in d["names"]}
        if g in kb.kb_drug_mentions or any(left[c] <= 1 for c in classes):
            continue
        # a surface name shared with another generic cannot be held out
        if any(len(owners[n]) > 1 for n in names):
            continue
        held_d.add(g)
        held_names.update(n for d in entries for n in d["names"])
        for c in classes:
            left[c] -= 1

    held_tpl = set()
    for kind in sorted(kb.templates):
        cand = [t.id for t in kb.templates[kind] if not t.voices and not t.eras]
        if len(kb.templates[kind]) >= 6 and len(cand) >= 5:
            rng.shuffle(cand)
            held_tpl.update(cand[:per_kind])
    return Holdout(frozenset(held_t), frozenset(held_d), frozenset(held_names), frozenset(held_tpl))
