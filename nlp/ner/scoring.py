"""Entity scoring as SPEC.md section 5 defines it (and ../shared/tools/score_gold.py computes):
entities compared as multisets of (section, item, label, text) with text lower-cased and white
space collapsed ("strict"); "lenient" also accepts one text containing the other. Normalization
accuracy is measured on strict matches."""
from __future__ import annotations

import collections
import re

LABELS = ("DRUG", "SESSION_COUNT", "GUIDELINE")


def _text(s) -> str:
    return re.sub(r"\s+", " ", s or "").strip().lower()


def _key(e) -> tuple:
    section = e.get("section")
    return section, (e.get("item") if section == "item" else None), e.get("label")


def strict_key(e: dict) -> tuple:
    """What a strict match compares: section, item, label and the text (case and white space
    folded); a predicted and a gold entity with equal keys are one strict hit."""
    return (*_key(e), _text(e.get("text")))


class EntityScore:
    """Accumulates counts over letters; `add(pred, gold)` per letter, `summary()` at the end."""

    def __init__(self, labels=LABELS):
        self.labels = labels
        self.counts = {m: {lab: [0, 0, 0] for lab in labels} for m in ("strict", "lenient")}
        self.norm = collections.Counter()

    def add(self, pred: list[dict], gold: list[dict]) -> None:
        for mode in ("strict", "lenient"):
            groups = collections.defaultdict(lambda: ([], []))
            for e in pred:
                groups[_key(e)][0].append(e)
            for e in gold:
                groups[_key(e)][1].append(e)
            for (_, _, label), (ps, gs) in groups.items():
                if label not in self.counts[mode]:
                    continue
                c = self.counts[mode][label]
                left = list(gs)
                for p in ps:
                    pt = _text(p.get("text"))
                    hit = next((g for g in left if _text(g.get("text")) == pt or (
                        mode == "lenient" and pt and _text(g.get("text")) and
                        (pt in _text(g.get("text")) or _text(g.get("text")) in pt))), None)
                    if hit is None:
                        c[1] += 1
                        continue
                    c[0] += 1
                    left.remove(hit)
                    if mode == "strict":
                        self._norm(p.get("norm") or {}, hit.get("norm") or {}, label)
                c[2] += len(left)

    def _norm(self, pn: dict, gn: dict, label: str) -> None:
        if label == "DRUG":
            self.norm["drug_n"] += 1
            self.norm["drug_generic"] += _text(pn.get("generic")) == _text(gn.get("generic"))
            self.norm["drug_class"] += pn.get("drug_class") == gn.get("drug_class")
        elif label == "GUIDELINE":
            self.norm["guideline_n"] += 1
            self.norm["guideline"] += (pn.get("source") == gn.get("source")
                                       and list(pn.get("pages") or []) == list(gn.get("pages") or []))
        elif label == "SESSION_COUNT":
            self.norm["count_n"] += 1
            self.norm["count"] += all(pn.get(k) == gn.get(k) for k in ("min", "max", "unit"))
            self.norm["count_role_n"] += 1
            self.norm["count_role"] += pn.get("role") == gn.get("role")

    @staticmethod
    def prf(tp: int, fp: int, fn: int) -> dict:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}

    def summary(self) -> dict:
        out = {}
        for mode, per in self.counts.items():
            out[mode] = {lab: self.prf(*c) for lab, c in per.items()}
            tot = [sum(c[k] for c in per.values()) for k in range(3)]
            out[mode]["micro"] = self.prf(*tot)

        def ratio(a, b):
            return round(self.norm[a] / self.norm[b], 4) if self.norm[b] else None

        out["normalization"] = {
            "drug_generic_accuracy": ratio("drug_generic", "drug_n"),
            "drug_class_accuracy": ratio("drug_class", "drug_n"),
            "guideline_accuracy": ratio("guideline", "guideline_n"),
            "count_accuracy": ratio("count", "count_n"),
            "count_role_accuracy": ratio("count_role", "count_role_n"),
        }
        return out
