"""`imr corpus from-letters`: the corpus dataset shape built from real letters.

Decisions come from the letters' own words (the item headings), entities from the current
pipeline (silver), and rationale labels from the hand annotations in
training/real_labels/real_items.jsonl where an item has one, else from the weak rules of
nlp/rationale_rules.py. Each item's `facts` says which (`{"labels": "hand" | "weak",
"entities": "silver"}`). This is how a user with the public archive turns real letters into
training data.
"""
from __future__ import annotations

import json
from pathlib import Path

from nlp.config import REPO_ROOT

HAND_LABELS = REPO_ROOT / "training" / "real_labels" / "real_items.jsonl"


def hand_labels(path: Path = HAND_LABELS) -> dict:
    """(letter id, item index) → hand label row."""
    if not Path(path).is_file():
        return {}
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(r["case_number"], r["index"]): r for r in rows}


def _citations(cites: list[dict]) -> list[dict]:
    return [{"text": c["text"], "source": c.get("source"), "document": c.get("document"), "topic": c.get("topic"),
             "pages": list(c.get("pages") or [])} for c in cites]


def letter_row(record: dict, text: str, labels: dict) -> dict:
    """One dataset row (training.corpus.features()) from a parsed record and its normalized text."""
    from nlp.rationale_rules import weak_rationale
    from training.corpus import _flat_entity

    entities = [_flat_entity({**e, "clean_start": e["start"], "clean_end": e["end"]}) for e in record["entities"]]
    items = []
    for it in record["items"]:
        sp = it["spans"]
        hand = labels.get((record["id"], it["index"]))
        if hand and hand["request"] == it["request"]:
            rationale, rationale_labels, category, source = (hand["rationale"], hand["rationale_labels"],
                                                            hand["treatment_category"], "hand")
        else:
            seg = text[sp["rationale"][0]:sp["rationale"][1]] if sp["rationale"] else ""
            rationale, rationale_labels = weak_rationale(seg, it["decision"])
            category, source = it["treatment_category"], "weak"

        def span(name, k):
            return sp[name][k] if sp.get(name) else None
        items.append({
            "index": it["index"], "request": it["request"], "original_request": it["original_request"],
            "decision": it["decision"], "rationale": rationale, "rationale_labels": rationale_labels,
            "treatment_category": category, "treatment_id": None, "topic": None, "rule": None,
            "drug_generic": None, "held_out": False,
            "ca_guidelines": _citations(it["guidelines"]["claims_administrator"]),
            "reviewer_guidelines": _citations(it["guidelines"]["reviewer"]),
            "heading_start": span("heading", 0), "heading_end": span("heading", 1),
            "request_start": None, "request_end": None,
            "original_request_start": None, "original_request_end": None,
            "ca_start": span("claims_administrator", 0), "ca_end": span("claims_administrator", 1),
            "reviewer_start": span("reviewer", 0), "reviewer_end": span("reviewer", 1),
            "rationale_start": span("rationale", 0), "rationale_end": span("rationale", 1),
            "requested_count": None, "prior_count": None, "functional_improvement": None,
            "facts": json.dumps({"labels": source, "entities": "silver"}),
        })
    summary = (record.get("sections") or {}).get("summary") or [None, None]
    return {
        "id": record["id"], "split": "real", "layout": record["format"] if record["format"] != "unknown" else None,
        "era": None, "voice": None, "text": text, "clean_text": text, "case_number": record["case_number"],
        "dates": record["dates"], "reviewer_specialties": record["reviewer_specialties"],
        "patient": record["patient"], "summary_start": summary[0], "summary_end": summary[1],
        "entities": entities, "items": items, "artifacts": [], "template_ids": [], "unseen": False,
    }


def build_from_letters(inputs: list[str], out: str | Path, model: str | None = None) -> dict:
    """Parse real letters (streamed) and save them as a DatasetDict with one split, `real`, and Parquet."""
    import itertools
    import tempfile

    from datasets import Dataset, DatasetDict

    from nlp.reading import iter_documents
    from models.bundle import load_parser
    from nlp.textnorm import normalize_text
    from training.corpus import features

    stats = {"letters": 0, "skipped": 0, "items": 0, "hand_labeled_items": 0, "overturned": 0}

    def rows():
        parser = load_parser(model)
        labels = hand_labels()
        docs, texts = itertools.tee(iter_documents(inputs))  # tee buffers only one parser batch
        for doc, rec in zip(texts, parser.process(docs)):
            if rec["error"] is not None or not rec["items"]:
                stats["skipped"] += 1
                continue
            row = letter_row(rec, normalize_text(doc.text), labels)
            stats["letters"] += 1
            stats["items"] += len(row["items"])
            stats["hand_labeled_items"] += sum(json.loads(i["facts"])["labels"] == "hand" for i in row["items"])
            stats["overturned"] += sum(i["decision"] == "overturned" for i in row["items"])
            yield row

    out = Path(out)
    with tempfile.TemporaryDirectory() as cache:  # a fresh cache: never reuse another run's rows
        ds = Dataset.from_generator(rows, features=features(), cache_dir=cache)
        DatasetDict({"real": ds}).save_to_disk(str(out / "hf"))
        (out / "parquet").mkdir(parents=True, exist_ok=True)
        ds.to_parquet(str(out / "parquet" / "real.parquet"))
    (out / "stats.json").write_text(json.dumps(stats, indent=1))
    return stats
