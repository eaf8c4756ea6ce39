"""`imr score` / imr.batch: order, formats, parallel backends, resume after a kill, progress."""
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import LETTERS, REAL
from imr import batch
from nlp.output import Journal
from nlp.reading import RawDocument

LETTER_IDS = ["000_9f49410813e2b735", "001_37e0e7a9dfbd6631", "002_9c890e9297bcac86"]
TEXTS = [(LETTERS / f"{i}.txt").read_text(encoding="utf-8") for i in LETTER_IDS]
ITEMS_PER_LETTER = [2, 3, 1]  # items of the 3 shared letters; letter 001's item 2 is overturned


def imr(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "imr", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})}, **kw)


def summary_line(res):
    """The last stderr line (`imr score`'s summary; warnings may come before it)."""
    return res.stderr.strip().splitlines()[-1]


def letters_jsonl(path, n, dup_every=0, bad_at=None):
    """n JSONL lines cycling the 3 shared letters with distinct ids; every `dup_every`-th line
    repeats the previous line's id and text; line `bad_at` (1-based) is not JSON."""
    lines, ids = [], []
    for k in range(n):
        if bad_at is not None and k + 1 == bad_at:
            lines.append("{not json")
            ids.append(f"{path.stem}-{k + 1}")
            continue
        if dup_every and k and k % dup_every == 0 and ids and not ids[-1].startswith(path.stem):
            rid, text = ids[-1], TEXTS[(k - 1) % 3]
        else:
            rid, text = f"L{k:05d}", TEXTS[k % 3]
        lines.append(json.dumps({"id": rid, "text": text}))
        ids.append(rid)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


def read_ids(path):
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_local_jobs_1_and_2_write_identical_files_in_input_order(tmp_path):
    inputs = [str(LETTERS), str(REAL)]
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    s1 = batch.score(inputs, one, jobs=1, batch_size=64)
    res = imr("score", *inputs, "--out", two, "--jobs", 2, "--batch-size", 5)
    assert res.returncode == 0, res.stderr
    assert one.read_bytes() == two.read_bytes()
    expected = LETTER_IDS + sorted(p.stem for p in REAL.glob("*.pdf"))
    assert read_ids(one) == expected
    assert (s1.letters, s1.items, s1.overturned, s1.failed) == (67, 167, 21, 0)
    line = summary_line(res)  # with a classifier bundled, predicted figures stand between these parts
    assert line.startswith("letters=67 items=167 overturned=21 (12.6% of 167 decided items) ")
    assert " failed=0 resumed=0 in " in line
    assert "\r" not in res.stderr  # no progress bar when stderr is not a terminal
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.jsonl", "two.jsonl"]  # no journal left


def test_csv_and_parquet_have_a_row_per_item_and_a_row_per_failed_letter(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    d = tmp_path / "in"
    d.mkdir()
    for i in LETTER_IDS:
        (d / f"{i}.txt").write_text(TEXTS[LETTER_IDS.index(i)], encoding="utf-8")
    (d / "empty.txt").write_bytes(b"")
    (d / "zz_garbage.txt").write_bytes(b"\x00\x01" * 50)
    out_csv, out_pq = tmp_path / "o.csv", tmp_path / "o.parquet"
    res = imr("score", d, "--out", out_csv, "--jobs", 1)
    assert res.returncode == 1  # two letters failed
    line = summary_line(res)
    assert line.startswith("letters=5 items=6 overturned=1 (16.7% of 6 decided items) ")
    assert " failed=2 (binary_input=1, empty_input=1) resumed=0 in " in line
    assert imr("score", d, "--out", out_pq, "--jobs", 1).returncode == 1
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    expected = [("000_9f49410813e2b735", "1", "upheld", ""), ("000_9f49410813e2b735", "2", "upheld", ""),
                ("001_37e0e7a9dfbd6631", "1", "upheld", ""), ("001_37e0e7a9dfbd6631", "2", "overturned", ""),
                ("001_37e0e7a9dfbd6631", "3", "upheld", ""), ("002_9c890e9297bcac86", "1", "upheld", ""),
                ("empty", "", "", "empty_input"), ("zz_garbage", "", "", "binary_input")]
    assert [(r["id"], r["item_index"], r["decision"], r["error_type"]) for r in rows] == expected
    assert {"predicted_decision", "p_overturned", "forecast_p_overturned"} <= set(rows[0])
    table = pq.read_table(out_pq)
    assert table.column_names == list(rows[0])
    assert str(table.schema.field("item_index").type) == "int64"
    assert str(table.schema.field("p_overturned").type) == "double"
    got = [(r["id"], r["item_index"], r["decision"], r["error_type"]) for r in table.to_pylist()]
    assert got == [(i, int(k) if k else None, dec or None, e or None) for i, k, dec, e in expected]
    assert table.column("request").to_pylist() == [r["request"] or None for r in rows]


def test_duplicate_ids_each_get_a_record(tmp_path):
    src = tmp_path / "dups.jsonl"
    ids = letters_jsonl(src, 9, dup_every=3)
    assert ids == ["L00000", "L00001", "L00002", "L00002", "L00004", "L00005", "L00005", "L00007", "L00008"]
    out = tmp_path / "o.jsonl"
    batch.score([str(src)], out, jobs=1, batch_size=2)
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in recs] == ids
    assert [r["source"] for r in recs] == [f"{src}:{k}" for k in range(1, 10)]


