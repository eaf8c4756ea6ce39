"""Treatment category of a request (SPEC.md section 3), from a knowledge base with a trained fallback.

Three layers, tried in turn (docs/CATEGORIES.md):

1. **Knowledge base** — the families of terms in `configs/kb/treatment_vocabulary.yaml`
   (procedures, tests, modalities, equipment, services, dosage forms; CPT/HCPCS code ranges),
   tried in the precedence order of `configs/lexicons/treatment_categories.yaml`. The first
   rule that applies decides. A rule may also take the drug lexicon's word (`has_drug`).
2. **Trained fallback** — for a request no rule covers: a character n-gram model of request
   texts (`configs/kb/category_fallback.json`, built by `training/category_model.py`), used
   only when that file exists and the model is confident. No such file ships today: in
   letter-grouped cross-validation the knowledge base left no development item undecided, so the
   fallback changed nothing (docs/CATEGORIES.md).
3. **other** — when neither decides.

`explain(request)` says which layer and rule decided; `treatment_category(request)` returns
the category only. Nothing here logs request text.
"""
from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from typing import Callable

from nlp.config import configs_dir, load_yaml

CATEGORIES = ("pharmaceuticals", "physical_therapy", "chiropractic", "acupuncture", "diagnostic_imaging",
              "diagnostic_testing", "surgery", "injections", "dmepos", "behavioral_health",
              "evaluation_management", "programs", "home_health", "other")
VOCABULARY = "kb/treatment_vocabulary.yaml"
PRECEDENCE = "lexicons/treatment_categories.yaml"
FALLBACK = "kb/category_fallback.json"

_WORD = r"A-Za-z0-9"


@dataclass(frozen=True)
class Decision:
    """Why a request got its category: `source` is "code", "kb", "fallback" or "none"; `rule`
    the family (or code) that decided; `score` the fallback's probability when it decided."""
    category: str
    source: str
    rule: str | None = None
    score: float | None = None


_SEPARATORS = {" ": r"[\s/-]+", "-": r"[\s-]?", "/": r"\s*/\s*"}
_END = ""  # trie key marking the end of a term


def _atoms(term: str, fold: bool) -> list[str]:
    """A term as regex atoms: one per character, separators as their patterns, then the
    optional plural of a term that ends in a letter."""
    term = " ".join(str(term).split())
    atoms = [_SEPARATORS.get(ch) or re.escape(ch.lower() if fold else ch) for ch in term]
    if term[-1:].isalpha():
        atoms.append(r"(?:e?s)?")
    return atoms


def _trie_regex(terms, fold: bool) -> str:
    """One regex for many terms, factored by common prefixes (a trie), so that a position of
    the text is tried against the branches of its first character only."""
    trie: dict = {}
    for t in terms:
        node = trie
        for a in _atoms(t, fold):
            node = node.setdefault(a, {})
        node[_END] = {}

    def emit(node: dict) -> str:
        branches = [a + emit(child) for a, child in sorted(node.items()) if a != _END]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if _END in node else body

    return rf"(?<![{_WORD}])" + emit(trie) + rf"(?![{_WORD}])"


def term_regex(term: str) -> str:
    """A whole-word regex for a vocabulary term: spaces match runs of space, hyphen or slash,
    a hyphen matches a hyphen, a space or nothing, a slash may have spaces around it, and the
    last word may take a plural s/es."""
    return _trie_regex([term], fold=False)


@dataclass(frozen=True)
class _Family:
    name: str
    category: str | None
    regexes: tuple

    def search(self, text: str) -> bool:
        return any(r.search(text) for r in self.regexes)


def _compile_family(name: str, spec: dict) -> _Family:
    regexes = []
    terms = [str(t) for t in spec.get("terms") or []]
    if terms:  # case-insensitive: one trie regex per family
        regexes.append(re.compile(_trie_regex(terms, fold=True), re.I))
    acronyms = [str(t) for t in spec.get("acronyms") or []]
    if acronyms:
        regexes.append(re.compile(_trie_regex(acronyms, fold=False)))
    regexes.extend(re.compile(p, re.I) for p in spec.get("patterns") or [])
    return _Family(name, spec.get("category"), tuple(regexes))


