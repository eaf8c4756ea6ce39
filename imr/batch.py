"""Batch scoring at archive scale: inputs → scored records, in parallel, resumable.

The engine behind `imr score`:

* **Streaming.** Inputs are read lazily (`nlp.reading.iter_documents`, in the driver process)
  and cut into batches of `batch_size` `RawDocument`s. At most about 2 × workers batches are in
  flight; results come back and are written **in input order**, so memory stays flat whatever
  the archive size.
* **Parallel.** `backend="loky"`: joblib `Parallel(return_as="generator")` over worker
  processes (`jobs`; `jobs=1` runs in the driver). `backend="dask"`: the same batches go to a
  `dask.distributed` cluster (`scheduler` address, or a local cluster of `jobs` workers),
  submitted with a window of 2 × worker threads and collected in order. Every worker loads
  the scorer once per model directory (`get_scorer`, a module-level cache) and gets
  `RawDocument` batches, returning records. Workers must have `imr-nlp` installed (same
  version) and, for a model, the same `model_dir` path.
* **Nothing lost, resumable.** Records are appended to a journal `<out>.partial` (JSON Lines,
  one whole record per line, flushed per record, fsynced per batch; see
  `nlp.output.Journal`). When the run ends, the journal is renamed to `<out>` (jsonl) or
  converted to `<out>` (csv, parquet, atomically) and removed, so `<out>` exists only when
  complete. Re-running the same command after a crash or kill resumes: a torn last line is
  truncated, the journal's records are matched **by input position** against the inputs
  (each must have the same `(id, source)`, else the run stops and asks for `--restart`), those
  inputs are skipped (they are still read, not parsed) and the rest is appended. Keying on the
  position keeps "exactly one record per input" with duplicate ids, and the finished file is
  byte-identical to an uninterrupted run's.
* **Self-describing records.** Each record gets `provenance` (`imr_version` and the models'
  fingerprints, `nlp.record.provenance`), computed once per run in the driver, and with
  `include_text` its normalized `text` (computed in the worker). Both are part of the journal's
  meta, so a resume never mixes records of two model versions. CSV and Parquet outputs, converted
  from the journal, carry the provenance in their last columns (`nlp.output.PROVENANCE_COLUMNS`).
* **Model failures are run failures.** The models are checked in the driver before anything is
  written (`check_models`) and a worker that cannot load them raises `ModelLoadError`; such a
  run leaves no journal behind (nothing a rerun could resume), nor does any run that failed
  before its first record.
* **stdin / stdout.** The input `-` is one letter read from standard input (`read_stdin`);
  `score_stream` yields records as they are done (for `--out -`: no journal, no lock). A run
  reading stdin never resumes a journal: its input cannot be read again.
* **One writer per output.** The run holds `nlp.output.OutputLock` (an exclusive `flock` on
  `<out>.lock`, which holds its pid) from start to finish: a second run on the same `out`
  raises `OutputLocked` at once, before touching the journal. A killed run's lock goes with
  its process; its stale lock file does not block the rerun.

Never logs letter text: log lines carry counts, ids of batches and exception class names.
"""
from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Iterable, Iterator, TextIO

from nlp import __version__, errors
from nlp.errors import LetterError, ModelLoadError
from nlp.output import FORMATS, Journal, OutputLock
from nlp.parallel import default_jobs, iter_batches, run_local
from nlp.reading import DEFAULT_MAX_BYTES, RawDocument, count_documents, holding_letters, iter_documents
from nlp.record import PROVENANCE_KEY, TEXT_KEY, error_record, provenance, record_text

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 64
BACKENDS = ("loky", "dask")
# Test hook: seconds each batch sleeps in its worker (to make runs slow enough to kill).
SLEEP_ENV = "IMR_BATCH_SLEEP"
# JSON Lines inputs are scanned to count their records for the progress bar up to this many bytes
# in all (beyond: no total).
COUNT_LINES_LIMIT = 256 << 20

