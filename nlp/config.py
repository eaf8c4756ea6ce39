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


@functools.lru_cache(maxsize=None)
def load_yaml(relpath: str) -> dict:
    with open(configs_dir() / relpath, encoding="utf-8") as fh:
        return yaml.safe_load(fh)
