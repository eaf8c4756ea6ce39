"""Entity ruler patterns: hand token patterns (configs/ner/ruler_patterns.yaml) plus every
surface form of the drug lexicon (configs/lexicons/drugs.yaml) as a phrase pattern; the ruler
matches phrases on LOWER (`phrase_matcher_attr`), so case does not matter."""
from __future__ import annotations

import re

from nlp.config import configs_dir, load_yaml, plain
from nlp.lexicon import get_lexicon


def ruler_patterns(tokenizer) -> list[dict]:
    patterns = []
    cfg = load_yaml("ner/ruler_patterns.yaml")
    for label in ("SESSION_COUNT", "GUIDELINE"):
        spec = cfg[label]
        plist = spec["cores"] if isinstance(spec, dict) else spec
        patterns.extend({"label": label, "pattern": p} for p in plist)
    # Phrase patterns (matched on LOWER by the ruler's PhraseMatcher: fast for thousands of names).
    seen = set()
    for form in sorted({drug_name(f) for f in get_lexicon().surface_forms()} - {""}):
        key = " ".join(t.lower_ for t in tokenizer(form))
        if key and key not in seen:
            seen.add(key)
            patterns.append({"label": "DRUG", "pattern": form})
    return patterns


_STRENGTH = re.compile(r"\d+(?:\.\d+)?%")


def drug_name(surface_form: str) -> str:
    """A lexicon surface form as a DRUG span: without a trailing dosage-form word or strength
    (SPEC section 2: "Terocin lotion" -> "Terocin", "lidocaine 5% patch" -> "lidocaine"; a release
    suffix stays: "Diclofenac ER"). Dosage-form words: `topical_form_words` of
    configs/lexicons/drug_name_filters.yaml."""
    forms = dosage_form_words()
    words = surface_form.split()
    while len(words) > 1 and (words[-1].lower() in forms or _STRENGTH.fullmatch(words[-1])):
        words.pop()
    if not words or words[-1].lower() in forms:
        return ""
    name = " ".join(words)
    # only where the name alone is a known drug ("Tiger Balm" is a name, not "Tiger" + a form)
    return name if name == surface_form or get_lexicon().lookup(name) is not None else surface_form


def dosage_form_words() -> frozenset[str]:
    """`topical_form_words` of configs/lexicons/drug_name_filters.yaml (single words)."""
    words = load_yaml("lexicons/drug_name_filters.yaml")["topical_form_words"]
    return frozenset(w.lower() for w in words if " " not in w)


def citation_tails() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_TAILS"])


def citation_field_tails() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_FIELD_TAILS"])


def citation_documents() -> dict:
    """Config of the imr_citation_documents component."""
    cfg = load_yaml("ner/ruler_patterns.yaml")

    def fill(pattern: str) -> str:
        return pattern.replace("{non_mtus}", cfg["CITATION_NON_MTUS"])
    return {"lead_ins": [fill(p) for p in cfg["CITATION_LEAD_INS"]], "joiners": cfg["CITATION_JOINERS"],
            "source": cfg["CITATION_SOURCE"], "complete": cfg["CITATION_COMPLETE"],
            "continues": cfg["CITATION_CONTINUES"], "year_gap": cfg["CITATION_YEAR_GAP"],
            "chapter_end": cfg["CITATION_CHAPTER_END"],
            "in_join": cfg["CITATION_IN_JOIN"], "field_end": cfg["CITATION_FIELD_END"],
            "field_continues": fill(cfg["CITATION_FIELD_CONTINUES"]),
            "sure_lead_in": fill(cfg["CITATION_SURE_LEAD_IN"]),
            "other_document": cfg["CITATION_OTHER_DOCUMENT"],
            "author_list": cfg["CITATION_AUTHOR_LIST"],
            # the ruler's guideline names of several tokens: the model's fragments inside one are one citation
            "known_names": [plain(p) for p in cfg["GUIDELINE"]["cores"] if len(p) > 1]}


