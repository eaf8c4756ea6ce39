"""Models are trusted on purpose (issue 16): the bundled default is pinned by a manifest digest
of every file; any other bundle is an explicit choice; no silent run without a classifier."""
from __future__ import annotations

import json
import logging
import shutil

import pytest

import models.bundle as service
from models.persistence import BundleIntegrityError, ModelCardError, bundle_manifest, manifest_digest


def test_the_pinned_digest_is_the_bundled_defaults():
    # after retraining models/default: pin `python -m models.persistence models/default` in models/bundle.py
    manifest = bundle_manifest(service.DEFAULT_MODEL_DIR)
    assert {"ner/config.cfg", "ner/ner/model", "classifier/model_card.json", "classifier/decision_forecast.joblib"} <= set(manifest)
    assert manifest_digest(manifest) == service.DEFAULT_BUNDLE_DIGEST


@pytest.fixture()
def default_copy(tmp_path, monkeypatch):
    root = tmp_path / "default"
    shutil.copytree(service.DEFAULT_MODEL_DIR, root)
    monkeypatch.setattr(service, "DEFAULT_MODEL_DIR", root)
    return root


def test_a_tampered_default_is_refused(default_copy):
    service.check_bundle(None)  # the untouched copy passes
    cfg = default_copy / "ner" / "config.cfg"
    cfg.write_text(cfg.read_text().replace('"ner",', "", 1))  # a pipeline without its NER
    with pytest.raises(BundleIntegrityError, match="refusing"):
        service.load_parser(None)


def test_a_repickled_artifact_with_a_matching_card_is_refused_as_default(default_copy):
    from models.persistence import sha256_file

    clf = default_copy / "classifier"
    (clf / "rationale.joblib").write_bytes(b"not the model")
    card = json.loads((clf / "model_card.json").read_text())
    card["artifacts"]["rationale"]["sha256"] = sha256_file(clf / "rationale.joblib")  # the card edited to match
    (clf / "model_card.json").write_text(json.dumps(card))
    with pytest.raises(BundleIntegrityError):
        service.load_scorer(None)


def test_another_bundle_is_an_explicit_choice_with_a_notice(tmp_path, caplog):
    other = tmp_path / "mine"
    shutil.copytree(service.DEFAULT_MODEL_DIR, other)
    (other / "classifier" / "metrics.json").write_text("{}")  # differs from the default: not pinned
    with caplog.at_level(logging.WARNING, logger="models.bundle"):
        service.check_bundle(other)
        service.check_bundle(other)
    assert caplog.text.count("explicit choice") == 1 and "run code" in caplog.text


def test_no_classifier_is_an_error_not_a_silent_run(tmp_path):
    bundle = tmp_path / "ner_only"
    shutil.copytree(service.DEFAULT_MODEL_DIR / "ner", bundle / "ner")
    with pytest.raises(ModelCardError, match="no classifier"):
        service.load_scorer(bundle)
