"""`imr` keeps its word (issue 17): -v anywhere, every option documented with its default, the
output format from `--out`, no silent empty runs, `imr report` refusing what it cannot read, and
a missing optional extra named in one line."""
import argparse
import csv
import json
import subprocess
import sys

import pytest

from conftest import LETTERS
from imr import batch
from imr.cli import build_parser
from nlp.output import Journal
from test_cli import imr

LETTER_IDS = ["000_9f49410813e2b735", "001_37e0e7a9dfbd6631", "002_9c890e9297bcac86"]


def imr_without(module, *args):
    """`imr ARGS` in a subprocess where importing `module` fails (an extra not installed)."""
    code = (f"import sys; sys.modules[{module!r}] = None; from imr.cli import main; "
            f"sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def one_line(res) -> str:
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in res.stderr
    return lines[0]


def subparsers(parser, path=("imr",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from subparsers(sub, (*path, name))


# ------------------------------------------------------------------ 1. -v before or after
def test_verbose_is_accepted_before_and_after_every_subcommand():
    ap = build_parser()
    for path, p in subparsers(ap):
        assert "--verbose" in p._option_string_actions and "-v" in p._option_string_actions, path
    base = ["parse", "x.txt", "--out", "o.jsonl"]
    assert ap.parse_args(base).verbose is False
    assert ap.parse_args(["-v", *base]).verbose is True
    assert ap.parse_args([*base, "-v"]).verbose is True
    assert ap.parse_args([*base, "--verbose"]).verbose is True
    assert ap.parse_args(["evaluate", "ner", "-v"]).verbose is True
    assert ap.parse_args(["-v", "train", "ner"]).verbose is True  # the subcommand does not reset it


def test_verbose_after_the_subcommand_runs(tmp_path):
    out = tmp_path / "o.jsonl"
    res = imr("parse", LETTERS, "--out", out, "--no-ner", "-v")
    assert res.returncode == 0, res.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3


# ------------------------------------------------------------------ 2. help everywhere
def test_every_option_has_help_and_shows_its_default():
    ap = build_parser()
    missing = []
    for path, p in subparsers(ap):
        assert issubclass(p.formatter_class, argparse.ArgumentDefaultsHelpFormatter), path
        for a in p._actions:
            if a.option_strings and not isinstance(a, argparse._HelpAction) and not (a.help or "").strip():
                missing.append((" ".join(path), a.option_strings))
    assert missing == []
    sub = dict(subparsers(ap))
    assert "(default: 20000)" in sub[("imr", "corpus", "build")].format_help()
    assert "(default: 25)" in sub[("imr", "report")].format_help()
    assert sub[("imr", "report")].format_help().count("default") == 1  # not said twice


# ------------------------------------------------------------------ 3. format from --out
def test_parse_output_format_follows_out_suffix(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    out_csv, out_pq, out_jsonl = tmp_path / "items.csv", tmp_path / "items.parquet", tmp_path / "x.csv"
    for out in (out_csv, out_pq):
        res = imr("parse", LETTERS, "--out", out, "--no-ner")
        assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == [LETTER_IDS[0]] * 2 + [LETTER_IDS[1]] * 3 + [LETTER_IDS[2]]
    table = pq.read_table(out_pq)
    assert table.num_rows == 6 and table.column("id").to_pylist() == [r["id"] for r in rows]
    res = imr("parse", LETTERS, "--out", out_jsonl, "--format", "jsonl", "--no-ner")  # --format wins
    assert res.returncode == 0, res.stderr
    assert [json.loads(line)["id"] for line in out_jsonl.read_text(encoding="utf-8").splitlines()] == LETTER_IDS


# ------------------------------------------------------------------ 4. nothing to do
@pytest.mark.parametrize("command", ["parse", "score"])
def test_inputs_without_any_letter_exit_2(tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    for inputs in ([empty], [tmp_path / "nothing" / "*.txt"], [empty, tmp_path / "*.pdf"]):
        out = tmp_path / "out.jsonl"
        res = imr(command, *inputs, "--out", out, "--jobs" if command == "score" else "--no-ner",
                  *(["1"] if command == "score" else []))
        assert res.returncode == 2, res.stderr
        assert "no letter" in one_line(res) and "letters=0" not in res.stderr
        assert not out.exists() and not list(tmp_path.glob("out.jsonl*"))  # nothing written


def test_a_missing_file_is_still_a_record_and_a_resumed_complete_run_still_has_letters(tmp_path, monkeypatch):
    res = imr("parse", tmp_path / "nope.txt", "--out", tmp_path / "o.jsonl", "--no-ner")
    assert res.returncode == 1  # one letter, failed: not_found (unchanged)
    out = tmp_path / "scored.jsonl"
    inputs = [str(LETTERS)]

    def killed(self, out, fmt):
        raise KeyboardInterrupt

    monkeypatch.setattr(Journal, "finish", killed)  # every record written, the output never published
    with pytest.raises(KeyboardInterrupt):
        batch.score(inputs, out, jobs=1)
    monkeypatch.undo()
    assert not out.exists() and len(batch.partial_path(out).read_text(encoding="utf-8").splitlines()) == 3
    res = imr("score", *inputs, "--out", out, "--jobs", 1)
    assert res.returncode == 0, res.stderr
    assert "letters=3 " in res.stderr and "resumed=3" in res.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3


# ------------------------------------------------------------------ 5. report reads JSON Lines
def test_report_refuses_csv_parquet_and_other_files(tmp_path):
    scored_csv, scored_pq = tmp_path / "scored.csv", tmp_path / "scored.parquet"
    for out in (scored_csv, scored_pq):
        assert imr("parse", LETTERS, "--out", out, "--no-ner").returncode == 0
    (tmp_path / "blank.jsonl").write_text("\n\n", encoding="utf-8")
    (tmp_path / "list.jsonl").write_text("[1, 2]\n", encoding="utf-8")
    for bad in (scored_csv, scored_pq, tmp_path / "blank.jsonl", tmp_path / "list.jsonl"):
        res = imr("report", bad, "--out", tmp_path / "rep")
        assert res.returncode == 2, (bad.name, res.stderr)
        line = one_line(res)
        assert "JSON Lines" in line and "0 items" not in line, line
    assert not (tmp_path / "rep").exists()  # refused before anything was written


# ------------------------------------------------------------------ 6. missing extras
def test_report_without_matplotlib_names_the_extra(tmp_path):
    scored = tmp_path / "s.jsonl"
    assert imr("parse", LETTERS, "--out", scored, "--no-ner").returncode == 0
    res = imr_without("matplotlib", "report", scored, "--out", tmp_path / "rep")
    assert res.returncode == 2
    assert "pip install 'imr-nlp[report]'" in one_line(res)
    assert not (tmp_path / "rep").exists()


def test_dask_backend_without_distributed_names_the_extra(tmp_path):
    out = tmp_path / "o.jsonl"
    res = imr_without("distributed", "score", LETTERS, "--out", out, "--backend", "dask", "--jobs", 1)
    assert res.returncode == 2
    assert "pip install 'imr-nlp[dask]'" in one_line(res)
    assert not list(tmp_path.glob("o.jsonl*"))


def test_serve_without_uvicorn_names_the_extra():
    res = imr_without("uvicorn", "serve", "--port", 1)
    assert res.returncode == 2
    assert "pip install 'imr-nlp[serve]'" in one_line(res)


def test_an_extra_missing_deeper_in_a_command_is_caught_at_the_cli(monkeypatch, capsys):
    from imr import cli

    def needs_matplotlib(args):
        import matplotlib  # noqa: F401

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    ap = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: ap)
    dict(subparsers(ap))[("imr", "evaluate")].set_defaults(func=needs_matplotlib)
    assert cli.main(["evaluate", "--data", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "imr evaluate: needs the report extra" in err
    assert "pip install 'imr-nlp[report]'" in err
