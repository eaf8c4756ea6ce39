"""The count role model: a linear classifier over a count's context that gives each SESSION_COUNT
its role (SPEC section 2: requested, completed, recommended or null), trained on hand-annotated
letters (`imr train count-roles`, training/count_roles.py).

The cue-word rules of the entity normalizer (nlp/normalizers/counts.py) give a first role; the
model reads that role beside the cue words on each side of the count and their distance, the words
next to it, the letter section and item field it stands in, and decides. It learns what the nearest
cue alone cannot weigh ("the twelve sessions already completed plus the twenty sessions now
requested"). Its weights are a data file saved with the pipeline (`count_role_model.json`), so no
pickle is loaded and inference needs no scikit-learn. Without weights the component leaves the
rules' roles as they are.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from nlp.ner.components import _sentence_bounds, letter_text
from nlp.normalizers import names_a_guideline, role_cue_hits

MODEL_FILE = "count_role_model.json"
NO_ROLE = "none"  # the class name of a null role in the model's weights
_WORD = re.compile(r"[a-z]+|\d+")
_FIELDS = ("heading", "claims_administrator", "reviewer", "rationale")


def _distance_bucket(chars: int) -> str:
    return "0" if chars < 3 else "1" if chars < 15 else "2" if chars < 40 else "3" if chars < 100 else "4"


def count_field(layout, start: int) -> str:
    """The item field a count stands in (heading, claims_administrator, reviewer, rationale), else
    "none"."""
    for item in getattr(layout, "items", None) or ():
        for name in _FIELDS:
            span = getattr(item, name, None)
            if span is not None and span.start <= start < span.end:
                return name
    return "none"


def count_role_features(text: str, start: int, end: int, section: str | None, field: str,
                        rule_role: str | None, norm: dict | None) -> dict[str, float]:
    """The features of the count at [start, end) of the letter `text` (all of them binary)."""
    s, e = _sentence_bounds(text, start, end)
    sentence = text[s:e]
    a, b = start - s, end - s
    rule = str(rule_role or NO_ROLE)
    f = {f"rule={rule}": 1.0, f"section={section}": 1.0, f"field={field}": 1.0, f"rule|field={rule}|{field}": 1.0,
         f"unit={(norm or {}).get('unit')}": 1.0}
    if (norm or {}).get("over"):
        f["over"] = 1.0
    hits = role_cue_hits(sentence, (a, b))
    for side in "LR":
        on_side = [h for h in hits if h[0] == side]
        if on_side:
            _, dist, role, phrase = on_side[0]
            f[f"near{side}={role}"] = 1.0
            f[f"near{side}={role}@{_distance_bucket(dist)}"] = 1.0
            f[f"near{side}cue={phrase}"] = 1.0
        for _, _, role, _ in on_side:
            f[f"any{side}={role}"] = 1.0
    lower = sentence.lower()
    if names_a_guideline(lower[:a]):
        f["guideline_before"] = 1.0
    if names_a_guideline(lower[b:]):
        f["guideline_after"] = 1.0
    left = _WORD.findall(lower[max(0, a - 60):a])[-5:]
    right = _WORD.findall(lower[b:b + 50])[:5]
    for i, w in enumerate(reversed(left)):
        if i < 3:
            f[f"L{i}={w}"] = 1.0
        f[f"Lw={w}"] = 1.0
    for i, w in enumerate(right):
        if i < 3:
            f[f"R{i}={w}"] = 1.0
        f[f"Rw={w}"] = 1.0
    return f


class LinearRoleModel:
    """A multinomial linear model as data: `classes`, `intercept` (one per class) and `weights`
    (feature -> one weight per class). `predict` is the argmax of intercept + the weights of the
    features present, as scikit-learn's LogisticRegression.predict."""

    def __init__(self, classes: list[str], intercept: list[float], weights: dict[str, list[float]], meta: dict | None = None):
        if len(classes) != len(intercept) or any(len(w) != len(classes) for w in weights.values()):
            raise ValueError("count role model: classes, intercept and weights disagree in length")
        self.classes, self.intercept, self.weights, self.meta = list(classes), list(intercept), weights, meta or {}

    def scores(self, features: dict[str, float]) -> list[float]:
        out = list(self.intercept)
        for name, value in features.items():
            w = self.weights.get(name)
            if w is not None:
                for k in range(len(out)):
                    out[k] += value * w[k]
        return out

    def predict(self, features: dict[str, float]) -> str | None:
        scores = self.scores(features)
        best = self.classes[max(range(len(scores)), key=scores.__getitem__)]
        return None if best == NO_ROLE else best

    def probabilities(self, features: dict[str, float]) -> dict[str, float]:
        scores = self.scores(features)
        top = max(scores)
        exp = [math.exp(x - top) for x in scores]
        return {c: v / sum(exp) for c, v in zip(self.classes, exp)}

    def to_dict(self) -> dict:
        return {"classes": self.classes, "intercept": self.intercept, "weights": self.weights, "meta": self.meta}

    @classmethod
    def from_dict(cls, data: dict) -> "LinearRoleModel":
        return cls(data["classes"], data["intercept"], data["weights"], data.get("meta"))


class CountRoleClassifier:
    """Set each SESSION_COUNT's `norm["role"]` from the count role model (after the entity
    normalizer, whose cue-word role is one of its features)."""

    def __init__(self) -> None:
        self.model: LinearRoleModel | None = None

    def features(self, doc: Doc) -> list[tuple[object, dict[str, float]]]:
        """(entity, features) of each normalized count of `doc`, as the model sees them."""
        text = letter_text(doc)
        out = []
        for ent in doc.ents:
            if ent.label_ == "SESSION_COUNT" and ent._.norm:
                field = count_field(doc._.layout, ent.start_char)
                out.append((ent, count_role_features(text, ent.start_char, ent.end_char, ent._.section, field,
                                                     ent._.norm.get("role"), ent._.norm)))
        return out

    def __call__(self, doc: Doc) -> Doc:
        if self.model is None:
            return doc
        for ent, feats in self.features(doc):
            ent._.norm["role"] = self.model.predict(feats)
        return doc

    def to_disk(self, path, *, exclude=()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            (path / MODEL_FILE).write_text(json.dumps(self.model.to_dict(), indent=0, sort_keys=True))

    def from_disk(self, path, *, exclude=()) -> "CountRoleClassifier":
        f = Path(path) / MODEL_FILE
        self.model = LinearRoleModel.from_dict(json.loads(f.read_text())) if f.is_file() else None
        return self


@Language.factory("imr_count_roles")
def make_count_role_classifier(nlp: Language, name: str) -> CountRoleClassifier:
    return CountRoleClassifier()
