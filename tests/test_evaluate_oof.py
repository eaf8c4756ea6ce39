"""`imr evaluate` on a bundle with real_oof.json: out-of-fold and held-out figures apart, the
in-sample ones only as a labelled secondary table; --threshold; the forecast explanation."""
import json
import re
import shutil

import pytest

from conftest import LETTERS, REAL, ROOT
from models.persistence import ArtifactIntegrityError, ArtifactMissingError, save_artifacts
from imr.report import (GROUPS, OOF_FILE, OOFFormatError, apply_threshold, compute_metrics, explanation_html,
                           load_real_oof, render, split_rows, summary_line)
from test_cli import imr

OOF_LABEL = "out-of-fold (same letter-grouped CV as the model card)"


def _row(lid, index, gold, p_read, p_fc, rationale="not_recommended", gold_rationale="not_recommended",
         explanation=None):
    return {"id": lid, "index": index, "request": f"{lid} request {index}", "gold_decision": gold,
            "gold_rationale": gold_rationale, "gold_labels": [gold_rationale],
            "decision": "overturned" if p_read >= 0.5 else "upheld", "p_overturned": p_read,
            "rationale": rationale, "rationale_labels": [rationale],
            "forecast_decision": "overturned" if p_fc >= 0.5 else "upheld", "forecast_p": p_fc,
            "explanation": explanation}


def _oof_item(case, index, decision, p_read, p_fc, p_peer, rationale, rationale_gold="not_recommended"):
    return {"case": case, "index": index, "decision": decision, "p_forecast": p_fc, "p_peer": p_peer,
            "p_read": p_read, "rationale": rationale, "rationale_gold": rationale_gold}


# Letter "A" was trained on (its live predictions are near perfect: in-sample); "H" was not.
ROWS = [
    _row("A", 1, "upheld", 0.02, 0.05),
    _row("A", 2, "overturned", 0.98, 0.95, "guideline_criteria_met", "guideline_criteria_met"),
    _row("A", 3, "upheld", 0.03, 0.10),  # no out-of-fold value
    _row("A", 4, "upheld", 0.01, 0.10),
    _row("A", 5, "overturned", 0.97, 0.90, "guideline_criteria_met", "guideline_criteria_met"),
    _row("H", 1, "overturned", 0.90, 0.40, "guideline_criteria_met", "guideline_criteria_met"),
    _row("H", 2, "upheld", 0.10, 0.20),
    _row("H", 3, "upheld", 0.60, 0.50),
    _row("H", 4, "upheld", 0.20, 0.30),
]
OOF = {"folds": 5, "repeats": 10, "letters": ["A", "B"], "items": [
    _oof_item("A", 1, "upheld", 0.10, 0.60, 0.30, "insufficient_documentation"),
    _oof_item("A", 2, "overturned", 0.70, 0.35, 0.55, "guideline_criteria_met", "guideline_criteria_met"),
    _oof_item("A", 4, "upheld", 0.20, 0.20, 0.60, "not_recommended"),
    _oof_item("A", 5, "overturned", 0.45, 0.70, 0.40, "not_recommended", "guideline_criteria_met"),
    _oof_item("B", 1, "upheld", 0.10, 0.10, 0.10, "not_recommended"),  # a letter not evaluated here
]}
STATS = {"letters": 2, "errors": 0, "unmatched_items": 0, "entity_letters": 0}


def _collected(rows=ROWS):
    return {"rows": rows, "entities": None, "stats": dict(STATS)}