# `-` among the inputs: one letter from standard input; `--out -`: JSON Lines to standard output.
STDIN = "-"
STDIN_ID = "stdin"
STDIN_SOURCE = "<stdin>"

_SCORERS: dict = {}


class NoLetters(Exception):
    """The inputs hold no letter at all (empty directories, patterns that match nothing)."""


class ResumeMismatch(Exception):
    """The journal of an interrupted run does not belong to these inputs / this model."""


def _model_key(model_dir) -> str | None:
    return None if model_dir is None else os.path.abspath(os.fspath(model_dir))


def model_load_error(model_dir, exc: BaseException) -> ModelLoadError:
    """The `ModelLoadError` of a failed model load (names the directory and the exception: model
    files, never letter text)."""
    where = os.fspath(model_dir) if model_dir is not None else "the bundled default"
    detail = " ".join(str(exc).split())[:300]
    return ModelLoadError(f"cannot load the models of {where}: {type(exc).__name__}" + (f": {detail}" if detail else ""))


def get_scorer(model_dir=None):
    """The scorer for `model_dir`, loaded once per process (`ModelLoadError` if it cannot be)."""
    key = _model_key(model_dir)
    if key not in _SCORERS:
        from models.bundle import load_scorer  # noqa: PLC0415 - workers import lazily

        try:
            _SCORERS[key] = load_scorer(model_dir)
        except Exception as exc:  # noqa: BLE001 - whatever it is, the run cannot go on
            raise model_load_error(model_dir, exc) from None
    return _SCORERS[key]


def check_models(model_dir=None, ner: bool = True, classifier: bool = True) -> dict:
    """Check, in the driver and before anything is written, that the models can be loaded (the
    default bundle's pinned digest, the NER pipeline's presence, the classifier's model card and
    artifact hashes; nothing is unpickled) and return their fingerprints
    (`models.bundle.model_digests`). Raises `ModelLoadError`."""
    from models.persistence import verify_artifacts  # noqa: PLC0415
    from models.bundle import check_bundle, classifier_dir, model_digests, ner_dir  # noqa: PLC0415

    try:
        if ner or classifier:
            check_bundle(model_dir)
        if ner:
            ner_dir(model_dir)  # raises for a --model without a pipeline
        if classifier:
            path = classifier_dir(model_dir)
            if path is None:
                raise FileNotFoundError("no classifier (classifier/model_card.json) in the bundle")
            verify_artifacts(path)
        return model_digests(model_dir, ner=ner, classifier=classifier)
    except Exception as exc:  # noqa: BLE001
        raise model_load_error(model_dir, exc) from None


# --------------------------------------------------------------------------- inputs

def read_stdin(stream=None, max_bytes: int = DEFAULT_MAX_BYTES) -> RawDocument:
    """One letter from standard input (id `stdin`, source `<stdin>`): a PDF when the bytes start
    with `%PDF`, else text decoded like a `.txt` file; typed errors as for a file (`too_large`
    over `max_bytes`, `empty_input`, `binary_input`, `unreadable_pdf`...)."""
    from nlp.reading import _clean_document, _failed, _pdf_document, _text_document  # noqa: PLC0415

    stream = stream if stream is not None else sys.stdin.buffer
    try:
        data = stream.read(max_bytes + 1)
    except OSError as exc:
        return _failed(STDIN_ID, STDIN_SOURCE, errors.UNREADABLE_INPUT, f"stdin could not be read ({type(exc).__name__})")
    if len(data) > max_bytes:
        return _failed(STDIN_ID, STDIN_SOURCE, errors.TOO_LARGE, f"stdin is over the limit of {max_bytes} bytes")
    if data.lstrip(b"\x00\t\n\r ")[:5] == b"%PDF-":
        return _clean_document(_pdf_document(STDIN_ID, STDIN_SOURCE, data))
    return _clean_document(_text_document(STDIN_ID, STDIN_SOURCE, data))