@dataclass(frozen=True)
class _Rule:
    family: str | None
    category: str | None
    with_: tuple = ()
    unless: tuple = ()
    drug_lexicon: bool = False
    codes: bool = False


@dataclass(frozen=True)
class _KB:
    prefixes: re.Pattern
    families: dict
    rules: tuple
    cpt: tuple        # (low, high, category)
    hcpcs: tuple      # (prefix, category), longest prefix first


@functools.lru_cache(maxsize=1)
def _kb() -> _KB:
    vocab = load_yaml(VOCABULARY)
    prec = load_yaml(PRECEDENCE)
    families = {name: _compile_family(name, spec) for name, spec in vocab["families"].items()}
    rules = []
    for r in prec["rules"]:
        fam = r.get("family")
        for name in [fam, *(r.get("with") or []), *(r.get("unless") or [])]:
            if name is not None and name not in families:
                raise ValueError(f"{PRECEDENCE}: unknown family {name!r}")
        category = r.get("category") or (families[fam].category if fam else None)
        if category is not None and category not in CATEGORIES:
            raise ValueError(f"{PRECEDENCE}: unknown category {category!r}")
        if fam is not None and category is None:
            raise ValueError(f"{PRECEDENCE}: rule for {fam!r} gives no category")
        rules.append(_Rule(fam, category, tuple(r.get("with") or ()), tuple(r.get("unless") or ()),
                           bool(r.get("drug_lexicon")), bool(r.get("codes"))))
    codes = vocab["codes"]
    cpt = tuple((int(c["from"]), int(c["to"]), c["category"]) for c in codes["cpt"])
    hcpcs = tuple(sorted(((str(c["prefix"]), c["category"]) for c in codes["hcpcs"]),
                         key=lambda pc: -len(pc[0])))
    for c in [c for *_, c in cpt] + [c for _, c in hcpcs]:
        if c not in CATEGORIES:
            raise ValueError(f"{VOCABULARY}: unknown category {c!r} in codes")
    prefixes = re.compile(r"^\s*(?:(?:" + "|".join(prec["strip_prefixes"] or ["(?!)"]) + r")\s*)+", re.I)
    return _KB(prefixes, families, tuple(rules), cpt, hcpcs)


# a CPT code: five digits standing alone (not a dose, a count or part of a longer number);
# a HCPCS Level II code: one capital letter and four digits
_CPT = re.compile(r"(?<![\w#$./,-])(\d{5})(?![\w%./,-])"
                  r"(?!\s*(?:IU|units?|u|mg|mcg|g|gm|grams?|ml|cc|%|x|times|sessions?|visits?|hours?|days?|weeks?|steps?)\b)",
                  re.I)
_HCPCS = re.compile(r"(?<![\w-])([A-V]\d{4})(?![\w-])")


def _code_category(text: str, kb: _KB) -> tuple[str, str] | None:
    for m in _CPT.finditer(text):
        code = int(m.group(1))
        for lo, hi, cat in kb.cpt:
            if lo <= code <= hi:
                return cat, f"CPT {m.group(1)}"
    for m in _HCPCS.finditer(text):
        for prefix, cat in kb.hcpcs:
            if m.group(1).startswith(prefix):
                return cat, f"HCPCS {m.group(1)}"
    return None


def clean_request(request: str) -> str:
    """The request less its leading when/why words ("Associated surgical service:", "Retro:")."""
    text = " ".join(str(request or "").replace("\u2013", "-").replace("\u2014", "-").split())
    return _kb().prefixes.sub("", text)


