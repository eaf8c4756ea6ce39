"""Record writers: JSON Lines, or CSV / Parquet flattened to one row per item. Writes are
atomic: the file appears under its name only when complete.

CSV and Parquet rows end with the record's `provenance`, flattened (`PROVENANCE_COLUMNS`:
`imr_version`, `model_ner`, `model_classifier`; the same on every row of a run, empty / null
for a model the run did not use). They never carry the letter text (`--include-text` is JSON
Lines only).

Resumable runs (`imr score`) write JSON Lines to a journal, `<out>.partial`, one whole record
per line (see `Journal`); `<out>` itself appears only when the run is complete.

One writer per output: `OutputLock` holds an exclusive `flock` on `<out>.lock` (holding the
writer's pid) for the whole run, so a second run on the same `--out` refuses at once
(`OutputLocked`); the kernel drops the lock of a killed run, so a stale lock file never blocks.
The lock holder removes the hidden temporaries a killed run left beside `<out>`.

`--out -` writes JSON Lines to standard output as records are done (`stdout_stream`,
`write_jsonl_stream`): no temporary file, no lock, no journal; while it runs, file descriptor 1
points at stderr so that only records reach the real standard output.

Writers never fail on a character UTF-8 cannot encode (a lone surrogate): it is written as
U+FFFD.
"""
from __future__ import annotations

import codecs
import csv
import errno
import fcntl
import json
import logging
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet")

CSV_COLUMNS = [
    "id", "source", "format", "case_number", "date_assigned", "date_decision", "date_ur_denial",
    "date_application_received", "reviewer_specialties", "patient_age", "patient_sex",
    "patient_date_of_injury", "item_index", "request", "original_request", "treatment_category",
    "decision", "claims_administrator_guidelines", "reviewer_guidelines", "n_entities",
    "error_type", "error_message",
]
# Per-item prediction columns (filled when the scorer added `item["prediction"]`).
PREDICTION_COLUMNS = [
    "predicted_decision", "p_overturned", "predicted_rationale", "forecast_decision",
    "forecast_p_overturned",
]
# The record's `provenance`, flattened; always the last columns of a CSV / Parquet output.
PROVENANCE_COLUMNS = ["imr_version", "model_ner", "model_classifier"]
_INT_COLUMNS = {"patient_age", "item_index", "n_entities"}
_FLOAT_COLUMNS = {"p_overturned", "forecast_p_overturned"}


# Encoding error handler: a character UTF-8 cannot encode (a lone surrogate) becomes U+FFFD.
REPLACE_UNENCODABLE = "imr_output_replace_unencodable"


def _replace_unencodable(exc: UnicodeError):
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    # bytes: the UTF-8 encoder takes only ASCII str replacements
    return "\ufffd".encode("utf-8") * (exc.end - exc.start), exc.end


