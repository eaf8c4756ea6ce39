"""Typed, text-free errors carried in output records.

Messages never contain letter text: they name what went wrong and, at most, sizes, counts
and library exception class names.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

EMPTY_INPUT = "empty_input"
BINARY_INPUT = "binary_input"
UNREADABLE_PDF = "unreadable_pdf"
ENCRYPTED_PDF = "encrypted_pdf"
NO_TEXT_LAYER = "no_text_layer"
TOO_LARGE = "too_large"
BAD_RECORD = "bad_record"
NOT_FOUND = "not_found"
UNREADABLE_INPUT = "unreadable_input"
NOT_REGULAR_FILE = "not_regular_file"  # a FIFO, socket or device: never opened
UNKNOWN_LAYOUT = "unknown_layout"
NO_ITEMS = "no_items"
NER_FAILED = "ner_failed"  # the letter was read, its entities could not be found
CLASSIFIER_FAILED = "classifier_failed"  # the letter was parsed, its items could not be predicted
INTERNAL = "internal_error"

# Every `error.type` a record can carry (docs/record.schema.json lists the same).
ERROR_TYPES = (EMPTY_INPUT, BINARY_INPUT, UNREADABLE_PDF, ENCRYPTED_PDF, NO_TEXT_LAYER, TOO_LARGE, BAD_RECORD,
               NOT_FOUND, UNREADABLE_INPUT, NOT_REGULAR_FILE, UNKNOWN_LAYOUT, NO_ITEMS, NER_FAILED,
               CLASSIFIER_FAILED, INTERNAL)


@dataclass(frozen=True)
class LetterError:
    type: str
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- run failures
# Not letter errors: these stop a whole `imr parse` / `imr score` run (exit 3). Their messages
# name model directories and exception class names, never letter text.

class RunFailed(Exception):
    """The run itself failed (not one letter): `imr parse` / `imr score` exit 3."""


class ModelLoadError(RunFailed):
    """The models could not be loaded (a missing or damaged bundle, a refused default, an
    unpicklable artifact). Rerunning the same command cannot help, so no resume hint is given."""

    def __init__(self, message: str):  # one positional argument: pickles across worker processes
        super().__init__(message)
