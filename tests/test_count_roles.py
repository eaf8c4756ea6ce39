"""The count role model (nlp/ner/count_roles.py, training/count_roles.py): its features, its plain
weights against scikit-learn, the component, training that never reads a held-back or frozen
letter, and the bundled model."""
from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from conftest import ROOT
from models.bundle import DEFAULT_MODEL_DIR
from nlp.config import load_yaml
from nlp.ner.count_roles import MODEL_FILE, CountRoleClassifier, LinearRoleModel, count_role_features
from nlp.ner.runtime import entity_dicts, load_pipeline
from training.count_roles import CONFIG, fit_role_model, role_examples, train_count_roles, training_sets
from training.real_protocol import FrozenLetterError, load_frozen

BUNDLED_NER = DEFAULT_MODEL_DIR / "ner"


def _features(sentence: str, count: str, rule=None, field="rationale") -> dict:
    start = sentence.index(count)
    return count_role_features(sentence, start, start + len(count), "item", field, rule, {"unit": "session"})


def test_features_name_the_cues_on_each_side_and_the_words_next_to_the_count():
    f = _features("The twelve sessions already completed plus the twenty sessions now requested remain within it.",
                  "twenty sessions", rule="completed")
    assert f["rule=completed"] == 1 and f["field=rationale"] == 1 and f["rule|field=completed|rationale"] == 1
    assert f["nearL=completed"] == 1 and f["nearLcue=already completed"] == 1 and f["nearL=completed@1"] == 1
    assert f["nearR=requested"] == 1 and f["nearR=requested@1"] == 1
    assert f["L0=the"] == 1 and f["L1=plus"] == 1 and f["R0=now"] == 1 and f["R1=requested"] == 1
    assert "guideline_before" not in f and "over" not in f


def test_features_see_a_guideline_named_before_the_count():
    f = _features("The MTUS guidelines allow 9-10 visits over 8 weeks.", "9-10 visits over 8 weeks")
    assert f["guideline_before"] == 1 and f["nearL=recommended"] == 1 and "guideline_after" not in f


def _toy(n_classes: int):
    rng = np.random.default_rng(0)
    names = [f"w{i}" for i in range(12)]
    roles = ["requested", "completed", "recommended", None][:n_classes]
    feats, labels = [], []
    for k in range(120):
        role = roles[k % n_classes]
        f = {names[j]: 1.0 for j in rng.choice(12, 3, replace=False)}
        f[f"cue={role}"] = 1.0
        feats.append(f)
        labels.append(role)
    return feats, labels


@pytest.mark.parametrize("n_classes", [2, 4])
def test_the_plain_weights_predict_as_scikit_learn_does(n_classes):
    feats, labels = _toy(n_classes)
    model = fit_role_model(feats, labels, C=0.5)
    y = ["none" if r is None else r for r in labels]
    vec = DictVectorizer()
    clf = LogisticRegression(C=0.5, max_iter=5000).fit(vec.fit_transform(feats), y)
    expected = clf.predict(vec.transform(feats))
    got = [model.predict(f) for f in feats]
    assert [("none" if g is None else g) for g in got] == list(expected)
    # unknown features weigh nothing; a null role comes back as None
    assert model.predict({"never seen": 1.0}) in (None, "requested", "completed", "recommended")
    probs = model.probabilities(feats[0])
    assert abs(sum(probs.values()) - 1) < 1e-9 and set(probs) == set(model.classes)


def test_a_model_whose_parts_disagree_is_refused():
    with pytest.raises(ValueError):
        LinearRoleModel(["requested", "none"], [0.0], {"x": [1.0, 2.0]})
    with pytest.raises(ValueError):
        fit_role_model([{"a": 1.0}, {"b": 1.0}], ["requested", "requested"])


def test_the_component_without_weights_leaves_the_rules_roles(tmp_path):
    pipe = load_pipeline(str(BUNDLED_NER))
    text = (ROOT / "examples" / "letters").glob("*.txt").__next__().read_text(encoding="utf-8")
    from nlp.textnorm import normalize_text

    text = normalize_text(text)
    with pipe.select_pipes(disable=["imr_count_roles"]):
        rules = entity_dicts(pipe(text))
    untrained = CountRoleClassifier()
    assert untrained(pipe.make_doc("no entities")) is not None
    with pipe.select_pipes(disable=["imr_count_roles"]):
        doc = pipe(text)
    untrained(doc)
    assert entity_dicts(doc) == rules
    # saved without weights: no file; loaded back: still none
    untrained.to_disk(tmp_path / "c")
    assert not (tmp_path / "c" / MODEL_FILE).exists() and CountRoleClassifier().from_disk(tmp_path / "c").model is None


