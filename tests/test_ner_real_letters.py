"""The bundled NER on real published letters against the team's own gold
(training/real_ner_gold/): exact entities where the pipeline is right, and floors under the strict
F1 measured on each half (docs/NER.md). The held-back half was measured, never trained or tuned on."""
from __future__ import annotations

import functools
import json
from collections import Counter

import pytest

from conftest import REAL, ROOT
from training.ner_evaluate import gold_letters
from nlp.ner.runtime import entity_dicts, load_pipeline
from nlp.ner.scoring import EntityScore
from models.bundle import DEFAULT_MODEL_DIR

GOLD = ROOT / "training" / "real_ner_gold"
# develop letters whose every entity (span, section, item, normalized value) the bundled pipeline gets right
EXACT = ["CM16-0237844", "CM16-0239607", "CM17-0008241", "CM17-0017104"]
# strict F1 measured on 2026-12-05 (docs/NER.md), less 0.02; the develop half is in the model's
# training since then (a regression test there, not a measurement)
FLOORS = {"develop": {"DRUG": 0.93, "SESSION_COUNT": 0.84, "GUIDELINE": 0.93, "micro": 0.92},
          "heldback": {"DRUG": 0.96, "SESSION_COUNT": 0.91, "GUIDELINE": 0.86, "micro": 0.90}}


@functools.lru_cache(maxsize=1)
def _nlp():
    return load_pipeline(str(DEFAULT_MODEL_DIR / "ner"))


@functools.lru_cache(maxsize=2)
def _half(half: str) -> list[tuple[str, list[dict], list[dict]]]:
    ids = sorted(p.stem for p in (GOLD / half).glob("*.json"))
    letters = list(gold_letters(REAL, GOLD / half))
    docs = _nlp().pipe([t for t, _ in letters])
    return [(i, gold, entity_dicts(doc)) for i, (_, gold), doc in zip(ids, letters, docs)]


def _key(e: dict) -> tuple:
    norm = {k: v for k, v in (e["norm"] or {}).items() if k != "role"}  # roles are scored apart
    return e["label"], e["section"], e["item"], " ".join(e["text"].split()), json.dumps(norm, sort_keys=True)


@pytest.mark.parametrize("case", EXACT)
def test_exact_entities_on_real_letters(case):
    (_, gold, pred), = [x for x in _half("develop") if x[0] == case]
    assert Counter(map(_key, pred)) == Counter(map(_key, gold))


@pytest.mark.parametrize("half", ["develop", "heldback"])
def test_strict_f1_on_real_letters_stays_above_its_floor(half):
    score = EntityScore()
    for _, gold, pred in _half(half):
        score.add(pred, gold)
    strict = score.summary()["strict"]
    for label, floor in FLOORS[half].items():
        assert strict[label]["f1"] >= floor, (half, label, strict[label])
