"""DRUG normalization (SPEC section 2): surface text -> {"generic", "drug_class"} (lower case).

Uses the cached drug lexicon (nlp/lexicon.py, configs/lexicons/drugs.yaml); see
`nlp.lexicon` for how misspellings, salts and forms, doses and slash combinations are read
("hydrocodone/APAP" -> {"generic": "hydrocodone/acetaminophen", "drug_class": "opioid"}).
Returns None for text that names no drug in the lexicon (drug classes such as
"benzodiazepines" are not drugs). Never raises.
"""

from __future__ import annotations

from nlp.lexicon import get_lexicon


def normalize_drug(text: str) -> dict | None:
    """{"generic": ..., "drug_class": ...} or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        hit = get_lexicon().lookup(text)
    except Exception:
        return None
    if hit is None:
        return None
    generic, drug_class = hit
    return {"generic": generic.lower(), "drug_class": drug_class.lower()}


__all__ = ["normalize_drug"]