def iter_inputs(inputs: Iterable[str], max_bytes: int = DEFAULT_MAX_BYTES, stdin=None) -> Iterator[RawDocument]:
    """`nlp.reading.iter_documents`, where the input `-` is one letter read from `stdin`
    (default: the process's standard input; a file named `-` is `./-`)."""
    for item in inputs:
        if os.fspath(item) == STDIN:
            yield read_stdin(stdin, max_bytes)
        else:
            yield from iter_documents([item], max_bytes=max_bytes)


def paired(process, docs: Iterable[RawDocument]) -> Iterator[tuple[RawDocument, dict]]:
    """(document, record) pairs of `process(docs)`, which yields one record per document, in
    order (`LetterParser.process`)."""
    pending: collections.deque = collections.deque()

    def feed():
        for doc in docs:
            pending.append(doc)
            yield doc

    for rec in process(feed()):
        doc = pending.popleft()
        if (rec.get("id"), rec.get("source")) != (doc.id, doc.source):
            raise RuntimeError("a record does not match its input")
        yield doc, rec


def parse_records(parser, docs: Iterable[RawDocument], prov: dict, include_text: bool = False) -> Iterator[dict]:
    """`imr parse`'s records: `parser.process(docs)` with `text` (when `include_text`) and
    `provenance` added."""
    if include_text:
        for doc, rec in paired(parser.process, docs):
            rec[TEXT_KEY] = record_text(doc)
            rec[PROVENANCE_KEY] = prov
            yield rec
        return
    for rec in parser.process(docs):
        rec[PROVENANCE_KEY] = prov
        yield rec


def _matches(recs: list, docs: list[RawDocument]) -> bool:
    return len(recs) == len(docs) and all(
        isinstance(r, dict) and r.get("id") == d.id and r.get("source") == d.source
        for r, d in zip(recs, docs))


def score_batch(model_dir, docs: list[RawDocument]) -> list[dict]:
    """Worker task: one record per document, in order. A scorer failure on the batch is retried
    letter by letter; a letter that still fails gets an `internal_error` record."""
    delay = float(os.environ.get(SLEEP_ENV) or 0)
    if delay:
        time.sleep(delay)
    scorer = get_scorer(model_dir)
    try:
        recs = list(scorer.process(docs))
        if _matches(recs, docs):
            return recs
        log.warning("scorer returned %d records for a batch of %d; retrying one by one", len(recs), len(docs))
    except Exception as exc:  # noqa: BLE001 - one bad letter must not sink the batch
        log.warning("scorer failed on a batch of %d (%s); retrying one by one", len(docs), type(exc).__name__)
    out = []
    for doc in docs:
        try:
            recs = list(scorer.process([doc]))
            if not _matches(recs, [doc]):
                raise RuntimeError("scorer returned a wrong record")
            out.append(recs[0])
        except Exception as exc:  # noqa: BLE001
            out.append(error_record(doc.id, doc.source,
                                    LetterError(errors.INTERNAL, f"scorer failed: {type(exc).__name__}")))
    return out


def score_batch_with_text(model_dir, docs: list[RawDocument]) -> list[dict]:
    """`score_batch` with each record's normalized `text` (`--include-text`)."""
    recs = score_batch(model_dir, docs)
    for rec, doc in zip(recs, docs):
        rec[TEXT_KEY] = record_text(doc)
    return recs


# --------------------------------------------------------------------------- executors
# run_local: nlp.parallel (the loky executor, shared with training); run_dask below

