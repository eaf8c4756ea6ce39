"""Real-first classifier training (docs/CLASSIFIER.md): real letters label themselves.

    run_real_first(cfg, real=["examples/real"], corpus="data/corpus", out="models/default/classifier")

1. Every real letter is parsed; each item's heading states its decision (the label). Rationale
   labels are the hand labels (training/real_labels/) where an item has one, else the weak rules
   of nlp/rationale_rules.py. Letters of the frozen subset (training.real_protocol) are set
   aside before anything is fitted and scored once at the end.
2. Repeated letter-grouped CV on the other letters, in the folds of shared/tools/real_peer.py
   (`letter_folds`): the forecast variants real_only / generated_only / both, the naive peer in
   the same folds, bootstrap intervals over letters; a learning curve over letters; read
   decision and rationale out of fold.
3. The final models: the forecast variant of `models.forecast.variant` on all non-frozen real
   items; read decision and rationale on the real items plus the generated corpus and the
   independently written letters with their writers' gold (`training.written_letters`) when given.
   Saved with the out-of-fold predictions (`real_oof.json`) and the frozen-subset figures.
"""
from __future__ import annotations

import json
import logging
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from models.estimators import make_decision_model, make_peer_model, make_real_forecast_model
from models.examples import FORECAST_KEYS, REVIEW_KEYS, item_examples
from models.features import load_config
from models.persistence import fingerprint
from models.predict import coherent_rationale
from training.classifier import (ItemData, Trainer, _jobs, _parser, _serial, load_corpus_split, load_written,
                                 run_parallel, save_bundle)
from training.dataset_io import dataset_dir
from training.real_corpus import hand_labels
from training.real_protocol import bootstrap_auc, check_not_frozen, letter_folds, load_frozen, peer_tool_scores

log = logging.getLogger(__name__)
VARIANTS = ("real_only", "generated_only", "both")


# =========================================================================== data
def real_items(inputs, parser, labels: dict | None = None, frozen: frozenset | None = None,
               stats: Counter | None = None) -> tuple[ItemData, ItemData]:
    """(training items, frozen items) of the letters in `inputs` (files, dirs, globs).

    The decision is the one the item's heading states; items without one are skipped. The
    rationale is the hand label when the hand-labelled request matches the parsed one, else
    the weak label read from the reviewer's rationale."""
    from nlp.rationale_rules import weak_rationale
    from nlp.reading import iter_documents
    from nlp.textnorm import normalize_text

    labels = hand_labels() if labels is None else labels
    frozen = load_frozen() if frozen is None else frozen
    stats = Counter() if stats is None else stats
    train, held = ItemData(), ItemData()
    docs = list(iter_documents([str(i) for i in inputs]))
    for doc, rec in zip(docs, parser.process(docs)):
        stats["letters"] += 1
        if not rec.get("items"):
            stats["letters_without_items"] += 1
            continue
        text = normalize_text(doc.text) if doc.text else ""
        target = held if rec["id"] in frozen else train
        for it, ex in zip(rec["items"], item_examples(rec, text)):
            if it.get("decision") not in ("upheld", "overturned"):
                stats["items_without_decision"] += 1
                continue
            hand = labels.get((rec["id"], it["index"]))
            if hand and hand.get("request") == it["request"]:
                gold = {"decision": it["decision"], "rationale": hand["rationale"],
                        "rationale_labels": hand["rationale_labels"], "labels_from": "hand"}
            else:
                rat, rat_labels = weak_rationale(ex["rationale"], it["decision"])
                gold = {"decision": it["decision"], "rationale": rat, "rationale_labels": rat_labels,
                        "labels_from": "weak"}
            stats[f"rationale_{gold['labels_from']}"] += 1
            target.add(ex, gold, 1.0, "real_" + gold["labels_from"])
    stats["frozen_letters"] = len(set(held.groups))
    stats["train_letters"] = len(set(train.groups))
    check_not_frozen(train.groups, "real-first training", frozen)
    return train, held


