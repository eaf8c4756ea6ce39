"""`-` is stdin (one letter) as an input and stdout (JSON Lines, nothing else) as `--out`, for
`imr parse` and `imr score`; run as a user runs it, in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import LETTERS, REAL, letter_pdf
from test_cli import imr

LETTER = LETTERS / "001_37e0e7a9dfbd6631.txt"
PDF = REAL / "CM16-0221706.pdf"


def piped(*args, data: bytes = b"", cwd=None) -> subprocess.CompletedProcess:
    """`imr ARGS` with `data` on stdin; stdout kept as bytes."""
    return subprocess.run([sys.executable, "-m", "imr", *map(str, args)], input=data, capture_output=True,
                          timeout=300, cwd=cwd)


def lines(stdout: bytes) -> list[dict]:
    """Every stdout line is one JSON record (nothing else is on stdout)."""
    assert stdout.endswith(b"\n")
    out = [json.loads(line) for line in stdout.decode("utf-8").split("\n")[:-1]]
    assert all(isinstance(r, dict) and "id" in r for r in out)
    return out


def without_origin(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k not in ("id", "source")}


def test_parse_a_text_letter_from_stdin_to_stdout(tmp_path):
    res = piped("parse", "-", "--out", "-", data=LETTER.read_bytes(), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    (rec,) = lines(res.stdout)
    assert (rec["id"], rec["source"]) == ("stdin", "<stdin>")
    err = res.stderr.decode()
    assert err.strip().splitlines()[-1] == "letters=1 items=3 overturned=1 failed=0"  # the summary is on stderr
    ref = tmp_path / "ref.jsonl"
    assert imr("parse", LETTER, "--out", ref).returncode == 0
    (expected,) = [json.loads(line) for line in ref.read_text(encoding="utf-8").splitlines()]
    assert without_origin(rec) == without_origin(expected)  # decoded like the .txt file
    assert os.listdir(tmp_path) == ["ref.jsonl"]  # no file named "-", no lock, no temporary


def test_a_pdf_on_stdin_is_recognized_by_its_magic(tmp_path):
    res = piped("parse", "-", "--out", "-", "--no-ner", data=PDF.read_bytes())
    assert res.returncode == 0, res.stderr
    (rec,) = lines(res.stdout)
    ref = tmp_path / "ref.jsonl"
    assert imr("parse", PDF, "--out", ref, "--no-ner").returncode == 0
    (expected,) = [json.loads(line) for line in ref.read_text(encoding="utf-8").splitlines()]
    assert rec["error"] is None and rec["items"]
    assert without_origin(rec) == without_origin(expected)
    made = letter_pdf(LETTER.read_text(encoding="utf-8"))  # a PDF made here, not one of the shared files
    res = piped("parse", "-", "--out", "-", "--no-ner", data=made)
    (rec,) = lines(res.stdout)
    assert res.returncode == 0 and rec["error"] is None and len(rec["items"]) == 3


def test_stdin_among_other_inputs_and_failures_on_stdin(tmp_path):
    res = piped("parse", LETTERS, "-", "--out", "-", "--no-ner", data=LETTER.read_bytes())
    assert res.returncode == 0, res.stderr
    assert [r["id"] for r in lines(res.stdout)] == sorted(p.stem for p in LETTERS.glob("*.txt")) + ["stdin"]
    for data, kind in ((b"", "empty_input"), (b"\x00\x01\x02" * 50, "binary_input"),
                       (b"%PDF-1.4\n1 0 obj\n<<", "unreadable_pdf")):
        res = piped("parse", "-", "--out", "-", "--no-ner", data=data)
        assert res.returncode == 1, res.stderr  # a letter failed, with its record
        (rec,) = lines(res.stdout)
        assert rec["error"]["type"] == kind and rec["id"] == "stdin"
    out = tmp_path / "o.jsonl"  # stdin in, a file out
    res = piped("parse", "-", "--out", out, "--no-ner", data=LETTER.read_bytes())
    assert res.returncode == 0 and res.stdout == b""
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["stdin"]


def test_score_stdin_to_stdout(tmp_path):
    res = piped("score", "-", "--out", "-", "--jobs", 1, "--include-text", data=LETTER.read_bytes(), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    (rec,) = lines(res.stdout)
    assert rec["id"] == "stdin" and all("prediction" in it for it in rec["items"])
    assert set(rec["provenance"]["models"]) == {"ner", "classifier"}
    assert all(rec["text"][e["start"]:e["end"]] == e["text"] for e in rec["entities"])
    assert res.stderr.decode().strip().splitlines()[-1].startswith("letters=1 items=3 overturned=1 ")
    assert os.listdir(tmp_path) == []  # no journal, no lock: written as it goes


def test_score_to_stdout_with_workers_equals_the_file_output(tmp_path):
    out = tmp_path / "s.jsonl"
    res = imr("score", LETTERS, PDF, "--out", out, "--jobs", 2, "--batch-size", 1)
    assert res.returncode == 0, res.stderr
    res = piped("score", LETTERS, PDF, "--out", "-", "--jobs", 2, "--batch-size", 1)
    assert res.returncode == 0, res.stderr
    assert res.stdout == out.read_bytes()  # same records, same order, same provenance, nothing else
    assert len(lines(res.stdout)) == 4


def test_stdout_refuses_csv_and_parquet():
    for command in ("parse", "score"):
        for fmt in ("csv", "parquet"):
            res = piped(command, LETTERS, "--out", "-", "--format", fmt)
            assert res.returncode == 2 and res.stdout == b"", res.stderr
            assert b"JSON Lines only" in res.stderr
