"""Run a saved NER pipeline over normalized letters and return entity dicts for the record."""
from __future__ import annotations

import dataclasses
import functools
import logging
import re
import sys
from pathlib import Path
from typing import Iterator, Sequence

from nlp.layout import LetterLayout, Span, parse_layout, register_msgpack

log = logging.getLogger(__name__)

# spaCy's StringStore encodes every token as UTF-8, which a lone surrogate cannot be
_SURROGATE = re.compile("[\ud800-\udfff]")


@functools.lru_cache(maxsize=4)
def load_pipeline(path: str):
    import spacy

    import nlp.ner.components  # noqa: F401  (registers the factories even without entry points)
    import nlp.ner.count_roles  # noqa: F401
    import nlp.ner.tokenizer  # noqa: F401
    from nlp.ner.ops import use_configured_ops

    use_configured_ops(scoring=True)
    register_msgpack()  # doc._.layout through Doc.to_bytes (nlp.pipe with n_process > 1)
    if sys.version_info < (3, 12):
        # spaCy's setup.py compiles with Cython `profile=True` below 3.12: its hooks take the GIL
        # in every call of the NER's transition loop (about 4x slower; benchmarks/README.md)
        log.info("Python %d.%d: spaCy's NER runs about 4x slower than on Python >= 3.12", *sys.version_info[:2])
    return spacy.load(path)


def entity_dicts(doc, offset: int = 0) -> list[dict]:
    """The doc's entities; `offset` is added to their character offsets (a piece of a letter)."""
    return [{"label": e.label_, "text": e.text, "start": e.start_char + offset, "end": e.end_char + offset,
             "section": e._.section, "item": e._.item, "norm": e._.norm} for e in doc.ents]


def piece_bounds(text: str, limit: int) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive pieces of `text`, none longer than `limit`, cut at a line
    break (normalized text has one paragraph per line), else at a space, else anywhere. The
    white space at a cut belongs to no piece: no entity holds it, and a piece ending in it would
    read differently (a citation's tail pattern would run into it)."""
    start, n = 0, len(text)
    while n - start > limit:
        cut = text.rfind("\n", start + 1, start + limit + 1)
        if cut < 0:
            cut = text.rfind(" ", start + 1, start + limit + 1)
        if cut < 0:
            cut = start + limit
        end, nxt = cut, cut
        while end > start and text[end - 1].isspace():
            end -= 1
        while nxt < n and text[nxt].isspace():
            nxt += 1
        if end > start:
            yield start, end
        start = nxt
    if start < n:
        yield start, n


def layout_window(layout: LetterLayout, start: int, end: int) -> LetterLayout:
    """`layout` seen from the piece [start, end) of its text: offsets shifted to the piece and
    clipped to it; every item is kept (components find an item by its index)."""
    def shift(span: Span | None) -> Span | None:
        if span is None:
            return None
        return Span(min(max(span.start - start, 0), end - start), min(max(span.end - start, 0), end - start))

    items = [dataclasses.replace(it, span=shift(it.span), heading=shift(it.heading),
                                 claims_administrator=shift(it.claims_administrator),
                                 reviewer=shift(it.reviewer), rationale=shift(it.rationale))
             for it in layout.items]
    return LetterLayout(layout.format, shift(layout.header), shift(layout.summary), shift(layout.items_section), items)


class SpacyNER:
    """Callable: list of (normalized text, layout) → list of entity-dict lists, via `nlp.pipe`.

    A text longer than the pipeline's `max_length` is run in pieces cut at paragraph starts,
    each with its window of the letter's layout, and its entities are shifted back into the
    whole text's offsets. Lone surrogates (which spaCy cannot store) are read as U+FFFD, one
    character for one, so offsets do not move."""

    def __init__(self, path: str | Path, batch_size: int = 32):
        self.path = str(path)
        self.batch_size = batch_size
        self.nlp = load_pipeline(self.path)

    def _pieces(self, text: str, layout: LetterLayout | None) -> Iterator[tuple[int, str, LetterLayout | None]]:
        text = _SURROGATE.sub("\ufffd", text)
        if len(text) <= self.nlp.max_length:
            yield 0, text, layout
            return
        if layout is None:
            layout = parse_layout(text)
        for start, end in piece_bounds(text, self.nlp.max_length):
            yield start, text[start:end], layout_window(layout, start, end)

    def __call__(self, texts: Sequence[str], layouts: Sequence[LetterLayout | None] | None = None) -> list[list[dict]]:
        docs, owners = [], []
        for k, text in enumerate(texts):
            for offset, piece, layout in self._pieces(text, layouts[k] if layouts is not None else None):
                doc = self.nlp.make_doc(piece)
                doc._.letter_text = piece  # the tokens join back to it exactly
                if layout is not None:
                    doc._.layout = layout
                docs.append(doc)
                owners.append((k, offset))
        out: list[list[dict]] = [[] for _ in texts]
        for (k, offset), doc in zip(owners, self.nlp.pipe(docs, batch_size=self.batch_size)):
            out[k].extend(entity_dicts(doc, offset))
        return out
