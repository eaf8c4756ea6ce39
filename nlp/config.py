"""Where the project's data files live, and cached loading of them.

One resolver for the data that ships with the code, in a checkout and in an installed wheel
alike: the `configs` package (the top-level `configs/` folder, package data of the wheel) and the
bundled default models (`models/default/`, package data of `models`), both found with
`importlib.resources`. `IMR_CONFIGS` names another configs folder, which then replaces the
packaged one.

A saved spaCy pipeline carries the config files its components read at run time (the layout
markers, the lexicons: `save_configs` in a component's `to_disk`, `carry_configs` in its
`from_disk`), so a pipeline folder copied anywhere loads and runs the same. The configs folder
wins when it has the file (it is what the rest of the process reads too); a carried copy serves
when it has not (`IMR_CONFIGS` pointing to a folder without it).

One config loader: every YAML config is parsed by `parse_config` into `ConfigDict`s, strict
mappings whose `cfg[key]` raises `ConfigError` (file and key path) for a key the file lacks; the
code keeps no fallback values, the YAML holds every key it reads. `load_config(relpath)` (alias
`load_yaml`) is the cached, read-only file under configs/; `read_config(relpath)` parses it anew;
`read_yaml(path)` reads a file a user names (`--config PATH`) with the same strictness.
`config_copy` gives a changeable copy, `plain` plain dicts (YAML dumps); a pickled ConfigDict
is a plain dict (saved models and worker processes do not depend on this module).
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.resources
import os
import shutil
from pathlib import Path

import yaml

# The folder holding the `nlp` package: a checkout's root, or site-packages for a wheel. Only
# for what exists in a checkout alone (data/, examples/, pyproject.toml), never for configs/
# or the bundled models: `configs_dir()` and `default_model_dir()` find those.
REPO_ROOT = Path(__file__).resolve().parents[1]


def package_dir(package: str, *parts: str) -> Path:
    """A folder shipped inside `package` (importlib.resources), as a file-system path."""
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError:  # a checkout whose editable install predates the package
        root = REPO_ROOT / package
    for part in parts:
        root = root / part
    return _as_path(root)


_EXTRACTED = contextlib.ExitStack()
atexit.register(_EXTRACTED.close)


@functools.lru_cache(maxsize=None)
def _extracted(traversable) -> Path:
    return _EXTRACTED.enter_context(importlib.resources.as_file(traversable))


def _as_path(traversable) -> Path:
    if isinstance(traversable, Path):
        return traversable
    return _extracted(traversable)  # e.g. a zipped install: extracted once per process


def configs_dir() -> Path:
    """The configs folder: `IMR_CONFIGS` if set, else the `configs` package (the checkout's
    `configs/`, or the installed package data)."""
    env = os.environ.get("IMR_CONFIGS")
    return Path(env) if env else package_dir("configs")


def default_model_dir() -> Path:
    """The bundled default model bundle (`models/default`: `ner/` and `classifier/`)."""
    return package_dir("models", "default")


# relative path under configs/ -> text, from the pipelines loaded in this process
_CARRIED: dict[str, str] = {}


def config_text(relpath: str) -> str:
    """The text of `configs/<relpath>`, else of the copy a loaded pipeline carries."""
    path = configs_dir() / relpath
    if relpath in _CARRIED and not path.is_file():
        return _CARRIED[relpath]
    return path.read_text(encoding="utf-8")


def has_config(relpath: str) -> bool:
    return relpath in _CARRIED or (configs_dir() / relpath).is_file()


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster


class ConfigError(KeyError):
    """A key the code reads is missing from a config file (no fallback values in code)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ConfigDict(dict):
    """A parsed config mapping: `cfg[key]` for a missing key raises `ConfigError` naming the
    file and the key path (`corpus.yaml: missing key 'holdout.treatments'`); nested mappings,
    also inside lists, are wrapped the same. A frozen one (`load_config`, shared in the
    process) refuses changes; `config_copy` gives a changeable copy, `plain` plain dicts.
    `.get(key)` stays for keys the YAML documents as optional."""

    _source, _where, _frozen = "config", "", False

    def __missing__(self, key):
        where = f"{self._where}.{key}" if self._where else str(key)
        raise ConfigError(f"{self._source}: missing key {where!r}")

    def _check(self):
        if self._frozen:
            raise TypeError(f"{self._source}: a loaded config is read-only (use nlp.config.config_copy)")

    def __setitem__(self, key, value):
        self._check()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        self._check()
        dict.__delitem__(self, key)

    def __ior__(self, other):
        self._check()
        return dict.__ior__(self, other)

    def update(self, *args, **kwargs):
        self._check()
        dict.update(self, *args, **kwargs)

    def pop(self, *args):
        self._check()
        return dict.pop(self, *args)

    def popitem(self):
        self._check()
        return dict.popitem(self)

    def setdefault(self, key, default=None):
        self._check()
        return dict.setdefault(self, key, default)

    def clear(self):
        self._check()
        dict.clear(self)

    def __deepcopy__(self, memo):  # a deep copy keeps file, key path and state
        import copy

        return _rebuild({k: copy.deepcopy(v, memo) for k, v in self.items()}, self._source, self._where, self._frozen)

    def __reduce__(self):
        """Pickled as a plain dict: saved models and worker processes never depend on this class."""
        return (dict, (dict(self),))


