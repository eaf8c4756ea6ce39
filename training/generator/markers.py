"""What a synthetic letter writes that the parser reads as layout: taken from the parser's configs.

* configs/layouts.yaml (nlp/layout.py, nlp/textnorm.py): the section headings of each layout
  (`sections`), the item field labels (`item_fields`), the decision words (`decision_words`); the
  other fixed headings and line starts the generator writes must be entries of `headings` /
  `line_starts` (`written`), so a marker renamed there fails generation instead of drifting;
* configs/lexicons/count_terms.yaml (nlp/normalizers/counts.py): unit word -> unit (`units`) and
  the request words that fix the unit of a bare quantity (`unit_hint_patterns`);
* configs/lexicons/specialties.yaml (nlp/letter_fields.py): the canonical name of a reviewer
  specialty as written (`nlp.letter_fields.canonical_specialty`).

All through `nlp.config.load_yaml`, the loader the parser uses, so a change of one of these
files changes the parser and the generator alike. Which entry of a list a layout writes is the
generator's choice and stays here (`_FIELD_FORM`, `_HEADING_COLON`).
"""
from __future__ import annotations

from nlp.config import load_yaml

LAYOUTS_CFG = "layouts.yaml"
COUNT_TERMS_CFG = "lexicons/count_terms.yaml"
FIELD_ROLES = ("claims_administrator", "reviewer", "rationale")
# which label of each `item_fields` role a layout writes (index into the parser's list; default 0)
_FIELD_FORM = {"dwc_2013_notice": 1}
# layouts whose case-summary heading is written with a trailing colon ("Expert Reviewer Case Summary:")
_HEADING_COLON = {"dwc_2013_notice"}


def _layouts():
    return load_yaml(LAYOUTS_CFG)


def section_heading(layout: str, part: str) -> str:
    """The heading a `layout` letter writes before its `part` ("summary" | "items"): the first one
    `sections.<layout>.<part>` lists (with a colon for the case summary of `_HEADING_COLON` layouts)."""
    h = _layouts()["sections"][layout][part][0]
    return h + ":" if part == "summary" and layout in _HEADING_COLON else h


def field_labels(layout: str) -> tuple[str, str, str]:
    """(claims administrator, reviewer, rationale) field labels of a `layout` item, each from `item_fields`."""
    k = _FIELD_FORM.get(layout, 0)
    fields = _layouts()["item_fields"]
    return tuple(fields[role][k] for role in FIELD_ROLES)


def decision_word(decision: str) -> str:
    """The word an item heading states a decision with ("upheld" -> "Upheld"): `decision_words`."""
    return _layouts()["decision_words"][decision]


def written(marker: str) -> str:
    """A fixed heading or line start the generator writes, which must be one of the parser's
    `headings` / `line_starts` exactly; a KeyError names the one configs/layouts.yaml lacks."""
    cfg = _layouts()
    if marker not in cfg["headings"] and marker not in cfg["line_starts"]:
        raise KeyError(f"{LAYOUTS_CFG}: the generator writes {marker!r}, which is in neither "
                       "'headings' nor 'line_starts'")
    return marker


def unit_of(word: str) -> str:
    """The normalized unit of a unit word ("visits" -> "visit"): count_terms `units`."""
    return load_yaml(COUNT_TERMS_CFG)["units"][word.lower()]


def unit_hints() -> list[tuple[str, str]]:
    """(words, unit) that fix the unit of a bare quantity, in order: count_terms `unit_hint_patterns`."""
    return [(h, u) for h, u in load_yaml(COUNT_TERMS_CFG)["unit_hint_patterns"]]


def canonical_specialty(written_name: str) -> str:
    """The parser's canonical name of a specialty as a letter writes it (lexicons/specialties.yaml)."""
    from nlp.letter_fields import canonical_specialty as canon

    return canon(written_name)
