"""Letters → records: normalization, layout, letter fields and (when a model is loaded) NER."""
from __future__ import annotations

import collections
import contextlib
import logging
import time
from typing import Iterable, Iterator

from nlp import errors
from nlp.errors import LetterError
from nlp.reading import RawDocument
from nlp.record import build_record, error_record, parse_text

log = logging.getLogger(__name__)


class LetterParser:
    """Turn `RawDocument`s into SPEC §4 records, one per document, never raising.

    `ner` is an optional callable: (normalized texts, their layouts) → list of entity-dict
    lists (see `nlp.ner.runtime.SpacyNER`), applied in batches of `batch_size`; `predictor`
    (optional) adds each item's prediction, a batch at a time.
    """

    def __init__(self, ner=None, has_drug=None, batch_size: int = 64, predictor=None):
        self.ner = ner
        self.has_drug = has_drug
        self.batch_size = batch_size
        self.predictor = predictor  # adds item["prediction"] (models.predict.ItemPredictor)
        self.stage_times: collections.Counter = collections.Counter()  # seconds per stage, for benchmarks

    @contextlib.contextmanager
    def _timed(self, stage: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.stage_times[stage] += time.perf_counter() - t0

    def _prepare(self, doc: RawDocument):
        if doc.error is not None:
            return None, error_record(doc.id, doc.source, doc.error)
        try:
            text, layout, err = parse_text(doc.id, doc.source, doc.text or "")
        except Exception as exc:  # a parser bug must not sink the batch
            log.warning("parse failed for %s: %s", doc.id, type(exc).__name__)
            return None, error_record(doc.id, doc.source, LetterError(errors.INTERNAL, f"parser failed: {type(exc).__name__}"))
        if err is not None:
            return None, err
        return (doc, text, layout), None

    def _finish(self, prepared, entities) -> dict:
        """The record of a prepared letter; `entities` is its entity list, or the `LetterError`
        of its failed NER (the record keeps what was read, with that error)."""
        doc, text, layout = prepared
        failed = entities if isinstance(entities, LetterError) else None
        try:
            rec = build_record(doc.id, doc.source, text, layout, [] if failed is not None else entities, self.has_drug)
        except Exception as exc:
            log.warning("record failed for %s: %s", doc.id, type(exc).__name__)
            return error_record(doc.id, doc.source, LetterError(errors.INTERNAL, f"record failed: {type(exc).__name__}"))
        if failed is not None:
            rec["error"] = failed.to_dict()
        return rec

    def _run_ner(self, ready) -> list:
        with self._timed("ner"):
            ents = self.ner([p[1] for p in ready], [p[2] for p in ready])
        if len(ents) != len(ready):
            raise RuntimeError(f"NER returned {len(ents)} entity lists for {len(ready)} letters")
        return list(ents)

    def _entities(self, ready) -> list:
        """Per prepared letter, its entity list or, when NER failed on it, a `LetterError`.

        One letter must not cost its neighbours their entities: a batch that fails is run
        again letter by letter, and only the letters that fail alone get `ner_failed`."""
        if self.ner is None or not ready:
            return [[] for _ in ready]
        try:
            return self._run_ner(ready)
        except Exception as exc:
            if len(ready) == 1:
                return [self._ner_failed(ready[0], exc)]
            log.warning("NER failed on a batch of %d letters (%s); running them one by one", len(ready),
                        type(exc).__name__)
        out = []
        for p in ready:
            try:
                out.extend(self._run_ner([p]))
            except Exception as exc:
                out.append(self._ner_failed(p, exc))
        return out

    @staticmethod
    def _ner_failed(prepared, exc: Exception) -> LetterError:
        log.warning("NER failed for %s: %s", prepared[0].id, type(exc).__name__)
        return LetterError(errors.NER_FAILED, f"NER failed: {type(exc).__name__}")

    def _predict(self, ok: list) -> None:
        """Item predictions for (record, text) pairs, in place. As with the NER, a batch that
        fails is run again letter by letter; a letter that fails alone gets `classifier_failed`
        (its record keeps everything else) unless it already carries an error."""
        if not ok:
            return
        try:
            with self._timed("features+classify"):
                self.predictor.predict_records([r for r, _ in ok], [t for _, t in ok])
            return
        except Exception as exc:
            failure = exc
        if len(ok) > 1:
            log.warning("classifier failed on a batch of %d letters (%s); running them one by one", len(ok),
                        type(failure).__name__)
        for rec, text in ok:
            if len(ok) > 1:
                try:
                    self.predictor.predict_records([rec], [text])
                    continue
                except Exception as exc:
                    failure = exc
            self._classifier_failed(rec, failure)

    @staticmethod
    def _classifier_failed(rec: dict, exc: Exception) -> None:
        log.warning("classifier failed for %s: %s", rec.get("id"), type(exc).__name__)
        for it in rec.get("items") or []:
            it.pop("prediction", None)
        if rec.get("error") is None:
            rec["error"] = LetterError(errors.CLASSIFIER_FAILED, f"classifier failed: {type(exc).__name__}").to_dict()

    def _flush(self, batch) -> Iterator[dict]:
        ready = [p for p, _ in batch if p is not None]
        ents = self._entities(ready)
        with self._timed("record"):
            finished = [self._finish(p, e) for p, e in zip(ready, ents)]
        if self.predictor is not None and finished:
            # a letter without its entities is not predicted: the features read them
            ok = [(r, p[1]) for r, p, e in zip(finished, ready, ents) if not isinstance(e, LetterError)
                  and (r.get("error") is None or r.get("items"))]
            self._predict(ok)
        done = iter(finished)
        for prepared, rec in batch:
            yield rec if prepared is None else next(done)

    def process(self, docs: Iterable[RawDocument]) -> Iterator[dict]:
        batch = []
        for doc in docs:
            with self._timed("normalize+layout"):
                batch.append(self._prepare(doc))
            if len(batch) >= self.batch_size:
                yield from self._flush(batch)
                batch = []
        if batch:
            yield from self._flush(batch)
