"""`imr` end to end, as a user runs it: a real subprocess, real files."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import LETTERS, REAL

SECRET = "ZZPATIENTNAMEZZ"


def imr(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "imr", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def test_parse_mixed_directory(tmp_path):
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    for p in LETTERS.glob("*.txt"):
        (d / p.name).write_bytes(p.read_bytes())
    (d / "sub" / "real.pdf").write_bytes((REAL / "CM16-0221706.pdf").read_bytes())
    (d / "empty.txt").write_bytes(b"")
    (d / "garbage.txt").write_bytes(b"\x00\x01\x02" + SECRET.encode() + b"\xff" * 100)
    (d / "truncated.pdf").write_bytes((REAL / "CM16-0228949.pdf").read_bytes()[:700])
    (d / "note.txt").write_text(f"Dear {SECRET}, thank you for your letter.", encoding="utf-8")
    out = tmp_path / "out" / "records.jsonl"
    res = imr("parse", d, "--out", out)
    assert res.returncode == 1  # some letters failed
    assert "letters=8 items=7 overturned=1 failed=4" in res.stderr
    assert SECRET not in res.stderr + res.stdout
    recs = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert len(recs) == 8
    assert {k: (r["error"] or {}).get("type") for k, r in recs.items()} == {
        "000_9f49410813e2b735": None, "001_37e0e7a9dfbd6631": None, "002_9c890e9297bcac86": None,
        "real": None, "empty": "empty_input", "garbage": "binary_input", "truncated": "unreadable_pdf",
        "note": "unknown_layout"}
    for r in recs.values():
        if r["error"]:
            assert SECRET not in r["error"]["message"] and r["items"] == []
    assert not list(out.parent.glob(".*.tmp"))  # no temporary file left behind


def test_parse_all_good_exits_zero_and_csv_has_a_row_per_item(tmp_path):
    out = tmp_path / "r.csv"
    res = imr("parse", LETTERS, "--out", out, "--format", "csv")
    assert res.returncode == 0, res.stderr
    assert "letters=3 items=6 overturned=1 failed=0" in res.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["id"][:3], r["item_index"], r["decision"]) for r in rows] == [
        ("000", "1", "upheld"), ("000", "2", "upheld"),
        ("001", "1", "upheld"), ("001", "2", "overturned"), ("001", "3", "upheld"),
        ("002", "1", "upheld")]
    assert rows[3]["request"] == "MONTHLY MEDICATION MANAGEMENT (IN MONTHS) QUANTITY: 6.00"
    assert rows[2]["reviewer_specialties"] == "Occupational Medicine; Preventive Medicine"


def test_jsonl_input_with_a_bad_line(tmp_path):
    src = tmp_path / "batch.jsonl"
    text = (LETTERS / "002_9c890e9297bcac86.txt").read_text(encoding="utf-8")
    src.write_text(json.dumps({"id": "a", "text": text}) + "\n{not json\n" + json.dumps({"text": text}) + "\n",
                   encoding="utf-8")
    out = tmp_path / "o.jsonl"
    res = imr("parse", src, "--out", out)
    assert res.returncode == 1
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], (r["error"] or {}).get("type")) for r in recs] == [
        ("a", None), ("batch-2", "bad_record"), ("batch-3", None)]


def test_missing_input_is_a_record_not_a_crash(tmp_path):
    out = tmp_path / "o.jsonl"
    res = imr("parse", tmp_path / "nope.txt", "--out", out)
    assert res.returncode == 1
    (rec,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rec["error"]["type"] == "not_found"
