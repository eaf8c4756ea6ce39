"""The real-letter NER gold (training/real_ner_gold/): chosen by its rule, never a frozen letter,
every entity found in its letter's normalized text in the section it names."""
from __future__ import annotations

import hashlib
import json
import re

import pytest

from conftest import REAL, ROOT
from training.ner_evaluate import gold_letters
from training.real_protocol import load_frozen

GOLD = ROOT / "training" / "real_ner_gold"
SELECTION = json.loads((GOLD / "selection.json").read_text())
HALVES = ("develop", "heldback", "develop_b", "heldback_b")


def test_selection_follows_its_rule_and_avoids_the_frozen_letters():
    frozen = load_frozen()
    cases = sorted(p.stem for p in REAL.glob("*.pdf") if p.stem not in frozen)
    ordered = sorted(cases, key=lambda c: hashlib.sha256(f"ner-gold:{c}".encode()).hexdigest())
    assert SELECTION["develop"] == sorted(ordered[:10]) and SELECTION["heldback"] == sorted(ordered[10:20])
    assert SELECTION["develop_b"] == sorted(ordered[20:31]) and SELECTION["heldback_b"] == sorted(ordered[31:])
    for half in HALVES:
        assert sorted(p.stem for p in (GOLD / half).glob("*.json")) == SELECTION[half]


def _fold(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


@pytest.mark.parametrize("half", HALVES)
def test_every_gold_entity_is_in_its_letter(half):
    n = 0
    for text, ents in gold_letters(REAL, GOLD / half):
        body = _fold(text)
        for e in ents:
            assert e["label"] in ("DRUG", "SESSION_COUNT", "GUIDELINE")
            assert e["section"] in ("header", "summary", "item") and (e["item"] is None) == (e["section"] != "item")
            assert _fold(e["text"]) in body, e["text"]
            n += 1
    assert n > 100
