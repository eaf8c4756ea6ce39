"""The `imr` command."""
from __future__ import annotations

import argparse
import collections
import logging
import os
import sys

from nlp import __version__


def _summary(counts: collections.Counter, errors: collections.Counter) -> str:
    kinds = ", ".join(f"{k}={v}" for k, v in sorted(errors.items()))
    return (f"letters={counts['letters']} items={counts['items']} overturned={counts['overturned']} "
            f"failed={counts['failed']}" + (f" ({kinds})" if kinds else ""))


# optional extras (pyproject.toml): the top-level module a command needs -> the extra that brings it
EXTRA_OF = {"matplotlib": "report", "distributed": "dask", "dask": "dask", "starlette": "serve",
            "uvicorn": "serve", "python_multipart": "serve", "httpx": "serve"}


def _missing_extra(command: str, exc: ImportError) -> str | None:
    """The one-line message for an ImportError of an optional extra's module, else None."""
    extra = EXTRA_OF.get((exc.name or "").split(".")[0])
    if extra is None:
        return None
    return f"imr {command}: needs the {extra} extra ({exc.name} is missing): pip install 'imr-nlp[{extra}]'"


def _need(command: str, module: str) -> str | None:
    """Check an extra's module before anything is written; the message if it is missing."""
    try:
        __import__(module)
    except ImportError as exc:
        return _missing_extra(command, exc) or f"imr {command}: cannot import {module}"
    return None


NO_LETTERS = "no letter in the inputs (empty directories or patterns that match nothing); nothing to do"


def _locked_message(command: str, exc) -> str:
    return f"imr {command}: refused: {exc}; wait for it to end or use another --out"


def cmd_parse(args) -> int:
    from nlp.output import OutputLock, OutputLocked, write_records
    from nlp.reading import holding_letters, iter_documents
    from nlp.service import load_parser

    fmt = _output_format(args)
    docs = holding_letters(iter_documents(args.inputs))
    if docs is None:
        print(f"imr parse: {NO_LETTERS}", file=sys.stderr)
        return 2
    lock = OutputLock(args.out)
    try:
        lock.acquire()
    except OutputLocked as exc:
        print(_locked_message("parse", exc), file=sys.stderr)
        return 2
    counts, errs = collections.Counter(), collections.Counter()
    try:
        parser = load_parser(args.model, ner=not args.no_ner)
        for rec in write_records(parser.process(docs), args.out, fmt):
            counts["letters"] += 1
            counts["items"] += len(rec["items"])
            counts["overturned"] += sum(i.get("decision") == "overturned" for i in rec["items"])
            if rec.get("error"):
                counts["failed"] += 1
                errs[rec["error"]["type"]] += 1
    finally:
        lock.release()
    print(_summary(counts, errs), file=sys.stderr)
    return 1 if counts["failed"] else 0


def _output_format(args) -> str:
    """`--format` when given, else from the `--out` suffix (.csv, .parquet), else jsonl
    (`imr parse` and `imr score`)."""
    if args.format:
        return args.format
    suffix = os.path.basename(args.out).rsplit(".", 1)[-1].lower() if "." in os.path.basename(args.out) else ""
    return suffix if suffix in ("csv", "parquet") else "jsonl"


def cmd_score(args) -> int:
    from nlp.batch import NoLetters, Progress, ResumeMismatch, estimate_total, score
    from nlp.output import OutputLocked

    fmt = _output_format(args)
    if args.backend != "dask" and args.scheduler:
        print("imr score: --scheduler needs --backend dask", file=sys.stderr)
        return 2
    if args.backend == "dask" and (msg := _need("score", "distributed")):
        print(msg, file=sys.stderr)
        return 2
    progress = Progress(enabled=None)
    if progress.enabled:
        progress.total = estimate_total(args.inputs)
    try:
        summary = score(args.inputs, args.out, fmt, model_dir=args.model, jobs=args.jobs,
                        backend=args.backend, scheduler=args.scheduler, batch_size=args.batch_size,
                        restart=args.restart, progress=progress)
    except OutputLocked as exc:
        print(_locked_message("score", exc), file=sys.stderr)
        return 2
    except NoLetters:
        print(f"imr score: {NO_LETTERS}", file=sys.stderr)
        return 2
    except ResumeMismatch as exc:
        print(f"imr score: cannot resume: {exc}; rerun with --restart to start over", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"imr score: interrupted; run the same command again to resume into {args.out}",
              file=sys.stderr)
        return 130
    except Exception as exc:  # a dead worker, a lost cluster, a full disk: the journal is kept
        logging.getLogger("nlp.batch").info("score failed", exc_info=True)
        print(f"imr score: failed ({type(exc).__name__}); the records written so far are kept, run the "
              f"same command again to resume into {args.out} (-v for details)", file=sys.stderr)
        return 3
    print(summary.line(), file=sys.stderr)
    return 1 if summary.failed else 0


