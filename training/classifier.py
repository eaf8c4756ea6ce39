"""Train and evaluate the item classifier (docs/CLASSIFIER.md).

    run_training(cfg, corpus="data/corpus", out="models/default/classifier", seed=13)
    run_evaluation(cfg, model_dir, corpus=...)

Data: the generated corpus (`datasets.DatasetDict` saved to disk; splits train / validation /
test / test_unseen; rows `id`, `text`, `items` with gold labels) and the real letters
(examples/real/*.pdf with training/real_labels/real_items.jsonl). Letters are parsed with the
project's parser (`models.bundle.load_parser`, NER included when a model is installed), item
examples are built with `models.examples.item_examples`, and gold labels are joined by letter
id and item index; a parsed request that differs from the gold request is counted (and the item
dropped when `training.drop_request_mismatch`).

Steps: fit features per mode on train; select C on validation (decision: PR-AUC; rationale:
macro-F1); evaluate the chosen models and both baselines on test and test_unseen, in read and
forecast mode; HistGradientBoosting comparison for the decision; letter-grouped cross-validation
on the real letters (GroupKFold by letter id), with and without the real training folds; final
models = train + all real items; save artifacts, model card and metrics JSON.
"""
from __future__ import annotations

import json
import logging
import re
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import GroupKFold

from models.estimators import (
    assemble,
    fit_pipeline,
    make_baseline,
    make_decision_head,
    make_decision_model,
    make_features,
    make_multilabel_head,
    make_rationale_head,
)
from models.examples import FORECAST_KEYS, REVIEW_KEYS, item_examples
from models.features import load_config
from models.persistence import fingerprint, save_artifacts
from training.dataset_io import dataset_dir, decoded_rows
from training.real_corpus import hand_labels

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
MODES = ("read", "forecast")


# =========================================================================== data
class ItemData:
    """Parallel lists: examples X, labels, letter ids (groups), sample weights, origin."""

    def __init__(self, X=None, decision=None, rationale=None, labels=None, groups=None, weight=None, origin=None):
        self.X = list(X or [])
        self.decision = list(decision or [])
        self.rationale = list(rationale or [])
        self.labels = list(labels or [])
        self.groups = list(groups or [])
        self.weight = list(weight or [])
        self.origin = list(origin or [])

    def __len__(self):
        return len(self.X)

    def add(self, ex, gold: dict, weight: float, origin: str):
        self.X.append(ex)
        self.decision.append(gold["decision"])
        self.rationale.append(gold.get("rationale"))
        self.labels.append(list(gold.get("rationale_labels") or ([gold["rationale"]] if gold.get("rationale") else [])))
        self.groups.append(ex["id"])
        self.weight.append(weight)
        self.origin.append(origin)

    def subset(self, idx) -> "ItemData":
        idx = list(idx)
        return ItemData(*([getattr(self, a)[i] for i in idx] for a in
                          ("X", "decision", "rationale", "labels", "groups", "weight", "origin")))

    def __add__(self, other: "ItemData") -> "ItemData":
        return ItemData(*(getattr(self, a) + getattr(other, a) for a in
                          ("X", "decision", "rationale", "labels", "groups", "weight", "origin")))

    def y_decision(self):
        return np.asarray(self.decision)

    def y_rationale(self):
        return np.asarray(self.rationale)

    def w(self):
        return np.asarray(self.weight, dtype=float)


_ASSOCIATED = re.compile(r"(?i)^\s*associated surgical services?\s*:\s*")


def _norm_request(s: str | None) -> str:
    """Comparable form of a request: lower case, punctuation folded, and without the
    "Associated surgical service:" prefix (the parser keeps it, the corpus gold does not)."""
    s = re.sub(r"[^a-z0-9%#/.]+", " ", _ASSOCIATED.sub("", s or "").lower())
    return re.sub(r"\s+", " ", s).strip(" .")


def _join(records_texts, gold_by_letter: dict, weight: float, origin: str, drop_mismatch: bool,
          stats: Counter) -> ItemData:
    data = ItemData()
    for rec, text in records_texts:
        gold_items = gold_by_letter.get(rec["id"]) or {}
        stats["letters"] += 1
        if rec.get("error") and not rec.get("items"):
            stats["letters_unparsed"] += 1
            stats["items_gold_unmatched"] += len(gold_items)
            continue
        exs = {ex["index"]: ex for ex in item_examples(rec, text)}
        for idx, gold in gold_items.items():
            stats["items_gold"] += 1
            ex = exs.get(idx)
            if ex is None:
                stats["items_gold_unmatched"] += 1
                continue
            if gold.get("decision") not in ("upheld", "overturned"):
                stats["items_no_label"] += 1
                continue
            if _ASSOCIATED.match(ex["request"] or "") and not _ASSOCIATED.match(gold.get("request") or ""):
                stats["request_associated_prefix"] += 1
            if _norm_request(ex["request"]) != _norm_request(gold.get("request")):
                stats["request_mismatch"] += 1
                if drop_mismatch:
                    continue
            data.add(ex, gold, weight, origin)
        stats["items_parsed_extra"] += len(set(exs) - set(gold_items))
    stats["items_used"] += len(data)
    return data