def run_dask(batches: Iterable[list[RawDocument]], model_dir=None, scheduler: str | None = None,
             jobs: int = 2, task=None) -> Iterator[list[dict]]:
    """Records of each batch, in order, computed on a dask.distributed cluster (`scheduler`
    address; None starts a local cluster of `jobs` single-threaded worker processes); `task` as
    for `run_local`."""
    from distributed import Client, LocalCluster  # noqa: PLC0415

    task = task or score_batch

    if not log.isEnabledFor(logging.INFO):  # distributed logs at INFO by default; -v shows it
        logging.getLogger("distributed").setLevel(logging.WARNING)
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, silence_logs=logging.WARNING)
        client = Client(cluster)
    try:
        threads = sum(client.nthreads().values()) or jobs
        window = 2 * threads
        pending: collections.deque = collections.deque()
        for batch in batches:
            pending.append(client.submit(task, model_dir, batch, pure=False))
            if len(pending) >= window:
                fut = pending.popleft()
                yield fut.result()
                fut.release()
        while pending:
            fut = pending.popleft()
            yield fut.result()
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- progress & summary

def estimate_total(inputs: Iterable[str], max_bytes: int = DEFAULT_MAX_BYTES) -> int | None:
    """Number of letters the inputs hold, when cheap to know (`nlp.reading.count_documents`: the
    reader's own walk of folders and globs, files counted without being read; JSON Lines lines
    counted up to 256 MB of them in all; Parquet and dataset row counts from their metadata);
    `-` (stdin) is one letter. None when unknown."""
    total = 0
    for item in inputs:
        if os.fspath(item) == STDIN:
            total += 1
            continue
        n = count_documents([item], max_bytes=max_bytes, scan_limit=COUNT_LINES_LIMIT)
        if n is None:
            return None
        total += n
    return total


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


class Progress:
    """Progress of a run on stderr, drawn by tqdm: letters done, letters/s and, when the total is
    known, percent and ETA (counts only, never letter text). `enabled=None`: on only when the
    stream is a terminal (`imr ... --quiet` passes False). Call sites give the number of letters
    done so far (`update(done)`); `skipped` letters (a resumed run's) count as done but not in the
    rate. The bar opens at `start()` or the first `update`."""

    def __init__(self, total: int | None = None, stream: TextIO | None = None,
                 enabled: bool | None = None, desc: str = "imr score", min_interval: float = 0.25):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled if enabled is not None else _isatty(self.stream)
        self.total = total
        self.desc = desc
        self.min_interval = min_interval
        self.skipped = 0
        self._bar = None

    def loading(self) -> None:
        """The line `<desc>: loading models ...` (when enabled), before the models load."""
        if self.enabled and self._bar is None:
            self.stream.write(f"{self.desc}: loading models ...\n")
            self.stream.flush()

    def start(self) -> None:
        if not self.enabled or self._bar is not None:
            return
        from tqdm import tqdm  # noqa: PLC0415

        class Bar(tqdm):
            monitor_interval = 0  # no monitor thread in the driver

        self._bar = Bar(total=self.total, initial=self.skipped, desc=self.desc, unit="letter",
                        file=self.stream, mininterval=self.min_interval, leave=True)

    def update(self, done: int, force: bool = False) -> None:
        if not self.enabled:
            return
        self.start()
        bar = self._bar
        if bar.total is not None and done > bar.total:  # inputs grew since they were counted
            bar.total = done
        if done != bar.n:
            bar.update(done - bar.n)
        if force:
            bar.refresh()

    def close(self, done: int | None = None) -> None:
        """Draw the last count and end the bar's line (nothing when no bar was opened)."""
        if self._bar is None:
            return
        if done is not None:
            self.update(done)
        self._bar.close()
        self._bar = None


