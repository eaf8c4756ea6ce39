"""A letter whose items cannot be predicted costs no other letter its predictions (issue 16)."""
from __future__ import annotations

from conftest import LETTERS
from nlp import errors
from nlp.pipeline import LetterParser
from nlp.reading import iter_documents


class OneBadLetter:
    """A predictor that fails whenever the batch holds the letter `bad`, else predicts 0.5."""

    def __init__(self, bad: str):
        self.bad = bad
        self.calls = []

    def predict_records(self, records, texts):
        self.calls.append([r["id"] for r in records])
        if any(r["id"] == self.bad for r in records):
            raise ValueError("model failure")
        for r in records:
            for it in r["items"]:
                it["prediction"] = {"p_overturned": 0.5}
        return records


def test_only_the_failing_letter_loses_its_predictions():
    docs = sorted(iter_documents([str(LETTERS)]), key=lambda d: d.id)
    bad = docs[1].id
    pred = OneBadLetter(bad)
    recs = list(LetterParser(predictor=pred, batch_size=8).process(docs))
    assert [r["id"] for r in recs] == [d.id for d in docs]
    assert pred.calls[0] == [d.id for d in docs] and pred.calls[1:] == [[d.id] for d in docs]
    for r in recs:
        if r["id"] == bad:
            assert r["error"] == {"type": errors.CLASSIFIER_FAILED, "message": "classifier failed: ValueError"}
            assert r["items"] and all("prediction" not in it for it in r["items"])
        else:
            assert r["error"] is None and all(it["prediction"] == {"p_overturned": 0.5} for it in r["items"])


def test_a_lone_letter_that_fails_is_not_retried():
    docs = [d for d in iter_documents([str(LETTERS)])][:1]
    pred = OneBadLetter(docs[0].id)
    (rec,) = LetterParser(predictor=pred).process(docs)
    assert pred.calls == [[docs[0].id]] and rec["error"]["type"] == errors.CLASSIFIER_FAILED