def _logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _y(data: ItemData) -> np.ndarray:
    return (np.asarray(data.decision) == "overturned").astype(int)


# =========================================================================== forecast CV
def fit_decisions(model, data: ItemData):
    """`model` fitted on the stated decisions of `data`; a final step that takes `groups`
    (PlattLogistic) gets the letters, so its inner folds never split one, and the items' sample
    weights when they differ (written letters weighed against real ones)."""
    import inspect

    last = model.steps[-1] if hasattr(model, "steps") else None
    if last is None:
        return model.fit(data.X, data.decision)
    params = inspect.signature(last[1].fit).parameters
    kwargs = {}
    if "groups" in params:
        kwargs[f"{last[0]}__groups"] = data.groups
    w = data.w()
    if len(w) and not np.all(w == 1.0):
        kwargs[f"{last[0]}__sample_weight"] = w
    return model.fit(data.X, data.decision, **kwargs)


def _fit_predict(make, train: ItemData, test: ItemData) -> np.ndarray:
    """P(overturned) on `test` of `make()` fitted on `train` (a worker task)."""
    model = fit_decisions(make(), train)
    return model.predict_proba(test.X)[:, list(model.classes_).index("overturned")]


class _Make:
    """A picklable model factory (worker processes rebuild the model from it)."""

    def __init__(self, kind: str, cfg: dict, prior=None):
        self.kind, self.cfg, self.prior = kind, cfg, prior

    def __call__(self):
        if self.kind == "peer":
            return make_peer_model(self.cfg)
        # uncalibrated in the CV: a sigmoid per fold, fitted on a few letters, would make the
        # pooled out-of-fold scores incomparable across folds; one sigmoid is fitted on them after
        return make_real_forecast_model(self.cfg, prior=self.prior, calibrate=False)


def forecast_oof(data: ItemData, make, repeats: int, k: int, jobs: int = 1,
                 letters_per_fold: int | None = None, seed: int = 0, extra: ItemData | None = None) -> np.ndarray:
    """(repeats, n) out-of-fold P(overturned): fold f of repeat r trains on the other folds
    (optionally only `letters_per_fold` letters of them, drawn with `seed`), plus `extra` (items
    of other letters, e.g. the written ones, never scored) when given."""
    groups = np.asarray(data.groups)
    tasks, where = [], []
    rng = np.random.default_rng(seed)
    for r in range(repeats):
        fold = letter_folds(data.groups, r, k)
        f = np.array([fold[g] for g in groups])
        for j in range(k):
            tr = np.flatnonzero(f != j)
            if letters_per_fold is not None:
                keep = set(rng.choice(sorted(set(groups[tr])), min(letters_per_fold, len(set(groups[tr]))), replace=False))
                tr = np.array([i for i in tr if groups[i] in keep])
            te = np.flatnonzero(f == j)
            if len(set(np.asarray(data.decision)[tr])) < 2:  # a draw without an overturn
                tasks.append(None)
            else:
                train = data.subset(tr) if extra is None else data.subset(tr) + extra
                tasks.append((_fit_predict, (make, train, data.subset(te))))
            where.append((r, te))
    done = run_parallel([t for t in tasks if t is not None], jobs)
    out = np.full((repeats, len(data)), 0.5)
    it = iter(done)
    for t, (r, te) in zip(tasks, where):
        if t is not None:
            out[r, te] = next(it)
    return out


def _auc_summary(y, oof: np.ndarray, peer: np.ndarray, groups, mask=None) -> dict:
    m = np.ones(len(y), bool) if mask is None else mask
    a = np.array([roc_auc_score(y[m], o[m]) for o in oof])
    b = np.array([roc_auc_score(y[m], o[m]) for o in peer])
    boot = bootstrap_auc(y[m], oof.mean(0)[m], np.asarray(groups)[m], p_other=peer.mean(0)[m])
    return {"roc_auc_per_repeat": [round(float(v), 4) for v in a], "roc_auc_mean": round(float(a.mean()), 4),
            "roc_auc_sd": round(float(a.std()), 4), "peer_per_repeat": [round(float(v), 4) for v in b],
            "peer_mean": round(float(b.mean()), 4), "diff_mean": round(float((a - b).mean()), 4),
            "repeats_won": int((a > b).sum()), "bootstrap_mean_oof": boot,
            "items": int(m.sum()), "overturned": int(y[m].sum())}


