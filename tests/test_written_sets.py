"""The written sets' registry (configs/written_sets.yaml): every set is spent or clean, what
trains on written letters lists spent sets only, and each training entry point refuses a clean one."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT
from nlp.config import load_yaml
from training import real_protocol
from training.real_protocol import CleanSetError

REGISTRY = load_yaml("written_sets.yaml")
WRITTEN = ROOT / "examples" / "written"


def test_every_written_set_is_spent_or_clean_and_never_both():
    """A clean set is registered before its letters exist; a spent one was scored, so it exists."""
    sets = {p.name for p in WRITTEN.iterdir() if (p / "gold").is_dir()}
    spent, clean = set(REGISTRY["spent"]), set(REGISTRY.get("clean") or ())
    assert not spent & clean
    assert sets <= spent | clean
    assert spent <= sets


def _written_dirs(paths) -> set[str]:
    return {Path(p).relative_to("examples/written").parts[0] for p in map(str, paths) if p.startswith("examples/written/")}


def test_what_trains_on_written_letters_lists_spent_sets_only():
    cfg = load_yaml("classifier.yaml")
    classifier = (cfg["training"]["written_letters"] or []) + (cfg["models"]["forecast"].get("written_letters") or [])
    roles = [s["gold"] for s in load_yaml("ner/count_roles.yaml")["sets"]]
    spent = set(REGISTRY["spent"])
    assert _written_dirs(classifier) <= spent
    assert _written_dirs(roles) <= spent


@pytest.fixture
def a_clean_set(tmp_path, monkeypatch):
    """A written set registered as clean (the registry's reader pointed at it)."""
    (tmp_path / "letters").mkdir()
    (tmp_path / "gold").mkdir()
    monkeypatch.setattr(real_protocol, "clean_written_sets", lambda: frozenset({tmp_path.resolve()}))
    return tmp_path


def test_the_read_heads_refuse_a_clean_written_set(a_clean_set):
    from training.classifier import load_written

    with pytest.raises(CleanSetError, match="clean"):
        load_written([a_clean_set], parser=None, cfg={})


def test_count_role_training_refuses_a_clean_written_set(a_clean_set):
    from training.count_roles import role_examples

    with pytest.raises(CleanSetError):
        role_examples(None, a_clean_set / "letters", a_clean_set / "gold")


def test_ner_training_refuses_a_clean_written_set(a_clean_set):
    from training.ner import gold_rows

    with pytest.raises(CleanSetError):
        gold_rows(a_clean_set / "letters", a_clean_set / "gold")


def test_a_spent_set_passes():
    real_protocol.check_not_clean([WRITTEN / REGISTRY["spent"][0]], "a test")
