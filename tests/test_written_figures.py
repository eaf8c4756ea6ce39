"""training.written_figures: the figures of a written set's clean scoring (examples/written/README.md)."""
from __future__ import annotations

import json

from conftest import ROOT
from training.written_figures import item_rows, load_gold, main, set_figures

WRITTEN = ROOT / "examples" / "written"


def test_the_command_prints_each_sets_figures_and_the_pooled_ones_and_no_letter_text(tmp_path, capsys):
    sets = [WRITTEN / "develop", WRITTEN / "heldback"]
    assert main([*map(str, sets), "--records", str(tmp_path), "--no-peer"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["set"] for line in lines] == ["develop", "heldback", "pooled"]
    for line, set_dir in zip(lines, sets):
        gold = load_gold(set_dir)
        records = [json.loads(r) for r in (tmp_path / f"{set_dir.name}.jsonl").read_text().splitlines()]
        assert sorted(r["id"] for r in records) == sorted(gold)
        assert {k: v for k, v in line.items() if k != "set"} == set_figures(records, gold)
        assert line["items"] == sum(len(g["items"]) for g in gold.values())
    assert lines[2]["items"] == lines[0]["items"] + lines[1]["items"]
    low, high = lines[2]["forecast_auc_95"]
    assert 0 <= low <= lines[2]["forecast_auc"] <= high <= 1
    # aggregates only: no request of any letter in what was printed
    out = json.dumps(lines).lower()
    requests = [it["request"].lower() for s in sets for g in load_gold(s).values() for it in g["items"]]
    assert not [r for r in requests if len(r) > 12 and r in out]


def test_an_item_the_parser_missed_is_wrong_in_every_field_and_forecast_zero():
    gold = load_gold(WRITTEN / "develop")
    letter = sorted(gold)[0]
    n = len(gold[letter]["items"])
    record = {"id": letter, "items": [], "entities": [], "format": "unknown", "patient": {},
              "reviewer_specialties": [], "error": {"type": "no_items"}}
    rows = item_rows([record], gold)
    assert len(rows) == n
    assert not any(r[k] for r in rows for k in ("found", "stated_decision", "request", "category", "read_decision",
                                                 "rationale"))
    assert all(r["p_overturned"] == 0.0 for r in rows)
    figures = set_figures([record], {letter: gold[letter]})
    assert figures["found"] == 0 and figures["micro"] == 0 and figures["letters_without_items"] == 1
    assert figures["error_records"] == 1