def written_sets_left_out(cfg: dict, data: ItemData, written: ItemData, sets, jobs: int = 1,
                          make=None) -> dict | None:
    """The forecast's second selection measure (docs/CLASSIFIER.md): each written set left out in
    turn, the forecast fitted on every real item of `data` and the items of the other sets
    (`written`, with their weights), scored on the set left out; beside it the peer's model fitted
    on the real items alone. Their writers are in no training fold of their own set, so this
    measures writers the model has not seen (about 20% overturned against the real letters' 13%).
    `sets`: each written item's set name. None with fewer than two sets."""
    sets = np.asarray(sets, dtype=object)
    names = sorted(set(sets))
    if len(names) < 2:
        return None
    make = make or _Make("real", cfg)
    tasks = [(_fit_predict, (make, data + written.subset(np.flatnonzero(sets != s)),
                             written.subset(np.flatnonzero(sets == s)))) for s in names]
    p = np.zeros(len(written))
    for s, scores in zip(names, run_parallel(tasks, jobs)):
        p[sets == s] = scores
    peer = fit_decisions(make_peer_model(cfg), data)
    pp = peer.predict_proba(written.X)[:, list(peer.classes_).index("overturned")]
    y = _y(written)

    def auc(m, scores):
        return round(float(roc_auc_score(y[m], scores[m])), 4) if len(set(y[m])) == 2 else None

    per = {s: {"items": int((sets == s).sum()), "overturned": int(y[sets == s].sum()),
               "roc_auc": auc(sets == s, p), "peer_roc_auc": auc(sets == s, pp)} for s in names}
    scored = [v for v in per.values() if v["roc_auc"] is not None]
    everything = np.ones(len(y), bool)
    return {"sets": len(names), "items": len(written), "overturned": int(y.sum()),
            "pooled_roc_auc": auc(everything, p), "peer_pooled_roc_auc": auc(everything, pp),
            "mean_per_set": round(float(np.mean([v["roc_auc"] for v in scored])), 4) if scored else None,
            "peer_mean_per_set": round(float(np.mean([v["peer_roc_auc"] for v in scored])), 4) if scored else None,
            "per_set": per}


# =========================================================================== read / rationale CV
def _fold_heads(cfg: dict, seed: int, train: ItemData) -> dict:
    return Trainer(cfg, seed).fit(train, chosen=_chosen(cfg), rationale_forecast=False)[0]


def _chosen(cfg: dict) -> dict:
    c = cfg["real_first"]["C"]
    return {"decision_read": c["decision_read"], "decision_forecast": c["decision_read"],
            "rationale_read": c["rationale"]}


def read_oof(cfg: dict, seed: int, data: ItemData, generated: ItemData | None, k: int, jobs: int) -> dict:
    """Out-of-fold read decision and (coherent) rationale of repeat 0's folds, trained on the
    other folds (+ the generated items when given)."""
    fold = letter_folds(data.groups, 0, k)
    f = np.array([fold[g] for g in data.groups])
    tasks = []
    for j in range(k):
        tr = data.subset(np.flatnonzero(f != j))
        tasks.append((_fold_heads, (_serial(cfg), seed, tr + generated if generated is not None else tr)))
    fitted = run_parallel(tasks, jobs)
    p_read = np.zeros(len(data))
    rationale = np.empty(len(data), dtype=object)
    for j, models in enumerate(fitted):
        te = np.flatnonzero(f == j)
        sub = data.subset(te)
        dr = models["decision_read"]
        p = dr.predict_proba(sub.X)[:, list(dr.classes_).index("overturned")]
        p_read[te] = p
        rm = models["rationale_read"]
        rationale[te] = coherent_rationale(rm.predict_proba(sub.X), rm.classes_, p >= 0.5,
                                           cfg["models"]["coherence"]["overturned"])
    return {"p_read": p_read, "rationale": rationale}


