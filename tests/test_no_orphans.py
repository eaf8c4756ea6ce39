"""No orphans (issue 16): workers leave with the run, whether it is killed (-9) or terminated."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from imr import batch
from test_batch import letters_jsonl


def _start(tmp_path):
    src = tmp_path / "in.jsonl"
    letters_jsonl(src, 200)
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "imr", "score", str(src), "--out", str(out), "--jobs", "2", "--batch-size", "2"]
    proc = subprocess.Popen(cmd, env={**os.environ, batch.SLEEP_ENV: "0.2"}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    partial = batch.partial_path(out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the workers are scoring
        if partial.exists() and partial.read_bytes().count(b"\n") >= 6:
            break
        assert proc.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.05)
    workers = [p for p in psutil.Process(proc.pid).children(recursive=True) if "python" in p.name().lower()]
    assert len(workers) >= 2
    return proc, workers, out


def _gone_within(procs, seconds: float) -> bool:
    _, alive = psutil.wait_procs(procs, timeout=seconds)
    for p in alive:  # leave nothing behind even when the test fails
        p.kill()
    return not alive


def test_workers_exit_when_the_run_is_killed(tmp_path):
    proc, workers, _ = _start(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)  # the run only, not its process group
    proc.wait(timeout=30)
    assert _gone_within(workers, 10)


def test_sigterm_stops_like_ctrl_c_and_the_rerun_resumes(tmp_path):
    proc, workers, out = _start(tmp_path)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert _gone_within(workers, 10)
    assert batch.partial_path(out).exists() and not out.exists()
    res = subprocess.run([sys.executable, "-m", "imr", "score", str(tmp_path / "in.jsonl"), "--out", str(out),
                          "--jobs", "1"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert " resumed=" in res.stderr.splitlines()[-1] and out.read_text().count("\n") == 200