def _rebuild(items: dict, source: str, where: str, frozen: bool) -> ConfigDict:
    d = ConfigDict()
    dict.update(d, items)
    d._source, d._where, d._frozen = source, where, frozen
    return d


def _wrap(value, source: str, where: str = "", frozen: bool = False):
    if isinstance(value, dict):
        return _rebuild({k: _wrap(v, source, f"{where}.{k}" if where else str(k), frozen) for k, v in value.items()},
                        source, where, frozen)
    if isinstance(value, list):
        return [_wrap(v, source, f"{where}[{i}]", frozen) for i, v in enumerate(value)]
    return value


def parse_config(text: str, source: str, frozen: bool = False):
    """THE way a config file becomes data: YAML text parsed, mappings wrapped as strict
    `ConfigDict`s (`source` names the file in errors). Every loader below goes through it."""
    return _wrap(yaml.load(text, Loader=_LOADER), source, "", frozen)


def config_copy(cfg):
    """A changeable deep copy of a loaded config (still strict on missing keys)."""
    if isinstance(cfg, ConfigDict):
        return _rebuild({k: config_copy(v) for k, v in cfg.items()}, cfg._source, cfg._where, False)
    if isinstance(cfg, list):
        return [config_copy(v) for v in cfg]
    return cfg


def plain(cfg):
    """Plain dicts and lists (for `yaml.safe_dump`, which does not know `ConfigDict`)."""
    if isinstance(cfg, dict):
        return {k: plain(v) for k, v in cfg.items()}
    if isinstance(cfg, list):
        return [plain(v) for v in cfg]
    return cfg


def read_yaml(path: str | os.PathLike):
    """A config file at an explicit path (a user's `--config PATH`), parsed anew, as strict as
    the packaged ones."""
    return parse_config(Path(path).read_text(encoding="utf-8"), str(path))


def read_config(relpath: str):
    """A YAML file under `configs/`, parsed anew (see `config_text`)."""
    return parse_config(config_text(relpath), relpath)


@functools.lru_cache(maxsize=None)
def load_config(relpath: str):
    """A file under `configs/`, parsed once per process, read-only (`config_copy` to change)."""
    return parse_config(config_text(relpath), relpath, frozen=True)


load_yaml = load_config  # the name the nlp modules use


_SAVED = "configs"  # the subfolder of a component's folder that holds its config files


def save_configs(folder: str | os.PathLike, relpaths) -> None:
    """Copy the config files `relpaths` into `folder`/configs (a pipeline component's `to_disk`)."""
    folder = Path(folder) / _SAVED
    for rel in relpaths:
        dst = folder / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        src = configs_dir() / rel
        if src.is_file():
            shutil.copyfile(src, dst)
        else:
            dst.write_text(config_text(rel), encoding="utf-8")


def carry_configs(folder: str | os.PathLike) -> None:
    """Keep the config files saved in `folder` by `save_configs` (a component's `from_disk`;
    a pipeline saved before components carried their files adds nothing)."""
    folder = Path(folder) / _SAVED
    if not folder.is_dir():
        return
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            _CARRIED[f.relative_to(folder).as_posix()] = f.read_text(encoding="utf-8")
