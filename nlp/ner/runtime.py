"""Run a saved NER pipeline over normalized letters and return entity dicts for the record."""
from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from typing import Sequence

from nlp.layout import LetterLayout

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def load_pipeline(path: str):
    import spacy

    import nlp.ner.components  # noqa: F401  (registers the factories even without entry points)
    import nlp.ner.tokenizer  # noqa: F401
    from nlp.ner.ops import use_configured_ops

    use_configured_ops(scoring=True)
    if sys.version_info < (3, 12):
        # spaCy's setup.py compiles with Cython `profile=True` below 3.12: its hooks take the GIL
        # in every call of the NER's transition loop (about 4x slower; benchmarks/README.md)
        log.info("Python %d.%d: spaCy's NER runs about 4x slower than on Python >= 3.12", *sys.version_info[:2])
    return spacy.load(path)


def entity_dicts(doc) -> list[dict]:
    return [{"label": e.label_, "text": e.text, "start": e.start_char, "end": e.end_char,
             "section": e._.section, "item": e._.item, "norm": e._.norm} for e in doc.ents]


class SpacyNER:
    """Callable: list of (normalized text, layout) → list of entity-dict lists, via `nlp.pipe`."""

    def __init__(self, path: str | Path, batch_size: int = 32):
        self.path = str(path)
        self.batch_size = batch_size
        self.nlp = load_pipeline(self.path)

    def __call__(self, texts: Sequence[str], layouts: Sequence[LetterLayout | None] | None = None) -> list[list[dict]]:
        docs = []
        for k, text in enumerate(texts):
            doc = self.nlp.make_doc(text)
            doc._.letter_text = text  # the tokens join back to it exactly
            if layouts is not None and layouts[k] is not None:
                doc._.layout = layouts[k]
            docs.append(doc)
        return [entity_dicts(d) for d in self.nlp.pipe(docs, batch_size=self.batch_size)]