def _parse(docs, parser):
    from nlp.textnorm import normalize_text

    docs = list(docs)
    recs = list(parser.process(docs))
    return [(r, normalize_text(d.text) if d.text else "") for d, r in zip(docs, recs)]


def load_corpus_split(corpus: str | Path, split: str, parser, cfg: dict, max_letters: int | None = None,
                      stats: Counter | None = None) -> ItemData:
    """Examples with gold labels for one split of the generated corpus."""
    from datasets import load_from_disk

    from nlp.reading import RawDocument

    stats = Counter() if stats is None else stats
    ds = load_from_disk(str(dataset_dir(corpus)))[split]
    if isinstance(max_letters, dict):
        max_letters = max_letters.get(split)
    if max_letters:
        ds = ds.select(range(min(int(max_letters), len(ds))))
    docs, gold = [], {}
    for row in decoded_rows(ds.select_columns(["id", "text", "items"])):
        docs.append(RawDocument(id=str(row["id"]), source=f"{corpus}:{split}:{row['id']}", text=row["text"], error=None))
        gold[str(row["id"])] = {int(it["index"]): it for it in row["items"]}
    return _join(_parse(docs, parser), gold, 1.0, "generated", cfg["training"]["drop_request_mismatch"], stats)


def load_real(letters: str | Path, labels: str | Path, parser, cfg: dict, stats: Counter | None = None) -> ItemData:
    """Examples with the hand labels for the real letters."""
    from nlp.reading import iter_documents

    stats = Counter() if stats is None else stats
    gold: dict = {}
    for (letter, index), it in hand_labels(Path(labels)).items():
        gold.setdefault(letter, {})[int(index)] = it
    docs = [d for d in iter_documents([str(letters)]) if d.id in gold]
    w = float(cfg["training"]["real_weight"])
    return _join(_parse(docs, parser), gold, w, "real", cfg["training"]["drop_request_mismatch"], stats)


def load_written(halves, parser, cfg: dict, stats: Counter | None = None) -> ItemData:
    """Examples with their writers' gold for the independently written letters: each half is a
    directory with `letters/` and `gold/` (examples/written/README.md)."""
    from nlp.reading import iter_documents

    from training.real_protocol import check_not_clean

    halves = list(map(Path, halves))
    check_not_clean(halves, "written letters for the read heads")
    stats = Counter() if stats is None else stats
    docs, gold = [], {}
    for half in halves:
        for path in sorted((half / "gold").glob("*.json")):
            g = json.loads(path.read_text(encoding="utf-8"))
            gold[g["id"]] = {int(it["index"]): it for it in g["items"]}
        docs += [d for d in iter_documents([str(half / "letters")]) if d.id in gold]
    w = float(cfg["training"]["written_weight"])
    return _join(_parse(docs, parser), gold, w, "written", cfg["training"]["drop_request_mismatch"], stats)


