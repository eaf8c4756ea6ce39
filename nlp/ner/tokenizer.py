"""A registered tokenizer: spaCy's English rules plus the additions in configs/ner/tokenizer.yaml,
with its chunk cache primed a paragraph at a time (`CachePrimingTokenizer`).

A saved pipeline's tokenizer file holds its rules (spaCy's serialization) and its priming count,
so a pipeline loads without configs/ner/tokenizer.yaml: the factory then starts from spaCy's
rules, and `from_disk` puts the saved ones in place."""
from __future__ import annotations

import re
from pathlib import Path

import srsly
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_prefix_regex, registry

from nlp.config import has_config, load_yaml
from nlp.layout import register_msgpack

register_msgpack()  # doc._.layout through Doc.to_bytes (spaCy is loaded here anyway)

TOKENIZER_CONFIG = "ner/tokenizer.yaml"
_PRIMING_KEY = "imr_cache_priming_texts"  # beside spaCy's keys in the tokenizer's msgpack

# a line break followed by a non-space: no whitespace run and no chunk is cut here
_PARAGRAPH_START = re.compile(r"(?<=\n)(?=\S)")


def customize_tokenizer(tokenizer, nlp) -> None:
    cfg = load_yaml(TOKENIZER_CONFIG)
    tokenizer.infix_finditer = compile_infix_regex(list(nlp.Defaults.infixes) + cfg["infixes"]).finditer
    tokenizer.prefix_search = compile_prefix_regex(cfg["prefixes"] + list(nlp.Defaults.prefixes)).search
    for text, orths in cfg["special_cases"].items():
        tokenizer.add_special_case(text, [{"ORTH": o} for o in orths])


class CachePrimingTokenizer:
    """spaCy's `Tokenizer` whose chunk cache is filled a paragraph at a time.

    spaCy's tokenizer caches the tokens of each whitespace-separated chunk (up to
    `max_cache_size` chunks), but within one call it stops saving chunks once it has met a
    special case (a per-call flag, spaCy#1250). A letter meets "Dr." or "Page(s):" in its first
    lines, so called on whole letters the cache stayed nearly empty and almost every word went
    through the prefix, suffix and infix expressions again, letter after letter. The first
    `prime_texts` texts of several paragraphs are therefore tokenized one paragraph per call (the flag resets at each
    call; the pieces are joined with `Doc.from_docs`), which fills the cache; later texts take one
    call, reading the cache. Either way the tokens and their attributes are those of one call
    (tests/test_ner_components.py checks it on generated texts). Everything else (rules, special
    cases, serialization) is the wrapped tokenizer's."""

    def __init__(self, tokenizer, prime_texts: int = 0):
        object.__setattr__(self, "tokenizer", tokenizer)
        object.__setattr__(self, "prime_texts", prime_texts)
        object.__setattr__(self, "_calls", 0)

    def __call__(self, text: str) -> Doc:
        if self._calls < self.prime_texts:
            return self.by_paragraph(text)
        return self.tokenizer(text)

    def by_paragraph(self, text: str) -> Doc:
        """Counts towards priming only texts of several paragraphs (not the ruler's patterns,
        which the pipeline tokenizes as it loads)."""
        pieces = _PARAGRAPH_START.split(text)
        if len(pieces) == 1:
            return self.tokenizer(text)
        object.__setattr__(self, "_calls", self._calls + 1)
        docs = [self.tokenizer(p) for p in pieces]
        doc = Doc.from_docs(docs, ensure_whitespace=False)
        start = 0
        for piece in docs[:-1]:  # from_docs marks each piece's first token as a sentence start
            start += len(piece)
            doc[start].is_sent_start = None
        return doc

    def _restart_priming(self) -> None:  # new rules empty spaCy's cache
        object.__setattr__(self, "_calls", 0)

    def pipe(self, texts, batch_size: int = 1000):
        for text in texts:
            yield self(text)

    def add_special_case(self, string, substrings):
        self.tokenizer.add_special_case(string, substrings)
        self._restart_priming()

    def to_bytes(self, **kwargs) -> bytes:
        msg = srsly.msgpack_loads(self.tokenizer.to_bytes(**kwargs))
        msg[_PRIMING_KEY] = self.prime_texts
        return srsly.msgpack_dumps(msg)

    def to_disk(self, path, **kwargs) -> None:
        Path(path).write_bytes(self.to_bytes(**kwargs))

    def from_disk(self, path, **kwargs):
        return self.from_bytes(Path(path).read_bytes(), **kwargs)

    def from_bytes(self, data, **kwargs):
        self.tokenizer.from_bytes(data, **kwargs)  # spaCy's reader skips the priming key
        prime = srsly.msgpack_loads(data).get(_PRIMING_KEY)
        if prime is not None:  # else a tokenizer saved before the key: keep the configured count
            object.__setattr__(self, "prime_texts", int(prime))
        self._restart_priming()
        return self

    def __getattr__(self, name):
        if name in ("tokenizer", "prime_texts", "_calls"):  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.tokenizer, name)

    def __setattr__(self, name, value):
        setattr(self.tokenizer, name, value)
        self._restart_priming()

    def __getstate__(self):
        return {"tokenizer": self.tokenizer, "prime_texts": self.prime_texts}

    def __setstate__(self, state):
        self.__init__(state["tokenizer"], state["prime_texts"])


@registry.tokenizers("imr.Tokenizer.v1")
def create_imr_tokenizer():
    base = registry.tokenizers.get("spacy.Tokenizer.v1")()

    def make_tokenizer(nlp):
        tokenizer = base(nlp)
        if not has_config(TOKENIZER_CONFIG):  # a saved pipeline loading elsewhere: from_disk sets it up
            return CachePrimingTokenizer(tokenizer, 0)
        customize_tokenizer(tokenizer, nlp)
        return CachePrimingTokenizer(tokenizer, int(load_yaml(TOKENIZER_CONFIG)["cache_priming_texts"]))

    return make_tokenizer


def blank_pipeline():
    """`spacy.blank("en")` with the IMR tokenizer (what the corpus DocBins are built with)."""
    import spacy

    load_yaml(TOKENIZER_CONFIG)  # a new tokenizer needs the rules: raise here when they are missing
    return spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "imr.Tokenizer.v1"}}})