class Summary:
    """Counts over written records (letters, items, stated/predicted overturns, errors)."""

    def __init__(self):
        self.letters = self.items = self.decided = self.overturned = 0
        self.predicted = self.predicted_overturned = 0
        self.failed = 0
        self.resumed = 0
        self.errors: collections.Counter = collections.Counter()
        self.start = time.monotonic()
        self.elapsed = 0.0

    def add(self, rec: dict, resumed: bool = False) -> None:
        self.letters += 1
        self.resumed += resumed
        items = rec.get("items") or []
        self.items += len(items)
        for it in items:
            if it.get("decision") in ("upheld", "overturned"):
                self.decided += 1
                self.overturned += it["decision"] == "overturned"
            pred = it.get("prediction") or {}
            if pred.get("decision") in ("upheld", "overturned"):
                self.predicted += 1
                self.predicted_overturned += pred["decision"] == "overturned"
        if rec.get("error"):
            self.failed += 1
            self.errors[rec["error"].get("type")] += 1

    def finish(self) -> "Summary":
        self.elapsed = time.monotonic() - self.start
        return self

    def line(self) -> str:
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(self.errors.items()))
        share = f"{100.0 * self.overturned / self.decided:.1f}%" if self.decided else "n/a"
        out = (f"letters={self.letters} items={self.items} overturned={self.overturned} "
               f"({share} of {self.decided} decided items)")
        if self.predicted:
            out += (f" predicted_overturned={self.predicted_overturned} "
                    f"({100.0 * self.predicted_overturned / self.predicted:.1f}% of {self.predicted})")
        out += f" failed={self.failed}" + (f" ({kinds})" if kinds else "")
        new = self.letters - self.resumed
        rate = new / self.elapsed if self.elapsed > 0 else 0.0
        out += f" resumed={self.resumed} in {self.elapsed:.1f}s ({rate:.1f} letters/s)"
        return out


# --------------------------------------------------------------------------- the run

def partial_path(out: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(out)}.partial")


def _empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:  # absent, or its directory cannot be reached
        return True


def resumable_partial(out: str | os.PathLike) -> bool:
    """Does `out` have a partial output (a journal holding records) that a rerun resumes?"""
    return not _empty(partial_path(out))


def _meta_path(out) -> Path:
    return Path(f"{os.fspath(out)}.partial.meta.json")


def _skip_done(docs: Iterator[RawDocument], journal: Journal, summary: Summary, progress: Progress) -> None:
    """Consume the inputs the journal already holds, checking each one's (id, source)."""
    for pos, rec in enumerate(journal.records()):
        doc = next(docs, None)
        if doc is None:
            raise ResumeMismatch(f"the partial output has more records than there are inputs ({pos} inputs)")
        if (doc.id, doc.source) != (rec.get("id"), rec.get("source")):
            raise ResumeMismatch(f"input #{pos + 1} is not the one recorded in the partial output")
        summary.add(rec, resumed=True)
    progress.skipped = summary.letters