# =========================================================================== metrics
def reliability_table(y_true, p, bins: int = 10) -> list[dict]:
    y_true = np.asarray(y_true, dtype=float)
    p = np.asarray(p, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for i in range(bins):
        m = (p >= edges[i]) & ((p < edges[i + 1]) if i < bins - 1 else (p <= 1))
        if m.sum():
            rows.append({"bin": [round(edges[i], 2), round(edges[i + 1], 2)], "n": int(m.sum()),
                         "mean_predicted": round(float(p[m].mean()), 4), "observed": round(float(y_true[m].mean()), 4)})
    return rows


def _r(v):
    return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else round(float(v), 4)


def decision_metrics(y, p, threshold: float = 0.5) -> dict:
    y = np.asarray(y)
    yt = (y == "overturned").astype(int)
    pred = (np.asarray(p) >= threshold).astype(int)
    both = len(set(yt)) == 2
    return {
        "n": int(len(y)), "overturned": int(yt.sum()),
        "macro_f1": _r(f1_score(yt, pred, average="macro", zero_division=0)),
        "accuracy": _r(accuracy_score(yt, pred)),
        "overturn_recall": _r(recall_score(yt, pred, zero_division=0)),
        "overturn_precision": _r(precision_score(yt, pred, zero_division=0)),
        "roc_auc": _r(roc_auc_score(yt, p)) if both else None,
        "pr_auc": _r(average_precision_score(yt, p)) if both else None,
        "brier": _r(brier_score_loss(yt, np.clip(p, 0, 1))),
        "reliability": reliability_table(yt, p),
    }


def rationale_metrics(y, pred, classes) -> dict:
    y = np.asarray(y)
    pred = np.asarray(pred)
    present = [c for c in classes if c in set(y)]
    per = f1_score(y, pred, labels=classes, average=None, zero_division=0)
    return {"n": int(len(y)), "accuracy": _r(accuracy_score(y, pred)),
            "macro_f1": _r(f1_score(y, pred, labels=present, average="macro", zero_division=0)),
            "per_class_f1": {c: _r(v) for c, v in zip(classes, per) if c in present},
            "support": {c: int((y == c).sum()) for c in present}}


def multilabel_metrics(Y, P) -> dict:
    Y = np.asarray(Y)
    P = np.asarray(P)
    return {"micro_f1": _r(f1_score(Y, P, average="micro", zero_division=0)),
            "macro_f1": _r(f1_score(Y[:, Y.sum(0) > 0], P[:, Y.sum(0) > 0], average="macro", zero_division=0)),
            "exact_match": _r(float((Y == P).all(1).mean()))}


def label_matrix(labels, names) -> np.ndarray:
    idx = {n: i for i, n in enumerate(names)}
    M = np.zeros((len(labels), len(names)), dtype=int)
    for r, ls in enumerate(labels):
        for l in ls:
            if l in idx:
                M[r, idx[l]] = 1
    return M


def _p_over(model, X) -> np.ndarray:
    classes = list(model.classes_)
    if "overturned" not in classes:
        return np.zeros(X.shape[0] if hasattr(X, "shape") else len(X))
    return model.predict_proba(X)[:, classes.index("overturned")]


def _multilabel_predict(P, primary, names, threshold):
    """0/1 matrix: labels with p ≥ threshold, the primary label always on."""
    out = (np.asarray(P) >= threshold).astype(int)
    idx = {n: i for i, n in enumerate(names)}
    for r, c in enumerate(primary):
        if c in idx:
            out[r, idx[c]] = 1
    return out


# =========================================================================== fitting
def run_parallel(calls: list, jobs: int) -> list:
    """Results of `calls` ((function, args) pairs, functions importable by worker processes), in
    order: in `jobs` loky worker processes when there are several calls, else in this process.
    The fits are seeded and independent, so the results equal a serial run."""
    if jobs <= 1 or len(calls) <= 1:
        return [f(*args) for f, args in calls]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=min(jobs, len(calls)), backend="loky")(delayed(f)(*args) for f, args in calls)


def _serial(cfg: dict) -> dict:
    """`cfg` with `training.fit_jobs` 1: for fits that already run inside a worker process."""
    return {**cfg, "training": {**cfg["training"], "fit_jobs": 1}}


def _fit_features(mode: str, cfg: dict, X: list) -> tuple:
    """(fitted ItemFeatures, training matrix) of one mode: a worker task of `Trainer.features`."""
    feats = make_features(mode, cfg)
    return feats, feats.fit_transform(X)


