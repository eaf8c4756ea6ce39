"""Item predictions for records (SPEC §4 `item["prediction"]`).

    predictor = ItemPredictor.load("models/default/classifier")
    records = predictor.predict_records(records, texts)   # texts: the normalized letter texts

Each item of each record gets
    {"decision", "p_overturned", "rationale", "rationale_scores": {category: p},
     "rationale_labels": [...], "forecast": {"decision", "p_overturned"}}
where `decision`/`rationale` come from the read-mode models (the whole item) and `forecast`
from the forecast-mode model (only what exists before the review). All items of a batch are
featurized and scored together.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from models.examples import item_examples
from models.explain import explain, is_linear
from models.persistence import load_artifacts

REQUIRED = ("decision_read", "decision_forecast", "rationale", "rationale_labels")


def _signature(model) -> tuple | None:
    """Identity of a pipeline's fitted featurizer: pipelines trained together share one, and
    equal signatures mean equal feature matrices, so the matrix is computed once per batch."""
    feats = getattr(model, "named_steps", {}).get("features")
    if feats is None or not hasattr(feats, "names_"):
        return None
    idf = []
    for _, step in feats.union_.transformer_list:
        vec = step.steps[-1][1]
        if hasattr(vec, "idf_"):
            idf.append(hashlib.sha1(np.ascontiguousarray(vec.idf_, dtype=np.float64).tobytes()).hexdigest())
    return (feats.mode, int(feats.n_features_out_), hash(tuple(feats.names_)), tuple(idf),
            repr(sorted((feats.settings_ or {}).items())))


class _Batch:
    """Feature matrices of one batch of examples, shared by the models that can share them."""

    def __init__(self, examples):
        self.examples = examples
        self.cache: dict = {}

    def proba(self, model) -> np.ndarray:
        sig = _signature(model)
        if sig is None:
            return np.asarray(model.predict_proba(self.examples))
        if sig not in self.cache:
            self.cache[sig] = model.named_steps["features"].transform(self.examples)
        return np.asarray(model.named_steps["clf"].predict_proba(self.cache[sig]))


def _p_overturned(model, batch: _Batch) -> np.ndarray:
    proba = batch.proba(model)
    classes = list(model.classes_)
    if "overturned" not in classes:
        return np.zeros(len(batch.examples))
    return proba[:, classes.index("overturned")]


def coherent_rationale(proba, classes, overturned, overturn_rationales) -> list[str]:
    """Per row of `proba`, the most probable rationale consistent with its decision: one of
    `overturn_rationales` for an overturn, one of the others for upheld (the plain argmax when
    `overturn_rationales` is empty: cards from before the rule)."""
    classes = [str(c) for c in classes]
    fav = np.array([c in set(overturn_rationales) for c in classes])
    out = []
    for row, over in zip(np.asarray(proba), overturned):
        allowed = (fav if over else ~fav) if fav.any() else np.ones(len(classes), bool)
        if not allowed.any():
            allowed = np.ones(len(classes), bool)
        out.append(classes[int(np.argmax(np.where(allowed, row, -1.0)))])
    return out


class ItemPredictor:
    def __init__(self, models: dict, card: dict | None = None):
        missing = [n for n in REQUIRED if n not in models]
        if missing:
            raise ValueError(f"ItemPredictor needs artifacts {missing}")
        self.models = models
        self.card = card or {}
        labels = self.card.get("labels") or {}
        self.multilabels = list(labels.get("rationale_labels") or [])
        th = self.card.get("thresholds") or {}
        self.threshold_read = float(th.get("decision_read", 0.5))
        self.threshold_forecast = float(th.get("decision_forecast", 0.5))
        self.multilabel_threshold = float(th.get("rationale_labels", 0.5))
        # rationale categories that go with an overturn (the rest go with upheld); older cards
        # have none: their rationale is the plain argmax
        self.overturn_rationales = set((self.card.get("coherence") or {}).get("overturned") or ())
        self.explanation_terms = int((self.card.get("forecast") or {}).get("explanation_terms", 5))

    @classmethod
    def load(cls, model_dir: str | Path) -> "ItemPredictor":
        """Load a model directory (hashes verified before unpickling; see models.persistence)."""
        card, objs = load_artifacts(model_dir, REQUIRED)
        return cls(objs, card)

    # ------------------------------------------------------------------ examples
    def predict_examples(self, examples: list[dict]) -> list[dict]:
        """One prediction dict per example, computed in one vectorized pass per model."""
        if not examples:
            return []
        m = self.models
        batch = _Batch(examples)
        p_read = _p_overturned(m["decision_read"], batch)
        fc = m["decision_forecast"]
        if is_linear(fc) and list(fc.classes_)[-1] == "overturned":
            p_fc, explanations = explain(fc, examples, self.explanation_terms)
        else:
            p_fc, explanations = _p_overturned(fc, batch), [None] * len(examples)
        rat = m["rationale"]
        rat_p = batch.proba(rat)
        rat_classes = [str(c) for c in rat.classes_]
        ml_p = batch.proba(m["rationale_labels"])
        ml_names = self.multilabels or rat_classes
        out = []
        for i in range(len(examples)):
            scores = {c: round(float(rat_p[i, j]), 4) for j, c in enumerate(rat_classes)}
            primary = coherent_rationale(rat_p[i:i + 1], rat_classes, [p_read[i] >= self.threshold_read],
                                         self.overturn_rationales)[0]
            extra = sorted(((float(ml_p[i, j]), c) for j, c in enumerate(ml_names)
                            if c != primary and ml_p[i, j] >= self.multilabel_threshold), reverse=True)
            out.append({
                "decision": "overturned" if p_read[i] >= self.threshold_read else "upheld",
                "p_overturned": round(float(p_read[i]), 4),
                "rationale": primary,
                "rationale_scores": scores,
                "rationale_labels": [primary] + [c for _, c in extra],
                "forecast": {"decision": "overturned" if p_fc[i] >= self.threshold_forecast else "upheld",
                             "p_overturned": round(float(p_fc[i]), 4),
                             **({"explanation": explanations[i]} if explanations[i] is not None else {})},
            })
        return out

    # ------------------------------------------------------------------ records
    def predict_records(self, records: list[dict], texts: list[str]) -> list[dict]:
        """Add `prediction` to every item of `records` (in place; also returned)."""
        if len(records) != len(texts):
            raise ValueError(f"{len(records)} records but {len(texts)} texts")
        examples, slots = [], []
        for rec, text in zip(records, texts):
            if not rec.get("items") or text is None:
                continue
            exs = item_examples(rec, text)
            for it, ex in zip(rec["items"], exs):
                examples.append(ex)
                slots.append(it)
        for it, pred in zip(slots, self.predict_examples(examples)):
            it["prediction"] = pred
        return records

    def predict_record(self, record: dict, text: str) -> dict:
        return self.predict_records([record], [text])[0]

    # ------------------------------------------------------------------ documents
    def score_documents(self, parser, docs, batch_size: int = 64):
        """Records with predictions for `RawDocument`s: `parser.process` (a `LetterParser`)
        then `predict_records` per batch; yields one record per document, in order, and never
        raises for a letter (a failed prediction leaves that batch's items without `prediction`
        and is logged)."""
        import logging

        from nlp.textnorm import normalize_text

        log = logging.getLogger(__name__)
        docs = iter(docs)
        while True:
            batch = []
            for d in docs:
                batch.append(d)
                if len(batch) >= batch_size:
                    break
            if not batch:
                return
            recs = list(parser.process(batch))
            try:
                texts = [normalize_text(d.text) if d.text else "" for d in batch]
                self.predict_records(recs, texts)
            except Exception as exc:  # never sink the batch on a model problem
                log.warning("item prediction failed for a batch: %s", type(exc).__name__)
            yield from recs