def read_metrics(data: ItemData, oof: dict, majority: str | None) -> dict:
    y = np.asarray(data.decision)
    pred = np.where(oof["p_read"] >= 0.5, "overturned", "upheld")
    hand = np.array([o == "real_hand" for o in data.origin])
    yr, pr = np.asarray(data.rationale)[hand], oof["rationale"][hand]
    return {"read_decision_agreement": round(float((pred == y).mean()), 4),
            "read_decision_misses": int((pred != y).sum()),
            "rationale_items_hand_labelled": int(hand.sum()),
            "rationale_accuracy": round(float(accuracy_score(yr, pr)), 4) if hand.any() else None,
            "rationale_macro_f1": round(float(f1_score(yr, pr, average="macro")), 4) if hand.any() else None,
            "majority_rationale": majority,
            "majority_rationale_accuracy": round(float((yr == majority).mean()), 4) if hand.any() else None}


def cross_validate(cfg: dict, seed: int, data: ItemData, gen: ItemData | None, gen_model, repeats: int,
                   jobs: int, timings: dict, written: ItemData | None = None,
                   forecast_written: ItemData | None = None,
                   forecast_written_sets=None) -> tuple[dict, dict, dict]:
    """(metrics, forecast OOF per variant, read OOF) of the repeated letter-grouped CV. `written`:
    the written letters' items, added to every fold's read/rationale training; `forecast_written`:
    those added to every fold's real_written forecast (None: no real_written variant), never scored
    in the real CV; with `forecast_written_sets` (each item's set name) each set is also left out in
    turn and scored (`written_sets_left_out`)."""
    rf = cfg["real_first"]
    k = int(rf["folds"])
    y = _y(data)
    metrics: dict = {}
    # ---- forecast variants and the peer, same folds
    t = time.time()
    oof = {"peer": forecast_oof(data, _Make("peer", cfg), repeats, k, jobs),
           "real_only": forecast_oof(data, _Make("real", cfg), repeats, k, jobs)}
    forecast_written = _forecast_written(cfg, forecast_written)
    if forecast_written is not None:
        oof["real_written"] = forecast_oof(data, _Make("real", cfg), repeats, k, jobs, extra=forecast_written)
    if gen_model is not None:
        p = gen_model.predict_proba(data.X)[:, list(gen_model.classes_).index("overturned")]
        oof["generated_only"] = np.tile(p, (repeats, 1))
        oof["both"] = forecast_oof(data, _Make("real", cfg, prior=gen_model), repeats, k, jobs)
    shaped = np.array([g not in set(rf["shaped_generator"] or ()) for g in data.groups])
    tool = peer_tool_scores([(g, ex["index"]) for g, ex in zip(data.groups, data.X)])
    if tool is not None and len(tool) >= repeats:  # the shared tool's own scores, same folds
        oof["peer_tool"] = tool[:repeats]
    metrics["forecast_cv"] = {v: _auc_summary(y, o, oof["peer"], data.groups) for v, o in oof.items()}
    if not shaped.all():
        metrics["forecast_cv_without_shaping_letters"] = {
            "letters_left_out": sorted(set(rf["shaped_generator"]) & set(data.groups)),
            **{v: _auc_summary(y, o, oof["peer"], data.groups, shaped) for v, o in oof.items()}}
    timings["forecast_cv_s"] = round(time.time() - t, 1)
    if forecast_written is not None and forecast_written_sets is not None:
        t = time.time()
        left_out = written_sets_left_out(cfg, data, forecast_written, forecast_written_sets, jobs)
        if left_out is not None:
            metrics["forecast_written_sets_left_out"] = left_out
        timings["forecast_written_sets_s"] = round(time.time() - t, 1)

    # ---- learning curve (real_only, letters per training fold)
    t = time.time()
    curve = []
    n_train_letters = len(set(data.groups)) * (k - 1) // k
    for n in [n for n in rf["learning_curve_letters"] if n < n_train_letters] + [None]:
        lr = min(repeats, int(rf["learning_curve_repeats"]))
        o = forecast_oof(data, _Make("real", cfg), lr, k, jobs, letters_per_fold=n, seed=seed)
        po = forecast_oof(data, _Make("peer", cfg), lr, k, jobs, letters_per_fold=n, seed=seed)
        s = _auc_summary(y, o, po, data.groups)
        curve.append({"letters": n or n_train_letters, "roc_auc_mean": s["roc_auc_mean"], "roc_auc_sd": s["roc_auc_sd"],
                      "peer_mean": s["peer_mean"]})
    metrics["learning_curve"] = curve
    timings["learning_curve_s"] = round(time.time() - t, 1)

    # ---- read decision and rationale, out of fold (with and without the generated items)
    t = time.time()
    majority = Counter(r for r, o in zip(data.rationale, data.origin) if o == "real_hand").most_common(1)
    majority = majority[0][0] if majority else None
    extra = _joined(gen, written)
    ro = read_oof(cfg, seed, data, extra, k, jobs)
    metrics["read_cv"] = {read_variant(gen, written): read_metrics(data, ro, majority)}
    if extra is not None and rf["read_ablation"]:
        if gen is not None and written is not None:
            metrics["read_cv"]["generated_plus_real"] = read_metrics(data, read_oof(cfg, seed, data, gen, k, jobs),
                                                                     majority)
        metrics["read_cv"]["real_only"] = read_metrics(data, read_oof(cfg, seed, data, None, k, jobs), majority)
    timings["read_cv_s"] = round(time.time() - t, 1)

    return metrics, oof, ro


def _forecast_written(cfg: dict, written: ItemData | None) -> ItemData | None:
    """The written letters' items for the forecast (their writers' decisions), each weighted
    `models.forecast.written_weight` real items; None without written letters or at weight 0."""
    weight = float(cfg["models"]["forecast"].get("written_weight") or 0)
    if written is None or not len(written) or weight <= 0:
        return None
    out = written.subset(range(len(written)))
    out.weight = [weight] * len(out)
    return out


def _joined(*parts: ItemData | None) -> ItemData | None:
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def written_items(uses, parser, cfg: dict, owner: dict[str, Path] | None = None) -> list[ItemData | None]:
    """Per use (a list of written set directories each), the items of those sets: every set is
    parsed once however many uses name it; None for a use without sets. `owner`: the sets' letter
    owners when the caller has read them (`written_owners`)."""
    union = sorted({Path(d) for dirs in uses for d in dirs})
    if not union:
        return [None for _ in uses]
    wr = load_written(union, parser, cfg, stats=Counter())
    check_not_frozen(wr.groups, "written letters")
    owner = written_owners(union) if owner is None else owner
    out = []
    for dirs in uses:
        keep = {Path(d) for d in dirs}
        out.append(wr.subset([i for i, g in enumerate(wr.groups) if owner[g] in keep]) if keep else None)
    return out


def written_owners(dirs) -> dict[str, Path]:
    """Letter id -> the written set directory whose gold holds it."""
    return {json.loads(p.read_text(encoding="utf-8"))["id"]: Path(d) for d in dirs
            for p in (Path(d) / "gold").glob("*.json")}


def read_variant(gen: ItemData | None, written: ItemData | None) -> str:
    """The name of what the read/rationale heads learned from besides the real letters."""
    extra = [name for name, d in (("generated", gen), ("written", written)) if d is not None and len(d)]
    return "_".join(extra) + "_plus_real" if extra else "real_only"


