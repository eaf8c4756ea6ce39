"""CSV and Parquet outputs say what made them, like JSON Lines records: every row ends with the
record's `provenance`, flattened (`imr_version`, `model_ner`, `model_classifier`), after the
existing columns in their order. A resumed CSV / Parquet score run is byte-identical to an
uninterrupted one. `--include-text` stays JSON Lines only (refused with exit 2 otherwise)."""
from __future__ import annotations

import csv
import importlib.metadata

import pytest

from conftest import LETTERS
from imr import batch, cli
from models.bundle import model_digests
from nlp.output import CSV_COLUMNS, PREDICTION_COLUMNS, PROVENANCE_COLUMNS
from test_batch import interrupted_score, letters_jsonl

pq = pytest.importorskip("pyarrow.parquet")

VERSION = importlib.metadata.version("imr-nlp")


@pytest.fixture(scope="module")
def digests() -> dict:
    d = model_digests()
    assert set(d) == {"ner", "classifier"}
    return d


def csv_table(path) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def parquet_table(path) -> tuple[list[str], list[dict]]:
    table = pq.read_table(path)
    return table.column_names, table.to_pylist()


def read_table(path, fmt):
    return csv_table(path) if fmt == "csv" else parquet_table(path)


def provenance_of(rows: list[dict], fmt: str) -> set[tuple]:
    """The distinct (imr_version, model_ner, model_classifier) of the rows, CSV's "" as None."""
    return {tuple((r[c] if fmt == "parquet" else (r[c] or None)) for c in PROVENANCE_COLUMNS) for r in rows}


def run_cli(capsys, *args) -> tuple[int, str]:
    code = cli.main([str(a) for a in args])
    _out, err = capsys.readouterr()
    return code, err


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_parse_rows_carry_the_provenance_columns(tmp_path, capsys, digests, fmt):
    out = tmp_path / f"p.{fmt}"
    code, err = run_cli(capsys, "parse", LETTERS, "--out", out, "-q")
    assert code == 0, err
    columns, rows = read_table(out, fmt)
    assert columns == CSV_COLUMNS + PROVENANCE_COLUMNS  # the old columns first, in their order
    assert len(rows) > 3  # one row per item
    assert provenance_of(rows, fmt) == {(VERSION, digests["ner"], None)}

    out = tmp_path / f"no-ner.{fmt}"
    code, err = run_cli(capsys, "parse", LETTERS, "--out", out, "--no-ner", "-q")
    assert code == 0, err
    columns, rows = read_table(out, fmt)
    assert columns == CSV_COLUMNS + PROVENANCE_COLUMNS
    assert provenance_of(rows, fmt) == {(VERSION, None, None)}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_score_rows_carry_the_provenance_columns(tmp_path, digests, fmt):
    out = tmp_path / f"s.{fmt}"
    summary = batch.score([str(LETTERS)], out, fmt, jobs=1)
    assert summary.letters == 3 and summary.failed == 0
    columns, rows = read_table(out, fmt)
    assert columns == CSV_COLUMNS + PREDICTION_COLUMNS + PROVENANCE_COLUMNS
    assert len(rows) == summary.items
    assert provenance_of(rows, fmt) == {(VERSION, digests["ner"], digests["classifier"])}
    if fmt == "parquet":
        schema = pq.read_schema(out)
        assert all(str(schema.field(c).type) == "string" for c in PROVENANCE_COLUMNS)


def test_failed_letters_rows_carry_the_provenance_too(tmp_path, digests):
    d = tmp_path / "in"
    d.mkdir()
    (d / "empty.txt").write_bytes(b"")
    (d / "garbage.txt").write_bytes(b"\x00\x01" * 50)
    out = tmp_path / "s.csv"
    batch.score([str(d)], out, "csv", jobs=1)
    _columns, rows = csv_table(out)
    assert [r["error_type"] for r in rows] == ["empty_input", "binary_input"]
    assert provenance_of(rows, "csv") == {(VERSION, digests["ner"], digests["classifier"])}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_resumed_csv_or_parquet_run_is_byte_identical(tmp_path, monkeypatch, fmt):
    src = tmp_path / "in.jsonl"
    letters_jsonl(src, 6)
    ref, out = tmp_path / f"ref.{fmt}", tmp_path / f"o.{fmt}"
    batch.score([str(src)], ref, fmt, jobs=1)
    interrupted_score(monkeypatch, [str(src)], out, fmt, jobs=1, batch_size=2, stop_at="L00004")
    assert not out.exists() and batch.partial_path(out).exists()
    s = batch.score([str(src)], out, fmt, jobs=1, batch_size=3)
    assert s.resumed == 4 and s.letters == 6
    assert out.read_bytes() == ref.read_bytes()
    assert not batch.partial_path(out).exists()


@pytest.mark.parametrize("command", ["parse", "score"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_include_text_with_csv_or_parquet_is_refused_clearly(tmp_path, capsys, command, fmt):
    out = tmp_path / f"o.{fmt}"
    code, err = run_cli(capsys, command, LETTERS, "--out", out, "--include-text")
    assert code == 2
    assert "--include-text needs JSON Lines output" in err and fmt in err and "--format jsonl" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []
