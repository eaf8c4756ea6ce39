"""Classifier: estimators, persistence (hash-verified loading), predictions on records, and a
small end-to-end training run on a tiny corpus built from the real letters."""
from __future__ import annotations

import json

import joblib
import numpy as np
import pytest

from models import persistence
from models.estimators import make_baseline, make_decision_model, make_multilabel_model, make_rationale_model, fit_pipeline
from models.examples import item_examples
from models.features import load_config
from models.persistence import (
    ArtifactIntegrityError,
    ArtifactMissingError,
    ModelCardError,
    load_artifacts,
    save_artifacts,
)
from models.predict import ItemPredictor

from conftest import REAL, REAL_LABELS

N_LETTERS = 24


def tiny_cfg() -> dict:
    cfg = load_config()
    tf = cfg["features"]["tfidf"]
    for k in tf:
        tf[k]["max_features"] = 200
        tf[k]["min_df"] = 1
    cfg["models"]["decision"]["C_grid"] = [1.0]
    cfg["models"]["decision"]["calibration"]["cv"] = 2
    cfg["models"]["rationale"]["C_grid"] = [1.0]
    cfg["models"]["baseline_text"]["max_features"] = 300
    cfg["training"]["real_cv_folds"] = 2
    cfg["training"]["parse_jobs"] = 1
    cfg["training"]["fit_jobs"] = 1
    return cfg


@pytest.fixture(scope="module")
def real_parsed():
    from nlp.reading import iter_documents
    from models.bundle import load_parser
    from nlp.textnorm import normalize_text

    labels = [json.loads(l) for l in REAL_LABELS.read_text(encoding="utf-8").splitlines() if l.strip()]
    ids = sorted({l["case_number"] for l in labels})[:N_LETTERS]
    docs = list(iter_documents([str(REAL / f"{i}.pdf") for i in ids]))
    recs = list(load_parser(ner=False).process(docs))
    texts = [normalize_text(d.text) for d in docs]
    gold = {(l["case_number"], l["index"]): l for l in labels}
    return docs, recs, texts, gold


@pytest.fixture(scope="module")
def trained(real_parsed, tmp_path_factory):
    """Models fitted on the tiny real set and saved to a directory."""
    _, recs, texts, gold = real_parsed
    X = [ex for r, t in zip(recs, texts) for ex in item_examples(r, t)]
    yd = [gold[(ex["id"], ex["index"])]["decision"] for ex in X]
    yr = [gold[(ex["id"], ex["index"])]["rationale"] for ex in X]
    cfg = tiny_cfg()
    classes = cfg["labels"]["rationale"]
    Y = np.array([[int(c in gold[(ex["id"], ex["index"])]["rationale_labels"]) for c in classes] for ex in X])
    arts = {
        "decision_read": fit_pipeline(make_decision_model("read", cfg), X, yd),
        "decision_forecast": fit_pipeline(make_decision_model("forecast", cfg), X, yd),
        "rationale": fit_pipeline(make_rationale_model("read", cfg), X, yr),
        "rationale_labels": fit_pipeline(make_multilabel_model("read", cfg), X, Y),
    }
    out = tmp_path_factory.mktemp("clf")
    save_artifacts(out, arts, {"labels": {"rationale_labels": classes}, "metrics": {}})
    return out, arts, X, yd


def test_models_learn_the_read_decision(trained):
    _, arts, X, yd = trained
    p = arts["decision_read"].predict_proba(X)[:, list(arts["decision_read"].classes_).index("overturned")]
    assert ((p >= 0.5) == (np.array(yd) == "overturned")).mean() >= 0.95
    assert np.all((p >= 0) & (p <= 1))


def test_save_load_round_trip(trained):
    out, arts, X, _ = trained
    card = json.loads((out / "model_card.json").read_text())
    assert card["format"] == persistence.CARD_FORMAT
    assert {"scikit-learn", "numpy", "python"} <= set(card["library_versions"])
    assert set(card["artifacts"]) == set(arts)
    for name, entry in card["artifacts"].items():
        assert entry["sha256"] == persistence.sha256_file(out / entry["file"])
    _, loaded = load_artifacts(out)
    for name in arts:
        a = arts[name].predict_proba(X)
        b = loaded[name].predict_proba(X)
        assert np.allclose(np.asarray(a), np.asarray(b))


def test_tampered_artifact_refused_before_unpickling(trained, tmp_path, monkeypatch):
    out, *_ = trained
    import shutil

    d = tmp_path / "m"
    shutil.copytree(out, d)
    f = d / "rationale.joblib"
    f.write_bytes(f.read_bytes() + b"\0")
    calls = []
    monkeypatch.setattr(joblib, "load", lambda *a, **k: calls.append(a))
    with pytest.raises(ArtifactIntegrityError, match="rationale"):
        load_artifacts(d)
    with pytest.raises(ArtifactIntegrityError):
        ItemPredictor.load(d)
    assert calls == []  # nothing was unpickled
    f.unlink()
    with pytest.raises(ArtifactMissingError):
        load_artifacts(d)
    (d / "model_card.json").write_text("{not json")
    with pytest.raises(ModelCardError):
        load_artifacts(d)
    with pytest.raises(ModelCardError):
        load_artifacts(tmp_path / "nowhere")
    assert issubclass(ArtifactIntegrityError, persistence.ModelLoadError)


def test_predict_records(trained, real_parsed):
    out, *_ = trained
    _, recs, texts, _ = real_parsed
    import copy

    recs = copy.deepcopy(recs)
    pred = ItemPredictor.load(out)
    got = pred.predict_records(recs, texts)
    assert got is recs
    classes = load_config()["labels"]["rationale"]
    n = 0
    for rec in recs:
        for it in rec["items"]:
            p = it["prediction"]
            n += 1
            assert set(p) == {"decision", "p_overturned", "rationale", "rationale_scores", "rationale_labels", "forecast"}
            assert p["decision"] in ("upheld", "overturned") and 0 <= p["p_overturned"] <= 1
            assert (p["decision"] == "overturned") == (p["p_overturned"] >= 0.5)
            assert p["rationale"] in classes and p["rationale_labels"][0] == p["rationale"]
            assert set(p["rationale_labels"]) <= set(classes)
            assert abs(sum(p["rationale_scores"].values()) - 1) < 1e-2
            assert set(p["forecast"]) == {"decision", "p_overturned"} and 0 <= p["forecast"]["p_overturned"] <= 1
    assert n == sum(len(r["items"]) for r in recs)
    # the batch's shared feature matrices give what each pipeline gives on its own
    ex = [e for r, t in zip(recs, texts) for e in item_examples(r, t)]
    m = pred.models["rationale"]
    direct = m.predict_proba(ex)
    flat = [it["prediction"] for r in recs for it in r["items"]]
    for i, pr in enumerate(flat):
        assert pr["rationale_scores"] == {str(c): round(float(direct[i, j]), 4) for j, c in enumerate(m.classes_)}
    # one record alone gives the same prediction as in the batch
    one = copy.deepcopy(real_parsed[1][0])
    pred.predict_record(one, texts[0])
    assert one["items"][0]["prediction"] == recs[0]["items"][0]["prediction"]
    # records without items (unreadable letters) pass through
    assert pred.predict_records([{"id": "x", "items": [], "error": {"type": "empty_input"}}], [""])[0]["items"] == []
    with pytest.raises(ValueError):
        pred.predict_records(recs, texts[:-1])


def test_baselines(trained):
    _, _, X, yd = trained
    cfg = tiny_cfg()
    maj = fit_pipeline(make_baseline("majority", "read", cfg), X, yd)
    assert set(maj.predict(X)) == {"upheld"}
    txt = fit_pipeline(make_baseline("text", "forecast", cfg), X, yd)
    assert txt.predict_proba(X).shape == (len(X), 2)
    from models.estimators import JoinedText

    joined = JoinedText("forecast").fit(X).transform(X[:1])[0]
    assert X[0]["request"] in joined and X[0]["rationale"][:40] not in joined


def _tiny_corpus(tmp_path, real_parsed):
    """A DatasetDict in the generated corpus's shape, made of real letter texts and hand labels."""
    from datasets import Dataset, DatasetDict

    docs, recs, _, gold = real_parsed
    rows = []
    for d in docs:
        items = [dict(index=i, request=g["request"], decision=g["decision"], rationale=g["rationale"],
                      rationale_labels=g["rationale_labels"], treatment_category=g["treatment_category"])
                 for (cid, i), g in sorted(gold.items()) if cid == d.id]
        rows.append({"id": d.id, "text": d.text, "items": items})
    parts = {"train": rows[:14], "validation": rows[14:18], "test": rows[18:21], "test_unseen": rows[21:24]}
    path = tmp_path / "corpus"
    DatasetDict({k: Dataset.from_list(v) for k, v in parts.items()}).save_to_disk(str(path))
    return path


def test_end_to_end_training(tmp_path, real_parsed):
    from training.classifier import run_training

    corpus = _tiny_corpus(tmp_path, real_parsed)
    cfg = tiny_cfg()
    # the "real letters" of this run: a few letters not in the tiny corpus' train split
    labels = [json.loads(l) for l in REAL_LABELS.read_text(encoding="utf-8").splitlines() if l.strip()]
    ids = sorted({l["case_number"] for l in labels})[N_LETTERS:N_LETTERS + 6]
    sub = tmp_path / "real.jsonl"
    sub.write_text("".join(json.dumps(l) + "\n" for l in labels if l["case_number"] in ids))
    cfg["training"]["real_labels"] = str(sub)
    cfg["training"]["real_letters"] = str(REAL)
    cfg["training"]["real_cv_generated_max"] = 20  # fewer than the train items: draws differ
    cfg["training"]["real_cv_draws"] = 2
    out = tmp_path / "model"
    m = run_training(cfg, corpus=corpus, out=out, seed=3, hgb=False)
    assert (out / "model_card.json").is_file() and (out / "metrics.json").is_file()
    assert set(m["artifacts"]) == {"decision_read", "decision_forecast", "rationale", "rationale_labels"}
    for split in ("test", "test_unseen"):
        ev = m["corpus_eval"][split]
        assert set(ev) == {"model", "majority", "text"}
        for part in ev.values():
            assert {"decision_read", "decision_forecast", "rationale_read", "rationale_labels_read"} <= set(part)
            assert "roc_auc" in part["decision_read"] and "per_class_f1" in part["rationale_read"]
    assert m["data"]["train"]["items_used"] > 0 and "request_mismatch" not in m["data"]["train"]
    rc = m["real_cv"]
    assert {"generated_plus_real", "generated_only"} <= set(rc) and rc["folds"] == 2
    spread = m["real_cv_spread"]["generated_plus_real"]["rationale_accuracy"]
    assert m["real_cv_spread"]["draws"] == 2 and len(spread["values"]) == 2
    assert spread["values"][0] == rc["generated_plus_real"]["rationale_accuracy"]
    assert spread["mean"] == pytest.approx(sum(spread["values"]) / 2, abs=1e-4)
    card = json.loads((out / "model_card.json").read_text())
    assert card["training_data"]["real_items"] > 0 and len(card["training_data"]["fingerprint"]) == 64
    assert card["features"]["forecast"]["text_fields"] and "rationale" not in card["features"]["forecast"]["text_fields"]
    # the same seed reproduces the same models
    out2 = tmp_path / "model2"
    run_training(cfg, corpus=corpus, out=out2, seed=3, hgb=False, real_cv_enabled=False)
    card2 = json.loads((out2 / "model_card.json").read_text())
    assert card2["training_data"]["fingerprint"] == card["training_data"]["fingerprint"]
    p1, p2 = ItemPredictor.load(out), ItemPredictor.load(out2)
    _, recs, texts, _ = real_parsed
    ex = [e for r, t in zip(recs, texts) for e in item_examples(r, t)]
    assert p1.predict_examples(ex) == p2.predict_examples(ex)