def test_split_rows_substitutes_out_of_fold_values():
    g = split_rows(ROWS, OOF, read_threshold=0.5, forecast_threshold=0.5)
    assert [(r["id"], r["index"]) for r in g["out_of_fold"]] == [("A", 1), ("A", 2), ("A", 4), ("A", 5)]
    assert g["held_out"] == ROWS[5:]  # untouched live predictions
    assert g["in_sample"] == ROWS[:5]  # the live predictions of trained-on letters, as they were
    assert g["no_oof"] == [ROWS[2]]
    assert g["out_of_fold"][0] == {
        **ROWS[0], "p_overturned": 0.10, "decision": "upheld", "forecast_p": 0.60, "forecast_decision": "overturned",
        "peer_p": 0.30, "rationale": "insufficient_documentation", "rationale_labels": None,
        "gold_rationale": "not_recommended", "oof_decision": "upheld", "live_forecast_p": 0.05}
    a5 = g["out_of_fold"][3]
    assert (a5["p_overturned"], a5["decision"], a5["forecast_p"], a5["forecast_decision"], a5["rationale"]) == (
        0.45, "upheld", 0.70, "overturned", "not_recommended")
    assert a5["gold_rationale"] == "guideline_criteria_met"  # the evaluation's gold wins over the file's
    gold_missing = split_rows([{**ROWS[0], "gold_rationale": None}], OOF)["out_of_fold"][0]
    assert gold_missing["gold_rationale"] == "not_recommended"  # else the file's rationale_gold


def test_metrics_out_of_fold_and_held_out_apart():
    m = compute_metrics(_collected(), card=None, oof=OOF)
    assert "decision_forecast" not in m  # nothing pooled at the top level
    oo, ho, ins = m["out_of_fold"], m["held_out"], m["in_sample_secondary"]
    assert oo["label"] == OOF_LABEL and ho["label"] == "held out (never trained on)"
    assert (oo["letters"], oo["items"], ho["letters"], ho["items"], ins["items"]) == (1, 4, 1, 4, 5)
    assert (oo["folds"], oo["repeats"], oo["trained_letters"]) == (5, 10, 2)
    assert oo["decision_forecast"]["roc_auc"] == 0.75  # OOF scores, not the live 1.0
    assert oo["peer_forecast"]["roc_auc"] == 0.5
    assert oo["decision_read"]["accuracy"] == 0.75  # A5 read at 0.45 < 0.5
    assert oo["rationale"]["accuracy"] == 0.5 and "rationale_labels" not in oo  # no OOF multi-label values
    assert ho["decision_forecast"]["roc_auc"] == round(2 / 3, 4) and "peer_forecast" not in ho
    assert ins["decision_forecast"]["roc_auc"] == 1.0 and ins["label"] == GROUPS["in_sample_secondary"]
    assert m["reliability_oof"] == oo["decision_forecast"]["reliability"]
    assert sum(b["n"] for b in m["reliability_oof"]) == 4
    assert m["stats"]["scored_items"] == 8 and m["stats"]["no_oof_items"] == 1
    assert m["stats"]["in_sample_items"] == 5 and m["stats"]["oof_gold_mismatch"] == 0
    assert m["threshold"] == {"decision_forecast": 0.5, "decision_read": 0.5}


def test_without_oof_everything_pooled_as_before():
    m = compute_metrics(_collected(), card=None)
    assert m["out_of_fold"] is None and m["held_out"] is None and m["in_sample_secondary"] is None
    assert m["reliability_oof"] is None and m["decision_forecast"]["n"] == 9


def test_threshold_moves_forecast_recall_and_precision():
    rows = [_row("H", 1, "overturned", 0.9, 0.40), _row("H", 2, "overturned", 0.9, 0.70),
            _row("H", 3, "upheld", 0.1, 0.20), _row("H", 4, "upheld", 0.1, 0.35)]
    at_half = compute_metrics(_collected(rows), card=None)["decision_forecast"]
    assert (at_half["overturn_recall"], at_half["overturn_precision"]) == (0.5, 1.0)
    low = compute_metrics(_collected(rows), card=None, threshold=0.3)
    assert low["threshold"]["decision_forecast"] == 0.3
    assert (low["decision_forecast"]["overturn_recall"], low["decision_forecast"]["overturn_precision"]) == (1.0, 0.6667)
    assert low["decision_forecast"]["roc_auc"] == at_half["roc_auc"]  # a threshold moves no ranking
    card = {"thresholds": {"decision_forecast": 0.3}}
    assert compute_metrics(_collected(rows), card=card)["decision_forecast"] == low["decision_forecast"]
    assert [r["forecast_decision"] for r in apply_threshold(rows, 0.3)] == ["overturned", "overturned", "upheld", "overturned"]
    oof_fc = split_rows(ROWS, OOF, forecast_threshold=0.65)["out_of_fold"]
    assert [r["forecast_decision"] for r in oof_fc] == ["upheld", "upheld", "upheld", "overturned"]


