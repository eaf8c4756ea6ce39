"""The real-first classifier: protocol (frozen subset, folds), self-labelled training on a tiny
archive, explanations that add up, rationales coherent with their decisions."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import REAL, ROOT
from models.estimators import PlattLogistic
from models.features import load_config
from models.predict import coherent_rationale
from training.real_protocol import (
    FROZEN_CASES,
    PEER_FOLDS,
    FrozenLetterError,
    bootstrap_auc,
    check_not_frozen,
    letter_folds,
    load_frozen,
    peer_tool_scores,
    select_frozen,
)

# non-frozen letters for a tiny archive: four with an overturned item, six without
TINY = ["CM16-0240259", "CM16-0240434", "CM17-0001749", "CM17-0005589",
        "CM16-0221706", "CM16-0228949", "CM16-0233794", "CM16-0236380", "CM16-0237844", "CM16-0239190"]
# written letters with gold (examples/written/develop) beside them
WRITTEN_TINY = ["w1_01", "w1_02", "w2_01"]


# ------------------------------------------------------------------------------ protocol
def test_frozen_file_is_the_rule_applied_to_the_shared_letters():
    cases = sorted(p.stem for p in REAL.glob("*.pdf"))
    doc = json.loads(FROZEN_CASES.read_text())
    assert doc["of"] == len(cases) == 64
    assert doc["cases"] == select_frozen(cases)
    assert len(doc["cases"]) == 21 and not set(TINY) & set(doc["cases"])


def test_check_not_frozen_raises_on_any_frozen_case():
    frozen = load_frozen()
    check_not_frozen(["CM16-0221706"], "training", frozen)
    with pytest.raises(FrozenLetterError, match="1 frozen real letter"):
        check_not_frozen(["CM16-0221706", sorted(frozen)[0]], "training", frozen)


def test_letter_folds_reproduce_the_peer_tools_folds_and_never_split_a_letter():
    rows = [json.loads(line) for line in PEER_FOLDS.read_text().splitlines()]
    cases = sorted({r["case"] for r in rows})
    assert not set(cases) & load_frozen()
    for rep in sorted({r["repeat"] for r in rows}):
        folds = letter_folds(cases, rep, 5)
        of_rep = [r for r in rows if r["repeat"] == rep]
        assert all(folds[r["case"]] == r["fold"] for r in of_rep)
        per_letter = {}
        for r in of_rep:
            per_letter.setdefault(r["case"], set()).add(r["fold"])
        assert all(len(f) == 1 for f in per_letter.values())
        sizes = np.bincount(list(folds.values()))
        assert sizes.max() - sizes.min() <= 1


def test_peer_tool_scores_line_up_with_the_items_or_refuse():
    rows = [json.loads(line) for line in PEER_FOLDS.read_text().splitlines()]
    keys = sorted({(r["case"], r["index"]) for r in rows})
    P = peer_tool_scores(keys)
    assert P.shape == (10, 118)
    first = {(r["case"], r["index"]): r["p"] for r in rows if r["repeat"] == 0}
    assert [P[0, i] for i in range(len(keys))] == [first[k] for k in keys]
    assert peer_tool_scores(keys[:-1]) is None


def test_bootstrap_resamples_letters_and_pairs_the_difference():
    y = np.array([0, 1, 0, 1, 0, 0, 1, 0])
    groups = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    b = bootstrap_auc(y, y.astype(float), groups, n=200, p_other=np.zeros(8) + 0.5)
    assert b["roc_auc"] == 1.0 and b["ci95"] == [1.0, 1.0]
    assert b["diff_ci95"] == [0.5, 0.5] and b["p_better"] == 1.0


# ------------------------------------------------------------------------------ estimators
def test_platt_logistic_is_one_linear_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 5))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=80) > 0.8, "overturned", "upheld")
    m = PlattLogistic(cv=4).fit(X, y, groups=np.arange(80) // 2)
    z = X @ m.coef_.ravel() + m.intercept_[0]
    np.testing.assert_allclose(m.decision_function(X), z)
    np.testing.assert_allclose(m.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)))
    assert list(m.classes_) == ["overturned", "upheld"]
    m2 = PlattLogistic(cv=4, positive="overturned").fit(X, y, groups=np.arange(80) // 2)
    assert list(m2.classes_) == ["upheld", "overturned"]
    np.testing.assert_allclose(m2.predict_proba(X)[:, 1], m.predict_proba(X)[:, 0], atol=1e-6)
    assert (m2.predict(X) == "overturned").sum() > 0
    with pytest.raises(ValueError, match="two classes"):
        PlattLogistic().fit(X, ["upheld"] * 80)


def test_coherent_rationale_follows_the_decision():
    classes = ["not_recommended", "guideline_criteria_met", "insufficient_documentation"]
    proba = np.array([[0.2, 0.7, 0.1], [0.2, 0.7, 0.1], [0.5, 0.1, 0.4]])
    assert coherent_rationale(proba, classes, [False, True, True], ["guideline_criteria_met"]) == [
        "not_recommended", "guideline_criteria_met", "guideline_criteria_met"]
    assert coherent_rationale(proba, classes, [False, True, True], []) == [
        "guideline_criteria_met", "guideline_criteria_met", "not_recommended"]


# ------------------------------------------------------------------------------ end to end
@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    """A classifier trained on ten real letters (no generated corpus), self-labelled, and three
    written letters with their writers' gold for the read and rationale heads."""
    from training.real_first import run_real_first

    root = tmp_path_factory.mktemp("tiny")
    archive = root / "letters"
    archive.mkdir()
    for case in TINY:
        shutil.copy(REAL / f"{case}.pdf", archive / f"{case}.pdf")
    # a development letter stands in for a frozen one (the real frozen letters are read by no test)
    frozen = "CM16-0247274"
    assert frozen not in load_frozen() and frozen not in TINY
    shutil.copy(REAL / f"{frozen}.pdf", archive / f"{frozen}.pdf")
    cfg = load_config()
    cfg["training"].update(fit_jobs=1, parse_jobs=1)
    cfg["real_first"].update(folds=3, learning_curve_letters=[4], learning_curve_repeats=1)
    cfg["models"]["forecast"]["written_letters"] = None  # the forecast learns from the `written` given
    sets = {"written": WRITTEN_TINY[:2], "written_b": WRITTEN_TINY[2:]}  # two sets: each is also left out in turn
    for name, stems in sets.items():
        for sub in ("letters", "gold"):
            (root / name / sub).mkdir(parents=True)
        for stem in stems:
            shutil.copy(ROOT / "examples" / "written" / "develop" / "letters" / f"{stem}.txt", root / name / "letters")
            shutil.copy(ROOT / "examples" / "written" / "develop" / "gold" / f"{stem}.json", root / name / "gold")
    m = run_real_first(cfg, real=[str(archive)], out=root / "classifier", generated=False, repeats=2,
                       score_frozen=True, frozen=frozenset({frozen}), written=[root / name for name in sets])
    return root, m, frozen


