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
# development letters whose every entity (span, section, item, normalized value) the bundled pipeline gets right
EXACT = [("develop", "CM16-0237844"), ("develop", "CM16-0239607"), ("develop", "CM17-0008241"),
         ("develop", "CM17-0017104"), ("develop_b", "CM16-0236380"), ("develop_b", "CM16-0248471"),
         ("develop_b", "CM17-0015957")]
# strict F1 measured on 2026-12-05 (docs/NER.md), less 0.02. The develop half is in the model's
# training and the span rules were designed on develop_b's errors (regression tests there, not
# measurements); heldback_b was scored once, after the rules were built (its two DRUG errors were
# read in session 11 and fixed: its DRUG floor is now a regression floor).
# SESSION_COUNT floors raised on 2026-12-05 (session 14: the count ruler's parenthesized figures and
# service words, the weeks of a named program; development figures).
FLOORS = {"develop": {"DRUG": 0.96, "SESSION_COUNT": 0.95, "GUIDELINE": 0.94, "micro": 0.95},
          "heldback": {"DRUG": 0.96, "SESSION_COUNT": 0.94, "GUIDELINE": 0.96, "micro": 0.95},
          "develop_b": {"DRUG": 0.98, "SESSION_COUNT": 0.95, "GUIDELINE": 0.98, "micro": 0.97},
          "heldback_b": {"DRUG": 0.98, "SESSION_COUNT": 0.95, "GUIDELINE": 0.95, "micro": 0.95}}
# count role accuracy where the span is right, measured on 2026-12-06 (session 17) with the count
# role model (nlp/ner/count_roles.py), less about 0.02: develop and develop_b are in its training
# (1.000 both: regression floors); the held-back halves never are (0.863, 0.974 with crypt/ in its
# training, 0.882 / 0.974 without; the rules alone 0.843 / 0.947; their role errors
# under the rules were read in session 11, so they are development figures for the rules)
ROLE_FLOORS = {"develop": 0.97, "develop_b": 0.97, "heldback": 0.84, "heldback_b": 0.95}


@functools.lru_cache(maxsize=1)
def _nlp():
    return load_pipeline(str(DEFAULT_MODEL_DIR / "ner"))


@functools.lru_cache(maxsize=4)
def _half(half: str) -> list[tuple[str, list[dict], list[dict]]]:
    ids = sorted(p.stem for p in (GOLD / half).glob("*.json"))
    letters = list(gold_letters(REAL, GOLD / half))
    docs = _nlp().pipe([t for t, _ in letters])
    return [(i, gold, entity_dicts(doc)) for i, (_, gold), doc in zip(ids, letters, docs)]


def _key(e: dict) -> tuple:
    norm = {k: v for k, v in (e["norm"] or {}).items() if k != "role"}  # roles are scored apart
    return e["label"], e["section"], e["item"], " ".join(e["text"].split()), json.dumps(norm, sort_keys=True)


@pytest.mark.parametrize("half, case", EXACT)
def test_exact_entities_on_real_letters(half, case):
    (_, gold, pred), = [x for x in _half(half) if x[0] == case]
    assert Counter(map(_key, pred)) == Counter(map(_key, gold))


@pytest.mark.parametrize("half", sorted(FLOORS))
def test_strict_f1_on_real_letters_stays_above_its_floor(half):
    score = EntityScore()
    for _, gold, pred in _half(half):
        score.add(pred, gold)
    summary = score.summary()
    strict = summary["strict"]
    for label, floor in FLOORS[half].items():
        assert strict[label]["f1"] >= floor, (half, label, strict[label])
    assert summary["normalization"]["count_role_accuracy"] >= ROLE_FLOORS[half], (half, summary["normalization"])