def _bundle(tmp_path, oof=OOF):
    """A bundle directory holding only the out-of-fold file and its card; returns the card."""
    return save_artifacts(tmp_path, {}, {}, data={"real_oof": oof})


def test_real_oof_hash_checked(tmp_path):
    card = _bundle(tmp_path)
    assert card["artifacts"]["real_oof"]["file"] == OOF_FILE
    assert load_real_oof(tmp_path, card) == OOF
    tampered = json.loads((tmp_path / OOF_FILE).read_text())
    tampered["items"][0]["p_forecast"] = 0.99
    (tmp_path / OOF_FILE).write_text(json.dumps(tampered))
    with pytest.raises(ArtifactIntegrityError):
        load_real_oof(tmp_path, card)
    (tmp_path / OOF_FILE).unlink()
    with pytest.raises(ArtifactMissingError):
        load_real_oof(tmp_path, card)
    assert load_real_oof(tmp_path, {"artifacts": {}}) is None  # an older bundle


@pytest.mark.parametrize("bad", [
    {"letters": ["A"]},
    {"letters": [1], "items": []},
    {"letters": ["A"], "items": [{"case": "A", "index": 1, "p_read": 0.1}]},
    {"letters": ["A"], "items": [{"case": "A", "index": 1, "p_read": 0.1, "p_forecast": 1.5}]},
    {"letters": ["A"], "items": [OOF["items"][0], OOF["items"][0]]},
])
def test_real_oof_shape_checked(tmp_path, bad):
    with pytest.raises(OOFFormatError):
        load_real_oof(tmp_path, _bundle(tmp_path, bad))


EXPL = {"intercept": -1.2, "logit": 0.3, "other": 0.05, "terms": [
    {"feature": 'request+summary: "objective findings"', "contribution": 0.41},
    {"feature": "guideline: <script>alert(1)</script>", "contribution": -0.73},
    {"feature": "request: norco", "contribution": 0.02},
    {"feature": "summary: & more", "contribution": -0.2}]}


def test_explanation_rendered_signed_and_escaped():
    out = explanation_html(EXPL)
    assert out.split("<br>") == ["-0.73 guideline: &lt;script&gt;alert(1)&lt;/script&gt;",
                                 "+0.41 request+summary: &quot;objective findings&quot;",
                                 "-0.20 summary: &amp; more"]  # the three largest, by size
    assert "<script>" not in explanation_html(EXPL, prefix="<b>")
    assert explanation_html(None) == "" and explanation_html({"terms": []}) == "" and explanation_html("x") == ""


def _cards(page: str) -> str:
    return re.search(r'<div class="cards">(.*?)</div>\s*<p class="note">', page, re.S).group(1)


