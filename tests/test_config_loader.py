"""One config loader (nlp/config.py, issue 17): every YAML file of configs/ (and a user's
`--config PATH`) is parsed by `nlp.config.parse_config` into strict mappings; a key the code
reads and the file lacks raises `ConfigError` naming the file and the key path (no fallback
values in code)."""
from __future__ import annotations

import ast
import copy
import pickle
from pathlib import Path

import pytest

import nlp.config as config
from nlp.config import ConfigError, config_copy, load_config, plain, read_yaml

ROOT = Path(__file__).resolve().parents[1]
# the only module that may parse YAML itself (a build tool reading its seed files, issue 17: left)
YAML_PARSERS_ALLOWED = {"nlp/config.py"}


def test_missing_key_names_file_and_key_path():
    cfg = load_config("corpus.yaml")
    with pytest.raises(ConfigError, match=r"corpus\.yaml: missing key 'no_such_key'"):
        cfg["no_such_key"]
    with pytest.raises(ConfigError, match=r"corpus\.yaml: missing key 'holdout\.no_such_key'"):
        cfg["holdout"]["no_such_key"]
    cls = load_config("classifier.yaml")
    with pytest.raises(ConfigError, match=r"classifier\.yaml: missing key 'features\.guideline_allowances\[0\]\.nope'"):
        cls["features"]["guideline_allowances"][0]["nope"]
    with pytest.raises(KeyError):  # a ConfigError is a KeyError: existing handlers still catch it
        cfg["no_such_key"]
    assert cfg["holdout"].get("no_such_key") is None  # .get only for keys documented as optional


def test_explicit_path_is_as_strict(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("a: {b: 1}\n", encoding="utf-8")
    cfg = read_yaml(f)
    assert cfg["a"]["b"] == 1
    with pytest.raises(ConfigError, match=r"mine\.yaml: missing key 'a\.c'"):
        cfg["a"]["c"]


def test_user_corpus_config_without_a_key_raises(tmp_path):
    from training.corpus import load_config as corpus_config
    from training.generator import choose_holdout

    f = tmp_path / "corpus.yaml"
    f.write_text("kb_dir: configs/kb\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"corpus\.yaml: missing key 'holdout'"):
        choose_holdout(None, 0, corpus_config(f))


def test_loaded_config_is_read_only_and_copies_change():
    cfg = load_config("classifier.yaml")
    assert load_config("classifier.yaml") is cfg  # parsed once per process
    with pytest.raises(TypeError):
        cfg["seed"] = 1
    with pytest.raises(TypeError):
        cfg["models"]["decision"].update(max_iter=1)
    mine = config_copy(cfg)
    mine["models"]["decision"]["max_iter"] = 1
    assert cfg["models"]["decision"]["max_iter"] != 1
    with pytest.raises(ConfigError):
        mine["models"]["decision"]["nope"]
    deep = copy.deepcopy(mine)
    with pytest.raises(ConfigError):
        deep["models"]["nope"]
    # pickled (saved models, worker processes) and dumped as plain data
    back = pickle.loads(pickle.dumps(cfg))
    assert type(back) is dict and type(back["models"]) is dict and back == plain(cfg)


def test_the_four_loaders_go_through_the_one_function(monkeypatch):
    from models.features import load_config as classifier_config
    from training.corpus import DEFAULT_CONFIG
    from training.corpus import load_config as corpus_config
    from training.generator.kb import _load as kb_load

    seen = []
    real = config.parse_config

    def counting(text, source, frozen=False):
        seen.append(source)
        return real(text, source, frozen)

    monkeypatch.setattr(config, "parse_config", counting)
    config.load_config.cache_clear()
    try:
        classifier_config()
        corpus_config()
        corpus_config(DEFAULT_CONFIG)
        kb_load(config.configs_dir() / "kb" / "rules.yaml")
        config.load_yaml("layouts.yaml")
        config.read_config("ner/ops.yaml")
    finally:
        config.load_config.cache_clear()
    assert seen[:2] == ["classifier.yaml", "corpus.yaml"]
    assert seen[2].endswith("corpus.yaml") and seen[3].endswith("rules.yaml")
    assert seen[4:] == ["layouts.yaml", "ner/ops.yaml"]


def _yaml_parse_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("safe_load", "load", "full_load", "unsafe_load", "load_all", "safe_load_all")
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "yaml"):
            out.append(node.lineno)
    return out


def test_no_module_parses_yaml_but_the_config_loader():
    found = {}
    for pkg in ("nlp", "models", "training", "imr"):
        for f in sorted((ROOT / pkg).rglob("*.py")):
            rel = f.relative_to(ROOT).as_posix()
            if rel in YAML_PARSERS_ALLOWED:
                continue
            lines = _yaml_parse_calls(f)
            if lines:
                found[rel] = lines
    assert not found, f"YAML parsed outside nlp/config.py (use nlp.config.load_config / read_yaml): {found}"
