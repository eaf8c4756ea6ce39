"""Exit status of `imr parse` and `imr score`: 0 all good, 1 some letters failed, 2 usage,
3 the run itself failed (a crash, models that cannot load, an output that cannot be written),
130 interrupted; the "run the same command again to resume" hint only where a rerun resumes;
a killed `imr parse` leaves no temporary file behind for good."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import LETTERS
from imr import batch, cli
from test_batch import letters_jsonl
from test_cli import imr

HINT = "run the same command again to resume"


def run(capsys, *args) -> tuple[int, str, str]:
    """`imr ARGS` in this process (so a failure can be injected with monkeypatch)."""
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(directory, name) -> list[str]:
    """Everything a run on `directory/name` may leave: the output, its journal, meta, lock, temporaries."""
    return sorted(p.name for p in directory.iterdir() if name in p.name)


# ------------------------------------------------------------------ documented
def test_help_documents_the_exit_status():
    ap = cli.build_parser()
    subs = {name: p for a in ap._actions if hasattr(a, "choices") and isinstance(a.choices, dict)
            for name, p in a.choices.items()}
    for text in (ap.format_help(), subs["parse"].format_help(), subs["score"].format_help()):
        flat = " ".join(text.split())
        assert "exit status" in flat
        for part in ("0 every letter read", "1 some letters failed", "2 usage error", "3 the run itself failed",
                     "130 interrupted"):
            assert part in flat, part
    assert (cli.EXIT_OK, cli.EXIT_LETTERS_FAILED, cli.EXIT_USAGE, cli.EXIT_RUN_FAILED) == (0, 1, 2, 3)


# ------------------------------------------------------------------ 2: usage
@pytest.mark.parametrize("command", ["parse", "score"])
def test_usage_errors_exit_2_without_a_resume_hint(tmp_path, capsys, command):
    out = tmp_path / "o.jsonl"
    cases = [
        ["--model", tmp_path / "no-such-model"],                 # a wrong --model
        ["--include-text", "--format", "csv"],                   # text needs JSON Lines
    ]
    for extra in cases:
        code, stdout, err = run(capsys, command, LETTERS, "--out", out, *extra)
        assert code == 2, (extra, err)
        assert HINT not in err and "resume" not in err and stdout == ""
    code, _, err = run(capsys, command, "-", "-", "--out", out)
    assert code == 2 and "only once" in err
    code, _, err = run(capsys, command, LETTERS, "--out", "-", "--format", "parquet")
    assert code == 2 and "JSON Lines only" in err
    with pytest.raises(SystemExit) as exc:
        cli.main([command, str(LETTERS), "--out", str(out), "--no-such-option"])
    assert exc.value.code == 2
    assert leftovers(tmp_path, "o.jsonl") == []


# ------------------------------------------------------------------ 3: models that cannot load
@pytest.mark.parametrize("command, jobs", [("parse", None), ("score", 1), ("score", 2)])
def test_a_model_that_fails_to_load_exits_3_without_a_resume_hint(tmp_path, command, jobs):
    model = tmp_path / "model"
    model.mkdir()  # exists, but holds no bundle
    out = tmp_path / "o.jsonl"
    res = imr(command, LETTERS, "--out", out, "--model", model, *(["--jobs", jobs] if jobs else []))
    assert res.returncode == 3, res.stderr
    assert "cannot load the models" in res.stderr and "nothing was written" in res.stderr
    assert HINT not in res.stderr and "resume" not in res.stderr and "Traceback" not in res.stderr
    assert leftovers(tmp_path, "o.jsonl") == []
    # the run after it is not asked to --restart: no journal of the failed run is in the way
    res = imr(command, LETTERS, "--out", out, *(["--no-ner"] if command == "parse" else ["--jobs", 1]))
    assert res.returncode == 0, res.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3


def test_a_model_that_fails_in_the_worker_exits_3_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import models.bundle

    def broken(model_dir=None):
        raise ValueError("unpickling failed")

    monkeypatch.setattr(models.bundle, "load_scorer", broken)  # passes the driver's checks, fails to load
    monkeypatch.setattr(batch, "_SCORERS", {})
    out = tmp_path / "o.jsonl"
    code, _, err = run(capsys, "score", LETTERS, "--out", out, "--jobs", 1)
    assert code == 3, err
    assert "cannot load the models of the bundled default: ValueError" in err
    assert HINT not in err and leftovers(tmp_path, "o.jsonl") == []


# ------------------------------------------------------------------ 3: crashes
def test_a_crashed_parse_exits_3_not_1_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    real = batch.parse_records

    def crashing(*args, **kw):
        for n, rec in enumerate(real(*args, **kw)):
            if n == 1:
                raise RuntimeError("a parser bug")
            yield rec

    monkeypatch.setattr(batch, "parse_records", crashing)
    out = tmp_path / "o.jsonl"
    code, _, err = run(capsys, "parse", LETTERS, "--out", out, "--no-ner")
    assert code == 3, err
    assert "imr parse: failed (RuntimeError)" in err and "a parser bug" not in err
    assert HINT not in err and "resume" not in err
    assert leftovers(tmp_path, "o.jsonl") == []  # no output, no temporary file, no lock


def test_an_output_that_cannot_be_written_exits_3(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    for command, extra in (("parse", ["--no-ner"]), ("score", ["--jobs", 1])):
        res = imr(command, LETTERS, "--out", blocker / "o.jsonl", *extra)  # its directory is a file
        assert res.returncode == 3, (command, res.stderr)
        assert HINT not in res.stderr and "Traceback" not in res.stderr


class _Boom(Exception):
    pass


@pytest.mark.parametrize("failure, code", [(_Boom, 3), (KeyboardInterrupt, 130)])
def test_score_resume_hint_only_when_a_partial_output_is_left(tmp_path, capsys, monkeypatch, failure, code):
    src = tmp_path / "in.jsonl"
    letters_jsonl(src, 4)
    out = tmp_path / "o.jsonl"
    real = batch.score_batch
    calls = []

    def failing_at(n):
        def task(model_dir, docs):
            calls.append(1)
            if len(calls) == n:
                raise failure()
            return real(model_dir, docs)
        return task

    # fails on the first batch: nothing to resume, so no hint and nothing left
    monkeypatch.setattr(batch, "score_batch", failing_at(1))
    got, _, err = run(capsys, "score", src, "--out", out, "--jobs", 1, "--batch-size", 1)
    assert got == code, err
    assert HINT not in err and leftovers(tmp_path, "o.jsonl") == []
    # fails on the third batch: two records are kept and the hint says how to resume
    calls.clear()
    monkeypatch.setattr(batch, "score_batch", failing_at(3))
    got, _, err = run(capsys, "score", src, "--out", out, "--jobs", 1, "--batch-size", 1)
    assert got == code, err
    assert f"{HINT} into {out}" in err
    assert len(batch.partial_path(out).read_text(encoding="utf-8").splitlines()) == 2
    monkeypatch.setattr(batch, "score_batch", real)
    got, _, err = run(capsys, "score", src, "--out", out, "--jobs", 1, "--batch-size", 1)
    assert got == 0, err
    assert "resumed=2" in err.strip().splitlines()[-1]
    assert leftovers(tmp_path, "o.jsonl") == ["o.jsonl"]


def test_some_letters_failed_is_still_1(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    letters_jsonl(src, 3, bad_at=2)
    code, _, err = run(capsys, "parse", src, "--out", tmp_path / "o.jsonl", "--no-ner")
    assert code == 1 and "failed=1 (bad_record=1)" in err


# ------------------------------------------------------------------ temporaries of a killed parse
def test_a_stale_temporary_is_removed_by_the_next_parse(tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    stale = tmp_path / ".o.jsonl.k3x_9abc.tmp"
    stale.write_text("half a record", encoding="utf-8")
    other = tmp_path / ".other.jsonl.k3x_9abc.tmp"  # another output's: not ours to remove
    other.write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "parse", LETTERS, "--out", out, "--no-ner")
    assert code == 0, err
    assert not stale.exists() and other.exists()
    assert leftovers(tmp_path, "o.jsonl") == ["o.jsonl"]


def test_a_killed_parse_leaves_a_temporary_that_the_rerun_removes(tmp_path):
    src = tmp_path / "in.jsonl"
    ids = letters_jsonl(src, 200)
    out = tmp_path / "o.jsonl"
    cmd = [sys.executable, "-m", "imr", "parse", str(src), "--out", str(out)]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            tmps = list(tmp_path.glob(".o.jsonl.*.tmp"))
            if tmps and tmps[0].stat().st_size > 0:
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists() and len(list(tmp_path.glob(".o.jsonl.*.tmp"))) == 1  # what a kill leaves
    res = imr("parse", src, "--out", out)
    assert res.returncode == 0, res.stderr
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ids
    assert leftovers(tmp_path, "o.jsonl") == ["o.jsonl"]  # the temporary is gone, and no lock file


def test_sigterm_stops_a_parse_with_130_and_no_temporary(tmp_path):
    src = tmp_path / "in.jsonl"
    letters_jsonl(src, 200)
    out = tmp_path / "o.jsonl"
    cmd = [sys.executable, "-m", "imr", "parse", str(src), "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(tmp_path.glob(".o.jsonl.*.tmp")):
        assert proc.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err and HINT not in err
    assert leftovers(tmp_path, "o.jsonl") == []