# =========================================================================== the run
def run_real_first(cfg: dict | None = None, real=None, corpus: str | Path | None = None,
                   out: str | Path | None = None, seed: int | None = None, ner_model=None,
                   generated: bool = True, repeats: int | None = None, metrics_path=None,
                   max_letters: int | None = None, score_frozen: bool = False,
                   frozen: frozenset | None = None, written=None) -> dict:
    """Train, cross-validate and save the real-first classifier; returns the metrics. `frozen`:
    the case numbers kept out of training (default: configs/real/frozen_cases.json); `written`:
    directories of written letters with gold for the read/rationale heads (default: config
    `training.written_letters`; [] for none); the forecast's are `models.forecast.written_letters`
    (null: the same as the read heads')."""
    from training.classifier import ROOT

    t0 = time.time()
    cfg = cfg or load_config()
    rf = cfg["real_first"]
    seed = cfg["seed"] if seed is None else seed
    real = list(real or [ROOT / cfg["training"]["real_letters"]])
    out = Path(out) if out is not None else ROOT / cfg["training"]["out"]
    k = int(rf["folds"])
    repeats = int(rf["repeats"] if repeats is None else repeats)
    jobs = _jobs(cfg, "fit_jobs")
    timings: dict = {}
    parser = _parser(ner_model, _jobs(cfg, "parse_jobs"))
    stats: Counter = Counter()
    t = time.time()
    data, frozen = real_items(real, parser, frozen=frozen, stats=stats)
    timings["parse_real_s"] = round(time.time() - t, 1)
    y = _y(data)
    if len(data) == 0 or len(set(y)) < 2:
        raise ValueError(f"the real letters gave {len(data)} items with {int(y.sum())} overturned: "
                         "training needs both decisions")
    gen = None
    corpus = Path(corpus) if corpus is not None else ROOT / cfg["training"]["corpus"]
    if generated and (dataset_dir(corpus) / "dataset_dict.json").is_file():
        t = time.time()
        gen = load_corpus_split(corpus, "train", parser, cfg, max_letters=max_letters or rf["generated_max_letters"],
                                stats=Counter())
        timings["parse_generated_s"] = round(time.time() - t, 1)
    written_dirs = [ROOT / w for w in (cfg["training"].get("written_letters") or [])] if written is None else written
    forecast_dirs = cfg["models"]["forecast"].get("written_letters")
    forecast_dirs = written_dirs if forecast_dirs is None else [ROOT / w for w in forecast_dirs]
    t = time.time()
    owner = written_owners(sorted({Path(d) for d in [*written_dirs, *forecast_dirs]}))
    wr, wf = written_items([written_dirs, forecast_dirs], parser, cfg, owner=owner)
    timings["parse_written_s"] = round(time.time() - t, 1)
    metrics: dict = {"protocol": {"folds": k, "repeats": repeats, "fold_rule": "training.real_protocol.letter_folds "
                                  "(= shared/tools/real_peer.py cv)", "frozen_cases": sorted(set(frozen.groups)),
                                  "train_letters": len(set(data.groups)), "train_items": len(data),
                                  "train_overturned": int(y.sum()), "generated_items": len(gen) if gen else 0,
                                  "written_items": len(wr) if wr else 0,
                                  "written_letters": [str(w) for w in written_dirs],
                                  "forecast_written_items": len(wf) if wf else 0,
                                  "forecast_written_letters": [str(w) for w in forecast_dirs]},
                     "stats": dict(stats)}

    gen_model = None
    if gen is not None:
        gen_model = make_decision_model("forecast", cfg, C=rf["C"]["generated_forecast"], seed=seed)
        gen_model.fit(gen.X, gen.decision)
    oof = ro = None
    if repeats > 0:
        wf_sets = None
        if wf:  # each forecast written item's set, for the sets-left-out measure
            wf_sets = [owner[g].name for g in wf.groups]
        cv_metrics, oof, ro = cross_validate(cfg, seed, data, gen, gen_model, repeats, jobs, timings, written=wr,
                                             forecast_written=wf, forecast_written_sets=wf_sets)
        metrics.update(cv_metrics)

    # ---- final models
    t = time.time()
    variant = cfg["models"]["forecast"]["variant"]
    forecast_written = _forecast_written(cfg, wf)
    if (variant in ("generated_only", "both") and gen_model is None) or (
            variant == "real_written" and forecast_written is None):
        variant = "real_only"
    final_train = _joined(data, gen, wr)
    heads = Trainer(cfg, seed).fit(final_train, chosen=_chosen(cfg), rationale_forecast=False)[0]
    if variant == "generated_only":
        forecast = gen_model
    else:
        forecast = make_real_forecast_model(cfg, prior=gen_model if variant == "both" else None, seed=seed,
                                            calibrate=oof is None)
        fit_decisions(forecast, data + forecast_written if variant == "real_written" else data)
        if oof is not None:  # one sigmoid on the outer CV's out-of-fold scores
            z = _logit(oof[variant]).mean(0)
            forecast.named_steps["clf"].recalibrate(z, data.decision)
            a, c = forecast.named_steps["clf"].platt_
            oof[variant] = np.tile(1 / (1 + np.exp(-(a * z + c))), (oof[variant].shape[0], 1))
            metrics["forecast_calibration"] = {"slope": round(a, 4), "intercept": round(c, 4),
                                               "fitted_on": "mean out-of-fold logit over the repeats"}
    peer = make_peer_model(cfg).fit(data.X, data.decision)
    timings["final_fit_s"] = round(time.time() - t, 1)

    # ---- the frozen subset, scored once per release
    if score_frozen and len(frozen):
        metrics["frozen_once"] = frozen_figures(frozen, forecast, peer, heads, cfg)

    # ---- save
    oof_doc = None if oof is None else {"folds": k, "repeats": repeats, "variant": variant, "letters": sorted(set(data.groups)),
               "items": [{"case": g, "index": ex["index"], "request": ex["request"], "decision": d,
                          "p_forecast": round(float(oof[variant][:, i].mean()), 5),
                          "p_peer": round(float(oof["peer"][:, i].mean()), 5),
                          "p_read": round(float(ro["p_read"][i]), 5), "rationale": str(ro["rationale"][i]),
                          "rationale_gold": r if o == "real_hand" else None}
                         for i, (ex, g, d, r, o) in enumerate(zip(data.X, data.groups, data.decision,
                                                                 data.rationale, data.origin))]}
    metrics["forecast_variant"] = variant
    metrics["timings"] = timings
    metrics["train_seconds"] = round(time.time() - t0, 1)
    card = {
        "trained_by": "training.real_first",
        "labels": {"decision": list(cfg["labels"]["decision"]),
                   "rationale": [str(c) for c in heads["rationale_read"].classes_],
                   "rationale_labels": list(cfg["labels"]["rationale"])},
        "thresholds": {"decision_read": 0.5, "decision_forecast": float(rf["threshold"]),
                       "rationale_labels": cfg["models"]["rationale"]["multilabel_threshold"]},
        "coherence": cfg["models"]["coherence"],
        "forecast": {"variant": variant, "explanation_terms": cfg["models"]["forecast"]["explanation_terms"]},
        "features": {"read": {"reads_keys": list(FORECAST_KEYS + REVIEW_KEYS)},
                     "forecast": {"reads_keys": list(cfg["models"]["forecast"]["fields"]) +
                                  (list(FORECAST_KEYS) if variant in ("generated_only", "both") else [])}},
        "training_data": {"fingerprint": fingerprint(
            {"id": g, "index": ex["index"], "request": ex["request"], "decision": d, "rationale": r}
            for ex, g, d, r in zip(final_train.X, final_train.groups, final_train.decision, final_train.rationale)),
            "real_letters": sorted(set(data.groups)), "real_items": len(data),
            "generated_items": len(gen) if gen else 0, "written_items": len(wr) if wr else 0,
            "written_letters": [str(w) for w in written_dirs], "forecast_written_items": len(wf) if wf else 0,
            "forecast_written_letters": [str(w) for w in forecast_dirs],
            "frozen_letters_excluded": sorted(set(frozen.groups)),
            "inputs": [str(r) for r in real], "corpus": str(corpus) if gen else None, "stats": dict(stats)},
        "settings": {"seed": seed, "config": cfg},
        "metrics": headline(metrics),
    }
    artifacts = {"decision_read": heads["decision_read"], "decision_forecast": forecast,
                 "rationale": heads["rationale_read"], "rationale_labels": heads["rationale_labels"]}
    return save_bundle(out, artifacts, card, metrics, metrics_path, data={"real_oof": oof_doc} if oof_doc else None)


