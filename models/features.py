"""Item features for the classifier (docs/CLASSIFIER.md lists every feature).

`ItemFeatures(mode="read"|"forecast")` is a scikit-learn transformer over lists of item
examples (`models.examples.item_examples`). The first thing `fit`/`transform` do is project
each example onto the keys the mode allows: forecast mode keeps only `FORECAST_KEYS` (what
exists before the review), read mode `FORECAST_KEYS + REVIEW_KEYS`. Everything downstream
sees only the projection, so forecast features cannot depend on the reviewer's text.

Composition (a `FeatureUnion` of `Pipeline`s):
- `structured`: `StructuredFeatures` (dict features from entities, normalizers, parser fields,
  cue patterns) → `DictVectorizer`;
- `tfidf_<field>`: `FieldText(field)` → `TfidfVectorizer`, one per text field allowed in the mode.

Entities are used when present (NER loaded); without them the request's drug and count are
read with the normalizers (`nlp.normalizers`) and the citations from the guideline paragraphs,
so the features work with or without the NER.
"""
from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from models.examples import FORECAST_KEYS, REVIEW_KEYS
from nlp.config import config_copy, read_yaml
from nlp.config import load_config as _packaged_config
from nlp.normalizers import normalize_count, normalize_drug, normalize_guideline
from nlp.rationale_rules import rule_patterns

MODES = ("read", "forecast")
TEXT_FIELDS = ("request", "original_request", "summary", "item_summary", "claims_guideline", "reviewer_guideline",
               "rationale", "rationale_case")
# fields computed from the projection (so from allowed keys only), available in both modes
DERIVED = ("item_summary",)
# fields computed from one key of the projection, available where the mode allows that key
DERIVED_FROM = {"rationale_case": "rationale"}


def load_config(path: str | Path | None = None) -> dict:
    """configs/classifier.yaml, or the file a user names (`--config PATH`), through the one
    config loader (`nlp.config`): a strict mapping (a missing key raises `ConfigError`), a
    copy the caller may change."""
    return read_yaml(path) if path else config_copy(_packaged_config("classifier.yaml"))


def allowed_keys(mode: str) -> tuple[str, ...]:
    if mode == "forecast":
        return FORECAST_KEYS
    if mode == "read":
        return FORECAST_KEYS + REVIEW_KEYS
    raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def project(examples, mode: str) -> list[dict]:
    """Each example reduced to the keys `mode` may read (missing keys → None)."""
    keys = allowed_keys(mode)
    return [{k: ex.get(k) for k in keys} for ex in examples]


def derive(projected: list[dict], settings: dict | None) -> list[dict]:
    """Add the derived fields (computed from the projection only): `item_summary`, and
    `rationale_case` where the projection holds the rationale (read mode) and the settings say
    where it starts (features fitted before it existed have no `rationale_case` settings)."""
    s = settings if settings is not None else load_config()["features"]
    start = compile_cue(s["rationale_case"]["start"]) if "rationale_case" in s else None
    for ex in projected:
        sents = item_summary_sentences(ex, settings)
        ex["_item_sentences"] = sents
        ex["item_summary"] = " ".join(sents)
        if start is not None and "rationale" in ex:
            ex["rationale_case"] = rationale_case(ex["rationale"], start)
    return projected


def validate_examples(X, mode: str) -> list[dict]:
    """Check that X is a non-empty sequence of example dicts holding the mode's keys."""
    if isinstance(X, (str, bytes, dict)) or not hasattr(X, "__len__"):
        raise TypeError(f"expected a list of item-example dicts, got {type(X).__name__}")
    X = list(X)
    if not X:
        raise ValueError("expected at least one item example, got 0")
    need = allowed_keys(mode)
    for i, ex in enumerate(X):
        if not isinstance(ex, dict):
            raise TypeError(f"example {i} is a {type(ex).__name__}, not a dict")
        missing = [k for k in need if k not in ex]
        if missing:
            raise ValueError(f"example {i} lacks keys {missing} needed in {mode} mode")
    return X


