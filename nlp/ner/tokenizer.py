"""A registered tokenizer: spaCy's English rules plus the additions in configs/ner/tokenizer.yaml,
called one paragraph at a time (`ParagraphTokenizer`)."""
from __future__ import annotations

import re

from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_prefix_regex, registry

from nlp.config import load_yaml

# a line break followed by a non-space: no whitespace run and no chunk is cut here
_PARAGRAPH_START = re.compile(r"(?<=\n)(?=\S)")


def customize_tokenizer(tokenizer, nlp) -> None:
    cfg = load_yaml("ner/tokenizer.yaml")
    tokenizer.infix_finditer = compile_infix_regex(list(nlp.Defaults.infixes) + cfg["infixes"]).finditer
    tokenizer.prefix_search = compile_prefix_regex(cfg["prefixes"] + list(nlp.Defaults.prefixes)).search
    for text, orths in cfg["special_cases"].items():
        tokenizer.add_special_case(text, [{"ORTH": o} for o in orths])


class ParagraphTokenizer:
    """spaCy's `Tokenizer`, called once per paragraph; the pieces are joined with `Doc.from_docs`.

    Why: spaCy's tokenizer caches the tokens of each whitespace-separated chunk, but within one
    call it stops saving chunks once it has met a special case (a per-call flag, spaCy#1250).
    A letter meets "Dr." or "Page(s):" in its first lines, so nearly every later word went
    through the prefix, suffix and infix expressions again, letter after letter. A new call per
    paragraph resets the flag. The tokens and their attributes are the same as one call's
    (tests/test_ner_components.py checks it on generated texts); everything else is the wrapped
    tokenizer's (rules, special cases, serialization)."""

    def __init__(self, tokenizer):
        object.__setattr__(self, "tokenizer", tokenizer)

    def __call__(self, text: str) -> Doc:
        pieces = _PARAGRAPH_START.split(text)
        if len(pieces) == 1:
            return self.tokenizer(text)
        return Doc.from_docs([self.tokenizer(p) for p in pieces], ensure_whitespace=False)

    def pipe(self, texts, batch_size: int = 1000):
        for text in texts:
            yield self(text)

    def from_disk(self, path, **kwargs):
        self.tokenizer.from_disk(path, **kwargs)
        return self

    def from_bytes(self, data, **kwargs):
        self.tokenizer.from_bytes(data, **kwargs)
        return self

    def __getattr__(self, name):
        if name == "tokenizer":  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.tokenizer, name)

    def __setattr__(self, name, value):
        setattr(self.tokenizer, name, value)

    def __getstate__(self):
        return {"tokenizer": self.tokenizer}

    def __setstate__(self, state):
        object.__setattr__(self, "tokenizer", state["tokenizer"])


@registry.tokenizers("imr.Tokenizer.v1")
def create_imr_tokenizer():
    base = registry.tokenizers.get("spacy.Tokenizer.v1")()

    def make_tokenizer(nlp):
        tokenizer = base(nlp)
        customize_tokenizer(tokenizer, nlp)
        return ParagraphTokenizer(tokenizer)

    return make_tokenizer


def blank_pipeline():
    """`spacy.blank("en")` with the IMR tokenizer (what the corpus DocBins are built with)."""
    import spacy

    return spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "imr.Tokenizer.v1"}}})