def guideline_stop_words() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_STOP_WORDS"])


def guideline_unnamed_part() -> str:
    return str(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_UNNAMED_PART"])


def guideline_lead_words() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_LEAD_WORDS"])


def guideline_field_labels() -> list[str]:
    return [str(p) for p in load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_FIELD_LABELS"]]


def guideline_end_abbreviations() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_END_ABBREVIATIONS"])


def drug_name_suffixes() -> list[str]:
    """Salt and release words of configs/lexicons/drug_name_filters.yaml: inside a DRUG span."""
    filters = load_yaml("lexicons/drug_name_filters.yaml")
    return [str(w).lower() for key in ("salt_words", "release_words") for w in filters[key]]


def guideline_single_words() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_SINGLE_WORDS"])


def drug_duration_cues() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["DRUG_DURATION_CUES"])


def drug_duration_window() -> int:
    return int(load_yaml("ner/ruler_patterns.yaml")["DRUG_DURATION_WINDOW"])


def drug_duration_service_words() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["DRUG_DURATION_SERVICE_WORDS"])


def duration_not_course() -> dict[str, list[str]]:
    return _word_lists("DURATION_NOT_COURSE")


def request_quantity_pattern() -> str:
    return load_yaml("ner/ruler_patterns.yaml")["REQUEST_QUANTITY"]


def request_quantity_not_for() -> str:
    """A heading with one of these words asks for injections: its quantity is no SESSION_COUNT."""
    return rf"\b(?:{_alternation(load_yaml('lexicons/count_terms.yaml')['injection_words'])})\b"


def ordinary_words() -> list[str]:
    """configs/lexicons/ordinary_words.txt (built by training/build_ordinary_words.py) and the medical words outside
    that frequency list that end like a drug's name (`DRUG_LOOKALIKE_WORDS`)."""
    text = (configs_dir() / "lexicons" / "ordinary_words.txt").read_text(encoding="utf-8")
    lookalikes = [str(w).lower() for w in load_yaml("ner/ruler_patterns.yaml")["DRUG_LOOKALIKE_WORDS"]]
    return [w for w in text.splitlines() if w and not w.startswith("#")] + lookalikes


def unknown_drug_endings() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["UNKNOWN_DRUG_ENDINGS"])


def _word_lists(key: str) -> dict[str, list[str]]:
    """A mapping of ruler_patterns.yaml from a word to its list of words, as strings."""
    return {str(k): [str(w) for w in v] for k, v in load_yaml("ner/ruler_patterns.yaml")[key].items()}


def drug_lay_uses() -> dict[str, list[str]]:
    return _word_lists("DRUG_LAY_USES")


def drug_lab_leads() -> dict[str, list[str]]:
    return _word_lists("DRUG_LAB_LEADS")


def drug_analyte_words() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["DRUG_ANALYTE_WORDS"])


def drug_class_words() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["DRUG_CLASS_WORDS"])


def drug_class_nouns() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["DRUG_CLASS_NOUNS"])


def guideline_initials() -> dict:
    """{"initials", "not_initials", "heads"} of imr_guideline_initials."""
    cfg = load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_INITIALS"]
    return {"initials": str(cfg["initials"]), "not_initials": [str(w) for w in cfg["not_initials"]],
            "heads": [str(w) for w in cfg["heads"]]}


def article_citation() -> str:
    return "|".join(f"(?:{form})" for form in load_yaml("ner/ruler_patterns.yaml")["ARTICLE_CITATION"])


def drug_label_citation() -> dict:
    """{"label_pattern", "label_cue"} of imr_article_citations."""
    cfg = load_yaml("ner/ruler_patterns.yaml")["DRUG_LABEL_CITATION"]
    return {"label_pattern": str(cfg["pattern"]), "label_cue": str(cfg["cue"])}


def society_guidelines() -> dict:
    """Config of imr_society_guidelines."""
    return dict(load_yaml("ner/ruler_patterns.yaml")["SOCIETY_GUIDELINES"])


