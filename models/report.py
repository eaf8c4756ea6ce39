"""`imr evaluate --data ... --out DIR`: score labelled letters with a model bundle and write
`metrics.json` and a self-contained `report.html` (figures as embedded PNGs).

Data is either a corpus build (gold decisions, rationales and entities from the dataset) or
letters (gold decisions as the letters state them; rationale labels from the hand annotations
in training/real_labels/ where a letter has them; entity gold from examples/gold/ for the
shared letters). Baselines beside the model: the majority class of the model's training data
(from its model card), and the baselines measured when the model was trained (from the card).
"""
from __future__ import annotations

import datetime as dt
import html
import json
import string
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from nlp.analytics import _figure_png, report_style
from nlp.config import REPO_ROOT, configs_dir
from nlp.reading import RawDocument, iter_documents

GOLD_DIR = REPO_ROOT / "examples" / "gold"
RATIONALES = ["not_recommended", "exceeds_guideline_quantity", "no_functional_improvement",
              "insufficient_documentation", "guideline_criteria_met", "depends_on_denied_request"]
WORST = 15


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


def letters_gold(inputs: Iterable[str]) -> Iterator[tuple]:
    """(RawDocument, gold items or None, gold entities or None) of letters; decisions come
    from the records themselves (the letters' own words)."""
    from training.real_corpus import hand_labels

    labels = hand_labels()
    for doc in iter_documents(inputs):
        hand = {idx: row for (lid, idx), row in labels.items() if lid == doc.id}
        gold_file = GOLD_DIR / f"{doc.id}.json"
        ents = items = None
        if gold_file.is_file():
            g = json.loads(gold_file.read_text(encoding="utf-8"))
            ents = g["entities"]
            items = {it["index"]: it for it in g["items"]}
        elif hand:
            items = hand
        yield doc, items, ents


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
                         "forecast_p": (pred.get("forecast") or {}).get("p_overturned")})
    return {"rows": rows, "entities": ent_score.summary() if stats["entity_letters"] else None, "stats": stats}


def compute_metrics(collected: dict, card: dict | None) -> dict:
    from training.classifier import decision_metrics, label_matrix, multilabel_metrics, rationale_metrics

    rows = [r for r in collected["rows"] if r["p_overturned"] is not None and r["gold_decision"] in ("upheld", "overturned")]
    out = {"stats": {**collected["stats"], "items": len(collected["rows"]), "scored_items": len(rows)},
           "entities": collected["entities"]}
    if not rows:
        return out
    y = [r["gold_decision"] for r in rows]
    out["decision_read"] = decision_metrics(y, np.array([r["p_overturned"] for r in rows]))
    out["decision_forecast"] = decision_metrics(y, np.array([r["forecast_p"] for r in rows]))
    majority_dec = _card_majority(card, "decision") or "upheld"
    out["baseline_majority_decision"] = decision_metrics(y, np.full(len(y), 1.0 if majority_dec == "overturned" else 0.0))
    rat = [r for r in rows if r["gold_rationale"]]
    if rat:
        gold = [r["gold_rationale"] for r in rat]
        out["rationale"] = rationale_metrics(gold, [r["rationale"] for r in rat], RATIONALES)
        majority_rat = _card_majority(card, "rationale") or max(set(gold), key=gold.count)
        out["baseline_majority_rationale"] = rationale_metrics(gold, [majority_rat] * len(gold), RATIONALES)
        lab = [r for r in rat if r["gold_labels"]]
        if lab:
            out["rationale_labels"] = multilabel_metrics(label_matrix([r["gold_labels"] for r in lab], RATIONALES),
                                                         label_matrix([r["rationale_labels"] or [] for r in lab], RATIONALES))
    out["trained_baselines"] = (card or {}).get("metrics", {}).get("baselines")
    # The bundled model is trained on the hand-labelled real letters too: figures on those
    # letters are in-sample. The card holds their letter-grouped cross-validation instead.
    real_ids = {lid for lid, _ in _hand_ids()}
    trained_on_real = ((card or {}).get("training_data") or {}).get("real_items", 0) > 0
    in_sample = sum(r["id"] in real_ids for r in collected["rows"]) if trained_on_real else 0
    out["stats"]["in_sample_items"] = in_sample
    if in_sample:
        out["real_letter_cv"] = {k: v for k, v in ((card or {}).get("metrics") or {}).items() if k.startswith("real_cv")}
    return out


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
    png = _figure_png(fig)
    plt.close(fig)
    return png


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
    png = _figure_png(fig)
    plt.close(fig)
    return png


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
    png = _figure_png(fig)
    plt.close(fig)
    return png


