"""`imr report`: exact counts, rates and Wilson intervals on a small synthetic scored file."""
import csv
import json
import re
import subprocess
import sys

import pytest

from nlp.analytics import DIMENSIONS, normalize_request, wilson_interval, write_report


def drug(text, start, item, cls, section="item"):
    return {"label": "DRUG", "text": text, "start": start, "end": start + len(text), "section": section,
            "item": item if section == "item" else None, "norm": {"generic": text.lower(), "drug_class": cls}}


def cite(source, document):
    return {"text": f"{source} {document}", "source": source, "document": document, "topic": None, "pages": []}


def item(index, request, category, decision, reviewer=(), p=None, fp=None, heading=None):
    it = {"index": index, "request": request, "original_request": None, "treatment_category": category,
          "decision": decision, "guidelines": {"claims_administrator": [], "reviewer": list(reviewer)},
          "spans": {"heading": heading}}
    if p is not None:
        it["prediction"] = {"decision": "overturned" if p >= 0.5 else "upheld", "p_overturned": p,
                            "forecast": None if fp is None else {"decision": "upheld", "p_overturned": fp}}
    return it


def record(rid, decision_date, specialties, entities, items, error=None):
    return {"id": rid, "source": f"{rid}.txt", "format": "dwc_2014", "case_number": None,
            "dates": {"assigned": None, "decision": decision_date, "ur_denial": None, "application_received": None},
            "reviewer_specialties": specialties, "patient": {"age": None, "sex": None, "date_of_injury": None},
            "entities": entities, "items": items, "error": error}


@pytest.fixture
def scored(tmp_path):
    recs = [
        record("a", "2016-03-01", ["Internal Medicine", "Pain Medicine"],
               [drug("Norco", 110, 1, "opioid"), drug("Prilosec", 300, 1, "proton_pump_inhibitor"),
                drug("Xanax", 20, None, "benzodiazepine", section="summary")],
               [item(1, "Norco 10/325mg #60.", "pharmaceuticals", "overturned", [cite("MTUS", "chronic_pain")],
                     p=0.8, fp=0.6, heading=[100, 150]),
                item(2, "Physical therapy  x 12", "physical_therapy", "upheld",
                     [cite("ODG", "pain"), cite("MTUS", "chronic_pain")], p=0.2, fp=0.3)]),
        record("b", "2017-05-02", [], [drug("Norco", 40, 1, "opioid"), drug("Soma", 500, 2, "muscle_relaxant")],
               [item(1, "NORCO 10/325MG #60", "pharmaceuticals", "upheld"),
                item(2, "Soma 350mg", "pharmaceuticals", "upheld")]),
        record("c", None, [], [], [], error={"type": "unknown_layout", "message": "no layout"}),
        record("d", None, ["Internal Medicine"], [],
               [item(1, "physical therapy x 12", "physical_therapy", None, [cite("ACOEM", None)], p=0.5)]),
    ]
    path = tmp_path / "scored.jsonl"
    lines = [json.dumps(r) for r in recs]
    lines.insert(2, "{oops")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows(path):
    return list(csv.DictReader(path.open(encoding="utf-8")))


def counts(path):
    return [(r["group"], int(r["items"]), int(r["decided"]), int(r["overturned"])) for r in rows(path)]


def test_wilson_interval_against_hand_computed_values():
    low, high = wilson_interval(1, 10)  # p=0.1: (0.1 + 1.92/10 ∓ 1.96·sqrt(0.009 + 0.0096)) / 1.384
    assert low == pytest.approx(0.01788, abs=5e-5) and high == pytest.approx(0.40415, abs=5e-5)
    assert wilson_interval(1, 4) == (pytest.approx(0.04559, abs=5e-5), pytest.approx(0.69936, abs=5e-5))
    assert wilson_interval(0, 4) == (0.0, pytest.approx(0.48989, abs=5e-5))
    assert wilson_interval(3, 3) == (pytest.approx(0.43850, abs=5e-5), 1.0)
    assert wilson_interval(0, 0) == (None, None)


def test_request_normalization():
    assert normalize_request("  Norco 10/325mg\n #60. ") == "norco 10/325mg #60"
    assert normalize_request("Physical therapy  x 12;") == "physical therapy x 12"
    assert normalize_request(None) == "(empty)"