def frozen_figures(frozen: ItemData, forecast, peer, heads: dict, cfg: dict) -> dict:
    """The final models on the frozen letters (scored once per release)."""
    y = _y(frozen)
    pf = forecast.predict_proba(frozen.X)[:, list(forecast.classes_).index("overturned")]
    pp = peer.predict_proba(frozen.X)[:, list(peer.classes_).index("overturned")]
    dr = heads["decision_read"]
    p_read = dr.predict_proba(frozen.X)[:, list(dr.classes_).index("overturned")]
    rm = heads["rationale_read"]
    rat = np.array(coherent_rationale(rm.predict_proba(frozen.X), rm.classes_, p_read >= 0.5,
                                      cfg["models"]["coherence"]["overturned"]), dtype=object)
    hand = np.array([o == "real_hand" for o in frozen.origin])
    out = {"letters": len(set(frozen.groups)), "items": len(frozen), "overturned": int(y.sum()),
           "read_decision_agreement": round(float(((p_read >= 0.5) == (y == 1)).mean()), 4)}
    if len(set(y)) == 2:
        out["forecast"] = bootstrap_auc(y, pf, frozen.groups, p_other=pp)
        out["peer_roc_auc"] = round(float(roc_auc_score(y, pp)), 4)
    if hand.any():
        yr = np.asarray(frozen.rationale)[hand]
        out["rationale_accuracy"] = round(float(accuracy_score(yr, rat[hand])), 4)
        out["rationale_macro_f1"] = round(float(f1_score(yr, rat[hand], average="macro")), 4)
    return out