def cmd_report(args) -> int:
    from nlp.analytics import NotJsonLines, check_jsonl, write_report

    if not os.path.isfile(args.scored):
        print(f"imr report: no such file: {args.scored}", file=sys.stderr)
        return 2
    try:
        check_jsonl(args.scored)
    except NotJsonLines as exc:
        print(f"imr report: {exc}", file=sys.stderr)
        return 2
    if msg := _need("report", "matplotlib.figure"):
        print(msg, file=sys.stderr)
        return 2
    result = write_report(args.scored, args.out, top_requests=args.top)
    print(f"report: {result['items']} items from {result['letters']} letters -> {result['html']} "
          f"({len(result['csv'])} tables)", file=sys.stderr)
    return 0


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in its help, unless the help already states it or there is none to
    state (None, a flag's False)."""

    def _get_help_string(self, action):
        help = action.help or ""
        if "default" in help or action.default is None or isinstance(action.default, bool):
            return help
        return super()._get_help_string(action)


VERBOSE_HELP = "log progress (never letter text); before or after the subcommand"


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.values()


def _finish(parser: argparse.ArgumentParser) -> None:
    """Every subcommand, at any depth (including those added by training/, models/ and
    nlp/serve.py): the help formatter, and -v/--verbose after the subcommand too. Its default
    is SUPPRESS so a subcommand that is not given -v leaves the top-level value alone."""
    for p in _subparsers(parser):
        p.formatter_class = HelpFormatter
        if "--verbose" not in p._option_string_actions:
            p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
        _finish(p)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="imr", description="IMR Final Determination Letters → structured records.",
                                 formatter_class=HelpFormatter)
    ap.add_argument("--version", action="version", version=f"imr-nlp {__version__}")
    ap.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="letters (txt, pdf, jsonl, datasets) → one JSON record per letter",
                       description="Parse letters into one record per input (csv/parquet: one row per item). "
                                   "Inputs that hold no letter at all (an empty folder, a pattern that matches "
                                   "nothing) are refused (exit 2).")
    p.add_argument("inputs", nargs="+", help="files, directories (recursive) or glob patterns")
    p.add_argument("--out", required=True,
                   help="output file (written atomically; one run per OUT at a time, else exit 2)")
    p.add_argument("--format", choices=["jsonl", "csv", "parquet"], default=None,
                   help="default: from the --out suffix (.csv, .parquet), else jsonl; csv, parquet: one row "
                        "per item; when given it wins over the suffix")
    p.add_argument("--model", default=None, help="NER pipeline directory (default: the bundled one)")
    p.add_argument("--no-ner", action="store_true", help="layout parsing only, no entities")
    p.set_defaults(func=cmd_parse)

    from nlp.batch import DEFAULT_BATCH_SIZE, default_jobs

    s = sub.add_parser(
        "score", help="letters → scored records, in parallel, streaming, resumable",
        description="Score letters into one record per input (csv/parquet: one row per item). "
                    "Records are appended to OUT.partial as they are done; OUT appears when the run "
                    "is complete. Rerunning the same command after an interruption resumes. One run per OUT "
                    "at a time: a second run on the same OUT refuses at once (exit 2). Inputs that hold no letter "
                    "at all (an empty folder, a pattern that matches nothing) are refused too (exit 2).")
    s.add_argument("inputs", nargs="+", help="files, directories (recursive) or glob patterns")
    s.add_argument("--out", required=True, help="output file")
    s.add_argument("--format", choices=["jsonl", "csv", "parquet"], default=None,
                   help="default: from the --out suffix (.csv, .parquet), else jsonl; when given it wins "
                        "over the suffix")
    s.add_argument("--model", default=None, help="model directory (default: the bundled one)")
    s.add_argument("--jobs", type=_positive, default=default_jobs(),
                   help="worker processes (default: %(default)s, the usable cores)")
    s.add_argument("--backend", choices=["loky", "dask"], default="loky",
                   help="loky: local processes (joblib); dask: a dask.distributed cluster")
    s.add_argument("--scheduler", default=None,
                   help="dask scheduler address (tcp://host:8786); without it --backend dask "
                        "starts a local cluster of --jobs workers")
    s.add_argument("--batch-size", type=_positive, default=DEFAULT_BATCH_SIZE,
                   help="letters per task (default: %(default)s)")
    s.add_argument("--restart", action="store_true",
                   help="discard the partial output of an interrupted run instead of resuming it")
    s.set_defaults(func=cmd_score)

    r = sub.add_parser("report", help="scored records → analytics.html + one CSV per table")
    r.add_argument("scored", help="scored JSON Lines file (imr score / imr parse output; CSV and Parquet "
                                  "outputs are refused, exit 2)")
    r.add_argument("--out", required=True, help="output directory")
    r.add_argument("--top", type=_positive, default=25, help="most frequent requests to list (default: %(default)s)")
    r.set_defaults(func=cmd_report)

    from nlp.serve import add_subcommand as add_serve  # `imr serve` (issue 18; needs imr-nlp[serve])

    add_serve(sub)

    from training.commands import add_subcommands

    add_subcommands(sub)
    _finish(ap)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except ImportError as exc:  # an optional extra that is not installed: one line, not a traceback
        msg = _missing_extra(args.command, exc)
        if msg is None:
            raise
        print(msg, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
