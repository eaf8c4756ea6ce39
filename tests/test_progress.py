"""Progress (issue 17 part 3): the inputs counted by the reader's own walk (cheap: no letter is
read), the tqdm bar and the "loading models" line on stderr only on a terminal, `--quiet`."""
import fcntl
import io
import json
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

import pytest

from conftest import LETTERS
from imr import batch
from imr.cli import build_parser
from nlp.reading import count_documents, iter_documents

LETTER_IDS = sorted(p.stem for p in LETTERS.glob("*.txt"))
TEXT = (LETTERS / f"{LETTER_IDS[0]}.txt").read_text(encoding="utf-8")


def read_count(inputs, **kw):
    return sum(1 for _ in iter_documents(inputs, **kw))


def no_block(fn, *args, timeout=60, **kw):
    """`fn(*args, **kw)` in a daemon thread: the test fails instead of hanging if it blocks."""
    result = []
    th = threading.Thread(target=lambda: result.append(fn(*args, **kw)), daemon=True)
    th.start()
    th.join(timeout)
    assert result, f"{fn.__name__} blocked"
    return result[0]


JSONL_LINES = [json.dumps({"id": "j1", "text": TEXT}), "", "   ", "{not json", "[1, 2]",
               json.dumps({"text": "short"}) + "\r", "\t\r", json.dumps({"id": "j3", "text": TEXT})]
JSONL_RECORDS = 5  # the lines that are not blank


