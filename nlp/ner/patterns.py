"""Entity ruler patterns: hand token patterns (configs/ner/ruler_patterns.yaml) plus every
surface form of the drug lexicon (configs/lexicons/drugs.yaml) as a case-insensitive phrase."""
from __future__ import annotations

from nlp.config import load_yaml
from nlp.lexicon import get_lexicon


def ruler_patterns(tokenizer) -> list[dict]:
    patterns = []
    for label, spec in load_yaml("ner/ruler_patterns.yaml").items():
        if isinstance(spec, dict):  # cores, and each core with each tail
            plist = [c + t for c in spec["cores"] for t in [[]] + spec["tails"]]
        else:
            plist = spec
        patterns.extend({"label": label, "pattern": p} for p in plist)
    seen = set()
    for form in sorted(get_lexicon().surface_forms()):
        words = [t.lower_ for t in tokenizer(form)]
        key = tuple(words)
        if not words or key in seen:
            continue
        seen.add(key)
        patterns.append({"label": "DRUG", "pattern": [{"LOWER": w} for w in words]})
    return patterns