def test_written_letters_teach_the_read_heads_and_are_never_scored(tiny_bundle):
    root, m, _ = tiny_bundle
    gold_items = sum(len(json.loads((ROOT / "examples" / "written" / "develop" / "gold" / f"{s}.json").read_text())["items"])
                     for s in WRITTEN_TINY)
    assert m["protocol"]["written_items"] == m["protocol"]["forecast_written_items"] == gold_items
    # the read CV scores the real letters only, with and without the written items in training
    assert set(m["read_cv"]) == {"written_plus_real", "real_only"}
    assert all(r["rationale_items_hand_labelled"] == m["read_cv"]["real_only"]["rationale_items_hand_labelled"]
               for r in m["read_cv"].values())
    card = json.loads((root / "classifier" / "model_card.json").read_text())
    assert card["training_data"]["written_items"] == gold_items
    # the forecast's written sets, each left out in turn and scored beside the peer
    left_out = m["forecast_written_sets_left_out"]
    assert left_out["items"] == gold_items and left_out["sets"] == 2
    assert {s: v["items"] for s, v in left_out["per_set"].items()} == {"written": 6, "written_b": 3}
    assert card["metrics"]["written_sets_left_out_forecast"]["roc_auc"] == left_out["pooled_roc_auc"]


def test_load_written_reads_the_writers_gold():
    from models.bundle import load_parser
    from training.classifier import load_written

    cfg = load_config()
    data = load_written([ROOT / "examples" / "written" / "develop"], load_parser(None), cfg)
    gold = {}
    for path in (ROOT / "examples" / "written" / "develop" / "gold").glob("*.json"):
        g = json.loads(path.read_text())
        gold.update({(g["id"], it["index"]): (it["decision"], it["rationale"]) for it in g["items"]})
    assert len(data) == len(gold) and set(data.origin) == {"written"}
    assert set(data.weight) == {cfg["training"]["written_weight"]}
    assert {(g, ex["index"]): (d, r) for g, ex, d, r in zip(data.groups, data.X, data.decision, data.rationale)} == gold


