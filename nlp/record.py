"""Build the SPEC.md section 4 output record of one letter.

Besides the fields built here, `imr parse` and `imr score` add to every record (in this order,
after `error`): `text` (only with `--include-text`: the normalized text every offset of the
record points into; `record_text`) and `provenance` (`{"imr_version": ..., "models": {"ner":
sha256, "classifier": sha256}}`: the package version and the fingerprints of the models that
made the record, computed once per run; `provenance`). `imr serve` adds both to the records it
answers (its provenance computed once at start-up), and CSV / Parquet rows carry the provenance
flattened in their last columns (`nlp.output.PROVENANCE_COLUMNS`). docs/record.schema.json
describes it all.
"""
from __future__ import annotations

import functools
import importlib.metadata
import re
from typing import Callable, Iterable

from nlp import errors
from nlp.categories import treatment_category
from nlp.config import load_yaml
from nlp.errors import LetterError
from nlp.layout import UNKNOWN, LetterLayout, parse_layout
from nlp.letter_fields import letter_fields
from nlp.textnorm import normalize_text

EMPTY_FIELDS = {
    "format": None,
    "case_number": None,
    "dates": {"assigned": None, "decision": None, "ur_denial": None, "application_received": None},
    "reviewer_specialties": [],
    "patient": {"age": None, "sex": None, "date_of_injury": None},
}


def error_record(doc_id: str, source: str, error: LetterError) -> dict:
    return {"id": doc_id, "source": source, **EMPTY_FIELDS, "entities": [], "items": [],
            "error": error.to_dict()}


@functools.lru_cache(maxsize=1)
def _not_cited() -> tuple[tuple[str, ...], tuple[str, ...]]:
    cfg = load_yaml("layouts.yaml")
    return (tuple(c.lower() for c in cfg["not_cited_after"]), tuple(c.lower() for c in cfg.get("not_cited_before") or ()))


@functools.lru_cache(maxsize=1)
def _adopts_claims_guideline() -> re.Pattern | None:
    adopts = load_yaml("layouts.yaml").get("reviewer_adopts_claims_guideline") or ()
    return re.compile("|".join(f"(?:{p})" for p in adopts), re.I) if adopts else None


def _cited(text: str, start: int, end: int) -> bool:
    after, before_words = _not_cited()
    before = " ".join(text[max(0, start - 60):start].lower().split())
    following = " ".join(text[end:end + 40].lower().split())
    return not before.endswith(after) and not (before_words and following.startswith(before_words))


def _guidelines(entities: list[dict], layout_item, text: str) -> dict:
    """The guideline citations of each side of an item: its GUIDELINE entities, less mentions
    that say the guideline was not used or does not cover the request; a reviewer who found the
    claims administrator's guideline the right one cites it too."""
    out = {"claims_administrator": [], "reviewer": []}
    for side in out:
        span = getattr(layout_item, side)
        if span is None:
            continue
        for e in entities:
            if (e["label"] == "GUIDELINE" and span.start <= e["start"] and e["end"] <= span.end
                    and _cited(text, e["start"], e["end"])):
                norm = e.get("norm") or {}
                out[side].append({"text": e["text"], "source": norm.get("source"),
                                  "document": norm.get("document"), "topic": norm.get("topic"),
                                  "pages": norm.get("pages") or []})
    adopts = _adopts_claims_guideline()
    reviewer = layout_item.reviewer
    if (adopts is not None and reviewer is not None and reviewer != layout_item.claims_administrator
            and adopts.search(text, reviewer.start, reviewer.end)):
        own = out["reviewer"]
        out["reviewer"] = [dict(c) for c in out["claims_administrator"] if c not in own] + own
    return out


def build_record(doc_id: str, source: str, text: str, layout: LetterLayout,
                 entities: Iterable[dict] = (), has_drug: Callable[[str], bool] | None = None) -> dict:
    """Record from normalized text, its layout and entity dicts (offsets into `text`)."""
    entities = sorted(entities, key=lambda e: e["start"])
    for e in entities:
        e["section"], e["item"] = layout.locate(e["start"])
    items = []
    for it in layout.items:
        items.append({
            "index": it.index,
            "request": it.request,
            "original_request": it.original_request,
            "treatment_category": treatment_category(it.request, has_drug),
            "decision": it.decision,
            "guidelines": _guidelines(entities, it, text),
            "spans": {name: ([s.start, s.end] if s else None) for name, s in (
                ("heading", it.heading), ("claims_administrator", it.claims_administrator),
                ("reviewer", it.reviewer), ("rationale", it.rationale), ("item", it.span))},
        })
    error = None
    if layout.format == UNKNOWN:
        error = LetterError(errors.UNKNOWN_LAYOUT, "no known IMR letter layout was recognized")
    elif not items:
        error = LetterError(errors.NO_ITEMS, "the letter has no disputed item headings")
    sections = {name: ([s.start, s.end] if s else None) for name, s in (
        ("header", layout.header), ("summary", layout.summary), ("items", layout.items_section))}
    return {"id": doc_id, "source": source, "format": layout.format, **letter_fields(text, layout),
            "entities": entities, "items": items, "sections": sections,
            "error": error.to_dict() if error else None}


def parse_text(doc_id: str, source: str, raw_text: str) -> tuple[str, LetterLayout | None, dict | None]:
    """Normalize and lay out; returns (text, layout, error_record_or_None)."""
    text = normalize_text(raw_text)
    if not text.strip():
        return text, None, error_record(doc_id, source, LetterError(errors.EMPTY_INPUT, "no text after normalization"))
    return text, parse_layout(text), None


# --------------------------------------------------------------------------- what runs add

PACKAGE = "imr-nlp"
TEXT_KEY = "text"
PROVENANCE_KEY = "provenance"


@functools.lru_cache(maxsize=1)
def imr_version() -> str:
    """The installed `imr-nlp` version (importlib.metadata), else the version in the source
    tree's pyproject.toml, else `nlp.__version__`."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        pass
    from nlp import __version__
    from nlp.config import REPO_ROOT

    try:
        text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return __version__
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    found = project and re.search(r"""^version\s*=\s*["']([^"']+)["']""", project.group(1), re.M)
    return found.group(1) if found else __version__


def provenance(models: dict | None = None) -> dict:
    """The `provenance` of a run's records: `imr_version` and `models` ({"ner": sha256,
    "classifier": sha256} of the models used; `models.bundle.model_digests`)."""
    return {"imr_version": imr_version(), "models": dict(models or {})}


def record_text(doc) -> str | None:
    """The normalized text a `RawDocument`'s record offsets point into (`parse_text`'s), or None
    when the document could not be read."""
    if doc.error is not None or doc.text is None:
        return None
    try:
        return normalize_text(doc.text)
    except Exception:  # noqa: BLE001 - the record already carries the parser's internal_error
        return None
