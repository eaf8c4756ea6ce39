"""The `imr` command."""
from __future__ import annotations

import argparse
import collections
import contextlib
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


# Exit status of `imr parse` and `imr score` (README "Exit status").
EXIT_OK = 0            # every letter read
EXIT_LETTERS_FAILED = 1  # some letters failed; each has its record with a typed `error`
EXIT_USAGE = 2         # refused before anything was written (bad arguments, nothing to do, OUT locked...)
EXIT_RUN_FAILED = 3    # the run itself failed: a crash, models that cannot load, the output cannot be written
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM

EXIT_STATUS_HELP = (
    "exit status (parse, score): 0 every letter read; 1 some letters failed (each has its record with "
    "a typed error); 2 usage error or refused before anything was written (bad arguments, no letter in "
    "the inputs, OUT being written by another run, a partial output of other inputs); 3 the run itself "
    "failed (a crash, models that cannot be loaded, an output that cannot be written); 130 interrupted. "
    "Only an interrupted or failed `imr score` that left a partial output resumes when the same command "
    "is run again.")


def _io_usage_error(command: str, args, fmt: str) -> str | None:
    """The usage error of the input/output options, if any (exit 2, before anything is done)."""
    from imr.batch import STDIN
    from nlp.output import STDOUT

    if sum(os.fspath(i) == STDIN for i in args.inputs) > 1:
        return f"imr {command}: stdin (-) can be an input only once"
    if args.out == STDOUT and fmt != "jsonl":
        return f"imr {command}: --out - writes JSON Lines only (not {fmt})"
    if args.include_text and fmt != "jsonl":
        return (f"imr {command}: --include-text needs JSON Lines output, not {fmt} (one row per item, without the "
                f"letter text): use --format jsonl or an --out ending in .jsonl")
    if args.model is not None and not os.path.exists(args.model):
        return f"imr {command}: --model {args.model}: no such file or directory"
    return None


