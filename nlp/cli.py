"""The `imr` command."""
from __future__ import annotations

import argparse
import collections
import logging
import sys

from nlp import __version__


def _summary(counts: collections.Counter, errors: collections.Counter) -> str:
    kinds = ", ".join(f"{k}={v}" for k, v in sorted(errors.items()))
    return (f"letters={counts['letters']} items={counts['items']} overturned={counts['overturned']} "
            f"failed={counts['failed']}" + (f" ({kinds})" if kinds else ""))


def cmd_parse(args) -> int:
    from nlp.output import write_records
    from nlp.reading import iter_documents
    from nlp.service import load_parser

    parser = load_parser(args.model, ner=not args.no_ner)
    counts, errs = collections.Counter(), collections.Counter()
    for rec in write_records(parser.process(iter_documents(args.inputs)), args.out, args.format):
        counts["letters"] += 1
        counts["items"] += len(rec["items"])
        counts["overturned"] += sum(i.get("decision") == "overturned" for i in rec["items"])
        if rec.get("error"):
            counts["failed"] += 1
            errs[rec["error"]["type"]] += 1
    print(_summary(counts, errs), file=sys.stderr)
    return 1 if counts["failed"] else 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="imr", description="IMR Final Determination Letters → structured records.")
    ap.add_argument("--version", action="version", version=f"imr-nlp {__version__}")
    ap.add_argument("-v", "--verbose", action="store_true", help="log progress (never letter text)")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="letters (txt, pdf, jsonl, datasets) → one JSON record per letter")
    p.add_argument("inputs", nargs="+", help="files, directories (recursive) or glob patterns")
    p.add_argument("--out", required=True, help="output file (written atomically)")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="csv: one row per item")
    p.add_argument("--model", default=None, help="NER pipeline directory (default: the bundled one)")
    p.add_argument("--no-ner", action="store_true", help="layout parsing only, no entities")
    p.set_defaults(func=cmd_parse)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
