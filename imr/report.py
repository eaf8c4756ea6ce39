"""`imr evaluate --data ... --out DIR`: score labelled letters with a model bundle and write
`metrics.json` and a self-contained `report.html` (figures as embedded PNGs).

Data is either a corpus build (gold decisions, rationales and entities from the dataset) or
letters (gold decisions as the letters state them; rationale labels from the hand annotations
in training/real_labels/ where a letter has them; entity gold from examples/gold/ for the
shared letters). Baselines beside the model: the majority class of the model's training data
(from its model card), and the baselines measured when the model was trained (from the card).

Honest figures on real letters: a bundle trained on real letters ships `real_oof.json`, the
out-of-fold values of its letter-grouped cross-validation (listed in the model card with its
SHA-256):

    {"folds": 5, "repeats": 10, "letters": ["CM16-...", ...],
     "items": [{"case": "CM16-...", "index": 1, "decision": "upheld", "p_forecast": 0.21,
                "p_peer": 0.18, "p_read": 0.03, "rationale": "...", "rationale_gold": "..."}, ...]}

Items of letters in `letters` are scored with those values ("out_of_fold"), items of other
letters with the live predictions ("held_out"); the two are reported apart, never pooled. The
live (in-sample) figures on trained-on letters appear only as "in_sample_secondary". Without
the file (older bundles, corpus evaluation) all items are pooled as before.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import string
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from models.persistence import ModelLoadError, load_artifacts, read_card
from nlp.analytics import _figure_png, report_style
from nlp.config import REPO_ROOT, configs_dir
from nlp.reading import RawDocument, iter_documents

GOLD_DIR = REPO_ROOT / "examples" / "gold"
RATIONALES = ["not_recommended", "exceeds_guideline_quantity", "no_functional_improvement",
              "insufficient_documentation", "guideline_criteria_met", "depends_on_denied_request"]
WORST = 15
EXPLAIN_TERMS = 3  # forecast explanation terms shown per worst-error row
OOF_FILE = "real_oof.json"
GROUPS = {"out_of_fold": "out-of-fold (same letter-grouped CV as the model card)",
          "held_out": "held out (never trained on)",
          "in_sample_secondary": "in-sample: the model saw these letters; not a measure of performance"}
PEER = "TF-IDF + logistic regression over request + case summary, in the same folds"


# ------------------------------------------------------------------------------ gold
def corpus_gold(corpus: str | Path, split: str, limit: int | None = None) -> Iterator[tuple]:
    """(RawDocument, gold items by index, gold entities) of a corpus split."""
    from datasets import load_from_disk

    from training.dataset_io import dataset_dir, decoded_rows

    ds = load_from_disk(str(dataset_dir(corpus)))[split]
    if limit is not None and limit < len(ds):
        ds = ds.select(range(limit))
    for row in decoded_rows(ds):
        items = {it["index"]: {"request": it["request"], "decision": it["decision"], "rationale": it["rationale"],
                               "rationale_labels": it["rationale_labels"]} for it in row["items"]}
        ents = [{"label": e["label"], "text": e["text"], "section": e["section"],
                 "item": e["item"] if e["section"] == "item" else None, "norm": json.loads(e["norm"] or "{}")}
                for e in row["entities"]]
        yield RawDocument(row["id"], f"{corpus}:{split}", row["text"], None), items, ents


def gold_path(letter_id: str, gold_dir: Path = GOLD_DIR) -> Path | None:
    """The gold file of a letter id, or None when the id is not a plain file name (an id comes
    from the input, e.g. a JSON Lines `id`: "../../x" must not read a file outside `gold_dir`)."""
    name = f"{letter_id}.json"
    if not letter_id or "/" in letter_id or "\\" in letter_id or letter_id.startswith(".") or "\x00" in letter_id:
        return None
    path = gold_dir / name
    return path if path.resolve().parent == gold_dir.resolve() else None


def letters_gold(inputs: Iterable[str]) -> Iterator[tuple]:
    """(RawDocument, gold items or None, gold entities or None) of letters; decisions come
    from the records themselves (the letters' own words)."""
    from training.real_corpus import hand_labels

    labels = hand_labels()
    for doc in iter_documents(inputs):
        hand = {idx: row for (lid, idx), row in labels.items() if lid == doc.id}
        gold_file = gold_path(doc.id)
        ents = items = None
        if gold_file is not None and gold_file.is_file():
            g = json.loads(gold_file.read_text(encoding="utf-8"))
            ents = g["entities"]
            items = {it["index"]: it for it in g["items"]}
        elif hand:
            items = hand
        yield doc, items, ents


# ------------------------------------------------------------------------------ out-of-fold
class OOFFormatError(ModelLoadError):
    """real_oof.json passed its hash check but is not the expected shape."""


def load_real_oof(model_dir: str | Path, card: dict) -> dict | None:
    """The bundle's out-of-fold values on its real training letters (the `real_oof` artifact,
    hash-checked by `models.persistence.load_artifacts`), or None when the card lists none."""
    if "real_oof" not in ((card or {}).get("artifacts") or {}):
        return None
    return check_oof(load_artifacts(model_dir, ["real_oof"])[1]["real_oof"])


def _prob(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0


def check_oof(oof) -> dict:
    """`oof` itself when it has the documented shape; OOFFormatError naming the first problem."""
    if (not isinstance(oof, dict) or not isinstance(oof.get("letters"), list) or not isinstance(oof.get("items"), list)
            or not all(isinstance(lid, str) for lid in oof["letters"])):
        raise OOFFormatError(f"{OOF_FILE} needs a 'letters' list of case numbers and an 'items' list")
    seen = set()
    for n, it in enumerate(oof["items"]):
        ok = (isinstance(it, dict) and isinstance(it.get("case"), str) and isinstance(it.get("index"), int)
              and _prob(it.get("p_read")) and _prob(it.get("p_forecast"))
              and (it.get("p_peer") is None or _prob(it["p_peer"]))
              and isinstance(it.get("rationale"), (str, type(None))))
        if not ok:
            raise OOFFormatError(f"{OOF_FILE} item {n}: needs case, index, p_read and p_forecast in [0, 1]")
        key = (it["case"], it["index"])
        if key in seen:
            raise OOFFormatError(f"{OOF_FILE} item {n}: a second entry for item {it['index']} of {it['case']}")
        seen.add(key)
    return oof


def _decide(p: float, threshold: float) -> str:
    return "overturned" if p >= threshold else "upheld"


def apply_threshold(rows: list[dict], threshold: float) -> list[dict]:
    """Rows with the forecast decision re-taken as forecast_p >= threshold (--threshold)."""
    return [{**r, "forecast_decision": None if r["forecast_p"] is None else _decide(r["forecast_p"], threshold)}
            for r in rows]


def _oof_row(row: dict, it: dict, read_threshold: float, forecast_threshold: float) -> dict:
    """`row` with the out-of-fold values in place of the in-sample predictions. The multi-label
    rationale has no OOF value (None); the live forecast stays beside it for the explanation."""
    return {**row, "p_overturned": it["p_read"], "decision": _decide(it["p_read"], read_threshold),
            "forecast_p": it["p_forecast"], "forecast_decision": _decide(it["p_forecast"], forecast_threshold),
            "peer_p": it.get("p_peer"), "rationale": it.get("rationale") or "(none)", "rationale_labels": None,
            "gold_rationale": row["gold_rationale"] or it.get("rationale_gold"),
            "oof_decision": it.get("decision"), "live_forecast_p": row["forecast_p"]}


def split_rows(rows: list[dict], oof: dict, read_threshold: float = 0.5, forecast_threshold: float = 0.5) -> dict:
    """Rows by group: "out_of_fold" (trained-on letters, OOF values substituted), "held_out"
    (other letters, as predicted), "in_sample" (trained-on letters, as predicted; the secondary
    table) and "no_oof" (trained-on items the file has no value for: in no headline)."""
    trained = set(oof["letters"])
    by_key = {(it["case"], it["index"]): it for it in oof["items"]}
    out = {"out_of_fold": [], "held_out": [], "in_sample": [], "no_oof": []}
    for r in rows:
        if r["id"] not in trained:
            out["held_out"].append(r)
            continue
        out["in_sample"].append(r)
        it = by_key.get((r["id"], r["index"]))
        if it is None:
            out["no_oof"].append(r)
        else:
            out["out_of_fold"].append(_oof_row(r, it, read_threshold, forecast_threshold))
    return out


def _scored(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["p_overturned"] is not None and r["gold_decision"] in ("upheld", "overturned")]


def card_threshold(card: dict | None, key: str) -> float:
    return float(((card or {}).get("thresholds") or {}).get(key, 0.5))


def row_groups(collected: dict, oof: dict | None, threshold: float, read_threshold: float = 0.5) -> dict:
    """The scored rows of each reported group: {"pooled": ...} without OOF values, else
    "out_of_fold", "held_out", "in_sample_secondary" (+ "no_oof", all rows)."""
    rows = apply_threshold(collected["rows"], threshold)
    if oof is None:
        return {"pooled": _scored(rows)}
    g = split_rows(rows, oof, read_threshold, threshold)
    return {"out_of_fold": _scored(g["out_of_fold"]), "held_out": _scored(g["held_out"]),
            "in_sample_secondary": _scored(g["in_sample"]), "no_oof": g["no_oof"]}


# ------------------------------------------------------------------------------ scoring
def collect(pairs: Iterable[tuple], scorer) -> dict:
    """Run the scorer and pair every predicted item with its gold; entity scores when gold exists."""
    from nlp.ner.scoring import EntityScore

    pairs = list(pairs)
    records = list(scorer.process([p[0] for p in pairs]))
    rows, ent_score, stats = [], EntityScore(), {"letters": len(pairs), "errors": 0, "unmatched_items": 0,
                                                  "entity_letters": 0}
    for (doc, gold_items, gold_ents), rec in zip(pairs, records):
        if rec.get("error"):
            stats["errors"] += 1
        if gold_ents is not None:
            ent_score.add(rec.get("entities") or [], gold_ents)
            stats["entity_letters"] += 1
        for it in rec.get("items") or []:
            g = (gold_items or {}).get(it["index"])
            if gold_items is not None and (g is None or " ".join(g["request"].split()) != " ".join(it["request"].split())):
                stats["unmatched_items"] += 1
                g = None
            pred = it.get("prediction") or {}
            rows.append({"id": rec["id"], "index": it["index"], "request": it["request"],
                         "gold_decision": (g or {}).get("decision") or it.get("decision"),
                         "gold_rationale": (g or {}).get("rationale"),
                         "gold_labels": (g or {}).get("rationale_labels"),
                         "decision": pred.get("decision"), "p_overturned": pred.get("p_overturned"),
                         "rationale": pred.get("rationale"), "rationale_labels": pred.get("rationale_labels"),
                         "forecast_decision": (pred.get("forecast") or {}).get("decision"),
                         "forecast_p": (pred.get("forecast") or {}).get("p_overturned"),
                         "explanation": (pred.get("forecast") or {}).get("explanation")})
    return {"rows": rows, "entities": ent_score.summary() if stats["entity_letters"] else None, "stats": stats}


def group_metrics(rows: list[dict], card: dict | None, threshold: float) -> dict:
    """Decision (read, forecast at `threshold`, naive peer when every row has its OOF value,
    majority class) and rationale metrics of scored rows, with how many letters and items."""
    from training.classifier import decision_metrics, label_matrix, multilabel_metrics, rationale_metrics

    out = {"letters": len({r["id"] for r in rows}), "items": len(rows)}
    if not rows:
        return out
    y = [r["gold_decision"] for r in rows]
    out["decision_read"] = decision_metrics(y, np.array([r["p_overturned"] for r in rows]),
                                            card_threshold(card, "decision_read"))
    out["decision_forecast"] = decision_metrics(y, np.array([r["forecast_p"] for r in rows]), threshold)
    if all(r.get("peer_p") is not None for r in rows):
        out["peer_forecast"] = decision_metrics(y, np.array([r["peer_p"] for r in rows]), threshold)
    majority_dec = _card_majority(card, "decision") or "upheld"
    out["baseline_majority_decision"] = decision_metrics(y, np.full(len(y), 1.0 if majority_dec == "overturned" else 0.0))
    rat = [r for r in rows if r["gold_rationale"]]
    if rat:
        gold = [r["gold_rationale"] for r in rat]
        out["rationale"] = rationale_metrics(gold, [r["rationale"] for r in rat], RATIONALES)
        majority_rat = _card_majority(card, "rationale") or max(set(gold), key=gold.count)
        out["baseline_majority_rationale"] = rationale_metrics(gold, [majority_rat] * len(gold), RATIONALES)
        lab = [r for r in rat if r["gold_labels"] and r["rationale_labels"] is not None]  # None: no OOF value
        if lab:
            out["rationale_labels"] = multilabel_metrics(label_matrix([r["gold_labels"] for r in lab], RATIONALES),
                                                         label_matrix([r["rationale_labels"] or [] for r in lab], RATIONALES))
    return out


def compute_metrics(collected: dict, card: dict | None, oof: dict | None = None, threshold: float | None = None) -> dict:
    """metrics.json. With `oof` (real_oof.json): "out_of_fold", "held_out" and
    "in_sample_secondary" group metrics and "reliability_oof"; without it the pooled metrics at
    the top level as before (the group keys None)."""
    threshold = card_threshold(card, "decision_forecast") if threshold is None else float(threshold)
    out = {"stats": {**collected["stats"], "items": len(collected["rows"])}, "entities": collected["entities"],
           "threshold": {"decision_forecast": threshold, "decision_read": card_threshold(card, "decision_read")},
           "out_of_fold": None, "held_out": None, "in_sample_secondary": None, "reliability_oof": None,
           "trained_baselines": (card or {}).get("metrics", {}).get("baselines")}
    groups = row_groups(collected, oof, threshold, out["threshold"]["decision_read"])
    if oof is None:
        return _pooled_metrics(out, collected, groups["pooled"], card, threshold)
    for key in ("out_of_fold", "held_out", "in_sample_secondary"):
        out[key] = {"label": GROUPS[key], **group_metrics(groups[key], card, threshold)}
    out["out_of_fold"].update(folds=oof.get("folds"), repeats=oof.get("repeats"), trained_letters=len(set(oof["letters"])))
    if "decision_forecast" in out["out_of_fold"]:
        out["reliability_oof"] = out["out_of_fold"]["decision_forecast"]["reliability"]
    oof_rows = groups["out_of_fold"]
    out["stats"].update(scored_items=len(oof_rows) + len(groups["held_out"]),
                        in_sample_items=len(groups["in_sample_secondary"]), no_oof_items=len(groups["no_oof"]),
                        oof_gold_mismatch=sum(r["oof_decision"] not in (None, r["gold_decision"]) for r in oof_rows))
    out["real_letter_cv"] = _real_cv(card)
    return out


def _pooled_metrics(out: dict, collected: dict, rows: list[dict], card: dict | None, threshold: float) -> dict:
    """Every item in one pool (no real_oof.json): the figures on real letters the model was
    trained on are in-sample, so the card's letter-grouped cross-validation goes beside them."""
    out["stats"]["scored_items"] = len(rows)
    if not rows:
        return out
    gm = group_metrics(rows, card, threshold)
    out.update({k: v for k, v in gm.items() if k not in ("letters", "items")})
    real_ids = {lid for lid, _ in _hand_ids()}
    trained_on_real = ((card or {}).get("training_data") or {}).get("real_items", 0) > 0
    in_sample = sum(r["id"] in real_ids for r in collected["rows"]) if trained_on_real else 0
    out["stats"]["in_sample_items"] = in_sample
    if in_sample:
        out["real_letter_cv"] = _real_cv(card)
    return out


def _real_cv(card: dict | None) -> dict:
    return {k: v for k, v in ((card or {}).get("metrics") or {}).items() if k.startswith("real_cv")}


def summary_line(m: dict) -> str:
    """The one-line stderr summary of `imr evaluate`: headline groups only, never in-sample."""
    def fig(g: dict) -> str:
        df, dr = g.get("decision_forecast") or {}, g.get("decision_read") or {}
        peer = f" (peer {g['peer_forecast']['roc_auc']})" if g.get("peer_forecast") else ""
        return (f"forecast ROC-AUC {df.get('roc_auc')}{peer}"
                + f", read macro-F1 {dr.get('macro_f1')}, rationale accuracy {(g.get('rationale') or {}).get('accuracy')}")
    st, t = m["stats"], m["threshold"]["decision_forecast"]
    head = f"evaluated {st['scored_items']} items of {st['letters']} letters (forecast threshold {t:g})"
    if m.get("out_of_fold") is None:
        tail = f"; {st['in_sample_items']} items in-sample" if st.get("in_sample_items") else ""
        return f"{head}: {fig(m)}{tail}"
    parts = [f"{name} ({m[k]['letters']} letters, {m[k]['items']} items): " + (fig(m[k]) if m[k]["items"] else "none")
             for k, name in (("out_of_fold", "out-of-fold"), ("held_out", "held out"))]
    return f"{head}: " + "; ".join(parts)


def _hand_ids() -> set:
    from training.real_corpus import hand_labels

    return set(hand_labels())


def _card_majority(card: dict | None, key: str) -> str | None:
    counts = ((card or {}).get("label_counts") or {}).get(key) or {}
    return max(counts, key=counts.get) if counts else None


# ------------------------------------------------------------------------------ figures
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_png(gold, pred, labels, title) -> str:
    from sklearn.metrics import confusion_matrix

    plt = _plt()
    m = confusion_matrix(gold, pred, labels=labels)
    fig, ax = plt.subplots(figsize=(1.2 + 0.75 * len(labels), 1.0 + 0.6 * len(labels)))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=10)
    return _figure_png(fig)


def curves_png(y, scores: dict, kind: str) -> str:
    """Precision-recall (kind="pr") or reliability (kind="reliability") curves for overturn."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve

    plt = _plt()
    yt = (np.asarray(y) == "overturned").astype(int)
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    for name, p in scores.items():
        if kind == "pr":
            prec, rec, _ = precision_recall_curve(yt, p)
            ax.plot(rec, prec, label=name)
        else:
            frac, mean = calibration_curve(yt, p, n_bins=10, strategy="quantile")
            ax.plot(mean, frac, marker="o", label=name)
    if kind == "pr":
        ax.axhline(yt.mean(), color="grey", ls=":", lw=1, label="base rate")
        ax.set_xlabel("recall (overturned)")
        ax.set_ylabel("precision")
        ax.set_title("Precision-recall, overturn", fontsize=10)
    else:
        ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="perfect calibration")
        ax.set_xlabel("mean predicted P(overturned)")
        ax.set_ylabel("observed share overturned")
        ax.set_title("Reliability, overturn", fontsize=10)
    ax.legend(fontsize=8)
    return _figure_png(fig)


def reliability_png(bins: list[dict], title: str) -> str:
    """Predicted vs observed share overturned per bin (a reliability table), each point labelled
    with its item count."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="perfect calibration")
    x = [b["mean_predicted"] for b in bins]
    y = [b["observed"] for b in bins]
    ax.plot(x, y, marker="o", label="forecast")
    for b in bins:
        ax.annotate(f"n={b['n']}", (b["mean_predicted"], b["observed"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("mean predicted P(overturned)")
    ax.set_ylabel("observed share overturned")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    return _figure_png(fig)


def f1_bars_png(per_class: dict, baseline: dict) -> str:
    plt = _plt()
    classes = list(per_class)
    x = np.arange(len(classes))
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    ax.bar(x - 0.2, [per_class[c] or 0 for c in classes], 0.4, label="model")
    ax.bar(x + 0.2, [baseline.get(c) or 0 for c in classes], 0.4, label="majority baseline")
    ax.set_xticks(x, [c.replace("_", " ") for c in classes], rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title("Rationale, per-class F1", fontsize=10)
    ax.legend(fontsize=8)
    return _figure_png(fig)


# ------------------------------------------------------------------------------ HTML
class _Html(str):
    """A table cell that is HTML already (its text escaped by whoever built it)."""


def _table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        if isinstance(v, _Html):
            return v
        if isinstance(v, float):
            return f"{v:.3f}"
        return html.escape("" if v is None else str(v))

    def cls(k, v):
        return " class=g" if k == 0 else " class=x" if isinstance(v, _Html) else ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td{cls(k, v)}>{cell(v)}</td>" for k, v in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(png: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def explanation_html(expl, prefix: str = "", top: int = EXPLAIN_TERMS) -> _Html:
    """The forecast explanation's largest terms, signed (`+0.41 request+summary: "objective
    findings"`), one per line, escaped; empty when the prediction has none."""
    terms = expl.get("terms") if isinstance(expl, dict) else None
    terms = [t for t in terms or () if isinstance(t, dict) and isinstance(t.get("contribution"), (int, float))]
    if not terms:
        return _Html("")
    terms = sorted(terms, key=lambda t: -abs(t["contribution"]))
    lines = [f"{t['contribution']:+.2f} {t.get('feature', '')}" for t in terms[:top]]
    return _Html("<br>".join(html.escape(line) for line in ([prefix] if prefix else []) + lines))


def _counts(gm: dict) -> str:
    return f"{gm['letters']} letters, {gm['items']} items"


def _decision_table(gm: dict, threshold: float) -> str:
    models = [("read", gm["decision_read"]), (f"forecast (overturned if P ≥ {threshold:g})", gm["decision_forecast"])]
    if gm.get("peer_forecast"):
        models.append((f"naive peer, forecast (P ≥ {threshold:g})", gm["peer_forecast"]))
    models.append(("majority class", gm["baseline_majority_decision"]))
    return _table(["model", "macro-F1", "accuracy", "overturn recall", "overturn precision", "ROC-AUC", "PR-AUC", "Brier"],
                  [[name, m["macro_f1"], m["accuracy"], m["overturn_recall"], m["overturn_precision"], m["roc_auc"],
                    m["pr_auc"], m["brier"]] for name, m in models])


def _decision_section(sec_id: str, title: str, note: str, gm: dict, rows: list[dict], threshold: float,
                      oof: bool = False) -> str:
    """Decision table, confusion matrices, precision-recall and reliability of one group. For the
    out-of-fold group: the naive peer beside the model and the reliability curve with counts."""
    y = [r["gold_decision"] for r in rows]
    figs = (_img(confusion_png(y, [r["decision"] for r in rows], ["upheld", "overturned"], "Decision, read"), "confusion read")
            + _img(confusion_png(y, [r["forecast_decision"] for r in rows], ["upheld", "overturned"],
                                 f"Decision, forecast (P ≥ {threshold:g})"), "confusion forecast"))
    scores = {"read": np.array([r["p_overturned"] for r in rows]), "forecast": np.array([r["forecast_p"] for r in rows])}
    if gm.get("peer_forecast"):
        scores["naive peer"] = np.array([r["peer_p"] for r in rows])
    if len(set(y)) == 2:
        figs += _img(curves_png(y, scores, "pr"), "precision-recall")
        if not oof:
            figs += _img(curves_png(y, scores, "reliability"), "reliability")
    if oof:
        figs += _img(reliability_png(gm["decision_forecast"]["reliability"], "Reliability, out-of-fold forecast"),
                     "reliability out-of-fold")
    modes = [("read", "decision_read"), ("forecast", "decision_forecast")] + (
        [("naive peer", "peer_forecast")] if gm.get("peer_forecast") else [])
    rel = _table(["mode", "bin", "items", "mean predicted", "observed"],
                 [[mode, f"{b['bin'][0]:.1f}–{b['bin'][1]:.1f}", b["n"], b["mean_predicted"], b["observed"]]
                  for mode, key in modes for b in gm[key]["reliability"]])
    note = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return (f'<section id="{sec_id}"><h2>{html.escape(title)}</h2>{note}{_decision_table(gm, threshold)}'
            f'<div class="figs">{figs}</div><h3>Reliability table</h3>{rel}</section>')


def _rationale_block(gm: dict, rows: list[dict]) -> str:
    ra, rb = gm["rationale"], gm["baseline_majority_rationale"]
    rat_rows = [r for r in rows if r["gold_rationale"]]
    t = _table(["class", "support", "F1 model", "F1 majority baseline"],
               [[c, ra["support"].get(c), ra["per_class_f1"].get(c), rb["per_class_f1"].get(c)] for c in ra["per_class_f1"]]
               + [["macro", ra["n"], ra["macro_f1"], rb["macro_f1"]], ["accuracy", ra["n"], ra["accuracy"], rb["accuracy"]]])
    ml = gm.get("rationale_labels")
    mlt = f'<p class="note">All reasons (multi-label): micro-F1 {ml["micro_f1"]:.3f}, exact match {ml["exact_match"]:.3f}.</p>' if ml else ""
    figs = _img(f1_bars_png(ra["per_class_f1"], rb["per_class_f1"]), "per-class F1") + _img(
        confusion_png([r["gold_rationale"] for r in rat_rows], [r["rationale"] for r in rat_rows],
                      [c for c in RATIONALES if c in ra["per_class_f1"]], "Rationale (read)"), "rationale confusion")
    return f'{t}{mlt}<div class="figs">{figs}</div>'


def _in_sample_section(gm: dict, threshold: float) -> str:
    """The live figures on trained-on letters: secondary, labelled, no figures."""
    names = {"macro_f1": "macro-F1", "accuracy": "accuracy", "roc_auc": "ROC-AUC"}
    rows = [[f"{name}, {names[k]}", gm[key][k]] for name, key, ks in (
        ("read", "decision_read", ("macro_f1", "accuracy", "roc_auc")),
        (f"forecast (P ≥ {threshold:g})", "decision_forecast", ("macro_f1", "accuracy", "roc_auc")),
        ("rationale", "rationale", ("accuracy", "macro_f1"))) if gm.get(key) for k in ks]
    return (f'<section id="in-sample"><h2>In-sample figures (secondary)</h2><p class="note">'
            f'{html.escape(GROUPS["in_sample_secondary"])} ({_counts(gm)}; the bundled model\'s own predictions). '
            f'The out-of-fold figures above are the measure.</p>'
            + _table(["in-sample: the model saw these letters", "value"], rows) + "</section>")


def _error(r: dict) -> float:
    """How far the read or the forecast probability is from the stated decision (the larger)."""
    y = r["gold_decision"] == "overturned"
    return max(abs(y - r["p_overturned"]), abs(y - r["forecast_p"]) if r["forecast_p"] is not None else 0.0)


def _worst_section(groups: list[tuple[str | None, list[dict]]]) -> str:
    """The items farthest from the stated decision, with the forecast's explanation. Out-of-fold
    rows show OOF probabilities; their explanation is the bundled model's (trained on the
    letter), so it is prefixed with that model's own P."""
    tagged = [(name, r) for name, rows in groups for r in rows]
    worst = sorted(tagged, key=lambda t: -_error(t[1]))[:WORST]
    with_set = any(name for name, _ in groups)

    def expl(r):
        live = r.get("live_forecast_p")
        prefix = f"bundled model (P {live:.2f}):" if "oof_decision" in r and live is not None else ""
        return explanation_html(r.get("explanation"), prefix)
    head = ["request", "letter"] + (["scored as"] if with_set else []) + [
        "gold decision", "predicted", "P(overturned) read", "P(overturned) forecast", "gold rationale",
        "predicted rationale", "forecast explanation (top terms)"]
    t = _table(head, [[r["request"], r["id"]] + ([name] if with_set else []) + [
        r["gold_decision"], r["decision"], r["p_overturned"], r["forecast_p"], r["gold_rationale"], r["rationale"], expl(r)]
        for name, r in worst])
    return (f'<section id="errors"><h2>Worst decision errors</h2><p class="note">Items whose predicted '
            f'probability, read or forecast, is farthest from the stated decision.</p>{t}</section>')


def _headline_cards(metrics: dict) -> list[tuple]:
    """Summary cards: per headline group, never in-sample; pooled as before without OOF values."""
    st = metrics["stats"]
    cards = [("Letters", st["letters"]), ("Items scored", st["scored_items"]), ("Letters with errors", st["errors"]),
             ("Forecast threshold", f"{metrics['threshold']['decision_forecast']:g}")]
    if metrics.get("out_of_fold") is None:
        if "decision_read" in metrics:
            cards += [("Read macro-F1", _fmt(metrics["decision_read"]["macro_f1"])),
                      ("Forecast ROC-AUC", _fmt(metrics["decision_forecast"]["roc_auc"]))]
        return cards
    for key in ("out_of_fold", "held_out"):
        gm = metrics[key]
        if "decision_read" not in gm:
            continue
        peer = f" · naive peer {_fmt(gm['peer_forecast']['roc_auc'])}" if gm.get("peer_forecast") else ""
        cards += [(f"Forecast ROC-AUC, {GROUPS[key]}; {_counts(gm)}", _fmt(gm["decision_forecast"]["roc_auc"]) + peer),
                  (f"Read macro-F1, {GROUPS[key]}", _fmt(gm["decision_read"]["macro_f1"]))]
    return cards


def _oof_note(metrics: dict) -> str:
    oo, ho, st = metrics["out_of_fold"], metrics["held_out"], metrics["stats"]
    note = (f"The model was trained on {oo['trained_letters']} real letters: their items are scored with the "
            f"out-of-fold values of the letter-grouped cross-validation of the model card ({oo.get('folds')} folds, "
            f"{oo.get('repeats')} repeats; each item by models that never saw its letter): {_counts(oo)}. Items of "
            f"other letters are held out (never trained on), scored by the bundled model: {_counts(ho)}. The two "
            f"groups are reported apart, never pooled; in-sample figures appear only in the secondary table. ")
    if st["no_oof_items"]:
        note += f"{st['no_oof_items']} items of trained-on letters have no out-of-fold value and are in no headline. "
    if st["oof_gold_mismatch"]:
        note += f"{st['oof_gold_mismatch']} out-of-fold items state another decision than the letter as parsed now. "
    return note


def _legacy_note(metrics: dict) -> str:
    st = metrics["stats"]
    if not st.get("in_sample_items"):
        return ""
    return (f"{st['in_sample_items']} of these items are real letters the model was trained on: their figures are "
            f"in-sample. Held-out figures for real letters (letter-grouped cross-validation, from the model card): "
            + "; ".join(f"{k}: " + ", ".join(f"{m}={v}" for m, v in d.items())
                        for k, d in metrics.get("real_letter_cv", {}).items()) + ".")


def _sections(metrics: dict, groups: dict, threshold: float) -> tuple[list[str], list[str]]:
    """(toc links, section HTML) of the decision, rationale and in-sample parts."""
    toc, sections = [], []
    if metrics.get("out_of_fold") is None:
        if "decision_read" in metrics:
            toc.append('<a href="#decision">Decision</a>')
            sections.append(_decision_section("decision", "Decision (upheld / overturned)", "", metrics,
                                              groups["pooled"], threshold))
        if "rationale" in metrics:
            toc.append('<a href="#rationale">Rationale</a>')
            sections.append('<section id="rationale"><h2>Rationale category</h2>'
                            f'{_rationale_block(metrics, groups["pooled"])}</section>')
        return toc, sections
    heads = {"out_of_fold": ("oof", "Out-of-fold"), "held_out": ("held-out", "Held out")}
    for key, (sec_id, link) in heads.items():
        gm, title = metrics[key], f"Decision, {GROUPS[key]}"
        if "decision_read" in gm:
            toc.append(f'<a href="#{sec_id}">{link}</a>')
            note = f"{_counts(gm)}." + (f" Naive peer: {PEER}." if gm.get("peer_forecast") else "")
            sections.append(_decision_section(sec_id, title, note, gm, groups[key], threshold, oof=key == "out_of_fold"))
    rat = "".join(f"<h3>{html.escape(GROUPS[key])}: {_counts(metrics[key])}</h3>{_rationale_block(metrics[key], groups[key])}"
                  for key in ("out_of_fold", "held_out") if "rationale" in metrics[key])
    if rat:
        toc.append('<a href="#rationale">Rationale</a>')
        sections.append(f'<section id="rationale"><h2>Rationale category</h2>{rat}</section>')
    if "decision_read" in metrics["in_sample_secondary"]:
        toc.append('<a href="#in-sample">In-sample (secondary)</a>')
        sections.append(_in_sample_section(metrics["in_sample_secondary"], threshold))
    return toc, sections


def render(metrics: dict, collected: dict, source: str, model: str, oof: dict | None = None) -> str:
    """report.html. `oof` must be the real_oof.json `metrics` was computed with (or None)."""
    th = metrics["threshold"]
    groups = row_groups(collected, oof, th["decision_forecast"], th["decision_read"])
    toc, sections = _sections(metrics, groups, th["decision_forecast"])
    if metrics.get("trained_baselines"):
        tb = metrics["trained_baselines"]
        toc.append('<a href="#baselines">Baselines at training</a>')
        sections.append('<section id="baselines"><h2>Baselines measured at training time</h2><p class="note">From the '
                        'model card: the same splits, the model beside the majority class and TF-IDF + logistic '
                        'regression on the raw item text.</p><pre>' + html.escape(json.dumps(tb, indent=1)[:6000]) + "</pre></section>")
    if metrics.get("entities"):
        e = metrics["entities"]
        t = _table(["label", "strict P", "strict R", "strict F1", "lenient F1"],
                   [[lab, e["strict"][lab]["precision"], e["strict"][lab]["recall"], e["strict"][lab]["f1"], e["lenient"][lab]["f1"]]
                    for lab in ("DRUG", "SESSION_COUNT", "GUIDELINE", "micro")])
        n = e["normalization"]
        t += _table(["normalization", "accuracy"], [[k, v] for k, v in n.items()])
        toc.append('<a href="#entities">Entities</a>')
        sections.append(f'<section id="entities"><h2>Entities</h2>{t}</section>')
    headline = ([(None, groups["pooled"])] if oof is None
                else [(GROUPS[k].split(" (")[0], groups[k]) for k in ("out_of_fold", "held_out")])
    if any(rows for _, rows in headline):
        toc.append('<a href="#errors">Worst errors</a>')
        sections.append(_worst_section(headline))
    summary = "".join(f'<div class="card"><div class="k">{html.escape(str(k))}</div><div class="v">{html.escape(str(v))}</div></div>'
                      for k, v in _headline_cards(metrics))
    st = metrics["stats"]
    note = (f"{st['unmatched_items']} items whose request did not match the gold were left out of the rationale "
            f"figures. " if st["unmatched_items"] else "")
    note += (f"Forecast decisions: overturned when P(overturned) ≥ {th['decision_forecast']:g}. "
             + (_legacy_note(metrics) if metrics.get("out_of_fold") is None else _oof_note(metrics)))
    tpl = string.Template((configs_dir() / "templates" / "report" / "evaluation.html").read_text(encoding="utf-8"))
    return tpl.substitute(title="IMR model evaluation", style=report_style(), source=html.escape(source),
                          model=html.escape(model), generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                          toc=" · ".join(toc), summary=summary, note=html.escape(note), sections="\n".join(sections))


def evaluate_to_dir(pairs: Iterable[tuple], model_dir: str | Path | None, out_dir: str | Path, source: str,
                    threshold: float | None = None, real_oof: bool = True) -> dict:
    """Score, then write metrics.json and report.html. `threshold`: the forecast decision's
    (default: the model card's). `real_oof`: use the bundle's real_oof.json (letters; a corpus
    split is none of its letters)."""
    from nlp.output import atomic_open
    from models.bundle import classifier_dir, load_scorer

    scorer = load_scorer(model_dir)
    card_path = classifier_dir(model_dir)
    card = read_card(card_path) if card_path else None
    oof = load_real_oof(card_path, card) if card_path and real_oof else None
    collected = collect(pairs, scorer)
    metrics = compute_metrics(collected, card, oof, threshold)
    out_dir = Path(out_dir)
    with atomic_open(out_dir / "metrics.json") as fh:
        json.dump(metrics, fh, indent=1)
    with atomic_open(out_dir / "report.html") as fh:
        fh.write(render(metrics, collected, source, str(model_dir or "bundled default"), oof))
    return metrics