@pytest.fixture
def archive(tmp_path):
    """Nested folders with every kind of unit, hidden and foreign names, two symlink loops and
    two FIFOs; returns (root, the number of documents the reader yields)."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    root = tmp_path / "archive"
    c = root / "a" / "b" / "c"
    c.mkdir(parents=True)
    (root / "one.txt").write_text(TEXT, encoding="utf-8")
    (root / "a" / "two.TXT").write_text(TEXT, encoding="utf-8")
    (root / "a" / "notes.md").write_text("not a letter suffix", encoding="utf-8")
    (root / "a" / ".hidden.txt").write_text(TEXT, encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "x.txt").write_text(TEXT, encoding="utf-8")
    (root / "a" / "b" / "bad.pdf").write_bytes(b"%PDF-1.4 garbage")
    (root / "a" / "b" / "empty.txt").write_bytes(b"")
    (c / "many.jsonl").write_text("\n".join(JSONL_LINES), encoding="utf-8")  # no final newline
    (root / "a" / "b" / "up").symlink_to("..")  # a loop back to a/
    (c / "top").symlink_to(root)  # a loop back to the root
    os.mkfifo(root / "a" / "fifo.txt")
    os.mkfifo(c / "fifo.jsonl")
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(5)], "text": [TEXT] * 5}), root / "rows.parquet",
                   row_group_size=2)
    pq.write_table(pa.table({"body": ["x", "y"]}), root / "a" / "notext.parquet")
    expected = 1 + 1 + 1 + 1 + JSONL_RECORDS + 1 + 1 + 5 + 1
    return root, expected


def test_count_of_a_folder_equals_what_the_reader_yields(archive):
    root, expected = archive
    assert no_block(count_documents, [root]) == expected
    assert no_block(read_count, [root]) == expected
    assert batch.estimate_total([str(root)]) == expected
    assert batch.estimate_total([str(root), "-", str(root / "one.txt")]) == expected + 2  # stdin is one letter


def test_count_of_globs_and_odd_inputs_equals_what_the_reader_yields(archive):
    root, _ = archive
    inputs = [
        [f"{root}/**/*.txt"],  # ** enters each real directory once despite the loops
        [f"{root}/**/*.jsonl"],
        [f"{root}/**"],
        [f"{root}/a/*"],  # files of any suffix, and directories walked
        [f"{root}/*.parquet", f"{root}/a/*.parquet"],
        [f"{root}/nothing*"],  # no match: one not_found record
        [str(root / "missing.txt")],
        [str(root / "a" / "fifo.txt"), str(root / "a" / "b" / "c" / "fifo.jsonl")],  # FIFOs given by name
        [str(root / "a" / "b" / "up"), str(root / "a" / "b" / "c")],
    ]
    for given in inputs:
        n = no_block(count_documents, given)
        assert n == no_block(read_count, given), given
        assert n == batch.estimate_total(given), given
    assert count_documents([f"{root}/**/*.txt"]) == 3  # one, empty, fifo (a glob is case-sensitive: not two.TXT)


def test_count_of_a_saved_dataset_is_its_rows(tmp_path):
    datasets = pytest.importorskip("datasets")
    d = tmp_path / "in"
    datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": ["a", "b", "c"]}),
                          "test": datasets.Dataset.from_dict({"text": ["d"]}),
                          "meta": datasets.Dataset.from_dict({"n": [1, 2]})}).save_to_disk(str(d / "ds"))
    (d / "x.txt").write_text(TEXT, encoding="utf-8")
    assert count_documents([d]) == read_count([d]) == 3 + 1 + 1 + 1  # a split without text: one record
    assert count_documents([d / "ds"]) == read_count([d / "ds"]) == 5


def test_jsonl_count_matches_the_reader_line_by_line(tmp_path):
    path = tmp_path / "odd.jsonl"
    lines = [b"\xef\xbb\xbf", b" " * 80, b" " * 40 + b"\r", b"x" * 80, b'{"text": "ok"}\r', b"", b"\x0b\x0c",
             b'{"text": "last"}']
    path.write_bytes(b"\n".join(lines))
    for limit in (50, 1000):
        assert count_documents([path], max_bytes=limit) == read_count([path], max_bytes=limit), limit
    assert count_documents([path], max_bytes=50) == 5  # BOM line, the two over 50 bytes, two records
    big = tmp_path / "big.jsonl"  # over 1 MB: lines cross the scan's chunks
    with open(big, "wb") as fh:
        for k in range(40_000):
            fh.write(b"   \n" if k % 7 == 0 else b'{"id": "%d", "text": "letter text %d"}\r\n' % (k, k))
    assert big.stat().st_size > 1 << 20
    assert count_documents([big]) == read_count([big]) == 40_000 - len(range(0, 40_000, 7))


def test_jsonl_over_the_scan_limit_leaves_the_total_unknown(tmp_path, monkeypatch):
    src = tmp_path / "a.jsonl"
    src.write_text("\n".join(JSONL_LINES), encoding="utf-8")
    assert count_documents([src], scan_limit=10) is None
    assert count_documents([src, src], scan_limit=src.stat().st_size + 1) is None  # a budget for all
    monkeypatch.setattr(batch, "COUNT_LINES_LIMIT", 10)
    assert batch.estimate_total([str(src)]) is None
    assert batch.estimate_total([str(LETTERS)]) == 3  # text files are not scanned


def test_counting_is_fast_and_reads_no_letter(tmp_path, monkeypatch):
    root = tmp_path / "many"
    for i in range(50):
        d = root / f"d{i:02d}" / "sub"
        d.mkdir(parents=True)
        for j in range(40):
            (d / f"l{j:02d}.txt").write_bytes(b"x")

    def no_open(*args, **kwargs):
        raise AssertionError("a letter was opened while counting")

    monkeypatch.setattr("builtins.open", no_open)
    start = time.perf_counter()
    assert count_documents([root]) == 2000
    assert count_documents([f"{root}/*/sub/*.txt"]) == 2000
    assert time.perf_counter() - start < 5  # about 20 ms on the project's machine


# ------------------------------------------------------------------ the bar

class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_forced_on_it_draws_total_percent_and_rate_to_its_stream():
    buf = io.StringIO()
    p = batch.Progress(total=10, stream=buf, enabled=True, desc="imr parse")
    p.loading()
    p.start()
    p.update(5, force=True)
    p.close(10)
    out = buf.getvalue()
    assert out.startswith("imr parse: loading models ...\n")
    assert "5/10" in out and "50%" in out
    assert "10/10" in out and "100%" in out and "letter/s" in out
    assert out.endswith("\n")
    p.close(10)  # closing twice writes nothing more
    assert buf.getvalue() == out


def test_a_terminal_turns_it_on_and_without_a_total_it_counts():
    tty = FakeTTY()
    p = batch.Progress(stream=tty)
    assert p.enabled
    p.update(3, force=True)
    p.close(4)
    out = tty.getvalue()
    assert out.startswith("\rimr score: ") and "4letter" in out and "%" not in out and out.endswith("\n")


def test_resumed_letters_count_as_done_and_a_grown_input_raises_the_total():
    buf = io.StringIO()
    p = batch.Progress(total=10, stream=buf, enabled=True)
    p.skipped = 4
    p.update(6, force=True)
    assert "6/10" in buf.getvalue() and "60%" in buf.getvalue()
    p.update(12, force=True)
    p.close(12)
    assert "12/12" in buf.getvalue()


def test_not_a_terminal_or_quiet_writes_nothing():
    for p in (batch.Progress(total=10, stream=io.StringIO()),  # StringIO is not a TTY
              batch.Progress(total=10, stream=FakeTTY(), enabled=False)):  # --quiet on a terminal
        p.loading()
        p.start()
        p.update(5, force=True)
        p.close(5)
        assert not p.enabled and p.stream.getvalue() == ""


def test_quiet_is_documented_on_parse_and_score():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    for name in ("parse", "score"):
        help_text = " ".join(sub[name].format_help().split())
        assert "-q, --quiet" in help_text and "final summary line are still printed" in help_text


# ------------------------------------------------------------------ end to end

def imr_pty(*args, cols=100, timeout=300):
    """`python -m imr ARGS` with stderr on a pseudo-terminal (of `cols` columns) and stdout to a
    file: (exit status, stderr as the terminal got it, stdout)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([sys.executable, "-m", "imr", *map(str, args)], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=slave)
        os.close(slave)
        chunks, deadline, idle = [], time.monotonic() + timeout, 0
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.2)
                if ready:
                    try:
                        data = os.read(master, 65536)
                    except OSError:  # EIO: every writer has closed the terminal
                        break
                    if not data:
                        break
                    chunks.append(data)
                elif proc.poll() is not None:
                    idle += 1
                    if idle > 25:
                        break
            rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(master)
        out.seek(0)
        return rc, b"".join(chunks).decode("utf-8", "replace"), out.read().decode("utf-8")


