"""`imr evaluate --data ... --out`: metrics.json and a self-contained report.html."""
import json
import re

from conftest import LETTERS
from imr.report import compute_metrics
from test_cli import imr


def test_metrics_from_collected_rows():
    rows = [
        {"id": "a", "index": 1, "request": "PT", "gold_decision": "upheld", "gold_rationale": "not_recommended",
         "gold_labels": ["not_recommended"], "decision": "upheld", "p_overturned": 0.1, "rationale": "not_recommended",
         "rationale_labels": ["not_recommended"], "forecast_decision": "upheld", "forecast_p": 0.2},
        {"id": "a", "index": 2, "request": "MRI", "gold_decision": "overturned", "gold_rationale": "guideline_criteria_met",
         "gold_labels": ["guideline_criteria_met"], "decision": "overturned", "p_overturned": 0.9,
         "rationale": "guideline_criteria_met", "rationale_labels": ["guideline_criteria_met"],
         "forecast_decision": "upheld", "forecast_p": 0.4},
        {"id": "b", "index": 1, "request": "Norco", "gold_decision": "upheld", "gold_rationale": "not_recommended",
         "gold_labels": ["not_recommended", "insufficient_documentation"], "decision": "upheld", "p_overturned": 0.3,
         "rationale": "insufficient_documentation", "rationale_labels": ["insufficient_documentation"],
         "forecast_decision": "upheld", "forecast_p": 0.1},
    ]
    m = compute_metrics({"rows": rows, "entities": None, "stats": {"letters": 2, "errors": 0, "unmatched_items": 0,
                                                                   "entity_letters": 0}}, card=None)
    assert m["decision_read"]["accuracy"] == 1.0 and m["decision_read"]["roc_auc"] == 1.0
    assert m["decision_forecast"]["accuracy"] == round(2 / 3, 4)
    assert m["decision_forecast"]["roc_auc"] == 1.0  # 0.4 ranks the overturned item first
    assert m["baseline_majority_decision"]["overturn_recall"] == 0.0
    assert m["rationale"]["accuracy"] == round(2 / 3, 4)
    assert m["baseline_majority_rationale"]["accuracy"] == round(2 / 3, 4)  # "not_recommended" twice of three
    assert m["stats"]["scored_items"] == 3
    # no real_oof.json: everything pooled as before, the group keys empty
    assert m["out_of_fold"] is None and m["held_out"] is None and m["in_sample_secondary"] is None
    assert m["threshold"]["decision_forecast"] == 0.5 and m["reliability_oof"] is None


def test_evaluate_letters_end_to_end(tmp_path):
    res = imr("evaluate", "--data", LETTERS, "--out", tmp_path / "rep")
    assert res.returncode == 0, res.stderr
    m = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert m["stats"]["letters"] == 3 and m["stats"]["items"] == 6 and m["stats"]["entity_letters"] == 3
    # the bundled classifier never trained on the shared letters: all six items are held out
    held = m["held_out"]
    assert (held["letters"], held["items"], m["out_of_fold"]["items"]) == (3, 6, 0)
    assert held["decision_read"]["n"] == 6 and held["decision_read"]["overturned"] == 1
    assert held["rationale"]["n"] == 6  # the shared letters' gold rationales
    assert "decision_read" not in m  # never pooled
    assert set(m["entities"]["strict"]) == {"DRUG", "SESSION_COUNT", "GUIDELINE", "micro"}
    page = (tmp_path / "rep" / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 4
    assert not re.search(r"(?:src|href)=\"https?://", page)
    assert "Worst decision errors" in page and "MONTHLY MEDICATION MANAGEMENT (IN MONTHS) QUANTITY: 6.00" in page
