"""Weak rationale labels (used only where no hand label exists)."""
import pytest

from nlp.rationale_rules import weak_rationale


@pytest.mark.parametrize("text, decision, expected", [
    ("As the requested surgical intervention is not medically necessary per the documentation, the requested "
     "ancillary service is not medically necessary.", "upheld", "depends_on_denied_request"),
    # the primary request denied, in other words (written letters, session 16)
    ("The controlling issue is that the surgery the unit was meant to follow has been denied.", "upheld",
     "depends_on_denied_request"),
    ("With naproxen found not medically necessary above, the reason for the PPI falls away.", "upheld",
     "depends_on_denied_request"),
    ("The request is tied to a fusion that has not been certified.", "upheld", "depends_on_denied_request"),
    ("The request is for more sessions then is recommended by the ODG.", "upheld", "exceeds_guideline_quantity"),
    ("There was no documentation of objective functional improvement from the prior 12 sessions.", "upheld",
     "no_functional_improvement"),
    ("Benzodiazepines are not recommended for long-term use.", "upheld", "not_recommended"),
    ("The request failed to include duration and frequency.", "upheld", "insufficient_documentation"),
    ("Nothing here.", "upheld", "insufficient_documentation"),
    ("Benzodiazepines are not recommended for long-term use.", "overturned", "guideline_criteria_met"),
])
def test_primary_label(text, decision, expected):
    assert weak_rationale(text, decision)[0] == expected


def test_all_labels_in_priority_order():
    text = ("Topical compounds are largely experimental. There was lack of documentation of failed first-line "
            "therapy and no objective functional improvement.")
    assert weak_rationale(text, "upheld") == (
        "no_functional_improvement", ["no_functional_improvement", "not_recommended", "insufficient_documentation"])