class _Interrupt(Exception):
    pass


def test_interrupted_run_resumes_to_the_same_file(tmp_path, monkeypatch):
    src = tmp_path / "in.jsonl"
    ids = letters_jsonl(src, 23, dup_every=4, bad_at=11)
    ref = tmp_path / "ref.jsonl"
    ref_summary = batch.score([str(src)], ref, jobs=1, batch_size=23)
    out = tmp_path / "out.jsonl"
    real = batch.score_batch
    calls = []

    def dying(model_dir, docs):  # the third batch never comes back
        calls.append(len(docs))
        if len(calls) == 3:
            raise _Interrupt()
        return real(model_dir, docs)

    monkeypatch.setattr(batch, "score_batch", dying)
    with pytest.raises(_Interrupt):
        batch.score([str(src)], out, jobs=1, batch_size=4)
    monkeypatch.setattr(batch, "score_batch", real)
    assert not out.exists()
    partial = batch.partial_path(out)
    assert read_ids(partial) == ids[:8]
    with open(partial, "ab") as fh:
        fh.write(b'{"id":"L00008","source":"torn')  # a kill in the middle of a line
    s = batch.score([str(src)], out, jobs=1, batch_size=5)
    assert out.read_bytes() == ref.read_bytes()
    assert not partial.exists() and not list(tmp_path.glob("*.partial*"))
    assert (s.letters, s.resumed, s.items, s.failed, dict(s.errors)) == (
        23, 8, ref_summary.items, 1, {"bad_record": 1})


class RunStopped(Exception):
    """Raised inside a batch to stop a run the way a crash does (`interrupted_score`)."""


def interrupted_score(monkeypatch, inputs: list[str], out, *args, stop_at: str, **kwargs) -> None:
    """`batch.score(inputs, out, *args, **kwargs)` stopped by a crash in the batch whose first
    letter is `stop_at`: the records before it stay in OUT.partial."""
    real = batch.score_batch

    def dying(model_dir, docs):
        if docs[0].id == stop_at:
            raise RunStopped()
        return real(model_dir, docs)

    monkeypatch.setattr(batch, "score_batch", dying)
    with pytest.raises(RunStopped):
        batch.score(inputs, out, *args, **kwargs)
    monkeypatch.setattr(batch, "score_batch", real)


def test_resume_refuses_a_journal_of_other_inputs(tmp_path, monkeypatch):
    src = tmp_path / "in.jsonl"
    letters_jsonl(src, 6)
    out = tmp_path / "o.jsonl"
    real = batch.score_batch

    def dying(model_dir, docs):
        if docs[0].id != "L00000":
            raise _Interrupt()
        return real(model_dir, docs)

    monkeypatch.setattr(batch, "score_batch", dying)
    with pytest.raises(_Interrupt):
        batch.score([str(src)], out, jobs=1, batch_size=2)
    monkeypatch.setattr(batch, "score_batch", real)
    assert read_ids(batch.partial_path(out)) == ["L00000", "L00001"]
    with pytest.raises(batch.ResumeMismatch, match="other inputs"):
        batch.score([str(src), str(LETTERS)], out, jobs=1)
    src.write_text(src.read_text(encoding="utf-8").replace('"L00001"', '"X"'), encoding="utf-8")
    with pytest.raises(batch.ResumeMismatch, match="input #2 is not the one recorded"):
        batch.score([str(src)], out, jobs=1)
    res = imr("score", src, "--out", out, "--jobs", 1)
    assert res.returncode == 2 and "rerun with --restart" in res.stderr and not out.exists()
    res = imr("score", src, "--out", out, "--jobs", 1, "--restart")
    assert res.returncode == 0, res.stderr
    assert read_ids(out) == ["L00000", "X", "L00002", "L00003", "L00004", "L00005"]