def test_written_items_split_one_parse_between_the_read_heads_and_the_forecast(tmp_path):
    """Each use gets the items of its own sets (configs/classifier.yaml: training.written_letters for
    the read heads, models.forecast.written_letters for the forecast), a set named by both once."""
    from models.bundle import load_parser
    from training.real_first import written_items

    sets = {}
    for name, source, stems in (("a", "develop", ("w1_01", "w2_01")), ("b", "heldback", ("w3_01",))):
        for sub in ("letters", "gold"):
            (tmp_path / name / sub).mkdir(parents=True)
        for stem in stems:
            shutil.copy(ROOT / "examples" / "written" / source / "letters" / f"{stem}.txt", tmp_path / name / "letters")
            shutil.copy(ROOT / "examples" / "written" / source / "gold" / f"{stem}.json", tmp_path / name / "gold")
        sets[name] = {(stem, it["index"]) for stem in stems for it in json.loads(
            (tmp_path / name / "gold" / f"{stem}.json").read_text())["items"]}
    read, forecast, none = written_items([[tmp_path / "a"], [tmp_path / "a", tmp_path / "b"], []],
                                         load_parser(None), load_config())
    assert {(g, ex["index"]) for g, ex in zip(read.groups, read.X)} == sets["a"]
    assert {(g, ex["index"]) for g, ex in zip(forecast.groups, forecast.X)} == sets["a"] | sets["b"]
    assert none is None


def test_self_labelled_training_on_a_tiny_archive(tiny_bundle):
    root, m, frozen = tiny_bundle
    card = json.loads((root / "classifier" / "model_card.json").read_text())
    assert card["training_data"]["real_letters"] == sorted(TINY)
    assert card["training_data"]["frozen_letters_excluded"] == [frozen]
    assert set(card["artifacts"]) == {"decision_read", "decision_forecast", "rationale", "rationale_labels", "real_oof"}
    # the written letters' decisions join every forecast fit (configs/classifier.yaml models.forecast)
    assert m["protocol"]["train_letters"] == 10 and m["forecast_variant"] == "real_written"
    assert set(m["forecast_cv"]) == {"peer", "real_only", "real_written"}
    assert len(m["forecast_cv"]["real_written"]["roc_auc_per_repeat"]) == 2
    assert [c["letters"] for c in m["learning_curve"]] == [4, 6]
    assert m["frozen_once"]["letters"] == 1
    oof = json.loads((root / "classifier" / "real_oof.json").read_text())
    assert {r["case"] for r in oof["items"]} == set(TINY)
    assert all(0 <= r["p_forecast"] <= 1 for r in oof["items"])
    stated = {(r["case"], r["index"]): r["decision"] for r in oof["items"]}
    assert sum(d == "overturned" for d in stated.values()) >= 4
    # the saved rationale head leaves out the configured structured features, the decision reads them
    from models.estimators import ColumnSubsetClassifier, excluded_columns
    from models.predict import ItemPredictor

    models = ItemPredictor.load(root / "classifier").models
    rat = models["rationale"]
    names = rat.named_steps["features"].get_feature_names_out()
    drop = excluded_columns(names, load_config()["models"]["rationale"]["exclude_read_features"])
    assert len(drop) and isinstance(rat.named_steps["clf"], ColumnSubsetClassifier)
    assert rat.named_steps["clf"].drop == tuple(drop) and not rat.named_steps["clf"].coef_[:, drop].any()
    assert any(str(n).startswith("tfidf_rationale_case__") for n in names)


