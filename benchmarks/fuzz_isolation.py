"""Fuzz at scale (issue 16): mutated letters never harm each other and never raise.

    .venv/bin/python benchmarks/fuzz_isolation.py [--letters 2500] [--batch-size 64] [--seed 0]

Builds N mutated letters from the 3 shared letters and the text of the 64 published PDFs (lines
cut, random unicode and lone surrogates inserted, lines duplicated, the cut-citation case of
issue 16), parses them all in batches with the bundled NER, then each one alone, and reports:
tracebacks (exceptions escaping the parser: must be 0), letters whose entities or error differ
between the batch and alone (must be 0), and the error types seen.
"""
from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ODD = ["\udc80", "\ud800", "\udfff", "\ufffd", "\x00", "\u200b", "\u2028", "\n", "\f", "QUANTITY: 6.00",
       "Official Disability", "(", ")", "Page(s): ", "times 12", ": Upheld", ": Overturned"]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 8)):
        k = rng.randrange(len(lines))
        kind = rng.choice(("cut", "insert", "dup"))
        if kind == "cut":
            lines[k] = lines[k][:rng.randint(0, 200)]
        elif kind == "insert":
            pos = min(rng.randint(0, 200), len(lines[k]))
            junk = "".join(rng.choice(ODD) if rng.random() < 0.5 else chr(rng.randint(1, 0x2FFF))
                           for _ in range(rng.randint(1, 12)))
            lines[k] = lines[k][:pos] + junk + lines[k][pos:]
        else:
            lines.insert(k, lines[k])
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--letters", type=int, default=2500, help="mutated letters to build")
    ap.add_argument("--batch-size", type=int, default=64, help="NER batch size of the batch run")
    ap.add_argument("--seed", type=int, default=0, help="mutation seed")
    a = ap.parse_args(argv)

    from nlp.reading import RawDocument, iter_documents
    from models.bundle import load_parser

    base = [d.text for d in iter_documents([str(ROOT / "examples" / "letters"), str(ROOT / "examples" / "real")])
            if d.text]
    rng = random.Random(a.seed)
    docs = [RawDocument(f"F{i:05d}", f"fuzz:{i}", mutate(rng.choice(base), rng), None) for i in range(a.letters)]
    parser = load_parser(None)
    parser.batch_size = a.batch_size
    t = time.time()
    tracebacks = 0
    try:
        batch = {r["id"]: r for r in parser.process(docs)}
    except Exception as exc:  # noqa: BLE001 - counted, the figure this script exists for
        print(f"traceback in the batch run: {type(exc).__name__}", file=sys.stderr)
        return 1
    batch_s = time.time() - t
    differ, errors = 0, collections.Counter()
    t = time.time()
    for d in docs:
        try:
            (alone,) = parser.process([d])
        except Exception:  # noqa: BLE001
            tracebacks += 1
            continue
        b = batch[d.id]
        if b["entities"] != alone["entities"] or b["error"] != alone["error"]:
            differ += 1
        if b["error"]:
            errors[b["error"]["type"]] += 1
    result = {"letters": len(docs), "batch_size": a.batch_size, "tracebacks": tracebacks,
              "letters_differing_from_alone": differ, "error_types": dict(errors),
              "batch_s": round(batch_s, 1), "alone_s": round(time.time() - t, 1)}
    print(json.dumps(result, indent=1))
    return 0 if tracebacks == 0 and differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