def headline(m: dict) -> dict:
    """The figures the targets are stated in."""
    h: dict = {}
    v = m.get("forecast_variant")
    fc = (m.get("forecast_cv") or {}).get(v) if v else None
    if fc:
        h["real_cv_forecast"] = {"variant": v, "roc_auc": fc["roc_auc_mean"], "sd": fc["roc_auc_sd"],
                                 "peer": fc["peer_mean"], "diff": fc["diff_mean"],
                                 "ci95": fc["bootstrap_mean_oof"]["ci95"]}
    lo = m.get("forecast_written_sets_left_out")
    if lo:
        h["written_sets_left_out_forecast"] = {"sets": lo["sets"], "items": lo["items"], "roc_auc": lo["pooled_roc_auc"],
                                               "mean_per_set": lo["mean_per_set"], "peer": lo["peer_pooled_roc_auc"]}
    for name, r in (m.get("read_cv") or {}).items():
        h[f"real_cv_read_{name}"] = {k: r[k] for k in ("read_decision_agreement", "rationale_accuracy",
                                                       "rationale_macro_f1", "majority_rationale_accuracy")}
    if m.get("frozen_once"):
        f = m["frozen_once"]
        h["frozen_once"] = {"items": f["items"], "overturned": f["overturned"],
                            "forecast_roc_auc": (f.get("forecast") or {}).get("roc_auc"),
                            "peer_roc_auc": f.get("peer_roc_auc"),
                            "read_decision_agreement": f["read_decision_agreement"],
                            "rationale_accuracy": f.get("rationale_accuracy")}
    return h