codecs.register_error(REPLACE_UNENCODABLE, _replace_unencodable)
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _clean(text: str) -> str:
    return text if _SURROGATE_RE.search(text) is None else _SURROGATE_RE.sub("\ufffd", text)


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator:
    """Open a temporary file beside `path`; rename it over `path` on success.
    `mode` "w" (UTF-8 text) or "wb"."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        text = "b" not in mode
        kwargs = {"encoding": "utf-8", "newline": "", "errors": REPLACE_UNENCODABLE} if text else {}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def json_line(record: dict) -> str:
    """One JSON line; a lone surrogate anywhere in the record is written as U+FFFD, so the line
    always encodes as UTF-8."""
    return _clean(json.dumps(record, ensure_ascii=False, separators=(",", ":"))) + "\n"


def _cites(cites: list[dict]) -> str:
    return " | ".join(c.get("text") or "" for c in cites)


def provenance_columns(record: dict) -> dict:
    """The `PROVENANCE_COLUMNS` of a record: its `provenance` flattened (None where absent)."""
    prov = record.get("provenance") or {}
    models = prov.get("models") or {}
    return {"imr_version": prov.get("imr_version"), "model_ner": models.get("ner"),
            "model_classifier": models.get("classifier")}


def output_columns(extra_columns: list[str] | None = None) -> list[str]:
    """The columns of a CSV / Parquet output: `CSV_COLUMNS`, then `extra_columns` (the
    prediction columns of `imr score`), then `PROVENANCE_COLUMNS`."""
    extra = [c for c in (extra_columns or []) if c not in PROVENANCE_COLUMNS]
    return CSV_COLUMNS + extra + PROVENANCE_COLUMNS


def csv_rows(record: dict) -> Iterator[dict]:
    """One row per item; a letter without items still gets one row. Every row carries the
    record's provenance (`provenance_columns`)."""
    d, p, err = record.get("dates") or {}, record.get("patient") or {}, record.get("error") or {}
    base = {
        "id": record["id"], "source": record.get("source"), "format": record.get("format"),
        "case_number": record.get("case_number"),
        "date_assigned": d.get("assigned"), "date_decision": d.get("decision"),
        "date_ur_denial": d.get("ur_denial"), "date_application_received": d.get("application_received"),
        "reviewer_specialties": "; ".join(record.get("reviewer_specialties") or []),
        "patient_age": p.get("age"), "patient_sex": p.get("sex"), "patient_date_of_injury": p.get("date_of_injury"),
        "n_entities": len(record.get("entities") or []),
        "error_type": err.get("type"), "error_message": err.get("message"),
        **provenance_columns(record),
    }
    items = record.get("items") or []
    if not items:
        yield base
    for it in items:
        g = it.get("guidelines") or {}
        pred = it.get("prediction") or {}
        forecast = pred.get("forecast") or {}
        yield {**base, "item_index": it["index"], "request": it["request"],
               "original_request": it.get("original_request"),
               "treatment_category": it.get("treatment_category"), "decision": it.get("decision"),
               "claims_administrator_guidelines": _cites(g.get("claims_administrator") or []),
               "reviewer_guidelines": _cites(g.get("reviewer") or []),
               "predicted_decision": pred.get("decision"), "p_overturned": pred.get("p_overturned"),
               "predicted_rationale": pred.get("rationale"),
               "forecast_decision": forecast.get("decision"),
               "forecast_p_overturned": forecast.get("p_overturned")}


def parquet_schema(columns: list[str]):
    import pyarrow as pa  # noqa: PLC0415 - only Parquet output needs it

    def kind(c):
        return pa.int64() if c in _INT_COLUMNS else pa.float64() if c in _FLOAT_COLUMNS else pa.string()
    return pa.schema([(c, kind(c)) for c in columns])


def _parquet_value(column: str, value):
    if value is None or column in _INT_COLUMNS or column in _FLOAT_COLUMNS:
        return value
    return _clean(value if isinstance(value, str) else str(value))


PARQUET_ROW_GROUP = 10_000


def _write_parquet(records: Iterable[dict], path, columns: list[str]) -> Iterator[dict]:
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    schema = parquet_schema(columns)
    buf: dict[str, list] = {c: [] for c in columns}

    def flush(writer):
        if buf[columns[0]]:
            writer.write_table(pa.table({c: buf[c] for c in columns}, schema=schema))
            for c in columns:
                buf[c].clear()

    with atomic_open(path, "wb") as fh:
        with pq.ParquetWriter(fh, schema, compression="zstd") as writer:
            for rec in records:
                for row in csv_rows(rec):
                    for c in columns:
                        buf[c].append(_parquet_value(c, row.get(c)))
                if len(buf[columns[0]]) >= PARQUET_ROW_GROUP:
                    flush(writer)
                yield rec
            flush(writer)


