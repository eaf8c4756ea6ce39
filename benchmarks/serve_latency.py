"""Latency of `imr serve` (imr/serve.py): start-up time, then POST /api/score of the 3 shared
letters (.txt uploads) and a shared real PDF, N times each, with Starlette's test client (the
whole app: body reading, multipart parsing, PDF reading, scoring, JSON). Prints the median and
95th percentile per letter and over all requests.

    .venv/bin/python benchmarks/serve_latency.py [--repeat 30] [--markdown]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
INPUTS = sorted((ROOT / "examples" / "letters").glob("*.txt")) + [ROOT / "examples" / "real" / "CM16-0221706.pdf"]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=30, help="requests per letter (default: %(default)s)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()

    t0 = time.perf_counter()
    from starlette.testclient import TestClient

    from imr.serve import create_app

    app = create_app()
    startup = time.perf_counter() - t0
    service = app.state.service
    client = TestClient(app)
    rows, every = [], []
    for path in INPUTS:
        data = path.read_bytes()
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            res = client.post("/api/score", files={"file": (path.name, data)})
            times.append((time.perf_counter() - t) * 1000)
            assert res.status_code == 200 and res.json()["error"] is None, res.status_code
        items = len(res.json()["items"])
        every.extend(times)
        rows.append((path.name, len(data), items, statistics.median(times), pct(times, 0.95), max(times)))
    rows.append(("all", None, None, statistics.median(every), pct(every, 0.95), max(every)))

    print(f"start-up {startup:.2f} s (import + models {service.load_seconds:.2f} s, warm-up "
          f"{service.warmup_seconds:.2f} s); {args.repeat} requests per letter; "
          f"Python {platform.python_version()}, {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.markdown:
        print("\n| letter | bytes | items | median ms | p95 ms | max ms |\n|---|---|---|---|---|---|")
        for name, size, items, med, p95, top in rows:
            print(f"| {name} | {size if size is not None else ''} | {items if items is not None else ''} "
                  f"| {med:.0f} | {p95:.0f} | {top:.0f} |")
    else:
        for name, size, items, med, p95, top in rows:
            print(f"{name:32} median {med:6.1f} ms  p95 {p95:6.1f} ms  max {top:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
