"""Item examples: what the classifier sees of one disputed item.

An example is a plain dict built from a letter's record and its normalized text. Its keys are
grouped by when the information exists: `FORECAST_KEYS` exist before the review (the request,
the case summary, the claims administrator's side); `REVIEW_KEYS` are written by the reviewer.
Forecast-mode features may read only `FORECAST_KEYS`.
"""
from __future__ import annotations

import datetime as dt

FORECAST_KEYS = (
    "request", "original_request", "summary", "claims_guideline", "treatment_category",
    "request_entities", "summary_entities", "claims_entities", "claims_citations",
    "reviewer_specialties", "age", "sex", "years_since_injury", "format", "n_items", "letter_categories",
)
REVIEW_KEYS = ("reviewer_guideline", "rationale", "reviewer_entities", "rationale_entities", "reviewer_citations")


def _span_text(text: str, span) -> str:
    return text[span[0]:span[1]] if span else ""


def _rationale_span(sp: dict):
    """The item's rationale field; where the layout found none (a letter that labels no field, or
    runs its labels together), the item's text after its heading and guideline fields: its
    conclusion is there."""
    if sp.get("rationale") or not sp.get("item"):
        return sp.get("rationale")
    before = [sp.get(k) for k in ("heading", "claims_administrator", "reviewer")]
    start = max([sp["item"][0]] + [s[1] for s in before if s])
    return [start, sp["item"][1]] if start < sp["item"][1] else None


def _inside(e: dict, span) -> bool:
    return bool(span) and span[0] <= e["start"] < span[1]


def _years(doi: str | None, decided: str | None) -> float | None:
    try:
        a = dt.date.fromisoformat(doi)
        b = dt.date.fromisoformat(decided) if decided else None
    except (TypeError, ValueError):
        return None
    return round((b - a).days / 365.25, 2) if b else None


def item_examples(record: dict, text: str) -> list[dict]:
    """One example per item of `record` (its spans refer to `text`)."""
    ents = record.get("entities") or []
    summary_ents = [e for e in ents if e.get("section") == "summary"]
    summary = _span_text(text, (record.get("sections") or {}).get("summary"))
    patient = record.get("patient") or {}
    out = []
    for it in record.get("items") or []:
        sp = it.get("spans") or {}
        rationale = _rationale_span(sp)
        ex = {
            "id": record.get("id"),
            "index": it["index"],
            "request": it.get("request") or "",
            "original_request": it.get("original_request") or "",
            "summary": summary,
            "claims_guideline": _span_text(text, sp.get("claims_administrator")),
            "reviewer_guideline": _span_text(text, sp.get("reviewer")),
            "rationale": _span_text(text, rationale),
            "treatment_category": it.get("treatment_category"),
            "request_entities": [e for e in ents if _inside(e, sp.get("heading"))],
            "summary_entities": summary_ents,
            "claims_entities": [e for e in ents if _inside(e, sp.get("claims_administrator"))],
            "reviewer_entities": [e for e in ents if _inside(e, sp.get("reviewer"))],
            "rationale_entities": [e for e in ents if _inside(e, rationale)],
            "claims_citations": (it.get("guidelines") or {}).get("claims_administrator") or [],
            "reviewer_citations": (it.get("guidelines") or {}).get("reviewer") or [],
            "reviewer_specialties": record.get("reviewer_specialties") or [],
            "age": patient.get("age"),
            "sex": patient.get("sex"),
            "years_since_injury": _years(patient.get("date_of_injury"), (record.get("dates") or {}).get("decision")),
            "format": record.get("format"),
            "n_items": len(record.get("items") or []),
            # the other requests of the letter are known before the review (their decisions are not)
            "letter_categories": [o.get("treatment_category") for o in record.get("items") or [] if o is not it],
        }
        out.append(ex)
    return out
