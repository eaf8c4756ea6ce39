"""Crash and resume: `imr parse` and `imr score --jobs 2` killed with SIGKILL (the whole process
group) at a random moment, then the same command run again.

For each trial the run is started in its own session, killed (`kill -9` of its process group) at a
random moment, and run again unchanged. The moment is a random delay drawn from [--min-delay, the
reference run's wall time); for every other `imr score` trial it is instead the moment its partial
output reaches a random number of records (1 to letters - 1), since a run spends most of its
wall time loading models and a random delay rarely lands while records are being written.
A trial passes when:

* the final output is byte-identical to an uninterrupted reference run of the same command;
* it holds exactly one record per input (the reference's sources, in order, no duplicates);
* no process of the killed run (the run and every descendant seen while it ran) is alive 10 s
  after the kill (psutil when installed, else /proc);
* nothing is left beside the output (no `.partial`, meta, lock or hidden temporary file).

Letters (copied into a work directory): examples/letters + examples/real + examples/generated.
The real letters frozen for the final evaluation (configs/real/frozen_cases.json) are left out
unless --include-frozen. `--score-letters N` gives `imr score` trials only the first N letters
(in sorted order) to keep them short.

    .venv/bin/python benchmarks/crash_resume.py [--trials 10] [--seed 0] [--score-every 2] [--score-letters N]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("letters", "real", "generated")
GRACE = 10.0  # seconds within which every process of a killed run must be gone

try:
    import psutil
except ImportError:  # pragma: no cover - /proc fallback
    psutil = None


# ------------------------------------------------------------------ processes
def _proc_stat(pid: int) -> tuple[int, str, int] | None:
    """(ppid, state, start time) of a live process from /proc, None when gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), fields[0], int(fields[19])