def lines(stderr):
    return [ln for ln in stderr.replace("\r\n", "\n").split("\n") if ln]


@pytest.mark.skipif(not sys.platform.startswith(("linux", "darwin")), reason="needs a pseudo-terminal")
def test_parse_on_a_terminal_shows_loading_and_the_bar_and_quiet_silences_them(tmp_path):
    rc, err, out = imr_pty("parse", LETTERS, "--out", tmp_path / "a.jsonl", "--no-ner")
    assert rc == 0, err
    assert err.startswith("imr parse: loading models ...\r\n")
    assert "3/3" in err and "100%" in err and "letter/s" in err
    assert lines(err)[-1] == "letters=3 items=6 overturned=1 failed=0"
    assert not any(i in err for i in LETTER_IDS) and TEXT[:40] not in err  # counts only
    assert out == ""

    rc, err, out = imr_pty("parse", LETTERS, "--out", tmp_path / "b.jsonl", "--no-ner", "--quiet")
    assert rc == 0, err
    assert lines(err) == ["letters=3 items=6 overturned=1 failed=0"]  # the summary only
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()

    rc, err, out = imr_pty("parse", LETTERS, "--out", "-", "--no-ner")  # stdout: records only
    assert rc == 0, err
    assert "loading models" in err and "3/3" in err
    assert [json.loads(ln)["id"] for ln in out.splitlines()] == LETTER_IDS

    rc, err, _ = imr_pty("parse", tmp_path / "nothing*", "--out", tmp_path / "c.jsonl", "--quiet")
    assert rc == 2 and "no letter in the inputs" in err  # errors are not silenced


@pytest.mark.skipif(not sys.platform.startswith(("linux", "darwin")), reason="needs a pseudo-terminal")
def test_score_on_a_terminal_shows_loading_and_the_bar_and_stdout_stays_records(tmp_path):
    rc, err, out = imr_pty("score", f"{LETTERS}/*.txt", "--out", "-", "--jobs", 1)
    assert rc == 0, err
    assert err.startswith("imr score: loading models ...\r\n")
    assert "3/3" in err and "100%" in err
    assert lines(err)[-1].startswith("letters=3 items=6 ")
    assert [json.loads(ln)["id"] for ln in out.splitlines()] == LETTER_IDS

    rc, err, out = imr_pty("score", LETTERS, "--out", tmp_path / "s.jsonl", "--jobs", 1, "-q")
    assert rc == 0, err
    assert len(lines(err)) == 1 and lines(err)[0].startswith("letters=3 items=6 ")
    assert out == ""


def test_parse_without_a_terminal_prints_the_summary_only(tmp_path):
    res = subprocess.run([sys.executable, "-m", "imr", "parse", str(LETTERS), "--out", str(tmp_path / "a.jsonl"),
                          "--no-ner"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stderr == "letters=3 items=6 overturned=1 failed=0\n" and res.stdout == ""
