"""Entity normalizers (SPEC section 2; docs/CONTRACTS.md "Normalizer API").

- `normalize_count(text, role=None, unit_hint=None)` -> {"min", "max", "unit", "over", "role"}
- `infer_count_role(context, in_request, span=None)` -> "requested" | "completed" | "recommended" | None
- `role_cue(context, span)` -> the class of the cue word nearest to a count (a role or "authorized") | None
- `role_cue_hits(context, span)` -> every cue word around a count: (side, distance, class, phrase)
- `names_a_guideline(text)` -> whether a guideline word occurs in it
- `normalize_guideline(text)` -> {"source", "document", "topic", "pages"}
- `normalize_drug(text)` -> {"generic", "drug_class"} | None

All pure functions over data in configs/lexicons/; none raises.
"""

from nlp.normalizers.counts import (infer_count_role, names_a_guideline, normalize_count, role_cue, role_cue_hits,
                                    unit_from_hint)
from nlp.normalizers.drugs import normalize_drug
from nlp.normalizers.guidelines import (chapter_at_start, expand_pages, inside_document_name, names_a_source,
                                        normalize_guideline)

__all__ = [
    "normalize_count",
    "infer_count_role",
    "role_cue",
    "role_cue_hits",
    "names_a_guideline",
    "unit_from_hint",
    "normalize_guideline",
    "inside_document_name",
    "names_a_source",
    "chapter_at_start",
    "expand_pages",
    "normalize_drug",
]