def kb_decision(request: str, has_drug: Callable[[str], bool] | None = None) -> Decision | None:
    """The knowledge base's category of `request`, or None when no rule applies."""
    kb = _kb()
    text = clean_request(request)
    if not text:
        return None
    hits: dict[str, bool] = {}

    def hit(name: str) -> bool:
        if name not in hits:
            hits[name] = kb.families[name].search(text)
        return hits[name]

    for rule in kb.rules:
        if rule.codes:
            found = _code_category(text, kb)
            if found:
                return Decision(found[0], "code", found[1])
            continue
        if any(hit(u) for u in rule.unless):
            continue
        if rule.with_ and not any(hit(w) for w in rule.with_):
            continue
        if hit(rule.family):
            return Decision(rule.category, "kb", rule.family)
        if rule.drug_lexicon and has_drug is not None and has_drug(text):
            return Decision(rule.category, "kb", "drug_lexicon")
    return None


# ----------------------------------------------------------------------------- trained fallback
class FallbackModel:
    """A linear model over hashed character n-grams of the request (lower-cased, padded with
    spaces), stored as JSON: no pickle, no scikit-learn needed to apply it.

    Fields: `ngram` [lo, hi], `buckets` (hash size), `classes`, `coef` (classes x features, as a
    sparse {feature index: weight} per class), `intercept`, `threshold` (the lowest top-class
    probability at which the model decides), and free-form `meta`.
    """

    def __init__(self, spec: dict):
        self.lo, self.hi = spec["ngram"]
        self.buckets = int(spec["buckets"])
        self.classes = list(spec["classes"])
        self.coef = [{int(k): float(v) for k, v in row.items()} for row in spec["coef"]]
        self.intercept = [float(b) for b in spec["intercept"]]
        self.threshold = float(spec.get("threshold", 0.5))
        self.meta = spec.get("meta") or {}

    @staticmethod
    def features(text: str, lo: int, hi: int, buckets: int) -> dict[int, float]:
        """L2-normalized counts of hashed character n-grams (crc32, stable across processes)."""
        import zlib

        t = " " + " ".join(re.sub(r"[^a-z0-9%#/&]+", " ", text.lower()).split()) + " "
        counts: dict[int, float] = {}
        for n in range(lo, hi + 1):
            for i in range(len(t) - n + 1):
                g = t[i:i + n]
                if g.strip() == "":
                    continue
                k = zlib.crc32(g.encode("utf-8")) % buckets
                counts[k] = counts.get(k, 0.0) + 1.0
        norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
        return {k: v / norm for k, v in counts.items()}

    def proba(self, text: str) -> dict[str, float]:
        x = self.features(text, self.lo, self.hi, self.buckets)
        scores = [b + sum(row.get(k, 0.0) * v for k, v in x.items()) for row, b in zip(self.coef, self.intercept)]
        m = max(scores)
        exps = [math.exp(s - m) for s in scores]
        z = sum(exps)
        return {c: e / z for c, e in zip(self.classes, exps)}


@functools.lru_cache(maxsize=1)
def fallback_model() -> FallbackModel | None:
    """The trained fallback, or None when its artifact is not shipped."""
    path = configs_dir() / FALLBACK
    if not path.is_file():
        return None
    return FallbackModel(json.loads(path.read_text(encoding="utf-8")))


def explain(request: str, has_drug: Callable[[str], bool] | None = None, fallback: bool = True) -> Decision:
    """The category of `request` and which layer (code, kb, fallback, none) decided it."""
    d = kb_decision(request, has_drug)
    if d is not None:
        return d
    model = fallback_model() if fallback else None
    text = clean_request(request)
    if model is not None and text:
        probs = model.proba(text)
        best = max(probs, key=probs.get)
        if probs[best] >= model.threshold and best != "other":
            return Decision(best, "fallback", None, round(probs[best], 4))
    return Decision("other", "none")


def treatment_category(request: str, has_drug: Callable[[str], bool] | None = None, fallback: bool = True) -> str:
    """The request's treatment category; `has_drug(request)` says whether a known drug is named."""
    return explain(request, has_drug, fallback).category