def test_report_tables_are_exact(scored, tmp_path):
    out = tmp_path / "rep"
    result = write_report(scored, out, top_requests=10)
    assert (result["letters"], result["items"]) == (4, 5)
    names = ["overall"] + [name for name, _, _ in DIMENSIONS] + ["top_requests"]
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{n}.csv" for n in names] + ["analytics.html"])
    assert sorted(p.name for p in result["csv"]) == sorted(f"{n}.csv" for n in names)

    overall = {r["measure"]: r["value"] for r in rows(out / "overall.csv")}
    assert overall == {
        "letters": "4", "letters with an error": "1", "letters with error unknown_layout": "1",
        "unreadable lines skipped": "1", "items": "5", "items with a stated decision": "4",
        "overturned items": "1", "overturn rate": "0.250000", "overturn rate 95% CI low": "0.045587",
        "overturn rate 95% CI high": "0.699358", "items with a prediction": "3",
        "mean predicted p_overturned": "0.500000", "mean forecast p_overturned": "0.450000"}

    cat = rows(out / "treatment_category.csv")
    assert [(r["group"], r["items"], r["decided"], r["overturned"], r["overturn_rate"], r["predicted_items"],
             r["mean_p_overturned"], r["mean_forecast_p_overturned"]) for r in cat] == [
        ("pharmaceuticals", "3", "3", "1", "0.333333", "1", "0.800000", "0.600000"),
        ("physical_therapy", "2", "1", "0", "0.000000", "2", "0.350000", "0.300000")]
    assert (cat[0]["ci_low"], cat[0]["ci_high"]) == ("0.061492", "0.792340")
    assert (cat[1]["ci_low"], cat[1]["ci_high"]) == ("0.000000", "0.793451")

    # the request line's drug wins (Prilosec in item 1's rationale is not counted); item 2 of
    # letter b has no heading span, so its item's drugs count; summary drugs never do
    assert counts(out / "drug_class.csv") == [("opioid", 2, 2, 1), ("muscle_relaxant", 1, 1, 0)]
    assert counts(out / "guideline_source.csv") == [
        ("(none cited)", 2, 2, 0), ("MTUS", 2, 2, 1), ("ODG", 1, 1, 0), ("ACOEM", 1, 0, 0)]
    assert counts(out / "guideline_document.csv") == [
        ("(none cited)", 2, 2, 0), ("MTUS / chronic_pain", 2, 2, 1), ("ODG / pain", 1, 1, 0),
        ("ACOEM / (unspecified)", 1, 0, 0)]
    assert counts(out / "reviewer_specialty.csv") == [
        ("Internal Medicine", 3, 2, 1), ("(not stated)", 2, 2, 0), ("Pain Medicine", 2, 2, 1)]
    assert counts(out / "decision_year.csv") == [("2016", 2, 2, 1), ("2017", 2, 2, 0), ("(unknown)", 1, 0, 0)]
    year = rows(out / "decision_year.csv")
    assert (year[2]["overturn_rate"], year[2]["ci_low"], year[2]["mean_p_overturned"]) == ("", "", "0.500000")
    assert counts(out / "top_requests.csv") == [
        ("norco 10/325mg #60", 2, 2, 1), ("physical therapy x 12", 2, 1, 0), ("soma 350mg", 1, 1, 0)]


def test_report_html_is_self_contained(scored, tmp_path):
    out = tmp_path / "rep"
    res = subprocess.run([sys.executable, "-m", "imr", "report", str(scored), "--out", str(out), "--top", "2"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == f"report: 5 items from 4 letters -> {out / 'analytics.html'} (8 tables)"
    page = (out / "analytics.html").read_text(encoding="utf-8")
    srcs = re.findall(r'src="([^"]*)"', page)
    assert len(srcs) == 6 and all(re.fullmatch(r"data:image/png;base64,iVBOR[A-Za-z0-9+/=]+", s) for s in srcs)
    markup = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"https?:|//[a-z0-9]|@import|url\(|<link|<script", markup, re.I)  # nothing external
    assert page.count("<table>") == len(DIMENSIONS) + 1
    assert "$" not in page.replace("$$", "")  # every template placeholder filled
    assert "<td>33.3%</td>" in page and "6.1% – 79.2%" in page  # pharmaceuticals rate and CI
    assert len(rows(out / "top_requests.csv")) == 2