class Trainer:
    """Fits the models of both modes on one training set, with C chosen on a validation set."""

    def __init__(self, cfg: dict, seed: int):
        self.cfg = cfg
        self.seed = seed
        self.rationale_classes = list(cfg["labels"]["rationale"])
        self.timings: dict = {}

    def features(self, train: ItemData) -> tuple[dict, dict]:
        """Fitted ItemFeatures per mode and the training matrices (the modes in parallel)."""
        t = time.time()
        fitted = run_parallel([(_fit_features, (m, self.cfg, train.X)) for m in MODES],
                              _jobs(self.cfg, "fit_jobs"))
        feats = {m: f for m, (f, _) in zip(MODES, fitted)}
        mats = {m: M for m, (_, M) in zip(MODES, fitted)}
        self.timings["features_fit_s"] = round(time.time() - t, 1)
        return feats, mats

    def _decision_head(self, C, M, y, w):
        return make_decision_head(self.cfg, C=C, kind="logistic", seed=self.seed).fit(M, y, sample_weight=w)

    def _rationale_head(self, C, M, y, w, names=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return make_rationale_head(self.cfg, C=C, seed=self.seed, feature_names=names).fit(M, y, sample_weight=w)

    def _multilabel_head(self, C, M, Y, w):
        return make_multilabel_head(self.cfg, C=C).fit(M, Y, sample_weight=w)

    def _fit_head(self, head: str, C: float, M, y, w, names=None):
        """`names`: the feature names of M, for the read-mode rationale head (its exclusions)."""
        fit = {"decision": self._decision_head, "rationale": self._rationale_head, "labels": self._multilabel_head}[head]
        return fit(C, M, y, w) if names is None else fit(C, M, y, w, names)

    def _fit_all(self, tasks: list) -> list:
        """Fit (head, C, matrix, targets, weights) tasks, in `training.fit_jobs` worker processes
        (0: one per core); results in task order, so the same as serial."""
        return run_parallel([(self._fit_head, t) for t in tasks], _jobs(self.cfg, "fit_jobs"))

    def fit(self, train: ItemData, val: ItemData | None = None, chosen: dict | None = None,
            rationale_forecast: bool = True) -> tuple[dict, dict, dict]:
        """(models {name: Pipeline}, chosen C per model, validation scores). Every C of a grid is
        fitted (all heads at once, in parallel), then the best on `val` is kept."""
        feats, mats = self.features(train)
        chosen = dict(chosen or {})
        scores: dict = {}
        yd, yr, w = train.y_decision(), train.y_rationale(), train.w()
        Y = label_matrix(train.labels, self.rationale_classes)
        t = time.time()
        Mva = {m: feats[m].transform(val.X) for m in MODES} if val is not None and len(val) else {}
        scorers = {}
        if Mva and len(set(val.decision)) == 2:
            yv = val.y_decision() == "overturned"
            scorers["decision"] = lambda h, mode: average_precision_score(yv, _p_over(h, Mva[mode]))
        if Mva:
            scorers["rationale"] = lambda h, mode: f1_score(val.y_rationale(), h.predict(Mva[mode]), average="macro")
        targets = {"decision": yd, "rationale": yr}
        heads = [(mode, head) for mode in MODES for head in ("decision", "rationale")
                 if head == "decision" or mode == "read" or rationale_forecast]
        tasks, keys = [], []
        for mode, head in heads:
            name, grid = f"{head}_{mode}", self.cfg["models"][head]["C_grid"]
            Cs = [chosen[name]] if name in chosen else grid if head in scorers else [grid[0]]
            # the read-mode rationale head leaves out `models.rationale.exclude_read_features`
            names = (feats[mode].get_feature_names_out(),) if (mode, head) == ("read", "rationale") else ()
            for C in Cs:
                tasks.append((head, C, mats[mode], targets[head], w, *names))
                keys.append((mode, head, C))
        labels_C = chosen.get("rationale_read")
        if labels_C is not None:  # known already: fitted with the others
            tasks.append(("labels", labels_C, mats["read"], Y, w))
            keys.append(("read", "labels", labels_C))
        fitted = dict(zip(keys, self._fit_all(tasks)))
        models = {}
        for mode, head in heads:
            name = f"{head}_{mode}"
            Cs = [C for (m, h, C) in keys if (m, h) == (mode, head)]
            if len(Cs) > 1 or (name not in chosen and head in scorers):
                scores[name] = {str(C): round(float(scorers[head](fitted[(mode, head, C)], mode)), 4) for C in Cs}
                chosen[name] = max(Cs, key=lambda C: scores[name][str(C)])  # first of equals, as before
            best = fitted[(mode, head, chosen.get(name, Cs[0]))]
            models[name] = assemble(feats[mode], best)
        if labels_C is None:
            labels_C = chosen.get("rationale_read", self.cfg["models"]["rationale"]["C_grid"][0])
            fitted[("read", "labels", labels_C)] = self._fit_head("labels", labels_C, mats["read"], Y, w)
        models["rationale_labels"] = assemble(feats["read"], fitted[("read", "labels", labels_C)])
        self.timings["heads_fit_s"] = round(time.time() - t, 1)
        return models, chosen, scores


def evaluate_models(models: dict, data: ItemData, cfg: dict) -> dict:
    """Decision (read/forecast), rationale and multi-label metrics of fitted models on `data`."""
    classes = list(cfg["labels"]["rationale"])
    out = {}
    for mode in MODES:
        out[f"decision_{mode}"] = decision_metrics(data.decision, _p_over(models[f"decision_{mode}"], data.X))
        key = f"rationale_{mode}"
        if key in models:
            pred = models[key].predict(data.X)
            out[key] = rationale_metrics(data.rationale, pred, classes)
            if mode == "read" and "rationale_labels" in models:
                P = models["rationale_labels"].predict_proba(data.X)
                thr = cfg["models"]["rationale"]["multilabel_threshold"]
                out["rationale_labels_read"] = multilabel_metrics(
                    label_matrix(data.labels, classes), _multilabel_predict(P, pred, classes, thr))
    return out


def fit_baselines(train: ItemData, cfg: dict) -> dict:
    """Majority and TF-IDF text baselines of every model; the text ones fit in `training.fit_jobs`
    processes (the majority ones are instant)."""
    Y = label_matrix(train.labels, list(cfg["labels"]["rationale"]))
    specs = [(f"{head}_{mode}", mode, y, False) for mode in MODES
             for head, y in (("decision", train.decision), ("rationale", train.rationale))]
    specs.append(("rationale_labels", "read", Y, True))
    out = {("majority", name): fit_pipeline(make_baseline("majority", mode, cfg, multilabel=ml), train.X, y, train.w())
           for name, mode, y, ml in specs}
    text = run_parallel([(fit_pipeline, (make_baseline("text", mode, cfg, multilabel=ml), train.X, y, train.w()))
                         for _, mode, y, ml in specs], _jobs(cfg, "fit_jobs"))
    out.update({("text", name): model for (name, *_), model in zip(specs, text)})
    return out


def evaluate_baselines(baselines: dict, data: ItemData, cfg: dict) -> dict:
    res = {}
    for kind in ("majority", "text"):
        models = {k[1]: m for k, m in baselines.items() if k[0] == kind}
        res[kind] = evaluate_models(models, data, cfg)
    return res


def compare_hgb(train: ItemData, evals: dict, cfg: dict, seed: int) -> dict:
    """HistGradientBoosting (structured features, dense) vs the calibrated logistic model."""
    out = {}
    cap = cfg["models"]["hgb"]["max_train_items"]
    if cap and len(train) > cap:
        train = train.subset(np.random.RandomState(seed).choice(len(train), int(cap), replace=False))
    out["train_items"] = len(train)
    C = cfg["models"]["decision"]["C_grid"][min(1, len(cfg["models"]["decision"]["C_grid"]) - 1)]
    calls = []
    for mode in MODES:
        calls.append((_timed_fit, (make_decision_model(mode, cfg, kind="hgb", seed=seed), train.X, train.decision, train.w())))
        # the logistic model on the same sample, same structured features (a like-for-like pair)
        lin = make_decision_model(mode, cfg, C=C, kind="logistic", seed=seed, text=False)
        calls.append((_timed_fit, (lin, train.X, train.decision, train.w())))
    fitted = iter(run_parallel(calls, _jobs(cfg, "fit_jobs")))
    for mode in MODES:
        (model, fit_s), (lin, lin_s) = next(fitted), next(fitted)
        out[mode] = {"fit_s": fit_s, "logistic_structured_fit_s": lin_s}
        for split, data in evals.items():
            if len(data):
                m = decision_metrics(data.decision, _p_over(model, data.X))
                out[mode][split] = {k: m[k] for k in ("macro_f1", "roc_auc", "pr_auc", "brier")}
                m = decision_metrics(data.decision, _p_over(lin, data.X))
                out[mode][split + "_logistic_structured"] = {k: m[k] for k in ("macro_f1", "roc_auc", "pr_auc", "brier")}
    return out


def _timed_fit(model, X, y, w) -> tuple:
    """(fitted pipeline, seconds): a worker task of `compare_hgb`."""
    t = time.time()
    return fit_pipeline(model, X, y, w), round(time.time() - t, 1)


# =========================================================================== real letters
def _fit_models(cfg: dict, seed: int, train: "ItemData", chosen: dict) -> dict:
    """Models with the chosen C fitted on `train` (a worker task of `real_cv`)."""
    return Trainer(cfg, seed).fit(train, chosen=chosen)[0]


def real_cv(generated: ItemData, real: ItemData, cfg: dict, seed: int, chosen: dict) -> dict:
    """Letter-grouped CV on the real items: models trained on generated + real training folds
    (and, for comparison, on generated data alone), scored on the held-out letters."""
    classes = list(cfg["labels"]["rationale"])
    k = min(int(cfg["training"]["real_cv_folds"]), len(set(real.groups)))
    gkf = GroupKFold(n_splits=k)
    n = len(real)
    variants = {"generated_plus_real": {}, "generated_only": {}} if len(generated) else {"real_only": {}}
    preds = {v: {"p_read": np.zeros(n), "p_fc": np.zeros(n), "rat": np.empty(n, dtype=object),
                 "rat_fc": np.empty(n, dtype=object), "maj": np.empty(n, dtype=object)} for v in variants}
    groups = np.asarray(real.groups)
    folds = list(gkf.split(np.zeros(n), groups=groups))
    # every fit of the CV is one task: the folds (and the generated-only models, which do not
    # depend on the fold) fit in `training.fit_jobs` processes, each fit serial inside
    trains = {}
    for fold, (tr, te) in enumerate(folds):
        assert not set(groups[tr]) & set(groups[te])
        for v in variants:
            if v == "generated_only":
                trains[(v, fold)] = ("generated_only", generated)
            else:
                trains[(v, fold)] = ((v, fold), (generated + real.subset(tr)) if len(generated) else real.subset(tr))
    distinct = {key: data for key, data in trains.values()}
    fitted = dict(zip(distinct, run_parallel([(_fit_models, (_serial(cfg), seed, data, chosen)) for data in distinct.values()],
                                             _jobs(cfg, "fit_jobs"))))
    for fold, (tr, te) in enumerate(folds):
        test = real.subset(te)
        for v in variants:
            key, train = trains[(v, fold)]
            models = fitted[key]
            p = preds[v]
            p["p_read"][te] = _p_over(models["decision_read"], test.X)
            p["p_fc"][te] = _p_over(models["decision_forecast"], test.X)
            p["rat"][te] = models["rationale_read"].predict(test.X)
            p["rat_fc"][te] = models["rationale_forecast"].predict(test.X)
            p["maj"][te] = Counter(train.rationale).most_common(1)[0][0]
    yd = np.asarray(real.decision)
    yr = np.asarray(real.rationale)
    out = {"folds": k, "letters": len(set(real.groups)), "items": n}
    for v, p in preds.items():
        read = decision_metrics(yd, p["p_read"])
        fc = decision_metrics(yd, p["p_fc"])
        out[v] = {
            "read_decision_agreement": read["accuracy"], "read_decision": read,
            "forecast_roc_auc": fc["roc_auc"], "forecast_decision": fc,
            "rationale_accuracy": _r(accuracy_score(yr, p["rat"])),
            "rationale": rationale_metrics(yr, p["rat"], classes),
            "rationale_forecast_accuracy": _r(accuracy_score(yr, p["rat_fc"])),
            "majority_rationale_accuracy": _r(accuracy_score(yr, p["maj"])),
        }
    real_major = Counter(real.rationale).most_common(1)[0]
    out["real_majority_rationale"] = {"label": real_major[0], "accuracy": _r(real_major[1] / n)}
    return out


def real_cv_spread(runs: list[dict]) -> dict:
    """Mean, standard deviation and values of the real-letter CV figures over several draws of
    the generated items each fold trains with (20 overturned real items: one draw is noisy)."""
    out: dict = {"draws": len(runs)}
    for variant in ("generated_plus_real", "generated_only"):
        if variant not in runs[0]:
            continue
        out[variant] = {}
        for key in ("forecast_roc_auc", "rationale_accuracy"):
            vals = [r[variant][key] for r in runs if r[variant].get(key) is not None]
            if vals:
                out[variant][key] = {"values": vals, "mean": _r(float(np.mean(vals))),
                                     "sd": _r(float(np.std(vals, ddof=1))) if len(vals) > 1 else 0.0}
    return out


# =========================================================================== entry points
_WORKER_PARSERS: dict = {}


def _parse_batch(ner_model, docs) -> list[dict]:
    """Worker task of `ProcessParser`: one record per document, the parser loaded once per process."""
    from models.bundle import load_parser

    key = None if ner_model is None else str(ner_model)
    if key not in _WORKER_PARSERS:
        _WORKER_PARSERS[key] = load_parser(ner_model)
    return list(_WORKER_PARSERS[key].process(docs))


class ProcessParser:
    """`LetterParser.process` spread over `jobs` worker processes (the batch engine's
    `nlp.parallel.run_local`), records in input order. Training parses about 11,000 letters, 80% of that in the NER, which runs in one core."""

    def __init__(self, ner_model=None, jobs: int = 2, batch_size: int = 64):
        self.ner_model = ner_model
        self.jobs = jobs
        self.batch_size = batch_size

    def process(self, docs):
        from nlp.parallel import iter_batches, run_local

        for recs in run_local(iter_batches(docs, self.batch_size), self.ner_model, self.jobs, task=_parse_batch):
            yield from recs


def _jobs(cfg: dict, key: str) -> int:
    """Worker processes `training.<key>` (`parse_jobs`, `fit_jobs`; 0: one per core)."""
    from nlp.parallel import default_jobs

    n = int(cfg["training"][key] or 0)  # null: as 0
    return n if n > 0 else default_jobs()


def _parser(ner_model: str | Path | None = None, jobs: int = 1):
    """The letter parser whose entities the features read: `ner_model` (a bundle or spaCy
    pipeline), else the bundled NER. Train and score with the same NER. `jobs` > 1 parses in
    that many worker processes."""
    from models.bundle import load_parser

    if jobs > 1:
        return ProcessParser(ner_model, jobs)
    return load_parser(ner_model)


def _corpus_splits(corpus) -> list[str]:
    if corpus is None or not dataset_dir(corpus).exists():
        return []
    from datasets import load_from_disk

    return list(load_from_disk(str(dataset_dir(corpus))).keys())


def run_training(cfg: dict | None = None, corpus: str | Path | None = None, out: str | Path | None = None,
                 seed: int | None = None, max_letters: int | None = None, real: bool = True,
                 real_cv_enabled: bool = True, hgb: bool = True, metrics_path: str | Path | None = None,
                 ner_model: str | Path | None = None) -> dict:
    """Train, evaluate, save. Returns the metrics dict (also written to `metrics_path`)."""
    cfg = cfg or load_config()
    tr = cfg["training"]
    seed = cfg["seed"] if seed is None else seed
    np.random.seed(seed)
    corpus = corpus if corpus is not None else (ROOT / tr["corpus"])
    out = Path(out or ROOT / tr["out"])
    max_letters = max_letters if max_letters is not None else tr["max_letters"]
    t0 = time.time()
    parser = _parser(ner_model, _jobs(cfg, "parse_jobs"))
    splits = _corpus_splits(corpus)
    stats: dict = {}
    data: dict[str, ItemData] = {}
    for split in splits:
        st = Counter()
        data[split] = load_corpus_split(corpus, split, parser, cfg, max_letters, st)
        stats[split] = dict(st)
        log.info("%s: %d items", split, len(data[split]))
    train = data.get("train", ItemData())
    val = data.get("validation", ItemData())
    realdata = ItemData()
    if real:
        st = Counter()
        realdata = load_real(ROOT / tr["real_letters"], ROOT / tr["real_labels"], parser, cfg, st)
        stats["real"] = dict(st)
    if not len(train) and not len(realdata):
        raise ValueError(f"no training data: corpus {corpus} has no train split and real letters are off")
    stats["parse_s"] = round(time.time() - t0, 1)
    trainer = Trainer(cfg, seed)
    metrics: dict = {"seed": seed, "corpus": str(corpus), "data": stats,
                     "ner_entities": any(ex.get("request_entities") or ex.get("summary_entities")
                                         for ex in (train.X[:200] + realdata.X[:50]))}
    # 1. generated-only models selected on validation: the corpus figures
    chosen: dict = {}
    if len(train):
        gen_models, chosen, val_scores = trainer.fit(train, val if len(val) else None)
        log.info("selection done (%.0f s): %s", time.time() - t0, chosen)
        metrics["selection"] = {"chosen_C": chosen, "validation_scores": val_scores}
        baselines = fit_baselines(train, cfg)
        metrics["corpus_eval"] = {}
        for split in ("validation", "test", "test_unseen"):
            if split in data and len(data[split]):
                metrics["corpus_eval"][split] = {"model": evaluate_models(gen_models, data[split], cfg),
                                            **evaluate_baselines(baselines, data[split], cfg)}
        log.info("corpus evaluation done (%.0f s)", time.time() - t0)
        if hgb:
            metrics["hgb_vs_logistic"] = compare_hgb(train, {s: data[s] for s in ("validation", "test", "test_unseen") if s in data}, cfg, seed)
    # 2. real letters: letter-grouped CV
    if real and real_cv_enabled and len(realdata):
        log.info("real-letter CV (%.0f s)", time.time() - t0)
        cap = tr["real_cv_generated_max"]  # null: all
        draws = max(1, int(tr["real_cv_draws"] or 1)) if cap and len(train) > cap else 1
        runs = []
        for draw in range(draws):  # draw 0 is the reported `real_cv`; more draws give its spread
            gen_cv = train
            if cap and len(train) > cap:
                gen_cv = train.subset(np.random.RandomState(seed + draw).choice(len(train), cap, replace=False))
            runs.append(real_cv(gen_cv, realdata, cfg, seed, chosen))
            runs[-1]["generated_items"] = len(gen_cv)
        metrics["real_cv"] = runs[0]
        if draws > 1:
            metrics["real_cv_spread"] = real_cv_spread(runs)
    # 3. final models: train + all real items
    log.info("final fit (%.0f s)", time.time() - t0)
    final_train = train + realdata
    final, _, _ = Trainer(cfg, seed).fit(final_train, chosen=chosen, rationale_forecast=False)
    if len(train) and len(realdata):
        metrics["final_with_real"] = {s: evaluate_models(final, data[s], cfg) for s in ("test", "test_unseen")
                                      if s in data and len(data[s])}
    metrics["train_seconds"] = round(time.time() - t0, 1)
    artifacts = {k: final[k] for k in ("decision_read", "decision_forecast", "rationale_read", "rationale_labels")}
    artifacts["rationale"] = artifacts.pop("rationale_read")
    card = {
        "features": {m: {"n": int(final[f"decision_{m}"].named_steps["features"].n_features_out_),
                         "structured": final[f"decision_{m}"].named_steps["features"].structured_names(),
                         "text_fields": sorted({str(n).split("__")[0][len("tfidf_"):] for n in
                                                final[f"decision_{m}"].named_steps["features"].get_feature_names_out()
                                                if str(n).startswith("tfidf_")}),
                         "reads_keys": list(FORECAST_KEYS) if m == "forecast" else list(FORECAST_KEYS + REVIEW_KEYS)}
                     for m in MODES},
        "labels": {"decision": list(cfg["labels"]["decision"]), "rationale": [str(c) for c in artifacts["rationale"].classes_],
                   "rationale_labels": list(cfg["labels"]["rationale"])},
        "thresholds": {"decision_read": 0.5, "decision_forecast": 0.5,
                       "rationale_labels": cfg["models"]["rationale"]["multilabel_threshold"]},
        "training_data": {"fingerprint": fingerprint(
            {"id": g, "index": ex["index"], "request": ex["request"], "decision": d, "rationale": r, "labels": ls, "w": w}
            for ex, g, d, r, ls, w in zip(final_train.X, final_train.groups, final_train.decision,
                                          final_train.rationale, final_train.labels, final_train.weight)),
            "items": len(final_train), "generated_items": len(train), "real_items": len(realdata),
            "corpus": str(corpus), "stats": stats},
        "settings": {"seed": seed, "chosen_C": chosen, "config": cfg},
        "metrics": _headline(metrics),
    }
    return save_bundle(out, artifacts, card, metrics, metrics_path)


def save_bundle(out: Path, artifacts: dict, card: dict, metrics: dict, metrics_path=None, data: dict | None = None) -> dict:
    """Save the artifacts (and JSON `data`) with the card, then `metrics` (with the artifact
    sizes and the card's headline) to `metrics_path` or OUT/metrics.json; returns `metrics`."""
    saved = save_artifacts(out, artifacts, card, data=data)
    metrics["artifacts"] = {k: v["bytes"] for k, v in saved["artifacts"].items()}
    metrics["model_dir"] = str(out)
    metrics["headline"] = card["metrics"]
    mp = Path(metrics_path) if metrics_path else out / "metrics.json"
    mp.parent.mkdir(parents=True, exist_ok=True)
    mp.write_text(json.dumps(metrics, indent=2, default=str), encoding="utf-8")
    return metrics


def _headline(m: dict) -> dict:
    """The figures the targets are stated in (None where not measured)."""
    h: dict = {}
    tu = ((m.get("corpus_eval") or {}).get("test_unseen") or {}).get("model") or {}
    if tu:
        h["test_unseen"] = {"read_decision_macro_f1": tu["decision_read"]["macro_f1"],
                            "forecast_roc_auc": tu["decision_forecast"]["roc_auc"],
                            "rationale_macro_f1": tu["rationale_read"]["macro_f1"],
                            "rationale_labels_micro_f1": tu.get("rationale_labels_read", {}).get("micro_f1")}
    te = ((m.get("corpus_eval") or {}).get("test") or {}).get("model") or {}
    if te:
        h["test"] = {"read_decision_macro_f1": te["decision_read"]["macro_f1"],
                     "forecast_roc_auc": te["decision_forecast"]["roc_auc"],
                     "rationale_macro_f1": te["rationale_read"]["macro_f1"]}
    rc = m.get("real_cv") or {}
    for v in ("generated_plus_real", "real_only", "generated_only"):
        if v in rc:
            h[f"real_cv_{v}"] = {k: rc[v][k] for k in ("read_decision_agreement", "forecast_roc_auc",
                                                       "rationale_accuracy", "majority_rationale_accuracy")}
    return h


def run_evaluation(model_dir: str | Path, cfg: dict | None = None, corpus: str | Path | None = None,
                   max_letters: int | None = None, real: bool = True, metrics_path: str | Path | None = None,
                   ner_model: str | Path | None = None) -> dict:
    """Score a saved model directory on the corpus test splits (and the real letters, which the
    default models were trained on: those figures are in-sample)."""
    from models.predict import ItemPredictor

    cfg = cfg or load_config()
    tr = cfg["training"]
    corpus = corpus if corpus is not None else (ROOT / tr["corpus"])
    pred = ItemPredictor.load(model_dir)
    models = {"decision_read": pred.models["decision_read"], "decision_forecast": pred.models["decision_forecast"],
              "rationale_read": pred.models["rationale"], "rationale_labels": pred.models["rationale_labels"]}
    parser = _parser(ner_model, _jobs(cfg, "parse_jobs"))
    out: dict = {"model_dir": str(model_dir), "card_created": pred.card.get("created")}
    for split in ("test", "test_unseen"):
        if split in _corpus_splits(corpus):
            data = load_corpus_split(corpus, split, parser, cfg, max_letters)
            out[split] = evaluate_models(models, data, cfg)
    if real:
        data = load_real(ROOT / tr["real_letters"], ROOT / tr["real_labels"], parser, cfg)
        out["real_in_sample"] = evaluate_models(models, data, cfg)
    if metrics_path:
        Path(metrics_path).parent.mkdir(parents=True, exist_ok=True)
        Path(metrics_path).write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
    return out
