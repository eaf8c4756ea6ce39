"""A registered tokenizer: spaCy's English rules plus the additions in configs/ner/tokenizer.yaml."""
from __future__ import annotations

from spacy.util import compile_infix_regex, compile_prefix_regex, registry

from nlp.config import load_yaml


def customize_tokenizer(tokenizer, nlp) -> None:
    cfg = load_yaml("ner/tokenizer.yaml")
    tokenizer.infix_finditer = compile_infix_regex(list(nlp.Defaults.infixes) + cfg["infixes"]).finditer
    tokenizer.prefix_search = compile_prefix_regex(cfg["prefixes"] + list(nlp.Defaults.prefixes)).search
    for text, orths in cfg["special_cases"].items():
        tokenizer.add_special_case(text, [{"ORTH": o} for o in orths])


@registry.tokenizers("imr.Tokenizer.v1")
def create_imr_tokenizer():
    base = registry.tokenizers.get("spacy.Tokenizer.v1")()

    def make_tokenizer(nlp):
        tokenizer = base(nlp)
        customize_tokenizer(tokenizer, nlp)
        return tokenizer

    return make_tokenizer


def blank_pipeline():
    """`spacy.blank("en")` with the IMR tokenizer (what the corpus DocBins are built with)."""
    import spacy

    return spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "imr.Tokenizer.v1"}}})