# ------------------------------------------------------------------------------ HTML
def _table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        if isinstance(v, float):
            return f"{v:.3f}"
        return html.escape("" if v is None else str(v))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td{" class=g" if k == 0 else ""}>{cell(v)}</td>' for k, v in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(png: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def render(metrics: dict, collected: dict, source: str, model: str) -> str:
    rows = [r for r in collected["rows"] if r["p_overturned"] is not None and r["gold_decision"] in ("upheld", "overturned")]
    sections, toc, cards = [], [], []
    st = metrics["stats"]
    cards += [("Letters", st["letters"]), ("Items scored", st["scored_items"]), ("Letters with errors", st["errors"])]
    if "decision_read" in metrics:
        dr, df = metrics["decision_read"], metrics["decision_forecast"]
        cards += [("Read macro-F1", f"{dr['macro_f1']:.3f}"),
                  ("Forecast ROC-AUC", "n/a" if df["roc_auc"] is None else f"{df['roc_auc']:.3f}")]
        y = [r["gold_decision"] for r in rows]
        table = _table(["model", "macro-F1", "accuracy", "overturn recall", "overturn precision", "ROC-AUC", "PR-AUC", "Brier"],
                       [[name, m["macro_f1"], m["accuracy"], m["overturn_recall"], m["overturn_precision"], m["roc_auc"],
                         m["pr_auc"], m["brier"]] for name, m in (("read", dr), ("forecast", df),
                                                                  ("majority class (upheld)", metrics["baseline_majority_decision"]))])
        figs = (_img(confusion_png(y, [r["decision"] for r in rows], ["upheld", "overturned"], "Decision, read"), "confusion read")
                + _img(confusion_png(y, [r["forecast_decision"] for r in rows], ["upheld", "overturned"], "Decision, forecast"), "confusion forecast"))
        if len(set(y)) == 2:
            scores = {"read": np.array([r["p_overturned"] for r in rows]), "forecast": np.array([r["forecast_p"] for r in rows])}
            figs += _img(curves_png(y, scores, "pr"), "precision-recall") + _img(curves_png(y, scores, "reliability"), "reliability")
        rel = _table(["mode", "bin", "items", "mean predicted", "observed"],
                     [[mode, f"{b['bin'][0]:.1f}–{b['bin'][1]:.1f}", b["n"], b["mean_predicted"], b["observed"]]
                      for mode in ("read", "forecast") for b in metrics[f"decision_{mode}"]["reliability"]])
        toc.append('<a href="#decision">Decision</a>')
        sections.append(f'<section id="decision"><h2>Decision (upheld / overturned)</h2>{table}<div class="figs">{figs}</div>'
                        f'<h3>Reliability table</h3>{rel}</section>')
    if "rationale" in metrics:
        ra, rb = metrics["rationale"], metrics["baseline_majority_rationale"]
        rat_rows = [r for r in rows if r["gold_rationale"]]
        t = _table(["class", "support", "F1 model", "F1 majority baseline"],
                   [[c, ra["support"].get(c), ra["per_class_f1"].get(c), rb["per_class_f1"].get(c)] for c in ra["per_class_f1"]]
                   + [["macro", ra["n"], ra["macro_f1"], rb["macro_f1"]], ["accuracy", ra["n"], ra["accuracy"], rb["accuracy"]]])
        ml = metrics.get("rationale_labels")
        mlt = f'<p class="note">All reasons (multi-label): micro-F1 {ml["micro_f1"]:.3f}, exact match {ml["exact_match"]:.3f}.</p>' if ml else ""
        figs = _img(f1_bars_png(ra["per_class_f1"], rb["per_class_f1"]), "per-class F1") + _img(
            confusion_png([r["gold_rationale"] for r in rat_rows], [r["rationale"] for r in rat_rows],
                          [c for c in RATIONALES if c in ra["per_class_f1"]], "Rationale (read)"), "rationale confusion")
        toc.append('<a href="#rationale">Rationale</a>')
        sections.append(f'<section id="rationale"><h2>Rationale category</h2>{t}{mlt}<div class="figs">{figs}</div></section>')
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
    if rows:
        worst = sorted(rows, key=lambda r: -abs((r["gold_decision"] == "overturned") - r["p_overturned"]))[:WORST]
        t = _table(["request", "letter", "gold decision", "predicted", "P(overturned)", "gold rationale", "predicted rationale"],
                   [[r["request"], r["id"], r["gold_decision"], r["decision"], r["p_overturned"], r["gold_rationale"], r["rationale"]]
                    for r in worst])
        toc.append('<a href="#errors">Worst errors</a>')
        sections.append(f'<section id="errors"><h2>Worst decision errors</h2><p class="note">Items whose predicted '
                        f'probability is farthest from the stated decision.</p>{t}</section>')
    summary = "".join(f'<div class="card"><div class="k">{html.escape(str(k))}</div><div class="v">{html.escape(str(v))}</div></div>'
                      for k, v in cards)
    note = (f"{st['unmatched_items']} items whose request did not match the gold were left out of the rationale "
            f"figures. " if st["unmatched_items"] else "")
    if st.get("in_sample_items"):
        note += (f"{st['in_sample_items']} of these items are real letters the model was trained on: their figures are "
                 f"in-sample. Held-out figures for real letters (letter-grouped cross-validation, from the model card): "
                 + "; ".join(f"{k}: " + ", ".join(f"{m}={v}" for m, v in d.items())
                             for k, d in metrics.get("real_letter_cv", {}).items()) + ".")
    tpl = string.Template((configs_dir() / "templates" / "report" / "evaluation.html").read_text(encoding="utf-8"))
    return tpl.substitute(title="IMR model evaluation", style=report_style(), source=html.escape(source),
                          model=html.escape(model), generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                          toc=" · ".join(toc), summary=summary, note=html.escape(note), sections="\n".join(sections))


def evaluate_to_dir(pairs: Iterable[tuple], model_dir: str | Path | None, out_dir: str | Path, source: str) -> dict:
    from nlp.output import atomic_open
    from nlp.service import classifier_dir, load_scorer

    scorer = load_scorer(model_dir)
    card_path = classifier_dir(model_dir)
    card = json.loads((card_path / "model_card.json").read_text()) if card_path else None
    collected = collect(pairs, scorer)
    metrics = compute_metrics(collected, card)
    out_dir = Path(out_dir)
    with atomic_open(out_dir / "metrics.json") as fh:
        json.dump(metrics, fh, indent=1)
    with atomic_open(out_dir / "report.html") as fh:
        fh.write(render(metrics, collected, source, str(model_dir or "bundled default")))
    return metrics
