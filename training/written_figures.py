"""The bundle's figures on written letter sets with gold (examples/written/README.md): per set, strict F1 per
label and micro (SPEC section 5, `nlp.ner.scoring`), count roles, each item's fields, the read decision, the
rationale, and the forecast's ROC-AUC with the naive peer's beside it (the peer's model fitted on the real
development items, scored on the items the written loader matches); pooled over the sets, the forecast with a
bootstrap interval over items. Aggregates only, never letter text: the clean scoring of a registered set
prints these and nothing else.

    python -m training.written_figures SETDIR [SETDIR ...] [--records DIR] [--no-peer]

A set directory holds `letters/` and `gold/` (one SPEC section 5 file per letter, named by its id). An item
the parser missed counts wrong in every field and as P(overturned) 0 in the forecast.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score

LABELS = ("DRUG", "SESSION_COUNT", "GUIDELINE")
ITEM_FIGURES = ("found", "stated_decision", "request", "category", "citations", "read_decision", "rationale")
_MISSED = {"request": None, "treatment_category": None, "decision": None,
           "guidelines": {"claims_administrator": [], "reviewer": []}}


def _norm(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").strip().lower()


def load_gold(set_dir: str | Path) -> dict[str, dict]:
    """Letter id -> its gold (SPEC section 5)."""
    return {g["id"]: g for g in (json.loads(p.read_text(encoding="utf-8"))
                                 for p in sorted((Path(set_dir) / "gold").glob("*.json")))}


def item_rows(records, gold: dict[str, dict]) -> list[dict]:
    """Per gold item of the scored letters: whether each field is right, its stated decision, the forecast's
    P(overturned) and the predicted and gold rationale."""
    rows = []
    for rec in records:
        found = {it["index"]: it for it in rec["items"]}
        for g in gold[rec["id"]]["items"]:
            it = found.get(g["index"], _MISSED)
            pred = it.get("prediction") or {}
            rows.append({
                "letter": rec["id"], "found": g["index"] in found,
                "stated_decision": it["decision"] == g["decision"],
                "request": _norm(g["request"]) == _norm(it["request"]),
                "category": g["treatment_category"] == it["treatment_category"],
                "citations": all([_norm(c["text"]) for c in g["guidelines"][side]] ==
                                 [_norm(c["text"]) for c in it["guidelines"].get(side, [])]
                                 for side in ("claims_administrator", "reviewer")),
                "read_decision": pred.get("decision") == g["decision"],
                "rationale": pred.get("rationale") == g["rationale"],
                "overturned": g["decision"] == "overturned",
                "p_overturned": float((pred.get("forecast") or {}).get("p_overturned") or 0.0),
                "gold_rationale": g["rationale"], "pred_rationale": pred.get("rationale") or "none"})
    return rows


def _auc(y, p) -> float | None:
    y = np.asarray(y, dtype=bool)
    return round(float(roc_auc_score(y, p)), 3) if 0 < y.sum() < len(y) else None


def _macro_f1(rows) -> float:
    gold = [r["gold_rationale"] for r in rows]
    return round(float(f1_score(gold, [r["pred_rationale"] for r in rows], average="macro",
                                labels=sorted(set(gold)))), 3)


def set_figures(records, gold: dict[str, dict], rows: list[dict] | None = None) -> dict:
    """The figures of one set: `records` are the scorer's records of its letters, `gold` `load_gold`'s,
    `rows` their `item_rows` when the caller has them."""
    from nlp.ner.scoring import EntityScore

    records = list(records)
    score = EntityScore()
    for rec in records:
        score.add(rec["entities"], gold[rec["id"]]["entities"])
    summary = score.summary()
    out: dict = {label: round(summary["strict"][label]["f1"], 3) for label in LABELS + ("micro",)}
    out["lenient_micro"] = round(summary["lenient"]["micro"]["f1"], 3)
    role = summary["normalization"]["count_role_accuracy"]  # None without a count whose span is right
    out["role"] = None if role is None else round(role, 3)
    rows = item_rows(records, gold) if rows is None else rows
    out.update({k: round(sum(r[k] for r in rows) / len(rows), 3) for k in ITEM_FIGURES})
    out["rationale_macro_f1"] = _macro_f1(rows)
    out["forecast_auc"] = _auc([r["overturned"] for r in rows], [r["p_overturned"] for r in rows])
    out["format"] = round(sum(rec["format"] == gold[rec["id"]]["format"] for rec in records) / len(records), 3)
    out["patient_letters"] = sum(all(rec["patient"].get(k) == gold[rec["id"]]["patient"].get(k)
                                     for k in ("age", "sex", "date_of_injury")) for rec in records)
    out["specialties_letters"] = sum(sorted(map(_norm, rec["reviewer_specialties"] or [])) ==
                                     sorted(map(_norm, gold[rec["id"]]["reviewer_specialties"] or []))
                                     for rec in records)
    out.update(letters=len(records), items=len(rows), overturned=sum(r["overturned"] for r in rows),
               error_records=sum(rec.get("error") is not None for rec in records),
               letters_without_items=sum(not rec["items"] for rec in records))
    return out


def bootstrap_interval(y, p, n: int = 2000, seed: int = 0) -> list[float]:
    """95% interval of the ROC-AUC over `n` resamples of items."""
    y, p = np.asarray(y, dtype=bool), np.asarray(p, dtype=float)
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(n):
        i = rng.integers(0, len(y), len(y))
        if 0 < y[i].sum() < len(i):
            aucs.append(roc_auc_score(y[i], p[i]))
    return [round(float(np.percentile(aucs, q)), 2) for q in (2.5, 97.5)]


def peer_scores(set_dir: str | Path, parser, cfg: dict, peer) -> tuple[list[bool], list[float]]:
    """(overturned, the peer's P(overturned)) of the set's items the written loader matches."""
    from training.classifier import load_written

    data = load_written([Path(set_dir)], parser, cfg)
    if not len(data):
        return [], []
    p = peer.predict_proba(data.X)[:, list(peer.classes_).index("overturned")]
    return [d == "overturned" for d in data.decision], [float(v) for v in p]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.written_figures", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+", help="written set directories (letters/ and gold/)")
    ap.add_argument("--records", help="also write each set's records here as <set>.jsonl")
    ap.add_argument("--no-peer", action="store_true", help="leave the naive peer out (it parses the real letters)")
    args = ap.parse_args(argv)

    from models.bundle import load_scorer
    from nlp.reading import iter_documents

    scorer = load_scorer()
    peer = parser = cfg = None
    if not args.no_peer:
        from models.bundle import load_parser
        from models.estimators import make_peer_model
        from models.features import load_config
        from training.classifier import ROOT
        from training.real_first import fit_decisions, real_items

        cfg = load_config()
        parser = load_parser(None)
        dev, _frozen = real_items([ROOT / cfg["training"]["real_letters"]], parser)
        peer = fit_decisions(make_peer_model(cfg), dev)
    rows_all, peer_y, peer_p = [], [], []
    for set_dir in map(Path, args.sets):
        gold = load_gold(set_dir)
        records = [r for r in scorer.process(iter_documents([str(set_dir / "letters")])) if r["id"] in gold]
        if args.records:
            out = Path(args.records)
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{set_dir.name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        rows = item_rows(records, gold)
        figures = set_figures(records, gold, rows)
        rows_all += rows
        if peer is not None:
            y, p = peer_scores(set_dir, parser, cfg, peer)
            figures.update(peer_auc=_auc(y, p), peer_items=len(y))
            peer_y += y
            peer_p += p
        print(json.dumps({"set": set_dir.name, **figures}))
    if len(args.sets) > 1:
        y_all, p_all = [r["overturned"] for r in rows_all], [r["p_overturned"] for r in rows_all]
        both = {"set": "pooled", "items": len(y_all), "overturned": int(sum(y_all)), "forecast_auc": _auc(y_all, p_all),
                "forecast_auc_95": bootstrap_interval(y_all, p_all),
                "rationale": round(sum(r["rationale"] for r in rows_all) / len(rows_all), 3),
                "rationale_macro_f1": _macro_f1(rows_all)}
        if peer is not None:
            both.update(peer_auc=_auc(peer_y, peer_p), peer_items=len(peer_y))
        print(json.dumps(both))
    return 0


if __name__ == "__main__":
    sys.exit(main())