def test_the_component_sets_the_roles_its_model_gives_and_round_trips(tmp_path):
    pipe = load_pipeline(str(BUNDLED_NER))
    always = LinearRoleModel(["completed", "none"], [1.0, 0.0], {})
    comp = CountRoleClassifier()
    comp.model = always
    text = "Summary. She has completed 6 sessions of physical therapy and 8 visits of chiropractic care."
    with pipe.select_pipes(disable=["imr_count_roles"]):
        doc = pipe(text)
    comp(doc)
    counts = [e for e in doc.ents if e.label_ == "SESSION_COUNT"]
    assert counts and all(e._.norm["role"] == "completed" for e in counts)
    comp.to_disk(tmp_path / "c")
    back = CountRoleClassifier().from_disk(tmp_path / "c")
    assert back.model.to_dict() == always.to_dict()


def test_the_shipped_config_never_trains_on_a_held_back_half_or_a_frozen_letter():
    cfg = load_yaml(CONFIG)
    sets = training_sets(cfg)
    golds = {g.relative_to(ROOT).as_posix() for _, g in sets}
    assert "training/real_ner_gold/heldback" not in golds and "training/real_ner_gold/heldback_b" not in golds
    assert {"training/real_ner_gold/heldback", "training/real_ner_gold/heldback_b"} <= {s["gold"] for s in cfg["held_back"]}
    frozen = load_frozen()
    for _, gold in sets:
        assert not {p.stem for p in gold.glob("*.json")} & frozen
    bad = {"sets": [{"letters": "examples/real", "gold": "training/real_ner_gold/heldback"}],
           "held_back": [{"letters": "examples/real", "gold": "training/real_ner_gold/heldback"}]}
    with pytest.raises(ValueError, match="held-back"):
        training_sets(bad)


def test_role_examples_refuse_a_frozen_letter(tmp_path):
    case = sorted(load_frozen())[0]
    (tmp_path / f"{case}.json").write_text(json.dumps({"id": case, "entities": [], "items": []}))
    with pytest.raises(FrozenLetterError):
        role_examples(None, ROOT / "examples" / "real", tmp_path)


def _tree_digest(path) -> str:
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(path).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_training_writes_only_the_weights_into_a_copy_of_the_pipeline(tmp_path):
    before = _tree_digest(BUNDLED_NER)
    cfg = {"C": 1.0, "sets": [{"letters": "examples/letters", "gold": "examples/gold"},
                              {"letters": "examples/written/develop/letters", "gold": "examples/written/develop/gold"}]}
    meta = train_count_roles(BUNDLED_NER, tmp_path / "ner", config=cfg)
    assert _tree_digest(BUNDLED_NER) == before
    assert meta["sets"] == {"examples/gold": 8, "examples/written/develop/gold": meta["sets"]["examples/written/develop/gold"]}
    assert meta["examples"] == sum(meta["sets"].values()) > 100
    saved = json.loads((tmp_path / "ner" / "imr_count_roles" / MODEL_FILE).read_text())
    assert saved["meta"] == meta and set(saved["classes"]) <= {"requested", "completed", "recommended", "none"}
    # every other file is the bundled pipeline's
    shutil.rmtree(tmp_path / "ner" / "imr_count_roles")
    shutil.copytree(BUNDLED_NER / "imr_count_roles", tmp_path / "ner" / "imr_count_roles")
    assert _tree_digest(tmp_path / "ner") == before


def test_the_bundled_model_was_trained_on_the_shipped_config():
    saved = json.loads((BUNDLED_NER / "imr_count_roles" / MODEL_FILE).read_text())
    cfg = load_yaml(CONFIG)
    assert set(saved["meta"]["sets"]) == {s["gold"] for s in cfg["sets"]}
    assert saved["meta"]["C"] == cfg["C"] and saved["meta"]["examples"] > 1500


def test_evaluation_leaves_each_set_out_and_scores_the_held_back_ones_with_the_full_model(tmp_path):
    from training.count_roles import evaluate_count_roles

    cfg = {"C": 1.0, "sets": [{"letters": "examples/letters", "gold": "examples/gold"},
                              {"letters": "examples/written/develop/letters", "gold": "examples/written/develop/gold"}],
           "held_back": [{"letters": "examples/real", "gold": "training/real_ner_gold/heldback_b"}]}
    rows = evaluate_count_roles(BUNDLED_NER, config=cfg)
    assert [(r["set"], r["how"]) for r in rows] == [("examples/gold", "left out"),
                                                     ("examples/written/develop/gold", "left out"),
                                                     ("training/real_ner_gold/heldback_b", "held back")]
    assert rows[0]["counts"] == 8 and all(0 <= r["rules"] <= 1 and 0 <= r["model"] <= 1 for r in rows)
    # the held-back set is scored by the model fitted on both sets: the one training writes
    train_count_roles(BUNDLED_NER, tmp_path / "ner", config=cfg)
    pipe = load_pipeline(str(tmp_path / "ner"))
    feats, labels = role_examples(pipe, ROOT / "examples" / "real", ROOT / "training" / "real_ner_gold" / "heldback_b")
    model = pipe.get_pipe("imr_count_roles").model
    assert rows[2]["model"] == sum(model.predict(f) == y for f, y in zip(feats, labels)) / len(labels)
