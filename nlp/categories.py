"""Treatment category of a request, by the ordered rules of configs/lexicons/treatment_categories.yaml."""
from __future__ import annotations

import functools
import re
from typing import Callable

from nlp.config import load_yaml


@functools.lru_cache(maxsize=1)
def _rules():
    cfg = load_yaml("lexicons/treatment_categories.yaml")
    prefixes = re.compile(r"^\s*(?:" + "|".join(cfg["strip_prefixes"]) + r")\s*", re.I)
    return prefixes, [(r["category"], [re.compile(p, re.I) for p in r["patterns"]], bool(r.get("drug_lexicon")))
            for r in cfg["rules"]]


def treatment_category(request: str, has_drug: Callable[[str], bool] | None = None) -> str:
    """First matching rule's category; `has_drug(request)` says whether a known drug is named."""
    prefixes, rules = _rules()
    request = prefixes.sub("", request)
    for category, patterns, use_lexicon in rules:
        if any(p.search(request) for p in patterns):
            return category
        if use_lexicon and has_drug is not None and has_drug(request):
            return category
    return "other"
