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
        doc, text, layout = prepared
        try:
            return build_record(doc.id, doc.source, text, layout, entities, self.has_drug)
        except Exception as exc:
            log.warning("record failed for %s: %s", doc.id, type(exc).__name__)
            return error_record(doc.id, doc.source, LetterError(errors.INTERNAL, f"record failed: {type(exc).__name__}"))

    def _flush(self, batch) -> Iterator[dict]:
        ready = [p for p, _ in batch if p is not None]
        ents: list = [[] for _ in ready]
        if self.ner is not None and ready:
            try:
                with self._timed("ner"):
                    ents = self.ner([p[1] for p in ready], [p[2] for p in ready])
            except Exception as exc:
                log.warning("NER failed on a batch: %s", type(exc).__name__)
        with self._timed("record"):
            finished = [self._finish(p, e) for p, e in zip(ready, ents)]
        if self.predictor is not None and finished:
            ok = [(r, p[1]) for r, p in zip(finished, ready) if r.get("error") is None or r.get("items")]
            try:
                with self._timed("features+classify"):
                    self.predictor.predict_records([r for r, _ in ok], [t for _, t in ok])
            except Exception as exc:
                log.warning("classifier failed on a batch: %s", type(exc).__name__)
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