def test_explanations_sum_with_the_intercept_to_the_logit(tiny_bundle):
    from models.predict import ItemPredictor
    from nlp.reading import iter_documents
    from models.bundle import load_parser
    from nlp.textnorm import normalize_text

    root, _, _ = tiny_bundle
    pred = ItemPredictor.load(root / "classifier")
    docs = list(iter_documents([str(REAL / "CM16-0240259.pdf"), str(REAL / "CM16-0235869.pdf")]))
    recs = list(load_parser(None).process(docs))
    pred.predict_records(recs, [normalize_text(d.text) for d in docs])
    items = [it for r in recs for it in r["items"]]
    assert len(items) >= 7
    fields = "+".join(load_config()["models"]["forecast"]["fields"])  # the text the forecast reads
    for it in items:
        fc = it["prediction"]["forecast"]
        ex = fc["explanation"]
        assert len(ex["terms"]) == 5
        total = ex["intercept"] + sum(t["contribution"] for t in ex["terms"]) + ex["other"]
        assert math.isclose(total, ex["logit"], abs_tol=1e-3)
        assert math.isclose(1 / (1 + math.exp(-ex["logit"])), fc["p_overturned"], abs_tol=1e-3)
        assert all(t["feature"].startswith(fields + ': "') for t in ex["terms"])
        assert sorted((abs(t["contribution"]) for t in ex["terms"]), reverse=True) == [
            abs(t["contribution"]) for t in ex["terms"]]
        p = it["prediction"]
        assert (p["rationale"] == "guideline_criteria_met") == (p["decision"] == "overturned")


def test_frozen_letters_are_routed_away_from_training():
    from models.bundle import load_parser
    from training.real_first import real_items

    train, held = real_items([str(REAL / "CM16-0240259.pdf"), str(REAL / "CM16-0221706.pdf")], load_parser(None),
                             frozen=frozenset({"CM16-0240259"}))
    assert set(held.groups) == {"CM16-0240259"} and set(train.groups) == {"CM16-0221706"}
    assert "overturned" in held.decision



def test_forecast_fits_get_the_letters_and_unequal_weights():
    from sklearn.base import BaseEstimator
    from sklearn.pipeline import Pipeline

    from training.classifier import ItemData
    from training.real_first import _forecast_written, fit_decisions

    class Last(BaseEstimator):
        def fit(self, X, y, sample_weight=None, groups=None):
            self.seen_ = (None if sample_weight is None else list(sample_weight), groups)
            return self

    real = ItemData(X=[{}, {}], decision=["upheld", "overturned"], rationale=[None, None], labels=[[], []],
                    groups=["a", "b"], weight=[1.0, 1.0], origin=["real_weak", "real_weak"])
    assert fit_decisions(Pipeline([("clf", Last())]), real).named_steps["clf"].seen_ == (None, ["a", "b"])
    cfg = {"models": {"forecast": {"written_weight": 0.5}}}
    written = _forecast_written(cfg, ItemData(X=[{}], decision=["upheld"], rationale=["not_recommended"],
                                              labels=[["not_recommended"]], groups=["w"], weight=[30.0],
                                              origin=["written"]))
    assert written.weight == [0.5]
    both = fit_decisions(Pipeline([("clf", Last())]), real + written).named_steps["clf"].seen_
    assert both == ([1.0, 1.0, 0.5], ["a", "b", "w"])
    assert _forecast_written({"models": {"forecast": {"written_weight": 0}}}, written) is None