def guideline_measure_words() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_MEASURE_WORDS"])


def guideline_person_degrees() -> list[str]:
    return [str(w) for w in load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_PERSON_DEGREES"]]


def guideline_specialty_leads() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_SPECIALTY_LEADS"])


def guideline_specialty_fields() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_SPECIALTY_FIELDS"])


def _alternation(words) -> str:
    """Regex alternation of phrases, longest first; spaces in a phrase match any white space."""
    ws = sorted({str(w).lower() for w in words}, key=lambda w: (-len(w), w))  # same order in every process
    return "|".join(r"\s*".join(re.escape(p) for p in w.split()) if w.strip() else re.escape(w) for w in ws)


def _count_placeholders() -> tuple[dict, dict]:
    """The placeholders of configs/ner/count_grammar.yaml's forms, filled from the number and
    count-term lexicons, and the count terms themselves."""
    numbers = load_yaml("lexicons/number_words.yaml")
    terms = load_yaml("lexicons/count_terms.yaml")
    article = ("a", "an", "single")  # "a month" is a count; "two times a week" is not "two times 1 week"
    ones = [w for w in numbers["units"] if w not in article]
    digits = [w for w, v in numbers["units"].items() if 1 <= int(v) <= 9 and w not in article]
    tens = _alternation(numbers["tens"])
    word = rf"(?:(?:{tens})(?:[\s-]+(?:{_alternation(digits)}))?|{_alternation(ones)})"
    num = rf"(?:(?!(?:19|20)\d\d(?![\d.]))\d+(?:\.\d+)?(?![\d.])|{word}(?![\w-]))(?:\s*\(\d+\))?"
    over, per = _alternation(terms["over_words"]), _alternation(terms["per_words"])
    fill = {
        "num": num,
        "word": rf"{word}(?![\w-])",
        "range": rf"(?<![\w./-]){num}(?:\s*(?:-|–|to|or)\s*{num})?",
        "article": r"(?<![\w-])(?:an?|single)",
        "unit": rf"(?:{_alternation(terms['units'])})",
        "total": rf"(?:\s*\(\s*\d+(?:\s+(?:{_alternation(terms['units'])}))?\s*\))?",
        "freq": rf"(?:{_alternation(terms['frequency_words'])})",
        "per": per,
        "over": over,
        "service": rf"(?:(?!(?:{over}|{per}|{word})\b)[a-z][a-z'/-]*\s+){{0,3}}?",
        "program": _alternation(terms["program_services"]),
        "injection": _alternation(terms["injection_words"]),
    }
    return fill, terms


def count_grammar() -> dict:
    """The SESSION_COUNT span grammar of configs/ner/count_grammar.yaml with its placeholders
    filled from the number and count-term lexicons: the config of the imr_count_shaper component
    (`counts`, `not_counts`, `sure_counts`: lists of regular expressions; `unit_words`,
    `sure_anchor`: one each; `max_formless_tokens`)."""
    fill, _ = _count_placeholders()
    grammar = load_yaml("ner/count_grammar.yaml")
    out = {key: [form.format(**fill) for form in grammar[key]] for key in ("counts", "not_counts", "sure_counts")}
    out["unit_words"] = grammar["unit_words"].format(**fill)
    out["max_formless_tokens"] = int(grammar["max_formless_tokens"])
    out["sure_anchor"] = grammar["sure_anchor"]
    return out


def count_echoes() -> dict:
    """The config of the imr_count_echoes component from configs/ner/count_grammar.yaml's `echo_*`
    (`quantity`, `context_words`, `not_before`: the unit words of count_terms.yaml and the others)."""
    fill, terms = _count_placeholders()
    grammar = load_yaml("ner/count_grammar.yaml")
    return {"quantity": grammar["echo_quantity"].format(**fill),
            "context_words": int(grammar["echo_context_words"]),
            "not_before": sorted({*terms["units"], *grammar["echo_not_before"]})}