# --------------------------------------------------------------------------- helpers
def _ents(ex: dict, *keys: str, label: str | None = None) -> list[dict]:
    out = []
    for k in keys:
        for e in ex.get(k) or []:
            if isinstance(e, dict) and (label is None or e.get("label") == label):
                out.append(e)
    return out


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _count_value(norm: dict | None) -> float | None:
    """A count's size in its own unit (the upper bound of a range)."""
    if not isinstance(norm, dict):
        return None
    return _num(norm.get("max")) if norm.get("max") is not None else _num(norm.get("min"))


def compile_cue(pattern: str) -> re.Pattern:
    """A case-insensitive cue pattern compiled to search *lower-cased* text. Python's `re` is 5-8x
    slower with IGNORECASE on these alternations (no literal prefix to scan for); lowering the
    text once and searching without the flag finds the same matches. A pattern with an upper-case
    letter outside an escape keeps the flag."""
    bare = re.sub(r"\\.", "", pattern)
    return re.compile(pattern, 0 if bare == bare.lower() else re.I)


def compile_cues(patterns: dict | None) -> tuple:
    """{name: pattern} → ((name, compiled), ...) for `cue_hits`."""
    return tuple((k, compile_cue(v)) for k, v in (patterns or {}).items())


def cue_hits(cues: tuple, lowered: str, memo: dict | None = None) -> frozenset:
    """Names of the `cues` found in `lowered` (lower-cased text). `memo` (one per transform
    call) keeps the answers: the items of a letter search the same summary and sentences."""
    if memo is None:
        return frozenset(k for k, rx in cues if rx.search(lowered))
    key = (id(cues), lowered)
    if key not in memo:
        memo[key] = frozenset(k for k, rx in cues if rx.search(lowered))
    return memo[key]


_DECISION_SPLIT = re.compile(r"(?i)decision based on")


def _citations_from_text(text: str) -> list[dict]:
    """Fallback when no GUIDELINE entities: normalize each "Decision based on ..." chunk."""
    if not text or re.search(r"(?i)did not cite any", text):
        return []
    out = []
    for c in _DECISION_SPLIT.split(text)[1:]:
        c = re.sub(r"(?i)^\s*non-mtus citation", "", c).strip(" .\n")
        if c:
            n = normalize_guideline(c[:400])
            if n.get("source"):
                out.append(n)
    return out


_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])")
_WORD = re.compile(r"[a-z][a-z0-9\-]+")


def item_summary_sentences(ex: dict, settings: dict | None = None) -> list[str]:
    """The summary sentences that concern this item: those sharing a content word with the
    request (or original request, or a DRUG entity / generic named in the request)."""
    summary = ex.get("summary") or ""
    if not summary.strip():
        return []
    cfg = (settings if settings is not None else load_config()["features"])["item_summary"]
    min_len = int(cfg["min_word_len"])
    stop = set(cfg["stop_words"])
    words = set()
    texts = [ex.get("request") or "", ex.get("original_request") or ""]
    for e in ex.get("request_entities") or []:
        if isinstance(e, dict):
            texts.append(str(e.get("text") or ""))
            texts.append(str((e.get("norm") or {}).get("generic") or "").replace("/", " "))
    for t in texts:
        words.update(w for w in _WORD.findall(t.lower()) if len(w) >= min_len and w not in stop)
    if not words:
        return []
    body = re.sub(r"(?is)^\s*clinical case summary.*?medical records:\s*", "", summary)
    out = []
    for sent in _SENT_SPLIT.split(body):
        if words & set(_WORD.findall(sent.lower())):
            out.append(sent.strip())
    return out