def test_sigkilled_run_resumes_to_the_same_file(tmp_path):
    """A real `imr score --jobs 2` process group killed with SIGKILL mid-run, then rerun."""
    src = tmp_path / "in.jsonl"
    ids = letters_jsonl(src, 240, dup_every=7, bad_at=100)
    ref = tmp_path / "ref.jsonl"
    batch.score([str(src)], ref, jobs=1, batch_size=64)
    out = tmp_path / "out.jsonl"
    partial = batch.partial_path(out)
    cmd = [sys.executable, "-m", "imr", "score", str(src), "--out", str(out), "--jobs", "2", "--batch-size", "4"]
    proc = subprocess.Popen(cmd, env={**os.environ, batch.SLEEP_ENV: "0.1"}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if partial.exists() and partial.read_bytes().count(b"\n") >= 30:
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    done = partial.read_bytes().count(b"\n")
    assert 30 <= done < len(ids)
    res = imr("score", src, "--out", out, "--jobs", 2, "--batch-size", 16)
    assert res.returncode == 1  # line 100 is not JSON
    assert f" failed=1 (bad_record=1) resumed={done} in " in summary_line(res)
    assert out.read_bytes() == ref.read_bytes()
    assert read_ids(out) == ids
    assert not partial.exists()


def test_dask_cluster_gives_the_same_file(tmp_path):
    distributed = pytest.importorskip("distributed")
    src = tmp_path / "in.jsonl"
    letters_jsonl(src, 40)
    local, remote = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    batch.score([str(src)], local, jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        res = imr("score", src, "--out", remote, "--backend", "dask", "--scheduler", cluster.scheduler_address,
                  "--batch-size", 4)
        assert res.returncode == 0, res.stderr
        with distributed.Client(cluster) as client:  # both workers took part
            processed = client.run(eval, "len(__import__('imr.batch', fromlist=['x'])._SCORERS)")
    assert remote.read_bytes() == local.read_bytes()
    assert len(read_ids(remote)) == 40
    assert sorted(processed.values()) == [1, 1]  # each worker loaded the scorer exactly once


def test_a_scorer_failure_costs_only_the_failing_letter(monkeypatch):
    class Flaky:
        def process(self, docs):
            for d in docs:
                if d.id == "bad":
                    raise ValueError("boom")
                yield {"id": d.id, "source": d.source, "items": [], "error": None}

    monkeypatch.setitem(batch._SCORERS, None, Flaky())
    docs = [RawDocument(i, f"s{i}", "text", None) for i in ("a", "bad", "c")]
    recs = batch.score_batch(None, docs)
    assert [(r["id"], r["error"]) for r in recs] == [
        ("a", None), ("bad", {"type": "internal_error", "message": "scorer failed: ValueError"}), ("c", None)]


def test_journal_recover_truncates_a_torn_or_corrupt_tail(tmp_path):
    p = tmp_path / "j.partial"
    good = b'{"id":"a","source":"x"}\n{"id":"b","source":"y"}\n'
    p.write_bytes(good + b'{"id":"c","sou')
    assert Journal(p).recover() == 2 and p.read_bytes() == good
    p.write_bytes(good + b"\x00\x00\x00\n" + b'{"id":"d","source":"z"}\n')  # garbage after a crash
    assert Journal(p).recover() == 2 and p.read_bytes() == good
    assert Journal(tmp_path / "none").recover() == 0


def test_progress_line_and_total_estimate(tmp_path):
    buf = io.StringIO()  # the bar is tqdm's (tests/test_progress.py has the rest)
    p = batch.Progress(total=10, stream=buf, enabled=True)
    p.update(5, force=True)
    assert "imr score:  50%" in buf.getvalue() and "5/10" in buf.getvalue()
    p.close(10)
    assert "10/10" in buf.getvalue() and buf.getvalue().endswith("\n")
    quiet = batch.Progress(total=10, stream=io.StringIO())  # StringIO is not a TTY
    quiet.update(5, force=True)
    quiet.close(5)
    assert not quiet.enabled and quiet.stream.getvalue() == ""
    src = tmp_path / "a.jsonl"
    letters_jsonl(src, 7)
    with open(src, "a", encoding="utf-8") as fh:
        fh.write("\n\n")
    txt = LETTERS / f"{LETTER_IDS[0]}.txt"
    assert batch.estimate_total([str(src), str(txt)]) == 8
    assert batch.estimate_total([str(LETTERS)]) == 3  # folders and globs are counted by the reader's walk
    assert batch.estimate_total([str(tmp_path / "*.jsonl")]) == 7