def score(inputs: list[str], out: str | os.PathLike, fmt: str = "jsonl", model_dir=None,
          jobs: int | None = None, backend: str = "loky", scheduler: str | None = None,
          batch_size: int = DEFAULT_BATCH_SIZE, restart: bool = False,
          progress: Progress | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
          include_text: bool = False) -> Summary:
    """Score `inputs` into `out` (see module doc); returns the summary of all records in `out`.
    Raises `NoLetters` when the inputs hold no letter at all, `ResumeMismatch` when a journal
    from another run is in the way (use `restart`), `nlp.output.OutputLocked` when another live
    run is writing `out`, and `ModelLoadError` when the models cannot be loaded (then, as after
    any failure before the first record, no journal is left)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format: {fmt}")
    _check_args(backend, batch_size)
    with OutputLock(out), sigterm_as_interrupt():
        return _score_locked(inputs, out, fmt, model_dir, jobs, backend, scheduler, batch_size,
                             restart, progress, max_bytes, include_text)


def _check_args(backend: str, batch_size: int) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend: {backend}")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")


def _results(docs: Iterator[RawDocument], model_dir, jobs: int, backend: str, scheduler, batch_size: int,
             include_text: bool) -> Iterator[list[dict]]:
    batches = iter_batches(docs, batch_size)
    task = score_batch_with_text if include_text else score_batch
    if backend == "dask":
        return run_dask(batches, model_dir, scheduler, jobs, task=task)
    return run_local(batches, model_dir, jobs, task=task)


def score_stream(inputs: list[str], model_dir=None, jobs: int | None = None, backend: str = "loky",
                 scheduler: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                 max_bytes: int = DEFAULT_MAX_BYTES, include_text: bool = False,
                 progress: Progress | None = None) -> Iterator[dict]:
    """Scored records of `inputs`, in input order, as they are done (`imr score --out -`): no
    journal, no lock, nothing resumable. Raises (when iterated) `NoLetters` before any record and
    `ModelLoadError` when the models cannot be loaded. `progress`: only its loading line is shown
    here (the caller updates it as it writes the records)."""
    _check_args(backend, batch_size)
    jobs = default_jobs() if jobs is None else max(1, jobs)
    docs = holding_letters(iter_inputs(inputs, max_bytes=max_bytes))
    if docs is None:
        raise NoLetters("no letter in the inputs (empty directories or patterns that match nothing)")
    prov = provenance(check_models(model_dir))
    if progress is not None:
        progress.loading()  # the models load with the first batch (in the workers)
    with sigterm_as_interrupt():
        for recs in _results(docs, model_dir, jobs, backend, scheduler, batch_size, include_text):
            for rec in recs:
                rec[PROVENANCE_KEY] = prov
                yield rec


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM stops a run the way Ctrl-C does (KeyboardInterrupt: the journal is closed, the
    worker pool shut down, exit 130), instead of killing it with its workers left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


_sigterm_as_interrupt = sigterm_as_interrupt  # the former private name


def _score_locked(inputs, out, fmt, model_dir, jobs, backend, scheduler, batch_size, restart,
                  progress, max_bytes, include_text=False) -> Summary:
    jobs = default_jobs() if jobs is None else max(1, jobs)
    progress = progress or Progress(enabled=False)
    journal = Journal(partial_path(out), sync_every=batch_size)
    meta_file = _meta_path(out)
    docs = holding_letters(iter_inputs(inputs, max_bytes=max_bytes))
    if docs is None:  # before anything is written or discarded
        raise NoLetters("no letter in the inputs (empty directories or patterns that match nothing)")
    prov = provenance(check_models(model_dir))  # once per run; before anything is written or discarded
    meta = {"version": __version__, "model": _model_key(model_dir), "inputs": [os.fspath(i) for i in inputs],
            "include_text": bool(include_text), PROVENANCE_KEY: prov}
    resumable = STDIN not in meta["inputs"]  # stdin cannot be read again
    if restart or not resumable:
        journal.discard()
        meta_file.unlink(missing_ok=True)
    summary = Summary()
    if journal.exists():
        try:
            old = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        if old != meta:
            raise ResumeMismatch("the partial output was written by a run with other inputs, "
                                 "models, options or version")
        done = journal.recover()
        log.info("resuming after %d records", done)
        _skip_done(docs, journal, summary, progress)
    else:
        meta_file.parent.mkdir(parents=True, exist_ok=True)
        meta_file.write_text(json.dumps(meta), encoding="utf-8")
    try:
        progress.loading()  # the models load with the first batch (in the workers)
        results = _results(docs, model_dir, jobs, backend, scheduler, batch_size, include_text)
        journal.open()
        try:
            for recs in results:
                for rec in recs:
                    rec[PROVENANCE_KEY] = prov
                    journal.write(rec)
                    summary.add(rec)
                journal.sync()
                progress.update(summary.letters)
        finally:
            journal.close()
            progress.close(summary.letters)
    except BaseException:
        if not resumable or _empty(journal.path):  # nothing a rerun could resume: leave nothing
            journal.discard()
            meta_file.unlink(missing_ok=True)
        raise
    journal.finish(out, fmt)
    meta_file.unlink(missing_ok=True)
    return summary.finish()