def cmd_parse(args) -> int:
    from imr.batch import iter_inputs, model_load_error, parse_records, sigterm_as_interrupt
    from nlp.errors import ModelLoadError
    from nlp.output import STDOUT, OutputLock, OutputLocked, stdout_stream, write_jsonl_stream, write_records
    from nlp.reading import holding_letters
    from nlp.record import provenance
    from models.bundle import load_parser, model_digests

    fmt = _output_format(args)
    if msg := _io_usage_error("parse", args, fmt):
        print(msg, file=sys.stderr)
        return EXIT_USAGE
    docs = holding_letters(iter_inputs(args.inputs))
    if docs is None:
        print(f"imr parse: {NO_LETTERS}", file=sys.stderr)
        return EXIT_USAGE
    to_stdout = args.out == STDOUT
    lock = None if to_stdout else OutputLock(args.out)
    try:
        if lock is not None:
            lock.acquire()
    except OutputLocked as exc:
        print(_locked_message("parse", exc), file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"imr parse: cannot write {args.out} ({type(exc).__name__}); nothing was written", file=sys.stderr)
        return EXIT_RUN_FAILED
    counts, errs = collections.Counter(), collections.Counter()
    where = "nothing was written to stdout after the last record" if to_stdout else f"{args.out} was not written"
    try:
        progress = _progress("imr parse", args)
        with sigterm_as_interrupt(), contextlib.ExitStack() as stack:
            fh = stack.enter_context(stdout_stream()) if to_stdout else None  # from here fd 1 is stderr
            stack.callback(lambda: progress.close(counts["letters"]))  # ends the bar before any message
            progress.loading()
            try:
                parser = load_parser(args.model, ner=not args.no_ner)
                prov = provenance(model_digests(args.model, ner=not args.no_ner, classifier=False))
            except Exception as exc:  # noqa: BLE001
                raise model_load_error(args.model, exc) from None
            progress.start()
            records = parse_records(parser, docs, prov, include_text=args.include_text)
            written = write_jsonl_stream(records, fh) if to_stdout else write_records(records, args.out, fmt)
            for rec in written:
                counts["letters"] += 1
                counts["items"] += len(rec["items"])
                counts["overturned"] += sum(i.get("decision") == "overturned" for i in rec["items"])
                if rec.get("error"):
                    counts["failed"] += 1
                    errs[rec["error"]["type"]] += 1
                progress.update(counts["letters"])
    except ModelLoadError as exc:
        print(f"imr parse: {exc}; nothing was written", file=sys.stderr)
        return EXIT_RUN_FAILED
    except KeyboardInterrupt:
        print(f"imr parse: interrupted; {where}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # the output: a full disk, a closed pipe, a denied directory
        logging.getLogger("imr.cli").info("parse failed", exc_info=True)
        target = "stdout" if to_stdout else args.out
        print(f"imr parse: cannot write {target} ({type(exc).__name__}); {where}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except Exception as exc:  # noqa: BLE001 - a crash: exit 3, one line (-v for the traceback)
        logging.getLogger("imr.cli").info("parse failed", exc_info=True)
        print(f"imr parse: failed ({type(exc).__name__}); {where} (-v for details)", file=sys.stderr)
        return EXIT_RUN_FAILED
    finally:
        if lock is not None:
            lock.release()
    print(_summary(counts, errs), file=sys.stderr)
    return EXIT_LETTERS_FAILED if counts["failed"] else EXIT_OK


def _progress(desc: str, args):
    """The run's progress bar on stderr (`imr.batch.Progress`): on when stderr is a terminal and
    not `--quiet`; then the inputs are counted first for its total."""
    from imr.batch import Progress, estimate_total

    progress = Progress(desc=desc, enabled=False if args.quiet else None)
    if progress.enabled:
        progress.total = estimate_total(args.inputs)
    return progress


def _output_format(args) -> str:
    """`--format` when given, else from the `--out` suffix (.csv, .parquet), else jsonl
    (`imr parse` and `imr score`)."""
    if args.format:
        return args.format
    suffix = os.path.basename(args.out).rsplit(".", 1)[-1].lower() if "." in os.path.basename(args.out) else ""
    return suffix if suffix in ("csv", "parquet") else "jsonl"


def cmd_score(args) -> int:
    from imr.batch import NoLetters, ResumeMismatch, Summary, resumable_partial, score, score_stream
    from nlp.errors import ModelLoadError
    from nlp.output import STDOUT, OutputLocked, stdout_stream, write_jsonl_stream

    fmt = _output_format(args)
    if msg := _io_usage_error("score", args, fmt):
        print(msg, file=sys.stderr)
        return EXIT_USAGE
    if args.backend != "dask" and args.scheduler:
        print("imr score: --scheduler needs --backend dask", file=sys.stderr)
        return EXIT_USAGE
    if args.backend == "dask" and (msg := _need("score", "distributed")):
        print(msg, file=sys.stderr)
        return EXIT_USAGE
    to_stdout = args.out == STDOUT

    def resume_hint() -> str:
        if not to_stdout and resumable_partial(args.out):
            return f"the records written so far are kept: run the same command again to resume into {args.out}"
        return "nothing was written to stdout after the last record" if to_stdout else f"{args.out} was not written"

    try:
        progress = _progress("imr score", args)
        if to_stdout:
            summary = Summary()
            with stdout_stream() as fh:
                records = score_stream(args.inputs, model_dir=args.model, jobs=args.jobs, backend=args.backend,
                                       scheduler=args.scheduler, batch_size=args.batch_size,
                                       include_text=args.include_text, progress=progress)
                try:
                    for rec in write_jsonl_stream(records, fh):
                        summary.add(rec)
                        progress.update(summary.letters)
                finally:
                    progress.close(summary.letters)  # ends the bar before any message
            summary.finish()
        else:
            summary = score(args.inputs, args.out, fmt, model_dir=args.model, jobs=args.jobs,
                            backend=args.backend, scheduler=args.scheduler, batch_size=args.batch_size,
                            restart=args.restart, progress=progress, include_text=args.include_text)
    except OutputLocked as exc:
        print(_locked_message("score", exc), file=sys.stderr)
        return EXIT_USAGE
    except NoLetters:
        print(f"imr score: {NO_LETTERS}", file=sys.stderr)
        return EXIT_USAGE
    except ResumeMismatch as exc:
        print(f"imr score: cannot resume: {exc}; rerun with --restart to start over", file=sys.stderr)
        return EXIT_USAGE
    except ModelLoadError as exc:  # a rerun cannot help: no resume hint
        print(f"imr score: {exc}; nothing was written", file=sys.stderr)
        return EXIT_RUN_FAILED
    except KeyboardInterrupt:
        print(f"imr score: interrupted; {resume_hint()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a dead worker, a lost cluster, a full disk: the journal is kept
        logging.getLogger("imr.batch").info("score failed", exc_info=True)
        print(f"imr score: failed ({type(exc).__name__}); {resume_hint()} (-v for details)", file=sys.stderr)
        return EXIT_RUN_FAILED
    print(summary.line(), file=sys.stderr)
    return EXIT_LETTERS_FAILED if summary.failed else EXIT_OK


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
QUIET_HELP = ("no progress bar and no 'loading models' line (both appear only when stderr is a terminal); "
              "errors and the final summary line are still printed")
INPUTS_HELP = ("files, directories (recursive) or glob patterns; - reads one letter (text, or a PDF by its "
               "%%PDF magic) from stdin, with id 'stdin'")
INCLUDE_TEXT_HELP = ("add the normalized letter text (the one every offset points into) to each record as "
                     "'text' (JSON Lines only)")


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.values()


def _finish(parser: argparse.ArgumentParser) -> None:
    """Every subcommand, at any depth (including those added by training/, models/ and
    imr/serve.py): the help formatter, and -v/--verbose after the subcommand too. Its default
    is SUPPRESS so a subcommand that is not given -v leaves the top-level value alone."""
    for p in _subparsers(parser):
        p.formatter_class = HelpFormatter
        if "--verbose" not in p._option_string_actions:
            p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
        _finish(p)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="imr", description="IMR Final Determination Letters → structured records.",
                                 formatter_class=HelpFormatter, epilog=EXIT_STATUS_HELP)
    ap.add_argument("--version", action="version", version=f"imr-nlp {__version__}")
    ap.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="letters (txt, pdf, jsonl, datasets) → one JSON record per letter",
                       description="Parse letters into one record per input (csv/parquet: one row per item). "
                                   "Inputs that hold no letter at all (an empty folder, a pattern that matches "
                                   "nothing) are refused (exit 2). OUT appears only when the run is complete; a "
                                   "killed run's hidden temporary file is removed by the next run on OUT.",
                       epilog=EXIT_STATUS_HELP)
    p.add_argument("inputs", nargs="+", help=INPUTS_HELP)
    p.add_argument("--out", required=True,
                   help="output file (written atomically; one run per OUT at a time, else exit 2); "
                        "- writes JSON Lines to stdout as records are done")
    p.add_argument("--format", choices=["jsonl", "csv", "parquet"], default=None,
                   help="default: from the --out suffix (.csv, .parquet), else jsonl; csv, parquet: one row "
                        "per item; when given it wins over the suffix")
    p.add_argument("--model", default=None, help="NER pipeline directory (default: the bundled one)")
    p.add_argument("--no-ner", action="store_true", help="layout parsing only, no entities")
    p.add_argument("--include-text", action="store_true", help=INCLUDE_TEXT_HELP)
    p.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    p.set_defaults(func=cmd_parse)

    from imr.batch import DEFAULT_BATCH_SIZE, default_jobs

    s = sub.add_parser(
        "score", help="letters → scored records, in parallel, streaming, resumable",
        description="Score letters into one record per input (csv/parquet: one row per item). "
                    "Records are appended to OUT.partial as they are done; OUT appears when the run "
                    "is complete. Rerunning the same command after an interruption resumes. One run per OUT "
                    "at a time: a second run on the same OUT refuses at once (exit 2). Inputs that hold no letter "
                    "at all (an empty folder, a pattern that matches nothing) are refused too (exit 2).",
        epilog=EXIT_STATUS_HELP)
    s.add_argument("inputs", nargs="+", help=INPUTS_HELP)
    s.add_argument("--out", required=True,
                   help="output file; - writes JSON Lines to stdout as records are done (no partial file, "
                        "not resumable)")
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
    s.add_argument("--include-text", action="store_true", help=INCLUDE_TEXT_HELP)
    s.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    s.set_defaults(func=cmd_score)

    r = sub.add_parser("report", help="scored records → analytics.html + one CSV per table")
    r.add_argument("scored", help="scored JSON Lines file (imr score / imr parse output; CSV and Parquet "
                                  "outputs are refused, exit 2)")
    r.add_argument("--out", required=True, help="output directory")
    r.add_argument("--top", type=_positive, default=25, help="most frequent requests to list (default: %(default)s)")
    r.set_defaults(func=cmd_report)

    from imr.serve import add_subcommand as add_serve  # `imr serve` (issue 18; needs imr-nlp[serve])

    add_serve(sub)

    from imr.training_commands import add_subcommands

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