def test_commands_argument_parsing_and_refusal(trained, tmp_path, capsys):
    import argparse
    import shutil

    from imr.classifier_commands import add_evaluate_arguments, add_train_arguments, evaluate_classifier, train_classifier

    p = argparse.ArgumentParser()
    add_train_arguments(p)
    a = p.parse_args(["--corpus", "c", "--seed", "5", "--no-real-cv", "--max-letters", "10"])
    assert (a.corpus, a.seed, a.no_real_cv, a.max_letters, a.no_hgb) == ("c", 5, True, 10, False)
    q = argparse.ArgumentParser()
    add_evaluate_arguments(q)
    out, *_ = trained
    d = tmp_path / "m"
    shutil.copytree(out, d)
    f = d / "decision_read.joblib"
    f.write_bytes(b"x" + f.read_bytes())
    assert evaluate_classifier(q.parse_args(["--model", str(d)])) == 3
    assert "ArtifactIntegrityError" in capsys.readouterr().err
    assert train_classifier(argparse.Namespace(config=str(tmp_path / "missing.yaml"))) == 2


def test_score_documents(trained, real_parsed):
    from models.bundle import load_parser

    out, *_ = trained
    docs = real_parsed[0][:5]
    recs = list(ItemPredictor.load(out).score_documents(load_parser(ner=False), docs, batch_size=2))
    assert [r["id"] for r in recs] == [d.id for d in docs]
    assert all("prediction" in it for r in recs for it in r["items"])


def test_process_parser_matches_the_serial_parser():
    # training parses in worker processes (`training.parse_jobs`): same records, same order
    from nlp.reading import iter_documents
    from models.bundle import load_parser
    from training.classifier import ProcessParser, _jobs, _parser

    docs = list(iter_documents([str(REAL)]))[:40]
    serial = list(load_parser().process(docs))
    parallel = list(ProcessParser(None, jobs=2, batch_size=8).process(iter(docs)))
    assert [r["id"] for r in parallel] == [d.id for d in docs]
    assert parallel == serial and any(r["entities"] for r in serial)
    assert isinstance(_parser(None, 2), ProcessParser)
    assert _jobs({"training": {"parse_jobs": 3}}, "parse_jobs") == 3 and _jobs({"training": {"parse_jobs": 0}}, "parse_jobs") >= 1
    with pytest.raises(KeyError):  # no fallback in code: the key must be in the config (issue 17)
        _jobs({"training": {}}, "parse_jobs")


def _real_items(real_parsed):
    """ItemData of the parsed real letters with their hand labels (weight 1)."""
    from training.classifier import ItemData

    _, recs, texts, gold = real_parsed
    data = ItemData()
    for r, t in zip(recs, texts):
        for ex in item_examples(r, t):
            data.add(ex, gold[(ex["id"], ex["index"])], 1.0, "real")
    return data


