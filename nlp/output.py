"""Record writers: JSON Lines, or CSV flattened to one row per item. Writes are atomic:
the file appears under its name only when complete."""
from __future__ import annotations

import csv
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

CSV_COLUMNS = [
    "id", "source", "format", "case_number", "date_assigned", "date_decision", "date_ur_denial",
    "date_application_received", "reviewer_specialties", "patient_age", "patient_sex",
    "patient_date_of_injury", "item_index", "request", "original_request", "treatment_category",
    "decision", "claims_administrator_guidelines", "reviewer_guidelines", "n_entities",
    "error_type", "error_message",
]


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator:
    """Open a temporary file beside `path`; rename it over `path` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding="utf-8", newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _cites(cites: list[dict]) -> str:
    return " | ".join(c.get("text") or "" for c in cites)


def csv_rows(record: dict) -> Iterator[dict]:
    """One row per item; a letter without items still gets one row."""
    d, p, err = record.get("dates") or {}, record.get("patient") or {}, record.get("error") or {}
    base = {
        "id": record["id"], "source": record.get("source"), "format": record.get("format"),
        "case_number": record.get("case_number"),
        "date_assigned": d.get("assigned"), "date_decision": d.get("decision"),
        "date_ur_denial": d.get("ur_denial"), "date_application_received": d.get("application_received"),
        "reviewer_specialties": "; ".join(record.get("reviewer_specialties") or []),
        "patient_age": p.get("age"), "patient_sex": p.get("sex"), "patient_date_of_injury": p.get("date_of_injury"),
        "n_entities": len(record.get("entities") or []),
        "error_type": err.get("type"), "error_message": err.get("message"),
    }
    items = record.get("items") or []
    if not items:
        yield base
    for it in items:
        g = it.get("guidelines") or {}
        yield {**base, "item_index": it["index"], "request": it["request"],
               "original_request": it.get("original_request"),
               "treatment_category": it.get("treatment_category"), "decision": it.get("decision"),
               "claims_administrator_guidelines": _cites(g.get("claims_administrator") or []),
               "reviewer_guidelines": _cites(g.get("reviewer") or [])}


def write_records(records: Iterable[dict], path: str | os.PathLike, fmt: str = "jsonl",
                  extra_columns: list[str] | None = None) -> Iterator[dict]:
    """Write records atomically, yielding each one after it is written (for progress/summary)."""
    with atomic_open(path) as fh:
        if fmt == "jsonl":
            for rec in records:
                fh.write(json_line(rec))
                yield rec
        elif fmt == "csv":
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS + list(extra_columns or []), extrasaction="ignore")
            writer.writeheader()
            for rec in records:
                writer.writerows(csv_rows(rec))
                yield rec
        else:
            raise ValueError(f"unknown output format: {fmt}")
