"""Where the project's data files live, and cached loading of them."""
from __future__ import annotations

import functools
import os
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]


def configs_dir() -> Path:
    """The `configs/` folder; `IMR_CONFIGS` overrides it (e.g. for an installed wheel)."""
    return Path(os.environ.get("IMR_CONFIGS", REPO_ROOT / "configs"))


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster


def read_yaml(path: str | os.PathLike) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_LOADER)


@functools.lru_cache(maxsize=None)
def load_yaml(relpath: str) -> dict:
    """A file under `configs/`, parsed once per process (treat the result as read-only)."""
    return read_yaml(configs_dir() / relpath)
