"""Issue 16, inputs and outputs: nothing hangs, nothing is lost.

Lone surrogates are replaced at reading (length kept) and can never crash a writer; FIFOs,
sockets and devices are never opened; symlink loops are walked once; a corrupt Parquet row
group costs only its own rows; one writer per output (a lock with the holder's pid, stale locks
and temporaries of killed runs cleaned up); UTF-16 without a BOM is text.
"""
import json
import os
import subprocess
import sys
import time

import pytest

from conftest import LETTERS
from nlp import errors
from nlp.output import (
    Journal,
    OutputLock,
    OutputLocked,
    json_line,
    lock_path,
    read_jsonl_records,
    write_records,
)
from nlp.reading import decode_text, iter_documents

LETTER_IDS = ["000_9f49410813e2b735", "001_37e0e7a9dfbd6631", "002_9c890e9297bcac86"]
TEXT = (LETTERS / "002_9c890e9297bcac86.txt").read_text(encoding="utf-8")
HEADING = "Prosom 2mg, #30 with 2 refills"  # the item heading of letter 002


def imr(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "imr", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def popen_imr(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "imr", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def err(rec):
    return (rec.get("error") or {}).get("type")


def copy_letters(directory):
    directory.mkdir(parents=True, exist_ok=True)
    for name in LETTER_IDS:
        (directory / f"{name}.txt").write_bytes((LETTERS / f"{name}.txt").read_bytes())


# ----------------------------------------------------------------------------- lone surrogates

def surrogate_jsonl(path):
    at = TEXT.index(HEADING) + 3  # "Pro\udc80om ..." in the item heading
    bad_text = TEXT[:at] + "\udc80" + TEXT[at + 1:]
    lines = [json.dumps({"id": "CM\udc80-1", "text": bad_text}),  # json escapes: "\udc80"
             json.dumps({"id": "CM-2", "text": TEXT})]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return at, bad_text


def test_reading_replaces_a_lone_surrogate_in_place_keeping_length(tmp_path):
    src = tmp_path / "s.jsonl"
    at, bad_text = surrogate_jsonl(src)
    first, second = iter_documents([src])
    assert first.error is None and first.id == "CM\ufffd-1"
    assert len(first.text) == len(bad_text) == len(TEXT)
    assert first.text[at] == "\ufffd" and first.text[:at] == TEXT[:at] and first.text[at + 1:] == TEXT[at + 1:]
    assert second.text == TEXT and second.id == "CM-2"
    first.text.encode("utf-8")  # never raises


def test_parse_with_a_surrogate_in_id_and_heading_exits_normally(tmp_path):
    src = tmp_path / "s.jsonl"
    surrogate_jsonl(src)
    out = tmp_path / "o.jsonl"
    res = imr("parse", src, "--out", out)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    recs = records(out)
    assert [r["id"] for r in recs] == ["CM\ufffd-1", "CM-2"]  # one record per line
    assert recs[0]["items"][0]["request"] == HEADING.replace("Pros", "Pro\ufffd")
    assert recs[1]["items"][0]["request"] == HEADING


def test_score_with_a_surrogate_finishes(tmp_path):
    src = tmp_path / "s.jsonl"
    surrogate_jsonl(src)
    out = tmp_path / "o.jsonl"
    res = imr("score", src, "--out", out, "--jobs", 1, timeout=300)
    assert res.returncode == 0, res.stderr
    assert [r["id"] for r in records(out)] == ["CM\ufffd-1", "CM-2"]
    assert not list(tmp_path.glob("o.jsonl.*"))  # no journal, meta or lock left


def test_undecodable_file_name_gives_a_writable_id_and_source(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    with open(os.path.join(os.fsencode(d), b"CM\xff-3.txt"), "wb") as fh:  # not UTF-8: "\udcff"
        fh.write(TEXT.encode("utf-8"))
    (doc,) = iter_documents([d])
    assert (doc.id, doc.source, doc.error) == ("CM\ufffd-3", f"{d}/CM\ufffd-3.txt", None)
    out = tmp_path / "o.jsonl"
    res = imr("parse", d, "--out", out, "--no-ner", timeout=60)
    assert res.returncode == 0, res.stderr
    assert [r["id"] for r in records(out)] == ["CM\ufffd-3"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_writers_never_crash_on_a_lone_surrogate(tmp_path, fmt):
    rec = {"id": "a\udc80", "source": "s\ud800", "items": [{"index": 1, "request": "x\udfffy"}],
           "error": None}
    assert json_line(rec) == '{"id":"a\ufffd","source":"s\ufffd","items":[{"index":1,"request":"x\ufffdy"}],' \
                             '"error":null}\n'
    out = tmp_path / f"o.{fmt}"
    assert len(list(write_records([rec], out, fmt))) == 1
    if fmt == "jsonl":
        assert [r["id"] for r in read_jsonl_records(out)] == ["a\ufffd"]
    journal = Journal(tmp_path / "j.partial").open()
    journal.write(rec)
    journal.close()
    assert journal.recover() == 1


# ----------------------------------------------------------------------------- never block, never loop

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifo_in_an_input_folder_gets_a_typed_error_and_never_blocks(tmp_path):
    d = tmp_path / "in"
    copy_letters(d)
    for name in ("pipe.txt", "pipe2.jsonl", "pipe3.parquet", "pipe4.pdf"):
        os.mkfifo(d / name)
    out = tmp_path / "o.jsonl"
    res = imr("parse", d, d / "pipe.txt", "/dev/null", "--out", out, "--no-ner", timeout=60)
    assert res.returncode == 1, res.stderr
    assert "failed=6 (not_regular_file=6)" in res.stderr
    got = {(r["source"], err(r)) for r in records(out)}
    assert got == {(str(d / f"{n}.txt"), None) for n in LETTER_IDS} | {
        (str(d / "pipe.txt"), "not_regular_file"), (str(d / "pipe2.jsonl"), "not_regular_file"),
        (str(d / "pipe3.parquet"), "not_regular_file"), (str(d / "pipe4.pdf"), "not_regular_file"),
        ("/dev/null", "not_regular_file")}
    assert len(records(out)) == 3 + 4 + 1 + 1  # the FIFO given twice: twice
    messages = {r["error"]["message"] for r in records(out) if r["error"]}
    assert messages == {"a FIFO, not a regular file: not opened",
                        "a character device, not a regular file: not opened"}


def test_directory_symlink_loop_reads_each_letter_once(tmp_path):
    d = tmp_path / "in"
    copy_letters(d)
    (d / "sub").mkdir()
    (d / "sub2").mkdir()
    (d / "sub" / "up").symlink_to("..")  # in/sub/up -> in
    (d / "sub2" / "up").symlink_to("..")  # two loops: a naive `**` is exponential
    (d / "sub" / "self").symlink_to(".")
    assert [doc.id for doc in iter_documents([d])] == LETTER_IDS
    got = [doc.id for doc in iter_documents([f"{d}/**/*.txt"])]
    assert got == LETTER_IDS
    out = tmp_path / "o.jsonl"
    res = imr("parse", d, "--out", out, "--no-ner", timeout=60)
    assert res.returncode == 0, res.stderr
    assert [r["id"] for r in records(out)] == LETTER_IDS


# ----------------------------------------------------------------------------- Parquet row groups

def test_parquet_corrupt_middle_row_group_costs_only_its_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "rows.parquet"
    n = 100
    table = pa.table({"id": [f"r{i}" for i in range(3 * n)],
                      "text": [f"letter {i} " + TEXT[i % 500:(i % 500) + 300] for i in range(3 * n)]})
    pq.write_table(table, p, row_group_size=n, compression="snappy")
    meta = pq.ParquetFile(p).metadata
    assert meta.num_row_groups == 3
    data = bytearray(p.read_bytes())
    group = meta.row_group(1)
    for c in range(group.num_columns):  # overwrite the column chunks' pages, past their first bytes
        col = group.column(c)
        start = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
        data[start + 40:start + col.total_compressed_size] = b"\xab" * (col.total_compressed_size - 40)
    p.write_bytes(bytes(data))
    docs = list(iter_documents([p]))
    assert len(docs) == 3 * n
    for i, doc in enumerate(docs):
        if n <= i < 2 * n:
            assert (doc.id, doc.source, doc.text) == (f"rows-{i}", f"{p}:{i}", None)
            assert doc.error.type == errors.BAD_RECORD
            assert doc.error.message.startswith("Parquet row group 1 could not be read (")
        else:
            assert (doc.id, doc.source, doc.error) == (f"r{i}", f"{p}:{i}", None)
            assert doc.text == table.column("text")[i].as_py()


# ----------------------------------------------------------------------------- one writer per output

def wait_for_pid(lock, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text().strip():
            return int(lock.read_text())
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("the first run never took its lock")


def jsonl_letters(path, n):
    ids = [f"L{k:03d}" for k in range(n)]
    texts = [(LETTERS / f"{LETTER_IDS[k % 3]}.txt").read_text(encoding="utf-8") for k in range(n)]
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in zip(ids, texts)),
                    encoding="utf-8")
    return ids


def test_second_score_on_the_same_out_refuses_with_the_pid(tmp_path):
    src = tmp_path / "in.jsonl"
    ids = jsonl_letters(src, 12)
    out = tmp_path / "o.jsonl"
    first = popen_imr("score", src, "--out", out, "--jobs", 1, "--batch-size", 2,
                      env={"IMR_BATCH_SLEEP": "0.5"})
    try:
        assert wait_for_pid(lock_path(out), first) == first.pid
        t0 = time.monotonic()
        second = imr("score", src, "--out", out, "--jobs", 1, "--restart", timeout=60)
        assert time.monotonic() - t0 < 30  # refused at once, not after waiting
        assert first.poll() is None  # the refusal came while the first run was running
        _, stderr = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert lines == [f"imr score: refused: {out} is being written by another run (pid {first.pid}); "
                     "wait for it to end or use another --out"]
    assert first.returncode == 0, stderr
    assert [r["id"] for r in records(out)] == ids  # each letter once, in order
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "o.jsonl"]


def test_two_runs_started_together_publish_each_letter_once(tmp_path):
    src = tmp_path / "in.jsonl"
    ids = jsonl_letters(src, 6)
    out = tmp_path / "o.jsonl"
    procs = [popen_imr("score", src, "--out", out, "--jobs", 1, "--batch-size", 2,
                       env={"IMR_BATCH_SLEEP": "0.3"}) for _ in range(2)]
    results = []
    for proc in procs:
        _, stderr = proc.communicate(timeout=300)
        results.append((proc.returncode, stderr))
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = next(s for code, s in results if code == 2)
    winner = next(p for p, (code, _) in zip(procs, results) if code == 0)
    assert f"(pid {winner.pid})" in loser
    assert [r["id"] for r in records(out)] == ids


def test_parse_refuses_an_output_locked_by_another_run(tmp_path):
    out = tmp_path / "o.jsonl"
    with OutputLock(out):
        with pytest.raises(OutputLocked) as info:
            OutputLock(out).acquire()
        assert info.value.pid == os.getpid()
        res = imr("parse", LETTERS, "--out", out, "--no-ner", timeout=60)
    assert res.returncode == 2
    assert res.stderr.strip() == (f"imr parse: refused: {out} is being written by another run "
                                  f"(pid {os.getpid()}); wait for it to end or use another --out")
    assert not out.exists() and not lock_path(out).exists()


def test_a_stale_lock_and_temporaries_of_a_killed_run_do_not_block(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "o.jsonl"
    lock_path(out).write_text(f"{dead.pid}\n")  # left by a killed run: no flock held any more
    stale = tmp_path / ".o.jsonl.k3x_9q2a.tmp"  # a killed `imr parse`'s temporary
    stale.write_text('{"id": "half')
    other = tmp_path / ".o.jsonl.csv.k3x_9q2a.tmp"  # another output's: kept
    other.write_text("x")
    res = imr("parse", LETTERS, "--out", out, "--no-ner", timeout=60)
    assert res.returncode == 0, res.stderr
    assert [r["id"] for r in records(out)] == LETTER_IDS
    assert not stale.exists() and other.exists()
    assert not lock_path(out).exists()


# ----------------------------------------------------------------------------- UTF-16 without BOM

@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_decoded(tmp_path, codec):
    text = TEXT.replace("\n", "\r\n") + " Café “quoted”"
    data = text.encode(codec)
    assert not data.startswith((b"\xff\xfe", b"\xfe\xff"))
    assert decode_text(data) == TEXT + " Café “quoted”"
    p = tmp_path / "u16.txt"
    p.write_bytes(data)
    (doc,) = iter_documents([p])
    assert doc.error is None and doc.text == TEXT + " Café “quoted”"
    out = tmp_path / "o.jsonl"
    res = imr("parse", p, "--out", out, "--no-ner", timeout=60)
    assert res.returncode == 0, res.stderr
    assert records(out)[0]["items"][0]["request"] == HEADING


def test_binary_with_nuls_is_still_binary(tmp_path):
    p = tmp_path / "blob.txt"
    p.write_bytes(bytes(range(256)) * 8)
    (doc,) = iter_documents([p])
    assert doc.error.type == errors.BINARY_INPUT