def descendants(pid: int) -> dict[int, float]:
    """{pid: start time} of every descendant of `pid` alive now."""
    if psutil is not None:
        try:
            return {p.pid: p.create_time() for p in psutil.Process(pid).children(recursive=True)}
        except psutil.Error:
            return {}
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _proc_stat(int(entry))) is not None:
            kids.setdefault(st[0], []).append(int(entry))
    out, todo = {}, [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            st = _proc_stat(child)
            if st is not None:
                out[child] = st[2]
                todo.append(child)
    return out


def alive(pid: int, started: float) -> bool:
    """Is the process `pid` that started at `started` still running (not a zombie, not a reused pid)?"""
    if psutil is not None:
        try:
            p = psutil.Process(pid)
            return p.create_time() == started and p.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False
    st = _proc_stat(pid)
    return st is not None and st[2] == started and st[1] != "Z"


# ------------------------------------------------------------------ runs
def imr(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "imr", *args]


def run(args: list[str], cwd: Path) -> tuple[int, float, str]:
    t0 = time.monotonic()
    res = subprocess.run(imr(args), cwd=cwd, capture_output=True, text=True, timeout=3600)
    return res.returncode, time.monotonic() - t0, res.stderr


def records_in(partial: Path) -> int:
    try:
        return partial.read_bytes().count(b"\n")
    except OSError:
        return 0


def killed_run(args: list[str], cwd: Path, delay: float, partial: Path | None = None,
               records: int | None = None) -> dict:
    """Start the run in its own session, SIGKILL its process group after `delay` s (or, with
    `records`, once `partial` holds that many records); then check that every process seen in
    the run is gone within GRACE seconds."""
    proc = subprocess.Popen(imr(args), cwd=cwd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    seen: dict[int, float] = {}
    start = time.monotonic()

    def due() -> bool:
        if records is not None:
            return records_in(partial) >= records
        return time.monotonic() - start >= delay

    while not due() and proc.poll() is None:
        seen.update(descendants(proc.pid))
        time.sleep(0.02)
    finished = proc.poll() is not None
    if not finished:
        seen.update(descendants(proc.pid))
        os.killpg(proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    proc.wait()
    left = dict(seen)
    while left and time.monotonic() - killed_at < GRACE:
        left = {pid: t for pid, t in left.items() if alive(pid, t)}
        if left:
            time.sleep(0.1)
    gone_after = time.monotonic() - killed_at
    left = {pid: t for pid, t in left.items() if alive(pid, t)}
    for pid in left:  # leave nothing behind, but report it
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return {"killed": not finished, "at": killed_at - start,
            "processes": len(seen), "alive_after_grace": len(left), "gone_after": gone_after}


def sources(path: Path) -> list[str]:
    return [json.loads(line)["source"] for line in path.read_text(encoding="utf-8").splitlines()]


def state_after_kill(out: Path) -> str:
    partial = Path(f"{out}.partial")
    if partial.exists():
        lines = partial.read_bytes().count(b"\n")
        return f"partial, {lines} records"
    tmps = list(out.parent.glob(f".{out.name}.*.tmp"))
    if tmps:
        return f"temporary {sum(t.stat().st_size for t in tmps) // 1024} KB"
    return "done" if out.exists() else "nothing"


# ------------------------------------------------------------------ main
def letters_dir(work: Path, include_frozen: bool) -> tuple[Path, int]:
    frozen = set() if include_frozen else set(
        json.loads((ROOT / "configs" / "real" / "frozen_cases.json").read_text(encoding="utf-8"))["cases"])
    d = work / "letters"
    n = 0
    for name in SOURCES:
        (d / name).mkdir(parents=True)
        for f in sorted((ROOT / "examples" / name).iterdir()):
            if f.suffix.lower() in (".txt", ".pdf") and f.stem not in frozen:
                shutil.copyfile(f, d / name / f.name)
                n += 1
    return d, n


def subset(letters: Path, n: int, work: Path) -> tuple[Path, int]:
    d = work / "score_letters"
    files = sorted(p for p in letters.rglob("*") if p.is_file())[:n]
    for f in files:
        (d / f.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, d / f.parent.name / f.name)
    return d, len(files)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=10, help="kill-and-resume trials (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="random seed of the kill moments (default: %(default)s)")
    ap.add_argument("--score-every", type=int, default=2,
                    help="every Nth trial runs `imr score --jobs 2`, the others `imr parse` (default: %(default)s)")
    ap.add_argument("--jobs", type=int, default=2, help="--jobs of the score trials (default: %(default)s)")
    ap.add_argument("--batch-size", type=int, default=4,
                    help="--batch-size of the score trials: small, so that a kill finds records written and "
                         "the rerun has something to resume (default: %(default)s)")
    ap.add_argument("--score-letters", type=int, default=None,
                    help="give score trials only the first N letters (default: all)")
    ap.add_argument("--min-delay", type=float, default=0.2, help="earliest kill, seconds (default: %(default)s)")
    ap.add_argument("--include-frozen", action="store_true",
                    help="also use the real letters frozen for the final evaluation")
    ap.add_argument("--workdir", default=None, help="keep the work files here (default: a temporary directory)")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="imr-crash-"))
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    letters, n_letters = letters_dir(work, args.include_frozen)
    score_in, n_score = (subset(letters, args.score_letters, work) if args.score_letters
                         else (letters, n_letters))
    commands = {
        "parse": (["parse", str(letters)], n_letters),
        "score": (["score", str(score_in), "--jobs", str(args.jobs), "--batch-size", str(args.batch_size)], n_score),
    }
    refs = {}
    for name, (cmd, n) in commands.items():
        out = work / f"ref_{name}.jsonl"
        code, secs, err = run([*cmd, "--out", str(out)], work)
        if code not in (0, 1):
            print(f"reference {name} failed with exit {code}: {err.strip().splitlines()[-1:]}", file=sys.stderr)
            return 2
        refs[name] = {"out": out, "secs": secs, "sources": sources(out), "n": n}
        print(f"reference {name}: {n} letters, {secs:.1f} s, exit {code}", file=sys.stderr)

    rows = []
    for trial in range(1, args.trials + 1):
        name = "score" if args.score_every and trial % args.score_every == 0 else "parse"
        cmd, n = commands[name]
        ref = refs[name]
        out_dir = work / f"trial{trial:02d}"
        out_dir.mkdir()
        out = out_dir / "out.jsonl"
        full = [*cmd, "--out", str(out)]
        delay = rng.uniform(args.min_delay, max(args.min_delay, ref["secs"]))
        by_records = name == "score" and (trial // max(args.score_every, 1)) % 2 == 1 and ref["n"] > 1
        target = rng.randint(1, ref["n"] - 1) if by_records else None
        kill = killed_run(full, work, delay, partial=Path(f"{out}.partial"), records=target)
        after_kill = state_after_kill(out)
        code, secs, err = run(full, work)
        summary = err.strip().splitlines()[-1] if err.strip() else ""
        resumed = summary.split(" resumed=")[1].split()[0] if " resumed=" in summary else "-"
        identical = out.exists() and out.read_bytes() == ref["out"].read_bytes()
        got = sources(out) if out.exists() else []
        one_each = got == ref["sources"] and len(set(got)) == len(got) == ref["n"]
        leftovers = sorted(p.name for p in out_dir.iterdir() if p.name != "out.jsonl")
        ok = (code in (0, 1) and identical and one_each and kill["alive_after_grace"] == 0 and not leftovers)
        rows.append({"trial": trial, "command": name, "letters": ref["n"], "kill_at_s": round(kill["at"], 2),
                     "kill_rule": f">= {target} records" if target else "random delay",
                     "killed": kill["killed"], "state_after_kill": after_kill,
                     "processes_killed": kill["processes"] + 1, "alive_10s_after": kill["alive_after_grace"],
                     "all_gone_s": round(kill["gone_after"], 2), "rerun_exit": code, "rerun_s": round(secs, 1),
                     "resumed": resumed, "identical": identical, "one_per_input": one_each,
                     "leftovers": leftovers, "ok": ok})
        print(f"trial {trial}: {name} killed at {kill['at']:.2f}s -> {'ok' if ok else 'FAILED'}", file=sys.stderr)

    total = time.monotonic() - t_start
    print(f"\n{args.trials} trials in {total:.0f} s; Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; process check: "
          f"{'psutil' if psutil else '/proc'}; references: parse {refs['parse']['secs']:.1f} s "
          f"({refs['parse']['n']} letters), score --jobs {args.jobs} --batch-size {args.batch_size} "
          f"{refs['score']['secs']:.1f} s "
          f"({refs['score']['n']} letters)\n")
    head = ["trial", "command", "letters", "kill when", "kill at s", "state after kill", "processes", "alive 10 s after",
            "rerun exit", "rerun s", "resumed", "byte-identical", "one per input", "leftovers", "ok"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [r["trial"], r["command"], r["letters"], r["kill_rule"], f"{r['kill_at_s']:.2f}" + ("" if r["killed"] else " (ended)"),
                 r["state_after_kill"], r["processes_killed"], r["alive_10s_after"], r["rerun_exit"],
                 f"{r['rerun_s']:.1f}", r["resumed"], "yes" if r["identical"] else "NO",
                 "yes" if r["one_per_input"] else "NO", ", ".join(r["leftovers"]) or "-",
                 "ok" if r["ok"] else "FAILED"]
        print("| " + " | ".join(map(str, cells)) + " |")
    passed = sum(r["ok"] for r in rows)
    print(f"\n{passed}/{len(rows)} trials passed")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "seconds": total}, indent=1), encoding="utf-8")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
