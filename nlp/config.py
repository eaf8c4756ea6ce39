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


def read_yaml(path: str | os.PathLike) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_LOADER)


def read_config(relpath: str) -> dict:
    """A YAML file under `configs/`, parsed anew (see `config_text`)."""
    return yaml.load(config_text(relpath), Loader=_LOADER)


@functools.lru_cache(maxsize=None)
def load_yaml(relpath: str) -> dict:
    """A file under `configs/`, parsed once per process (treat the result as read-only)."""
    return read_config(relpath)


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