def rationale_case(rationale: str | None, start: re.Pattern) -> str:
    """The case-specific part of a reviewer's rationale: from its first sentence matching
    `start` (a cue compiled by `compile_cue`: "In this case", "the patient", "however", "there
    was", ...) to its end; the guideline quotes that open a rationale are left out. "" when no
    sentence matches."""
    sents = [t for t in _SENT_SPLIT.split(rationale or "") if t.strip()]
    for i, sent in enumerate(sents):
        if start.search(sent.lower()):
            return " ".join(sents[i:])
    return ""


def _bin(v: float, edges) -> str:
    for e in edges:
        if v <= e:
            return f"<={e}"
    return f">{edges[-1]}"


def _log_cap(v: float, cap: float) -> float:
    v = max(0.0, min(float(v), cap))
    return math.log1p(v) / math.log1p(cap)


# --------------------------------------------------------------------------- transformers
class StructuredFeatures(TransformerMixin, BaseEstimator):
    """Examples (already projected) → one dict of named features per example."""

    def __init__(self, settings: dict | None = None):
        self.settings = settings

    def fit(self, X, y=None):
        s = self.settings or load_config()["features"]
        # the weak rules' cue patterns as they are at fit time: a saved model keeps matching the
        # words it was trained with, whatever configs/lexicons/rationale_cues.yaml says later
        self.rule_patterns_ = rule_patterns() if s.get("rationale_rule_cues") else None
        self._compile()
        return self

    def _compile(self):
        s = self.settings or load_config()["features"]
        self.cues_ = compile_cues(s["cues"])
        self.work_ = compile_cues(s["work_status"])
        self.request_cues_ = compile_cues(s["request_cues"])
        self.letter_context_ = s["letter_context"]
        c = s["conclusion"]
        # (settings saved before `certified_sentence` and `clause_break` existed read as they did then)
        self.concl_tiers_ = [compile_cue(c[k]) for k in ("sentence", "certified_sentence", "weak_sentence") if c.get(k)]
        self.concl_clause_ = compile_cue(c["clause_break"]) if c.get("clause_break") else None
        self.concl_negative_ = compile_cue(c["negative"])
        self.caps_ = dict(s["numeric_caps"])
        self.bins_ = list(s["count_bins"])
        self.allow_ = [(compile_cue(a["pattern"]), float(a["trial"]), float(a["max"]))
                       for a in s["guideline_allowances"]]
        self.summary_cues_ = compile_cues(s["summary_cues"])
        self.item_cues_ = compile_cues(s["item_summary"]["cues"])
        self.cue_unless_ = dict(s["item_summary"]["unless"])
        self.rationale_rules_ = {label: [re.compile(p, re.I) for p in pats]
                                 for label, pats in (getattr(self, "rule_patterns_", None) or {}).items()}
        self.rule_positions_ = bool(s.get("rationale_rule_positions"))

    def __setstate__(self, state):
        super().__setstate__(state)
        if "cues_" in state:  # fitted: recompile, so models saved by an older version match the same way
            self._compile()

    def transform(self, X):
        check_is_fitted(self, "cues_")
        memo: dict = {}  # the items of one letter share its summary: search it once
        return [self.features(ex, memo) for ex in X]

    def conclusion(self, rationale: str) -> tuple[str | None, str | None]:
        """The rationale's conclusion sentence and clause (lower case): the last sentence matching the
        first cue tier that any sentence matches, and, in the first tier, its last clause that matches
        it (the clause decides the decision's sign; the rule positions read the sentence); (None,
        None) when no sentence does."""
        sentences = re.split(r"(?<=[.!?])\s+", rationale.lower())
        for k, tier in enumerate(self.concl_tiers_):
            found = [s for s in sentences if tier.search(s)]
            if found:
                # clauses of a necessity sentence only: a guideline's weak "is recommended ..., and
                # only for ..." is one statement
                split = self.concl_clause_ is not None and k == 0
                clauses = self.concl_clause_.split(found[-1]) if split else [found[-1]]
                return found[-1], [c for c in clauses if tier.search(c)][-1]
        return None, None

    def summary_hits(self, summary: str, memo: dict | None = None) -> tuple[frozenset, frozenset]:
        """(summary cues, work-status cues) found in a case summary."""
        low = summary.lower()
        return cue_hits(self.summary_cues_, low, memo), cue_hits(self.work_, low, memo)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(["structured"], dtype=object)

    def _rule_positions(self, case: str, conclusion: str) -> dict[str, float]:
        """Where the weak rules' cues stand in a rationale (the annotation guide's rule 1: the
        primary reason is the first one the case-specific part gives, unless the conclusion names
        the deciding one): the labels cued in the case-specific part, the label cued first there,
        and the labels cued in the conclusion sentence."""
        f: dict[str, float] = {}
        first: tuple[int, str] | None = None
        for label, patterns in self.rationale_rules_.items():
            starts = [m.start() for p in patterns for m in [p.search(case)] if m]
            if starts:
                f[f"rationale_rule_case={label}"] = 1.0
                first = min(first or (min(starts), label), (min(starts), label))
            if any(p.search(conclusion) for p in patterns):
                f[f"rationale_rule_conclusion={label}"] = 1.0
        if first is not None:
            f[f"rationale_rule_first={first[1]}"] = 1.0
        return f

    # -- one example -------------------------------------------------------------
    def features(self, ex: dict, memo: dict | None = None) -> dict:
        f: dict[str, float] = {}
        caps = self.caps_
        present = lambda k: k in ex  # noqa: E731 — keys the projection kept
        req = ex.get("request") or ""
        req_low = req.lower()
        orig = ex.get("original_request") or ""

        # parser fields
        f[f"category={ex.get('treatment_category') or 'none'}"] = 1.0
        f[f"format={ex.get('format') or 'none'}"] = 1.0
        f[f"sex={ex.get('sex') or 'none'}"] = 1.0
        specs = ex.get("reviewer_specialties") or []
        for sp in specs:
            f[f"specialty={str(sp).lower()}"] = 1.0
        f["n_specialties"] = min(len(specs), 4) / 4.0
        age = _num(ex.get("age"))
        if age is None:
            f["age_missing"] = 1.0
        else:
            f["age"] = min(max(age, 0.0), caps["age"]) / caps["age"]
        yrs = _num(ex.get("years_since_injury"))
        if yrs is None:
            f["years_since_injury_missing"] = 1.0
        else:
            f["years_since_injury"] = _log_cap(max(yrs, 0.0), caps["years"])
        if orig.strip():
            f["partly_authorized"] = 1.0
        lc = self.letter_context_
        for k in cue_hits(self.request_cues_, req_low):
            f[f"request_cue={k}"] = 1.0
            if lc and k == lc["cue"]:
                inside = "in_letter" if lc["category"] in (ex.get("letter_categories") or ()) else "not_in_letter"
                f[f"request_cue={k}|{lc['category']}_{inside}"] = 1.0

        # drugs in the request: DRUG entities, else the drug normalizer on the request text
        drugs = [e.get("norm") for e in _ents(ex, "request_entities", label="DRUG") if e.get("norm")]
        if not drugs:
            for t in (req, orig):
                n = normalize_drug(t) if t else None
                if n:
                    drugs.append(n)
                    break
        for n in drugs:
            f[f"drug_generic={n.get('generic')}"] = 1.0
            f[f"drug_class={n.get('drug_class')}"] = 1.0
        f["has_drug"] = 1.0 if drugs else 0.0
        for e in _ents(ex, "summary_entities", label="DRUG"):
            n = e.get("norm") or {}
            if n.get("drug_class"):
                f[f"summary_drug_class={n['drug_class']}"] = 1.0

        # counts: requested (request), completed (summary / rationale), recommended (guideline sides)
        req_counts = [e.get("norm") for e in _ents(ex, "request_entities", label="SESSION_COUNT")
                      if (e.get("norm") or {}).get("role") in ("requested", None)]
        if not req_counts and not drugs and ex.get("treatment_category") != "pharmaceuticals":
            n = normalize_count(req) if req else None
            if n and n.get("unit") and n.get("max") is not None:
                req_counts = [n]
        requested = max((v for v in map(_count_value, req_counts) if v is not None), default=None)
        if requested is not None:
            f["requested_count"] = _log_cap(requested, caps["count"])
            unit = next((n.get("unit") for n in req_counts if n and n.get("unit")), None)
            f[f"requested_unit={unit}"] = 1.0
            over = next((n.get("over") for n in req_counts if n and n.get("over")), None)
            if over and _count_value(over) is not None:
                f["requested_over"] = _log_cap(_count_value(over), caps["count"])
        else:
            f["requested_count_missing"] = 1.0

        # the summary sentences about this item (derived from allowed keys only)
        linked = ex.get("_item_sentences")
        if linked is None:
            linked = item_summary_sentences(ex, self.settings)
        f["item_summary_n"] = min(len(linked), 5) / 5.0
        text_completed = None
        cue = self.item_cues_
        for sent in linked:
            hits = cue_hits(cue, sent.lower(), memo)
            for k in hits:
                # a positive cue does not count in a sentence its negative matched ("no gains")
                if self.cue_unless_.get(k) not in hits:
                    f[f"item_summary={k}"] = 1.0
            if "completed" in hits:
                n = normalize_count(sent)
                if n and n.get("unit") in ("session", "visit", "treatment", "week") and _count_value(n):
                    text_completed = max(text_completed or 0.0, _count_value(n))
        # the same cue means different things for different rules ("taking it since 2014" sinks a
        # benzodiazepine, not an NSAID): each cue also crossed with the drug class or category
        group = (drugs[0].get("drug_class") if drugs else None) or ex.get("treatment_category") or "none"
        for k in [k for k in f if k.startswith("item_summary=")]:
            f[f"{k}|{group}"] = 1.0
        if not linked:
            f[f"item_summary_none|{group}"] = 1.0
        if requested is not None:
            f[f"requested_bin={ex.get('treatment_category') or 'none'}|{_bin(requested, self.bins_)}"] = 1.0

        all_counts = _ents(ex, "request_entities", "summary_entities", "claims_entities",
                           "reviewer_entities", "rationale_entities", label="SESSION_COUNT")
        rec = [_count_value(e.get("norm")) for e in all_counts if (e.get("norm") or {}).get("role") == "recommended"]
        rec = [v for v in rec if v is not None]
        done = [_count_value(e.get("norm")) for e in all_counts if (e.get("norm") or {}).get("role") == "completed"]
        done = [v for v in done if v is not None]
        recommended = max(rec) if rec else None
        completed = max(done) if done else text_completed
        if recommended is not None:
            f["recommended_count"] = _log_cap(recommended, caps["count"])
        else:
            f["recommended_count_missing"] = 1.0
        if completed is not None:
            f["completed_count"] = _log_cap(completed, caps["count"])
            if requested is not None:
                f[f"total_bin={ex.get('treatment_category') or 'none'}|{_bin(requested + completed, self.bins_)}"] = 1.0
        if requested is not None and recommended:
            ratio = min(requested / recommended, caps["ratio"])
            f["requested_to_recommended"] = ratio / caps["ratio"]
            f["exceeds_recommended"] = 1.0 if requested > recommended else 0.0
            if completed is not None:
                f["total_exceeds_recommended"] = 1.0 if requested + completed > recommended else 0.0

        # guideline citations of each side the mode allows
        docs = {}
        for side, cit_key, text_key in (("claims", "claims_citations", "claims_guideline"),
                                        ("reviewer", "reviewer_citations", "reviewer_guideline")):
            if not present(text_key):
                continue
            text = ex.get(text_key) or ""
            cits = [c for c in (ex.get(cit_key) or []) if isinstance(c, dict)]
            if not cits:
                cits = _citations_from_text(text)
            f[f"{side}_n_citations"] = min(len(cits), 4) / 4.0
            docs[side] = set()
            for c in cits:
                f[f"{side}_source={c.get('source')}"] = 1.0
                if c.get("document"):
                    f[f"{side}_document={c['document']}"] = 1.0
                    docs[side].add(c["document"])
                if c.get("topic"):
                    f[f"{side}_topic={str(c['topic'])[:60]}"] = 1.0
            for k in cue_hits(self.cues_, text.lower()):
                f[f"{side}_cue={k}"] = 1.0
            if not text.strip():
                f[f"{side}_guideline_missing"] = 1.0
        if "claims" in docs and "reviewer" in docs and docs["claims"] and docs["reviewer"]:
            f["same_document_both_sides"] = 1.0 if docs["claims"] & docs["reviewer"] else 0.0

        # published guideline allowance for this kind of counted service
        cat = ex.get("treatment_category") or "none"
        allow = next(((t, m) for rx, t, m in self.allow_ if rx.search(req_low)), None) if not drugs else None
        if allow is not None:
            f["allowance_known"] = 1.0
            if requested is not None:
                f["requested_gt_trial"] = 1.0 if requested > allow[0] else 0.0
                f["requested_gt_max"] = 1.0 if requested > allow[1] else 0.0
                f["requested_to_allowance"] = min(requested / allow[1], caps["ratio"]) / caps["ratio"]
                if completed is not None:
                    f["total_gt_max"] = 1.0 if requested + completed > allow[1] else 0.0
                    f["continuation_gt_trial"] = 1.0 if completed > 0 and requested + completed > allow[0] else 0.0

        # work status cues from the case summary
        summary = ex.get("summary") or ""
        single = (ex.get("n_items") or 0) == 1
        if single:
            f["single_item_letter"] = 1.0
        cues, work = self.summary_hits(summary, memo)
        for k in sorted(cues):
            f[f"summary_cue={k}"] = 1.0
            f[f"summary_cue={k}|{cat}"] = 1.0
            if single:
                f[f"summary_cue={k}|single_item"] = 1.0
        for k in sorted(work):
            f[f"work_status={k}"] = 1.0

        # read mode only: the rationale's conclusion
        if present("rationale"):
            rat = ex.get("rationale") or ""
            sentence, last = self.conclusion(rat)
            if last is not None:
                f["conclusion_negative"] = 1.0 if self.concl_negative_.search(last) else 0.0
                f["conclusion_positive"] = 0.0 if self.concl_negative_.search(last) else 1.0
            else:
                f["conclusion_missing"] = 1.0
            if self.rationale_rules_:
                for label, patterns in self.rationale_rules_.items():
                    if any(p.search(rat) for p in patterns):
                        f[f"rationale_rule={label}"] = 1.0
                if self.rule_positions_:
                    f.update(self._rule_positions(ex.get("rationale_case") or "", sentence or ""))
            for e in _ents(ex, "rationale_entities", label="DRUG"):
                n = e.get("norm") or {}
                if n.get("drug_class"):
                    f[f"rationale_drug_class={n['drug_class']}"] = 1.0
        return f