def _synthetic_items(letters, overturned, origin, weight=1.0):
    """Items whose summary says whether they were overturned; one item per letter."""
    from models.examples import FORECAST_KEYS
    from training.classifier import ItemData

    words = {True: "improved function documented relief", False: "no improvement documented failure"}
    X = [{**dict.fromkeys(FORECAST_KEYS, ""), "request": "physical therapy", "summary": words[o],
          "treatment_category": "physical_therapy", "set": s} for (s, _), o in zip(letters, overturned)]
    return ItemData(X=X, decision=["overturned" if o else "upheld" for o in overturned],
                    rationale=[None] * len(X), labels=[[] for _ in X], groups=[g for _, g in letters],
                    weight=[weight] * len(X), origin=[origin] * len(X))


def test_each_written_set_is_scored_by_a_forecast_that_never_saw_it():
    from sklearn.base import BaseEstimator, ClassifierMixin

    from training.real_first import written_sets_left_out

    class Spy(ClassifierMixin, BaseEstimator):
        fits: list = []

        def fit(self, X, y, sample_weight=None):
            Spy.fits.append(sorted({x["set"] for x in X}))
            self.classes_ = np.array(["overturned", "upheld"])
            return self

        def predict_proba(self, X):
            return np.full((len(X), 2), 0.5)

    real = _synthetic_items([("real", f"r{i}") for i in range(6)], [i % 3 == 0 for i in range(6)], "real_weak")
    sets = ["attic", "barn", "crypt"]
    written = _synthetic_items([(s, f"{s}{i}") for s in sets for i in range(4)], [i % 2 == 0 for i in range(12)],
                               "written", weight=2.0)
    m = written_sets_left_out(load_config(), real, written, [x["set"] for x in written.X], make=Spy)
    assert Spy.fits == [["barn", "crypt", "real"], ["attic", "crypt", "real"], ["attic", "barn", "real"]]
    assert m["sets"] == 3 and m["items"] == 12 and m["overturned"] == 6
    assert {s: (v["items"], v["overturned"], v["roc_auc"]) for s, v in m["per_set"].items()} == {
        s: (4, 2, 0.5) for s in sets}
    # one set: nothing to train the others on
    assert written_sets_left_out(load_config(), real, written.subset(range(4)), ["attic"] * 4, make=Spy) is None


def test_written_sets_left_out_scores_the_forecast_and_the_peer_on_unseen_writers():
    from training.real_first import written_sets_left_out

    real = _synthetic_items([("real", f"r{i}") for i in range(8)], [i % 2 == 0 for i in range(8)], "real_weak")
    written = _synthetic_items([(s, f"{s}{i}") for s in ("a", "b") for i in range(6)], [i % 3 == 0 for i in range(12)],
                               "written", weight=2.0)
    m = written_sets_left_out(load_config(), real, written, [x["set"] for x in written.X])
    # the summaries separate the decisions: both models rank every set perfectly
    assert m["pooled_roc_auc"] == m["peer_pooled_roc_auc"] == m["mean_per_set"] == 1.0
    assert [v["roc_auc"] for v in m["per_set"].values()] == [1.0, 1.0]
    # a set with one decision only has no ROC-AUC of its own and stays out of the mean
    flipped = written.subset(range(12))
    flipped.decision[6:] = ["upheld"] * 6
    m = written_sets_left_out(load_config(), real, flipped, [x["set"] for x in flipped.X])
    assert m["per_set"]["b"]["roc_auc"] is None and m["mean_per_set"] == m["per_set"]["a"]["roc_auc"] == 1.0
