"""Weak (rule-based) rationale labels from a rationale's words; cues in configs/lexicons/rationale_cues.yaml."""
from __future__ import annotations

import functools
import re

from nlp.config import load_yaml


@functools.lru_cache(maxsize=1)
def _cues():
    cfg = load_yaml("lexicons/rationale_cues.yaml")
    cues = {label: [re.compile(p, re.I) for p in pats] for label, pats in cfg["cues"].items()}
    return cues, cfg["priority"], cfg["fallback"]


def rule_patterns() -> dict[str, list[str]]:
    """The cue patterns of each rationale label (configs/lexicons/rationale_cues.yaml), as written."""
    return {label: list(pats) for label, pats in load_yaml("lexicons/rationale_cues.yaml")["cues"].items()}


def weak_rationale(rationale: str, decision: str | None) -> tuple[str, list[str]]:
    """(primary label, all labels) for one item."""
    cues, priority, fallback = _cues()
    found = [label for label in priority if any(p.search(rationale or "") for p in cues[label])]
    if decision == "overturned":
        return "guideline_criteria_met", ["guideline_criteria_met"]
    primary = found[0] if found else fallback
    return primary, found or [fallback]