class FieldText(TransformerMixin, BaseEstimator):
    """Examples → the text of one field (a list of strings)."""

    def __init__(self, field: str = "request"):
        self.field = field

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return [str(ex.get(self.field) or "") for ex in X]

    def get_feature_names_out(self, input_features=None):
        return np.asarray([self.field], dtype=object)


def _transform_once_per_text(step, X):
    """`step.transform(X)`, but a TF-IDF field vectorizes each distinct text once: the items of a
    letter share its summary (rows are independent, so the matrix is the same)."""
    if not (isinstance(step, Pipeline) and "select" in step.named_steps):
        return step.transform(X)
    rows: dict[str, int] = {}
    index = [rows.setdefault(t, len(rows)) for t in step.named_steps["select"].transform(X)]
    return step.named_steps["tfidf"].transform(list(rows))[index]  # CSR: rows by index


class ItemFeatures(TransformerMixin, BaseEstimator):
    """Item examples → sparse feature matrix, for `mode` "read" or "forecast".

    Parameters (None = take the value from configs/classifier.yaml `features` at fit time):
    mode, text_fields (list of field names; filtered to what the mode allows), tfidf (per-field
    TfidfVectorizer settings), settings (the whole `features` block), structured / text
    (switch the two halves on or off).
    """

    def __init__(self, mode: str = "read", text_fields=None, tfidf=None, settings=None,
                 structured: bool = True, text: bool = True):
        self.mode = mode
        self.text_fields = text_fields
        self.tfidf = tfidf
        self.settings = settings
        self.structured = structured
        self.text = text

    def _settings(self) -> dict:
        return copy.deepcopy(self.settings) if self.settings is not None else load_config()["features"]

    def _build(self, settings: dict) -> FeatureUnion:
        keys = allowed_keys(self.mode)
        parts = []
        if self.structured:
            parts.append(("structured", Pipeline([("extract", StructuredFeatures(settings)),
                                                  ("vec", DictVectorizer(sparse=True))])))
        if self.text:
            fields = self.text_fields if self.text_fields is not None else settings["text_fields"][self.mode]
            tf = self.tfidf if self.tfidf is not None else settings["tfidf"]
            for field in fields:
                allowed = field in keys or field in DERIVED or DERIVED_FROM.get(field) in keys
                if not allowed or field not in TEXT_FIELDS:
                    continue  # a field the mode may not read is never vectorized
                p = dict(tf.get("default") or {})
                p.update(tf.get(field) or {})
                if "ngram_range" in p:
                    p["ngram_range"] = tuple(p["ngram_range"])
                parts.append((f"tfidf_{field}", Pipeline([("select", FieldText(field)),
                                                          ("tfidf", TfidfVectorizer(dtype=np.float32, **p))])))
        if not parts:
            raise ValueError("ItemFeatures has nothing to compute (structured=False and no text fields)")
        return FeatureUnion(parts)

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        settings = self._settings()
        X = derive(project(validate_examples(X, self.mode), self.mode), settings)
        union = self._build(settings)
        # a text field that is empty in every example has no vocabulary: drop it
        kept = []
        for name, step in union.transformer_list:
            if name.startswith("tfidf_") and not any(t.strip() for t in step.named_steps["select"].transform(X)):
                continue
            kept.append((name, step))
        union = FeatureUnion(kept)
        out = []
        good = []
        for name, step in union.transformer_list:
            try:
                out.append(sparse.csr_matrix(step.fit_transform(X)))
                good.append((name, step))
            except ValueError:  # e.g. empty vocabulary after min_df pruning
                if name == "structured":
                    raise
        self.union_ = FeatureUnion(good)
        self.names_ = np.asarray(self.union_.get_feature_names_out(), dtype=object)
        self.n_features_out_ = len(self.names_)
        self.settings_ = settings
        return sparse.hstack(out, format="csr", dtype=np.float32)

    def transform(self, X):
        check_is_fitted(self, "union_")
        X = derive(project(validate_examples(X, self.mode), self.mode), self.settings_)
        mats = [sparse.csr_matrix(_transform_once_per_text(step, X)) for _, step in self.union_.transformer_list]
        return sparse.hstack(mats, format="csr", dtype=np.float32)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "union_")
        return self.names_.copy()

    def structured_names(self) -> list[str]:
        """Names of the structured (non-TF-IDF) features."""
        return [n for n in self.get_feature_names_out() if str(n).startswith("structured__")]