def test_report_headlines_out_of_fold_not_in_sample():
    rows = [{**r, "explanation": EXPL} if r["id"] == "H" else r for r in ROWS]
    rows[0] = {**rows[0], "explanation": EXPL}
    m = compute_metrics(_collected(rows), card=None, oof=OOF)
    page = render(m, _collected(rows), "letters", "test bundle", OOF)
    cards = _cards(page)
    assert f"Forecast ROC-AUC, {OOF_LABEL}; 1 letters, 4 items" in cards
    assert "0.750 · naive peer 0.500" in cards  # the peer beside the OOF figure
    assert "held out (never trained on); 1 letters, 4 items" in cards and "0.667" in cards
    assert "1.000" not in cards and "in-sample" not in cards  # the live figures on A are no headline
    assert f"<h2>Decision, {OOF_LABEL}</h2>" in page and "<h2>Decision, held out (never trained on)</h2>" in page
    assert "in-sample: the model saw these letters; not a measure of performance" in page
    assert 'alt="reliability out-of-fold"' in page
    assert "Forecast decisions: overturned when P(overturned) ≥ 0.5" in page
    worst = page[page.index('<section id="errors">'):]
    assert "-0.73 guideline: &lt;script&gt;alert(1)&lt;/script&gt;" in worst and "<script>" not in page
    assert "bundled model (P 0.05):" in worst  # an OOF row's explanation is the bundled model's
    line = summary_line(m)
    assert "out-of-fold (1 letters, 4 items): forecast ROC-AUC 0.75 (peer 0.5)" in line
    assert "held out (1 letters, 4 items)" in line and "1.0" not in line.split("forecast ROC-AUC")[1]


def test_threshold_option_parsed():
    from imr.cli import build_parser

    ap = build_parser()
    assert ap.parse_args(["evaluate", "--data", "x", "--threshold", "0.3"]).threshold == 0.3
    assert ap.parse_args(["evaluate", "--data", "x"]).threshold is None
    for bad in ("1.5", "nan", "x"):
        with pytest.raises(SystemExit):
            ap.parse_args(["evaluate", "--data", "x", "--threshold", bad])


def test_evaluate_with_real_oof_end_to_end(tmp_path):
    """A copy of the bundled classifier with a made-up real_oof.json for one real letter."""
    from training.real_corpus import hand_labels

    case = "CM16-0221706"
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "models" / "default" / "classifier", bundle / "classifier")
    (bundle / "ner").symlink_to(ROOT / "models" / "default" / "ner")
    labels = {idx: row for (lid, idx), row in hand_labels().items() if lid == case}
    items = [_oof_item(case, idx, row["decision"], 0.5, 0.1 * (k + 1), 0.3, "not_recommended", row["rationale"])
             for k, (idx, row) in enumerate(sorted(labels.items()))]
    card = json.loads((bundle / "classifier" / "model_card.json").read_text())
    card["artifacts"].update(_bundle(bundle / "classifier", {"folds": 5, "repeats": 10, "letters": [case],
                                                             "items": items})["artifacts"])
    (bundle / "classifier" / "model_card.json").write_text(json.dumps(card))
    real = tmp_path / "real"
    real.mkdir()
    shutil.copy(REAL / f"{case}.pdf", real)
    res = imr("evaluate", "--data", LETTERS, real, "--model", bundle, "--out", tmp_path / "rep", "--threshold", "0.25")
    assert res.returncode == 0, res.stderr
    m = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert m["threshold"]["decision_forecast"] == 0.25
    assert (m["out_of_fold"]["letters"], m["out_of_fold"]["items"]) == (1, len(items))
    assert (m["held_out"]["letters"], m["held_out"]["items"]) == (3, 6)
    assert m["in_sample_secondary"]["items"] == len(items) and m["reliability_oof"]
    assert "decision_read" not in m
    assert "out-of-fold (1 letters" in res.stderr and "held out (3 letters, 6 items)" in res.stderr
    page = (tmp_path / "rep" / "report.html").read_text()
    assert OOF_LABEL in _cards(page) and 'alt="reliability out-of-fold"' in page


def test_gold_paths_never_leave_the_gold_folder(tmp_path):
    from imr.report import gold_path

    (tmp_path / "gold").mkdir()
    (tmp_path / "secret.json").write_text("{}")
    assert gold_path("000_9f49410813e2b735", tmp_path / "gold") == tmp_path / "gold" / "000_9f49410813e2b735.json"
    for bad in ("../secret", "..", "a/b", "a\\b", "", ".hidden", "x\x00y"):
        assert gold_path(bad, tmp_path / "gold") is None, bad
