"""End-to-end throughput of `imr score`: letters/s and peak memory, per stage and per --jobs.

    .venv/bin/python benchmarks/throughput.py [--sizes 1000 10000] [--pdfs 1000] [--jobs 1 2]
                                              [--stage-limit N] [--workdir DIR] [--markdown]

Corpora (built once in --workdir, default /tmp/imr-throughput):

* `texts_N.jsonl`: N letters cycling the 3 shared letters (examples/letters) and the text the
  reader extracts from the 64 published PDFs (examples/real), each line with a distinct id;
* `pdfs_N/`: N copies of the 64 published PDFs under distinct names.

Measurements:

1. **Stages**, one process, one core, in order over the same letters: `read`
   (`iter_documents`: JSONL parsing or PDF text extraction), and over the read documents
   `normalize` (`normalize_text`), `layout` (`parse_layout`), `record` (letter fields, items,
   categories: `build_record`), then `scorer` = the whole `load_scorer().process` (which also
   does normalize/layout/record; once the models exist it adds NER, features and the
   classifiers — `scorer − (normalize + layout + record)` is then the model time). If the
   scorer object has a `stage_times` dict (stage name → seconds) after a run, each entry is
   reported as its own stage.
2. **End to end**: `imr score INPUT --out OUT.jsonl --jobs J` as a subprocess, wall time
   (start-up included), CPU time of the driver and its workers (`getrusage(RUSAGE_CHILDREN)`;
   unlike wall time it does not depend on what else runs on the machine) and peak RSS of the
   whole process tree (driver + workers, sampled every 50 ms with psutil) and of the largest
   single process.
3. **Regex baseline**: a regex-only item/decision extractor (ITEM: Upheld/Overturned lines and
   "is [not] medically necessary" statements) over the same raw texts: items found, letters
   whose (item count, decisions) equal the parser's, speed.
4. **Peer drug tagger**: the `drug-named-entity-recognition` dictionary tagger (`find_drugs`)
   alone over the same normalized texts, beside the NER stage: speed and DRUG mentions.

Other processes on the machine skew the numbers: run it on an idle machine.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LETTERS = ROOT / "examples" / "letters"
REAL = ROOT / "examples" / "real"


# --------------------------------------------------------------------------- corpora

def base_texts() -> list[str]:
    from nlp.reading import iter_documents

    docs = list(iter_documents([str(LETTERS), str(REAL)]))
    assert all(d.ok for d in docs), "a bundled letter failed to read"
    return [d.text for d in docs]


def text_corpus(workdir: Path, n: int, texts: list[str]) -> Path:
    path = workdir / f"texts_{n}.jsonl"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for k in range(n):
                fh.write(json.dumps({"id": f"bench-{k:06d}", "text": texts[k % len(texts)]}) + "\n")
        tmp.rename(path)
    return path


def pdf_corpus(workdir: Path, n: int) -> Path:
    d = workdir / f"pdfs_{n}"
    if not d.exists():
        tmp = workdir / f".pdfs_{n}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        pdfs = sorted(REAL.glob("*.pdf"))
        for k in range(n):
            src = pdfs[k % len(pdfs)]
            shutil.copyfile(src, tmp / f"{src.stem}-{k:05d}.pdf")
        tmp.rename(d)
    return d


# --------------------------------------------------------------------------- stages

def time_stages(inp: Path, limit: int | None = None) -> dict:
    import itertools

    from nlp.layout import parse_layout
    from nlp.reading import iter_documents
    from nlp.record import build_record
    from models.bundle import load_scorer
    from nlp.textnorm import normalize_text

    t0 = time.perf_counter()
    docs = list(itertools.islice(iter_documents([str(inp)]), limit))
    read = time.perf_counter() - t0
    n = len(docs)
    stages = {"read": read, "normalize": 0.0, "layout": 0.0, "record": 0.0}
    for d in docs:
        t = time.perf_counter()
        text = normalize_text(d.text)
        t1 = time.perf_counter()
        layout = parse_layout(text)
        t2 = time.perf_counter()
        build_record(d.id, d.source, text, layout, [])
        t3 = time.perf_counter()
        stages["normalize"] += t1 - t
        stages["layout"] += t2 - t1
        stages["record"] += t3 - t2
    t = time.perf_counter()
    scorer = load_scorer()
    load = time.perf_counter() - t
    t = time.perf_counter()
    recs = list(scorer.process(docs))
    stages["scorer"] = time.perf_counter() - t
    for name, secs in (getattr(scorer, "stage_times", None) or {}).items():
        stages[f"scorer:{name}"] = secs
    items = sum(len(r["items"]) for r in recs)
    return {"input": inp.name, "letters": n, "items": items, "scorer_load_s": load, "stages": stages,
            "records": recs, "texts": [d.text for d in docs]}


# --------------------------------------------------------------------------- end to end

def run_score(inp: Path, out: Path, jobs: int, batch_size: int) -> dict:
    import psutil

    import resource

    out.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [str(ROOT / ".venv" / "bin" / "imr"), "score", str(inp), "--out", str(out), "--jobs", str(jobs),
           "--batch-size", str(batch_size)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    peak_tree = peak_one = 0
    while proc.poll() is None:
        try:
            procs = [ps] + ps.children(recursive=True)
            rss = []
            for p in procs:
                try:
                    rss.append(p.memory_info().rss)
                except psutil.Error:
                    pass
            peak_tree = max(peak_tree, sum(rss))
            peak_one = max([peak_one] + rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the imr process and its reaped workers
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    err = proc.stderr.read()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"imr score failed ({proc.returncode}): {err[-500:]}")
    letters = sum(1 for _ in open(out, encoding="utf-8"))
    return {"input": inp.name, "jobs": jobs, "letters": letters, "wall_s": wall, "letters_per_s": letters / wall,
            "cpu_s": cpu, "letters_per_cpu_s": letters / cpu if cpu else None,
            "peak_tree_mb": peak_tree / 2**20, "peak_process_mb": peak_one / 2**20, "summary": err.strip()}


# --------------------------------------------------------------------------- regex baseline

_ITEM_LINE = re.compile(r"^[ \t]*(\S[^\n]{0,300}?)[ \t]*:[ \t]*(Upheld|Overturned)[ \t]*$", re.M | re.I)
_NECESSARY = re.compile(r"request for (.{1,300}?) is (not )?medically necessary", re.I | re.S)


def regex_items(text: str) -> list[tuple[str, str]]:
    """(request, decision) pairs by regex alone: `X: Upheld` lines, else `request for X is
    [not] medically necessary` statements."""
    found = [(m.group(1), m.group(2).lower()) for m in _ITEM_LINE.finditer(text)]
    if not found:
        found = [(m.group(1), "upheld" if m.group(2) else "overturned") for m in _NECESSARY.finditer(text)]
    return found


def peer_drug_tagger(texts: list[str]) -> dict:
    """The `drug-named-entity-recognition` dictionary tagger alone (what a user might run
    instead of the NER) over the same texts: speed and mentions found. Its DRUG F1 against gold
    is in `imr evaluate ner` (docs/NER.md)."""
    from nlp.layout import parse_layout
    from training.ner_evaluate import _peer_drugs
    from nlp.textnorm import normalize_text

    norm = [normalize_text(x) for x in texts]
    layouts = [parse_layout(x) for x in norm]
    t = time.perf_counter()
    found = sum(len(_peer_drugs(x, lay)) for x, lay in zip(norm, layouts))
    secs = time.perf_counter() - t
    return {"letters": len(texts), "drug_mentions": found, "seconds": secs, "letters_per_s": len(texts) / secs}


def regex_baseline(texts: list[str], records: list[dict]) -> dict:
    t = time.perf_counter()
    found = [regex_items(x) for x in texts]
    secs = time.perf_counter() - t
    same = sum(1 for f, r in zip(found, records)
               if [d for _, d in f] == [i["decision"] for i in r["items"]])
    return {"letters": len(texts), "items": sum(map(len, found)),
            "parser_items": sum(len(r["items"]) for r in records),
            "letters_agreeing": same, "seconds": secs, "letters_per_s": len(texts) / secs}


# --------------------------------------------------------------------------- report

def machine() -> str:
    import psutil

    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{len(os.sched_getaffinity(0))} cores ({cpu}, {platform.machine()}), "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, CPython {platform.python_version()}")


def markdown(stage_runs: list[dict], e2e: list[dict], base: dict | None) -> str:
    out = []
    names = []
    for s in stage_runs:
        names += [k for k in s["stages"] if k not in names]
    out.append("Stages (one process; letters/s of each stage alone; `scorer` is the full scorer):\n")
    out.append("| input | letters | items | " + " | ".join(names) + " |")
    out.append("|---|---|---|" + "---|" * len(names))
    for s in stage_runs:
        cells = [f"{s['letters'] / v:,.0f}/s ({v:.2f} s)" if v > 0 else "-" for v in
                 (s["stages"].get(k, 0.0) for k in names)]
        out.append(f"| {s['input']} | {s['letters']:,} | {s['items']:,} | " + " | ".join(cells) + " |")
    out.append("\nEnd to end (`imr score INPUT --out OUT.jsonl`, subprocess, start-up included):\n")
    out.append("| input | --jobs | letters | wall s | letters/s | CPU s (all processes) | letters per CPU-s "
               "| peak RSS, process tree | peak RSS, largest process |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for r in e2e:
        out.append(f"| {r['input']} | {r['jobs']} | {r['letters']:,} | {r['wall_s']:.1f} | {r['letters_per_s']:,.1f} "
                   f"| {r['cpu_s']:.1f} | {r['letters_per_cpu_s']:,.1f} "
                   f"| {r['peak_tree_mb']:,.0f} MB | {r['peak_process_mb']:,.0f} MB |")
    if base:
        out.append("\nRegex-only baseline vs the parser (same raw texts):\n")
        out.append("| extractor | letters | items found | letters with the parser's decisions | letters/s |")
        out.append("|---|---|---|---|---|")
        out.append(f"| regex | {base['letters']:,} | {base['items']:,} | {base['letters_agreeing']:,} "
                   f"| {base['letters_per_s']:,.0f} |")
        out.append(f"| parser (`scorer` stage) | {base['letters']:,} | {base['parser_items']:,} | {base['letters']:,} "
                   f"| {base['parser_rate']:,.0f} |")
        peer = base.get("peer_drug_tagger")
        if peer:
            out.append("\nDrug tagging: the `drug-named-entity-recognition` dictionary tagger alone vs the NER stage "
                       "(same texts; DRUG F1 against gold is in docs/NER.md):\n")
            out.append("| tagger | letters | DRUG mentions | letters/s |")
            out.append("|---|---|---|---|")
            out.append(f"| `find_drugs` (dictionary) | {peer['letters']:,} | {peer['drug_mentions']:,} "
                       f"| {peer['letters_per_s']:,.0f} |")
            if peer.get("ner_letters_per_s"):
                out.append(f"| NER pipeline (`scorer:ner`) | {peer['letters']:,} | {peer['ner_drug_mentions']:,} "
                           f"| {peer['ner_letters_per_s']:,.0f} |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="text corpus sizes")
    ap.add_argument("--pdfs", type=int, default=1000, help="PDF corpus size (0: none)")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--stage-limit", type=int, default=None,
                    help="time the stages on the first N letters of each input (default: all)")
    ap.add_argument("--workdir", default="/tmp/imr-throughput")
    ap.add_argument("--markdown", action="store_true", help="print the README tables")
    ap.add_argument("--json", default=None, help="also write all results to this JSON file")
    args = ap.parse_args(argv)

    load_start = os.getloadavg()[0]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    texts = base_texts()
    inputs = [text_corpus(workdir, n, texts) for n in args.sizes]
    if args.pdfs:
        inputs.append(pdf_corpus(workdir, args.pdfs))

    stage_runs, e2e = [], []
    base = None
    for inp in inputs:
        print(f"stages: {inp.name}", file=sys.stderr)
        s = time_stages(inp, args.stage_limit)
        if base is None and inp.suffix == ".jsonl":
            base = regex_baseline(s["texts"], s["records"])
            base["parser_rate"] = s["letters"] / s["stages"]["scorer"]
            peer = peer_drug_tagger(s["texts"])
            ner_s = s["stages"].get("scorer:ner")
            peer["ner_letters_per_s"] = s["letters"] / ner_s if ner_s else None
            peer["ner_drug_mentions"] = sum(e["label"] == "DRUG" for r in s["records"] for e in r["entities"])
            base["peer_drug_tagger"] = peer
        del s["records"], s["texts"]
        stage_runs.append(s)
    for inp in inputs:
        for jobs in args.jobs:
            print(f"end to end: {inp.name} --jobs {jobs}", file=sys.stderr)
            e2e.append(run_score(inp, workdir / f"out_{inp.stem}_{jobs}.jsonl", jobs, args.batch_size))
            print(f"  {e2e[-1]['letters_per_s']:.1f} letters/s, {e2e[-1]['peak_tree_mb']:.0f} MB", file=sys.stderr)

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = (load_start, os.getloadavg()[0])
    result = {"date": stamp, "machine": machine(), "load_average_1min": load, "stages": stage_runs,
              "end_to_end": e2e, "regex_baseline": base}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    if args.markdown:
        print(f"Measured {stamp} on {result['machine']}; 1-minute load average {load[0]:.2f} at the "
              f"start, {load[1]:.2f} at the end (other processes share the cores when it is above 0).\n")
        print(markdown(stage_runs, e2e, base))
    else:
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
