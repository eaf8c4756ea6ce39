"""Entity ruler patterns: hand token patterns (configs/ner/ruler_patterns.yaml) plus every
surface form of the drug lexicon (configs/lexicons/drugs.yaml) as a phrase pattern; the ruler
matches phrases on LOWER (`phrase_matcher_attr`), so case does not matter."""
from __future__ import annotations

from nlp.config import load_yaml
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
    for form in sorted(get_lexicon().surface_forms()):
        key = " ".join(t.lower_ for t in tokenizer(form))
        if key and key not in seen:
            seen.add(key)
            patterns.append({"label": "DRUG", "pattern": form})
    return patterns


def citation_tails() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_TAILS"])


def guideline_stop_words() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_STOP_WORDS"])


def guideline_single_words() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["GUIDELINE_SINGLE_WORDS"])


def drug_duration_cues() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["DRUG_DURATION_CUES"])


def request_quantity_pattern() -> str:
    return load_yaml("ner/ruler_patterns.yaml")["REQUEST_QUANTITY"]


def unknown_drug_endings() -> list[str]:
    return list(load_yaml("ner/ruler_patterns.yaml")["UNKNOWN_DRUG_ENDINGS"])