def test_parallel_fits_equal_serial_fits(real_parsed):
    """`training.fit_jobs` > 1 fits the heads in worker processes: same chosen C, same scores,
    same coefficients as fitting them one after the other."""
    from training.classifier import Trainer, _jobs

    data = _real_items(real_parsed)
    letters = sorted(set(data.groups))
    train = data.subset([i for i, g in enumerate(data.groups) if g in letters[:16]])
    val = data.subset([i for i, g in enumerate(data.groups) if g in letters[16:]])
    results = []
    for jobs in (1, 2):
        cfg = tiny_cfg()
        cfg["models"]["decision"]["C_grid"] = [0.1, 1.0]
        cfg["models"]["rationale"]["C_grid"] = [0.3, 3.0]
        cfg["training"]["fit_jobs"] = jobs
        assert _jobs(cfg, "fit_jobs") == jobs
        results.append(Trainer(cfg, seed=5).fit(train, val))
    (m1, c1, s1), (m2, c2, s2) = results
    assert c1 == c2 and s1 == s2 and set(s1) == {"decision_read", "decision_forecast", "rationale_read", "rationale_forecast"}
    assert set(m1) == set(m2) == {"decision_read", "decision_forecast", "rationale_read", "rationale_forecast", "rationale_labels"}
    X = val.X
    for name in m1:
        a, b = m1[name].predict_proba(X), m2[name].predict_proba(X)
        assert np.array_equal(a, b), name


def test_parallel_baselines_hgb_and_real_cv_equal_serial(real_parsed):
    """The baselines, the HGB comparison and the real-letter CV fit in `training.fit_jobs` worker
    processes: every figure and prediction equals the serial run's."""
    from training.classifier import compare_hgb, evaluate_baselines, fit_baselines, real_cv

    data = _real_items(real_parsed)
    letters = sorted(set(data.groups))
    train = data.subset([i for i, g in enumerate(data.groups) if g in letters[:12]])
    rest = data.subset([i for i, g in enumerate(data.groups) if g not in letters[:12]])
    out = []
    for jobs in (1, 2):
        cfg = tiny_cfg()
        cfg["training"]["fit_jobs"] = jobs
        cfg["models"]["hgb"]["max_iter"] = 20
        baselines = fit_baselines(train, cfg)
        out.append((list(baselines), evaluate_baselines(baselines, rest, cfg),
                    compare_hgb(train, {"rest": rest}, cfg, seed=3),
                    real_cv(train, rest, cfg, seed=3, chosen={})))
    (k1, e1, h1, r1), (k2, e2, h2, r2) = out
    assert k1 == k2 and len(k1) == 10 and e1 == e2
    for mode in ("read", "forecast"):  # fit seconds differ; the scores may not
        assert h1[mode]["rest"] == h2[mode]["rest"] and h1[mode]["rest_logistic_structured"] == h2[mode]["rest_logistic_structured"]
    assert r1 == r2 and r1["generated_plus_real"]["read_decision_agreement"] is not None


def test_loading_warns_when_a_pickled_library_differs_and_refuses_another_major_version(tmp_path, caplog):
    from models.persistence import library_mismatch, load_artifacts, save_artifacts

    card = save_artifacts(tmp_path, {"x": [1, 2]}, {})
    assert library_mismatch(card) is None
    assert "1.0.2" in library_mismatch({"library_versions": {"scikit-learn": "1.0.2"}})
    import numpy

    numpy_major = int(numpy.__version__.split(".")[0])
    assert "numpy" in library_mismatch({"library_versions": {"numpy": f"{numpy_major}.999.0"}})
    from models.persistence import LibraryVersionError

    with pytest.raises(LibraryVersionError, match="major version"):
        library_mismatch({"library_versions": {"numpy": f"{numpy_major + 1}.0.0"}})
    with pytest.raises(LibraryVersionError, match="scikit-learn 0.24"):
        library_mismatch({"library_versions": {"scikit-learn": "0.24.2"}})
    import sklearn

    same_major = sklearn.__version__.split(".")[0] + ".0.1"
    card["library_versions"]["scikit-learn"] = same_major
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    with caplog.at_level("WARNING", logger="models.persistence"):
        _, objs = load_artifacts(tmp_path)
    assert objs["x"] == [1, 2] and f"scikit-learn {same_major}" in caplog.text
    card["library_versions"]["scikit-learn"] = "0.1.0"  # another major version: refused, nothing unpickled
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    with pytest.raises(LibraryVersionError):
        load_artifacts(tmp_path)