def write_records(records: Iterable[dict], path: str | os.PathLike, fmt: str = "jsonl",
                  extra_columns: list[str] | None = None) -> Iterator[dict]:
    """Write records atomically, yielding each one after it is written (for progress/summary).
    jsonl: one record per line; csv / parquet: one row per item (`csv_rows`), in the columns
    `output_columns(extra_columns)` (the provenance ones last)."""
    if fmt == "parquet":
        yield from _write_parquet(records, path, output_columns(extra_columns))
        return
    with atomic_open(path) as fh:
        if fmt == "jsonl":
            for rec in records:
                fh.write(json_line(rec))
                yield rec
        elif fmt == "csv":
            writer = csv.DictWriter(fh, fieldnames=output_columns(extra_columns), extrasaction="ignore")
            writer.writeheader()
            for rec in records:
                writer.writerows(csv_rows(rec))
                yield rec
        else:
            raise ValueError(f"unknown output format: {fmt}")


STDOUT = "-"


@contextmanager
def stdout_stream() -> Iterator:
    """The process's standard output as a binary stream for records only. Meanwhile file
    descriptor 1 (and so `print`, a library's output, a worker process started now) points at
    stderr, so nothing else can reach the records' stream. Restored on exit."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    saved = os.dup(1)
    fh = None
    try:
        os.dup2(2, 1)
        fh = os.fdopen(os.dup(saved), "wb")
        yield fh
    finally:
        if fh is not None:
            try:
                fh.close()
            except OSError:  # a reader that went away: the caller has the first error
                pass
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved, 1)
        os.close(saved)


def write_jsonl_stream(records: Iterable[dict], fh) -> Iterator[dict]:
    """Write each record as one JSON line to the binary stream `fh`, flushed at once; yield it."""
    for rec in records:
        fh.write(json_line(rec).encode("utf-8", errors=REPLACE_UNENCODABLE))
        fh.flush()
        yield rec


def read_jsonl_records(path: str | os.PathLike) -> Iterator[dict]:
    """Records of a JSON Lines file written by this module, one at a time."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def convert_jsonl(src: str | os.PathLike, dst: str | os.PathLike, fmt: str) -> None:
    """Write the records of JSON Lines `src` to `dst` in `fmt` (atomically, streaming)."""
    extra = PREDICTION_COLUMNS if fmt in ("csv", "parquet") else None
    for _ in write_records(read_jsonl_records(src), dst, fmt, extra_columns=extra):
        pass


class Journal:
    """Append-only JSON Lines journal of a resumable run, `<out>.partial`.

    Each record is written as one whole line with a single `write` and flushed, and the file is
    fsynced every `sync_every` records and on close, so a killed run leaves complete lines plus at
    most one torn last line. `recover()` truncates that torn line (or anything after the first
    line that does not parse as a JSON object) and returns how many complete records remain.
    Records are in input order, so those records are the results of the first inputs.
    """

    def __init__(self, path: str | os.PathLike, sync_every: int = 64):
        self.path = Path(path)
        self.sync_every = sync_every
        self._fh = None
        self._unsynced = 0

    def exists(self) -> bool:
        return self.path.exists()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def recover(self) -> int:
        """Truncate a torn or corrupt tail; return the number of complete records."""
        if not self.path.exists():
            return 0
        good_end = 0
        count = 0
        with open(self.path, "rb") as fh:
            for line in fh:
                if not line.endswith(b"\n"):
                    break
                try:
                    obj = json.loads(line)
                except ValueError:
                    break
                if not isinstance(obj, dict) or "id" not in obj:
                    break
                good_end += len(line)
                count += 1
        size = self.path.stat().st_size
        if size != good_end:
            log.warning("journal %s: dropped a torn tail of %d bytes after %d records",
                        self.path.name, size - good_end, count)
            with open(self.path, "r+b") as fh:
                fh.truncate(good_end)
                fh.flush()
                os.fsync(fh.fileno())
        return count

    def records(self) -> Iterator[dict]:
        """The journal's records (call after `recover`)."""
        return read_jsonl_records(self.path)

    def open(self) -> "Journal":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # owner-only, like the atomic outputs (mkstemp): records hold health information
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._fh = os.fdopen(fd, "ab")
        return self

    def write(self, record: dict) -> None:
        self._fh.write(json_line(record).encode("utf-8", errors=REPLACE_UNENCODABLE))
        self._fh.flush()
        self._unsynced += 1
        if self._unsynced >= self.sync_every:
            self.sync()

    def sync(self) -> None:
        if self._fh is not None and self._unsynced:
            os.fsync(self._fh.fileno())
            self._unsynced = 0

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None

    def finish(self, out: str | os.PathLike, fmt: str) -> None:
        """Publish the complete journal as `out`: renamed (jsonl) or converted (csv, parquet;
        the journal is removed once `out` is in place)."""
        self.close()
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "jsonl":
            os.replace(self.path, out)
        else:
            convert_jsonl(self.path, out, fmt)
            self.path.unlink()


# --------------------------------------------------------------------------- one writer per output

def lock_path(out: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(out)}.lock")


class OutputLocked(Exception):
    """Another live run holds the lock of this output."""

    def __init__(self, out: str | os.PathLike, pid: int | None):
        self.out = os.fspath(out)
        self.pid = pid
        who = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(f"{self.out} is being written by another run ({who})")


def _temporary_re(out: Path) -> re.Pattern:
    # atomic_open's names: mkstemp(prefix=".<name>.", suffix=".tmp"), 8 random characters
    return re.compile(r"\." + re.escape(out.name) + r"\.[a-z0-9_]{8}\.tmp")


def remove_stale_temporaries(out: str | os.PathLike) -> int:
    """Remove the hidden temporary files of `out` that a killed writer left (call while holding
    the output's lock: no live run owns one then). Returns how many were removed."""
    out = Path(out)
    pattern = _temporary_re(out)
    removed = 0
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return 0
    for entry in entries:
        if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError:
                pass
    if removed:
        log.info("removed %d temporary file(s) left by an interrupted run", removed)
    return removed


class OutputLock:
    """Exclusive lock of one output (`<out>.lock`, holding the writer's pid), taken without
    waiting: `acquire` raises `OutputLocked` (with the holder's pid) when another run holds it.
    The lock is the kernel's `flock` on the open file, so a killed run's lock is gone with its
    process and its leftover file (stale pid) does not block. `release` removes the file.
    On a file system without `flock` the run goes on unlocked, with a warning."""

    PID_WAIT = 1.0  # seconds to wait for a just-started holder to write its pid

    def __init__(self, out: str | os.PathLike):
        self.out = Path(out)
        self.path = lock_path(out)
        self._fd: int | None = None

    def _holder(self, fd: int) -> int | None:
        deadline = time.monotonic() + self.PID_WAIT
        while True:
            try:
                raw = os.pread(fd, 32, 0).strip()
            except OSError:
                return None
            if raw:
                try:
                    return int(raw)
                except ValueError:
                    return None
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def acquire(self) -> "OutputLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    pid = self._holder(fd)
                    os.close(fd)
                    raise OutputLocked(self.out, pid) from None
                os.close(fd)
                log.warning("cannot lock %s (%s): going on without the one-writer check",
                            self.path.name, type(exc).__name__)
                remove_stale_temporaries(self.out)
                return self
            try:  # the holder may have removed the file between our open and our flock
                current = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                current = False
            if current:
                break
            os.close(fd)
        else:  # pragma: no cover - the file vanished under us 100 times
            raise OutputLocked(self.out, None)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd
        remove_stale_temporaries(self.out)
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if os.path.samestat(os.fstat(fd), os.stat(self.path)):
                os.unlink(self.path)  # unlinked while still locked: see acquire's check
        except OSError:
            pass
        finally:
            os.close(fd)

    def __enter__(self) -> "OutputLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
