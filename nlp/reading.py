"""Input layer: files, directories, globs, JSON Lines, Parquet and Hugging Face datasets
→ a stream of `RawDocument`.

Contract (docs/CONTRACTS.md): every input unit (a text or PDF file, a JSONL line, a dataset
row) yields exactly one `RawDocument`; bad content never raises, it yields a record whose
`error` is a `LetterError` and whose `text` is None. Error messages carry only error types,
sizes, counts and library exception class names, never letter text.

Inputs given to `iter_documents`:

* a file: `.pdf` → PDF, `.jsonl` → JSON Lines, `.parquet` → Parquet, anything else → text;
* a directory: walked recursively in sorted name order (hidden entries, names starting with
  ".", are skipped); it takes `*.txt`, `*.pdf`, `*.jsonl`, `*.parquet` (case-insensitive) and
  directories written by `Dataset.save_to_disk` / `DatasetDict.save_to_disk`;
* a glob pattern (`*`, `?`, `[`; `**` recurses), when no path of that literal name exists:
  its matches in sorted order, each handled as above (files of any extension are taken,
  since the pattern named them);
* anything else → one record with error `not_found`.

Ids and sources:

* text / PDF file: id = file name without its extension, source = the path as given or found;
* JSONL line: id = the record's `id` or `<stem>-<line number>` (1-based), source `path:lineno`;
* Parquet row: id = `id` column or `<stem>-<row>` (0-based), source `path:row`;
* dataset row: id = `id` column or `<dir name>-<split>-<row>` (0-based), source
  `path:split:row`; a saved single `Dataset` uses its own split name, or "train" if unset.

`max_bytes` limits the stored bytes of one unit: a file's size (checked with stat, before
reading), a JSONL line's length, the UTF-8 length of a Parquet/dataset `text` value.

All text is returned with line ends normalized to "\\n"; PDF pages are joined with "\\f".
Characters that cannot be encoded as UTF-8 (lone surrogates, e.g. a JSON "\\udc80" escape or
an undecodable file name) are replaced with U+FFFD in ids, sources and text, one for one, so
string lengths and offsets are kept and every record can be written.

Nothing blocks or loops: only regular files are opened (a FIFO, socket or device is never
opened and gets `not_regular_file`), and directory walks and `**` globs enter each real
directory once, keyed by (st_dev, st_ino), so a symlink loop (`sub/up -> ..`) is walked once.
A Parquet file is read row group by row group: a corrupt group yields one `bad_record` per row
it held (its row count is in the file's footer) and the other groups are read normally.

`count_documents` says how many documents `iter_documents` yields, by the same walk (the units
it hands over: files, dataset directories, ready error records), without reading any letter.
"""
from __future__ import annotations

import codecs
import dataclasses
import glob
import itertools
import json
import logging
import os
import re
import stat
from dataclasses import dataclass
from typing import Iterable, Iterator

from nlp.errors import (
    BAD_RECORD,
    BINARY_INPUT,
    EMPTY_INPUT,
    ENCRYPTED_PDF,
    NO_TEXT_LAYER,
    NOT_FOUND,
    NOT_REGULAR_FILE,
    TOO_LARGE,
    UNREADABLE_INPUT,
    UNREADABLE_PDF,
    LetterError,
)

__all__ = [
    "RawDocument",
    "ReadingError",
    "iter_documents",
    "count_documents",
    "decode_text",
    "read_pdf_text",
    "DIRECTORY_SUFFIXES",
    "replace_unencodable",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10_000_000
DIRECTORY_SUFFIXES = (".txt", ".pdf", ".jsonl", ".parquet")
# Share of control characters (other than tab, LF, VT, FF, CR) above which text is binary.
CONTROL_SHARE_LIMIT = 0.10
# A NUL byte within this many leading bytes marks binary content (as git decides).
NUL_WINDOW = 8000
_BATCH_ROWS = 1024
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class RawDocument:
    id: str
    source: str
    text: str | None
    error: LetterError | None

    @property
    def ok(self) -> bool:
        return self.error is None


class ReadingError(Exception):
    """A typed, text-free reading failure; `iter_documents` turns it into `RawDocument.error`."""

    def __init__(self, type: str, message: str):
        super().__init__(f"{type}: {message}")
        self.type = type
        self.message = message

    def to_letter_error(self) -> LetterError:
        return LetterError(self.type, self.message)


# --------------------------------------------------------------------------- text decoding

# Code points that UTF-8 cannot encode: surrogates (in a Python str, always lone ones).
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def replace_unencodable(text: str) -> str:
    """`text` with every surrogate code point replaced by U+FFFD, one for one: the length, and so
    every offset, is unchanged, and the result always encodes as UTF-8."""
    if _SURROGATE_RE.search(text) is None:
        return text
    return _SURROGATE_RE.sub("\ufffd", text)


def _clean_document(doc: "RawDocument") -> "RawDocument":
    changes = {}
    for name in ("id", "source", "text"):
        value = getattr(doc, name)
        if isinstance(value, str):
            clean = replace_unencodable(value)
            if clean is not value:
                changes[name] = clean
    return dataclasses.replace(doc, **changes) if changes else doc


def _utf8_fallback(exc: UnicodeError):
    """Error handler: bytes that are not UTF-8 are read as CP1252 (Latin-1 where CP1252 has
    no character), so CP1252/Latin-1 files and UTF-8 files with stray CP1252 bytes decode."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    out = []
    for b in bad:
        byte = bytes((b,))
        try:
            out.append(byte.decode("cp1252"))
        except UnicodeDecodeError:
            out.append(byte.decode("latin-1"))
    return "".join(out), exc.end


_ERRORS = "imr_reading_cp1252_fallback"
codecs.register_error(_ERRORS, _utf8_fallback)
# A well-formed UTF-8 multi-byte sequence (2, 3 or 4 bytes, no overlongs, no surrogates).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


# UTF-16 without a BOM: within the first bytes, at least this share of the 2-byte units are an
# ASCII printable/whitespace byte beside a NUL (the NUL at odd offsets: LE; at even: BE) ...
UTF16_ASCII_SHARE = 0.6
# ... and at most this share of the units is NUL on the other side (U+0000, U+xx00).
UTF16_OTHER_NUL_SHARE = 0.05
_UTF16_SAMPLE = 8192
_PRINTABLE_ASCII = frozenset(range(0x20, 0x7F)) | frozenset(b"\t\n\x0b\x0c\r")


def _utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le" / "utf-16-be" when `data` (no BOM) looks like UTF-16 text of mostly ASCII
    characters: many NUL bytes at odd (LE) or even (BE) offsets, the others printable."""
    sample = data[:_UTF16_SAMPLE]
    units = len(sample) // 2
    if units < 2 or b"\x00" not in sample:
        return None
    even, odd = sample[0:units * 2:2], sample[1:units * 2:2]
    for lo, hi, codec in ((even, odd, "utf-16-le"), (odd, even, "utf-16-be")):
        ascii_units = sum(1 for a, b in zip(lo, hi) if b == 0 and a in _PRINTABLE_ASCII)
        if (ascii_units >= UTF16_ASCII_SHARE * units
                and lo.count(0) <= UTF16_OTHER_NUL_SHARE * units):
            return codec
    return None


def _normalize_newlines(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def decode_text(data: bytes) -> str:
    """Bytes of any usual encoding → str, line ends normalized to "\\n". Never raises.

    UTF-32/UTF-16 with a BOM and UTF-8 (with or without BOM) are decoded as such; so is UTF-16
    LE/BE without a BOM when it looks like it (mostly ASCII characters, i.e. NUL bytes at every
    odd or every even offset with printable bytes beside them); bytes that are not valid UTF-8
    are read as CP1252, or Latin-1 for the five bytes CP1252 leaves undefined — so CP1252 and
    Latin-1 files decode, and so does mostly-UTF-8 text with stray CP1252 bytes. The result
    never holds a surrogate.
    """
    data = bytes(data)
    utf16 = None
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        text = data.decode("utf-32", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    elif (utf16 := _utf16_without_bom(data)) is not None:
        text = data.decode(utf16, errors="replace")
    else:
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            if _UTF8_MULTIBYTE.search(data):  # mostly UTF-8: stray bytes read as CP1252
                text = data.decode("utf-8", errors=_ERRORS)
            else:  # no UTF-8 sequence at all: a CP1252 / Latin-1 file
                text = data.decode("cp1252", errors=_ERRORS)
    return _normalize_newlines(text)


# C0 controls other than tab, LF, VT, FF, CR; DEL; C1 controls.
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _control_count(text: str) -> int:
    return len(_CONTROL_RE.findall(text))


def _looks_binary(data: bytes, text: str) -> bool:
    wide = (data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
            or _utf16_without_bom(data) is not None)
    if not wide and b"\x00" in data[:NUL_WINDOW]:
        return True
    if "\x00" in text[:NUL_WINDOW]:
        return True
    return bool(text) and _control_count(text) > CONTROL_SHARE_LIMIT * len(text)


def _text_document(doc_id: str, source: str, data: bytes) -> RawDocument:
    text = decode_text(data)
    if _looks_binary(data, text):
        return _failed(doc_id, source, BINARY_INPUT,
                       f"binary content ({len(data)} bytes), not text")
    if not text.strip():
        return _failed(doc_id, source, EMPTY_INPUT, f"no text ({len(data)} bytes)")
    return RawDocument(doc_id, source, text, None)


# --------------------------------------------------------------------------- PDF

def read_pdf_text(source: str | bytes | os.PathLike) -> str:
    """Text of a PDF (path or bytes): pages' text joined with "\\f", line ends "\\n".

    Opens without a password (the published letters are AES-encrypted with an empty user
    password, which this opens). Raises `ReadingError` with type `encrypted_pdf` (a real
    password is needed), `unreadable_pdf` (truncated, corrupt, not a PDF) or `no_text_layer`
    (no extractable characters on any page, e.g. scanned images).

    Text comes from pdfium's `get_text_range` (content order; on the 64 real letters it equals
    `get_text_bounded` except that bounded drops line-end hyphens, which pdfium reports as
    U+FFFE and which are written back here as "-", e.g. "non-certified").
    """
    import pypdfium2 as pdfium  # noqa: PLC0415 - imported on first PDF only
    import pypdfium2.raw as pdfium_raw  # noqa: PLC0415

    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    try:
        doc = pdfium.PdfDocument(source)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_raw.FPDF_ERR_PASSWORD, pdfium_raw.FPDF_ERR_SECURITY):
            kind = "a password" if code == pdfium_raw.FPDF_ERR_PASSWORD else "an unsupported security handler"
            raise ReadingError(ENCRYPTED_PDF, f"PDF needs {kind} (PdfiumError code {code})") from None
        raise ReadingError(UNREADABLE_PDF, f"PDF could not be loaded (PdfiumError code {code})") from None
    except FileNotFoundError:
        raise ReadingError(NOT_FOUND, "no such file") from None
    except OSError as exc:
        raise ReadingError(UNREADABLE_INPUT, f"file could not be read ({type(exc).__name__})") from None
    n_pages = 0
    try:
        n_pages = len(doc)
        pages: list[str] = []
        for index in range(n_pages):
            page = doc[index]
            try:
                textpage = page.get_textpage()
                try:
                    pages.append(textpage.get_text_range())
                finally:
                    textpage.close()
            finally:
                page.close()
    except pdfium.PdfiumError as exc:
        raise ReadingError(
            UNREADABLE_PDF, f"PDF page could not be read ({type(exc).__name__}, {n_pages} pages)"
        ) from None
    finally:
        doc.close()
    text = replace_unencodable(_normalize_newlines("\f".join(pages).replace("\ufffe", "-")))
    if not text.strip():
        raise ReadingError(NO_TEXT_LAYER, f"no extractable text on {n_pages} page(s)")
    return text


def _pdf_document(doc_id: str, source: str, path: str | bytes) -> RawDocument:
    """A PDF (path or bytes) → `RawDocument`, its reading errors typed, never raising."""
    try:
        return RawDocument(doc_id, source, read_pdf_text(path), None)
    except ReadingError as exc:
        return RawDocument(doc_id, source, None, exc.to_letter_error())
    except Exception as exc:  # noqa: BLE001 - a library failure on bad content is no crash
        return _failed(doc_id, source, UNREADABLE_PDF, f"PDF could not be read ({type(exc).__name__})")


# --------------------------------------------------------------------------- JSON Lines

def _record_id(value, default: str) -> str | None:
    """The record's id as str (str or int accepted), `default` if absent, None if invalid."""
    if value is None:
        return default
    if isinstance(value, str):
        return value if value else default
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _record_text(doc_id: str, source: str, text, max_bytes: int | None) -> RawDocument:
    if not isinstance(text, str):
        kind = "missing" if text is None else type(text).__name__
        return _failed(doc_id, source, BAD_RECORD, f"record has no string 'text' ({kind})")
    if max_bytes is not None:
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > max_bytes:
            return _failed(doc_id, source, TOO_LARGE,
                           f"text is {size} bytes, over the limit of {max_bytes}")
    text = _normalize_newlines(text)
    if "\x00" in text or (text and _control_count(text) > CONTROL_SHARE_LIMIT * len(text)):
        return _failed(doc_id, source, BINARY_INPUT, f"text of {len(text)} chars is not text")
    if not text.strip():
        return _failed(doc_id, source, EMPTY_INPUT, f"empty text ({len(text)} chars)")
    return RawDocument(doc_id, source, text, None)


def _iter_jsonl(path: str, stem: str, max_bytes: int) -> Iterator[RawDocument]:
    try:
        fh = _open_regular(path)
    except (_NotRegular, OSError) as exc:
        yield _open_failure(stem, path, exc)
        return
    with fh:
        lineno = 0
        while True:
            try:
                raw = fh.readline(max_bytes + 3)  # content + "\r\n" + 1 to detect overflow
            except OSError as exc:
                yield _os_error(f"{stem}-{lineno + 1}", f"{path}:{lineno + 1}", exc)
                return
            if not raw:
                return
            lineno += 1
            doc_id, source = f"{stem}-{lineno}", f"{path}:{lineno}"
            complete = raw.endswith(b"\n")
            content = raw[:-1] if complete else raw
            if content.endswith(b"\r"):
                content = content[:-1]
            if len(content) > max_bytes or (not complete and len(raw) >= max_bytes + 3):
                size = len(raw)
                while not complete:  # skip the rest of the long line without holding it
                    chunk = fh.readline(1 << 20)
                    if not chunk:
                        break
                    size += len(chunk)
                    complete = chunk.endswith(b"\n")
                yield _failed(doc_id, source, TOO_LARGE,
                              f"line is {size} bytes, over the limit of {max_bytes}")
                continue
            if not content.strip():
                continue  # blank lines are not records
            if lineno == 1 and content.startswith(codecs.BOM_UTF8):
                content = content[len(codecs.BOM_UTF8):]
            try:
                obj = json.loads(content.decode("utf-8", errors=_ERRORS))
            except (ValueError, RecursionError) as exc:
                yield _failed(doc_id, source, BAD_RECORD, f"invalid JSON ({type(exc).__name__})")
                continue
            if not isinstance(obj, dict):
                yield _failed(doc_id, source, BAD_RECORD,
                              f"line is a JSON {type(obj).__name__}, not an object")
                continue
            rid = _record_id(obj.get("id"), doc_id)
            if rid is None:
                yield _failed(doc_id, source, BAD_RECORD,
                              f"'id' is a {type(obj.get('id')).__name__}, not a string")
                continue
            yield _record_text(rid, source, obj.get("text"), None)


# --------------------------------------------------------------------------- Parquet / datasets

def _iter_rows(batches, columns: list[str], stem: str, label: str, base: str,
               max_bytes: int, first_row: int = 0) -> Iterator[RawDocument]:
    """Rows of Arrow record batches → documents. label: "" (parquet) or a split name;
    first_row: the number of the first row (row groups after the first)."""
    row = first_row
    has_id = "id" in columns
    for batch in batches:
        texts = batch.column(columns.index("text")).to_pylist()
        ids = batch.column(columns.index("id")).to_pylist() if has_id else None
        for i, text in enumerate(texts):
            default = f"{stem}-{label}-{row}" if label else f"{stem}-{row}"
            source = f"{base}:{label}:{row}" if label else f"{base}:{row}"
            rid = _record_id(ids[i], default) if ids is not None else default
            if rid is None:
                yield _failed(default, source, BAD_RECORD,
                              f"'id' is a {type(ids[i]).__name__}, not a string")
            else:
                yield _record_text(rid, source, text, max_bytes)
            row += 1


def _iter_parquet(path: str, stem: str, max_bytes: int) -> Iterator[RawDocument]:
    """Rows of a Parquet file, row group by row group: a group that cannot be read yields one
    `bad_record` per row it held that was not read yet (the footer has its row count), then
    the next group is read."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    try:
        # buffered reads: column chunks are streamed, not loaded whole
        pf = pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False)
        names = pf.schema_arrow.names
        groups = [pf.metadata.row_group(g).num_rows for g in range(pf.metadata.num_row_groups)]
    except Exception as exc:  # noqa: BLE001 - any pyarrow failure is a bad file
        yield _failed(stem, path, BAD_RECORD, f"Parquet file could not be read ({type(exc).__name__})")
        return
    try:
        if "text" not in names:
            yield _failed(stem, path, BAD_RECORD, f"no 'text' column ({len(names)} columns)")
            return
        columns = ["text"] + (["id"] if "id" in names else [])
        first = 0
        for group, n_rows in enumerate(groups):
            done = 0
            try:
                batches = pf.iter_batches(batch_size=_BATCH_ROWS, row_groups=[group], columns=columns)
                rows = _iter_rows(batches, columns, stem, "", path, max_bytes, first)
                while done < n_rows:
                    doc = next(rows, None)
                    if doc is None:
                        break
                    done += 1
                    yield doc
                if done != n_rows:
                    raise ValueError("row count differs from the footer's")
            except Exception as exc:  # noqa: BLE001 - corrupt data in this row group
                kind = type(exc).__name__
                for row in range(first + done, first + n_rows):
                    yield _failed(f"{stem}-{row}", f"{path}:{row}", BAD_RECORD,
                                  f"Parquet row group {group} could not be read ({kind})")
            first += n_rows
    finally:
        pf.close()


def _is_dataset_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "dataset_dict.json")) or (
        os.path.isfile(os.path.join(path, "state.json"))
        and os.path.isfile(os.path.join(path, "dataset_info.json"))
    )


def _iter_dataset_dir(path: str, max_bytes: int) -> Iterator[RawDocument]:
    stem = os.path.basename(os.path.normpath(path)) or "dataset"
    try:
        import datasets  # noqa: PLC0415 - lazy: start-up time matters

        loaded = datasets.load_from_disk(path)
    except Exception as exc:  # noqa: BLE001
        yield _failed(stem, path, BAD_RECORD, f"dataset could not be loaded ({type(exc).__name__})")
        return
    if isinstance(loaded, datasets.DatasetDict):
        splits = list(loaded.items())
    else:
        splits = [(str(loaded.split) if loaded.split is not None else "train", loaded)]
    for split, ds in splits:
        names = list(ds.column_names)
        if "text" not in names:
            yield _failed(f"{stem}-{split}", f"{path}:{split}", BAD_RECORD,
                          f"no 'text' column ({len(names)} columns)")
            continue
        columns = ["text"] + (["id"] if "id" in names else [])
        table = ds.with_format("arrow").select_columns(columns)
        batches = table.iter(batch_size=_BATCH_ROWS)
        count = 0
        rows = _iter_rows(batches, columns, stem, split, path, max_bytes)
        while True:
            try:
                doc = next(rows)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001
                yield _failed(f"{stem}-{split}-{count}", f"{path}:{split}:{count}", BAD_RECORD,
                              f"dataset rows could not be read ({type(exc).__name__})")
                break
            count += 1
            yield doc


# --------------------------------------------------------------------------- files & walking

def _failed(doc_id: str, source: str, type_: str, message: str) -> RawDocument:
    return RawDocument(doc_id, source, None, LetterError(type_, message))


def _os_error(doc_id: str, source: str, exc: OSError) -> RawDocument:
    if isinstance(exc, FileNotFoundError):
        return _failed(doc_id, source, NOT_FOUND, "no such file or directory")
    return _failed(doc_id, source, UNREADABLE_INPUT, f"could not be read ({type(exc).__name__})")


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return kind
    return "not a regular file"


def _not_regular(doc_id: str, source: str, mode: int) -> RawDocument:
    return _failed(doc_id, source, NOT_REGULAR_FILE, f"{_file_kind(mode)}, not a regular file: not opened")


class _NotRegular(Exception):
    def __init__(self, mode: int):
        super().__init__(_file_kind(mode))
        self.mode = mode


def _open_failure(doc_id: str, source: str, exc: Exception) -> RawDocument:
    """The record of a file `_open_regular` could not open or read (`_NotRegular` or `OSError`)."""
    if isinstance(exc, _NotRegular):
        return _not_regular(doc_id, source, exc.mode)
    return _os_error(doc_id, source, exc)


def _nonblocking_opener(path, flags):
    # O_NONBLOCK: an open of a FIFO swapped in after the stat check returns at once instead of
    # waiting for a writer; it changes nothing for regular files.
    return os.open(path, flags | os.O_NONBLOCK)


def _open_regular(path: str):
    """`open(path, "rb")` that never blocks: raises `_NotRegular` unless it is a regular file."""
    fh = open(path, "rb", opener=_nonblocking_opener)
    try:
        mode = os.fstat(fh.fileno()).st_mode
    except BaseException:
        fh.close()
        raise
    if not stat.S_ISREG(mode):
        fh.close()
        raise _NotRegular(mode)
    return fh


def _stem(path: str) -> str:
    name = os.path.basename(os.path.normpath(path))
    stem, _ext = os.path.splitext(name)
    return stem or name


def _iter_file(path: str, max_bytes: int) -> Iterator[RawDocument]:
    stem = _stem(path)
    suffix = os.path.splitext(path)[1].lower()
    try:
        st = os.stat(path)
    except OSError as exc:
        yield _os_error(stem, path, exc)
        return
    if not stat.S_ISREG(st.st_mode):  # a FIFO, socket or device: opening it may block forever
        yield _not_regular(stem, path, st.st_mode)
        return
    if suffix == ".jsonl":
        yield from _iter_jsonl(path, stem, max_bytes)
        return
    if suffix == ".parquet":
        yield from _iter_parquet(path, stem, max_bytes)
        return
    size = st.st_size
    if size > max_bytes:
        yield _failed(stem, path, TOO_LARGE, f"file is {size} bytes, over the limit of {max_bytes}")
        return
    if suffix == ".pdf":
        if size == 0:
            yield _failed(stem, path, EMPTY_INPUT, "no text (0 bytes)")
        else:
            yield _pdf_document(stem, path, path)
        return
    try:
        with _open_regular(path) as fh:
            data = fh.read(max_bytes + 1)  # the file may have grown since stat
    except (_NotRegular, OSError) as exc:
        yield _open_failure(stem, path, exc)
        return
    if len(data) > max_bytes:
        yield _failed(stem, path, TOO_LARGE, f"file is over the limit of {max_bytes} bytes")
        return
    yield _text_document(stem, path, data)


def _dir_key(path: str) -> tuple[int, int]:
    st = os.stat(path or ".")
    return st.st_dev, st.st_ino


# The walk yields units, each read into documents by `_read_unit` (or counted by
# `count_documents`): (_FILE, path), (_DATASET, path) or (_DOCUMENT, a RawDocument already made,
# e.g. the error of a directory that cannot be listed).
_FILE, _DATASET, _DOCUMENT = "file", "dataset", "document"


def _walk_directory(directory: str, seen: set | None = None) -> Iterator[tuple[str, object]]:
    """Depth-first; the entries of each directory in sorted name order (only names are held,
    one directory listing per level); a saved dataset directory is one unit. Each real
    directory is entered once (`seen`: (st_dev, st_ino) keys), so symlink loops end."""
    seen = set() if seen is None else seen
    stack: list[Iterator[tuple[str, bool]]] = []

    def enter(path: str) -> RawDocument | None:
        try:
            key = _dir_key(path)
            if key in seen:
                log.debug("a directory reached again (symlink loop or alias) is skipped")
                return None
            seen.add(key)
            with os.scandir(path) as it:
                entries = sorted((e.name, e.is_dir()) for e in it if not e.name.startswith("."))
        except OSError as exc:
            return _os_error(_stem(path), path, exc)
        stack.append(iter([(os.path.join(path, name), is_dir) for name, is_dir in entries]))
        return None

    if (failed := enter(directory)) is not None:
        yield _DOCUMENT, failed
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        path, is_dir = entry
        if is_dir:
            if _is_dataset_dir(path):
                try:
                    key = _dir_key(path)
                except OSError as exc:
                    yield _DOCUMENT, _os_error(_stem(path), path, exc)
                    continue
                if key not in seen:
                    seen.add(key)
                    yield _DATASET, path
            elif (failed := enter(path)) is not None:
                yield _DOCUMENT, failed
        elif os.path.splitext(path)[1].lower() in DIRECTORY_SUFFIXES:
            yield _FILE, path


def _read_unit(kind: str, value, max_bytes: int) -> Iterator[RawDocument]:
    if kind == _FILE:
        return _iter_file(value, max_bytes)
    if kind == _DATASET:
        return _iter_dataset_dir(value, max_bytes)
    return iter((value,))


def _path_units(path: str) -> Iterator[tuple[str, object]]:
    if os.path.isdir(path):
        if _is_dataset_dir(path):
            yield _DATASET, path
        else:
            yield from _walk_directory(path)
    else:
        yield _FILE, path


def _dirs_below(base: str) -> Iterator[str]:
    """`base` and every directory below it that a `**` matches (names not starting with "."),
    depth-first in sorted order, each real directory once (symlinks followed, loops cut)."""
    seen: set = set()
    stack = [base]
    while stack:
        path = stack.pop()
        try:
            key = _dir_key(path)
            if key in seen:
                continue
            seen.add(key)
            with os.scandir(path or ".") as it:
                names = sorted(e.name for e in it if not e.name.startswith(".") and e.is_dir())
        except OSError:
            continue
        yield path
        stack.extend(os.path.join(path, name) for name in reversed(names))


def _glob_matches(pattern: str) -> list[str]:
    """Matches of a glob pattern (`**` recursive), sorted. Unlike `glob.glob`, a `**` enters
    each real directory once, so a symlink loop cannot make the expansion endless, and a match
    reached again through another path of the same real directory is dropped."""
    parts = pattern.split(os.sep)
    if "**" not in parts:
        found = glob.iglob(pattern, recursive=True)
    else:
        i = parts.index("**")
        head, rest = os.sep.join(parts[:i]), os.sep.join(parts[i + 1:])
        if not head and pattern.startswith(os.sep):
            head = os.sep
        if not head:
            bases = [""]
        elif glob.has_magic(head):
            bases = sorted(glob.iglob(head))
        else:
            bases = [head]
        found = []
        for base in bases:
            if not os.path.isdir(base or "."):
                continue
            for directory in _dirs_below(base):
                if parts[i + 1:] == [""]:  # "**/": directories only
                    if directory:
                        found.append(os.path.join(directory, ""))
                    continue
                if rest:
                    found.extend(_glob_matches(os.path.join(glob.escape(directory), rest)))
                    continue
                if directory != base:
                    found.append(directory)
                elif base:
                    found.append(os.path.join(base, ""))
                try:
                    with os.scandir(directory or ".") as it:
                        found.extend(os.path.join(directory, e.name) for e in it
                                     if not e.name.startswith(".") and not e.is_dir())
                except OSError:
                    pass
    matches, seen = [], set()
    for match in sorted(found):
        parent, name = os.path.split(match)
        try:
            key = (os.path.realpath(parent or "."), name)
        except (OSError, ValueError):
            key = (match, "")
        if key not in seen:
            seen.add(key)
            matches.append(match)
    return matches


NO_MATCH = "no file matches the pattern"


def _is_unmatched_pattern(doc: RawDocument) -> bool:
    return doc.error is not None and doc.error.type == NOT_FOUND and doc.error.message == NO_MATCH


def holding_letters(docs: Iterable[RawDocument]) -> Iterator[RawDocument] | None:
    """`docs` unchanged, or None when they hold no letter at all (no input found anything: empty
    directories, glob patterns that match nothing). Reads ahead only past unmatched patterns."""
    docs = iter(docs)
    held = []
    for doc in docs:
        held.append(doc)
        if not _is_unmatched_pattern(doc):
            return itertools.chain(held, docs)
    return None


def _input_units(path: str) -> Iterator[tuple[str, object]]:
    if os.path.lexists(path):
        yield from _path_units(path)
    elif _GLOB_CHARS.intersection(path):
        matches = _glob_matches(path)
        if not matches:
            yield _DOCUMENT, _failed(_stem(path), path, NOT_FOUND, NO_MATCH)
        for match in matches:
            yield from _path_units(match)
    else:
        yield _DOCUMENT, _failed(_stem(path), path, NOT_FOUND, "no such file or directory")


def _iter_input(path: str, max_bytes: int) -> Iterator[RawDocument]:
    for kind, value in _input_units(path):
        yield from _read_unit(kind, value, max_bytes)


def iter_documents(inputs: Iterable[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[RawDocument]:
    """Stream `RawDocument`s from files, directories and glob patterns (see module doc).

    Never raises for bad content; every unit yields exactly one document. Nothing is held
    beyond the unit being read (one file, one JSONL line, one Arrow batch). Ids, sources and
    texts never hold a character UTF-8 cannot encode (replaced by U+FFFD, one for one).
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    for item in inputs:
        for doc in _iter_input(os.fspath(item), max_bytes):
            yield _clean_document(doc)


# --------------------------------------------------------------------------- counting

class _Unknown(Exception):
    """The count is not cheap to know."""


def count_documents(inputs: Iterable[str], *, max_bytes: int = DEFAULT_MAX_BYTES,
                    scan_limit: int = 256 << 20) -> int | None:
    """How many documents `iter_documents(inputs, max_bytes=max_bytes)` yields, found by the same
    walk (`_input_units`: the same suffixes, hidden names, dataset directories, globs, each real
    directory once) without reading any letter:

    * a text or PDF file (or any other file the walk hands over) counts 1 and is not even
      stat-ed: the reader yields one document for it whatever it holds or whatever fails;
    * a JSON Lines file (regular, checked with stat; opened without blocking) its lines that
      are not blank or are over `max_bytes`, scanned in 1 MB chunks; up to `scan_limit` bytes
      of JSON Lines in all, beyond which the count is unknown (None);
    * a Parquet file the row count of its footer (1 when unreadable or without a `text` column);
    * a saved dataset the rows of each split with a `text` column (1 for a split without one,
      1 when it cannot be loaded): loaded memory-mapped, no row is read;
    * a FIFO, socket or device, a missing path, an unmatched pattern, a directory that cannot
      be listed: 1 (the reader's one error record), never opened.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    budget = [scan_limit]
    total = 0
    try:
        for item in inputs:
            for kind, value in _input_units(os.fspath(item)):
                if kind == _FILE:
                    total += _count_file(value, max_bytes, budget)
                elif kind == _DATASET:
                    total += _count_dataset(value)
                else:
                    total += 1
    except _Unknown:
        return None
    return total


def _count_file(path: str, max_bytes: int, budget: list) -> int:
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".jsonl", ".parquet"):
        return 1
    try:
        st = os.stat(path)
    except OSError:
        return 1
    if not stat.S_ISREG(st.st_mode):
        return 1
    if suffix == ".parquet":
        return _count_parquet(path)
    budget[0] -= st.st_size
    if budget[0] < 0:
        raise _Unknown
    return _count_jsonl(path, max_bytes)


def _count_jsonl(path: str, max_bytes: int) -> int:
    """The records `_iter_jsonl` yields: lines whose content (without "\\n" and one "\\r") is not
    blank or is over `max_bytes`."""
    try:
        fh = _open_regular(path)
    except (_NotRegular, OSError):
        return 1
    count = 0
    blank, length, cr = True, 0, False  # the current line so far

    def ends_record() -> bool:
        return not blank or length - cr > max_bytes

    with fh:
        try:
            while chunk := fh.read(1 << 20):
                parts = chunk.split(b"\n")
                for i, part in enumerate(parts):
                    if part:
                        blank = blank and not part.strip()
                        length += len(part)
                        cr = part.endswith(b"\r")
                    if i < len(parts) - 1:  # a line ends here
                        count += ends_record()
                        blank, length, cr = True, 0, False
        except OSError:
            return count + 1
    return count + ends_record()


def _count_parquet(path: str) -> int:
    try:
        import pyarrow.parquet as pq  # noqa: PLC0415

        pf = pq.ParquetFile(path)
    except Exception:  # noqa: BLE001 - the reader yields one bad_record
        return 1
    try:
        if "text" not in pf.schema_arrow.names:
            return 1
        meta = pf.metadata
        return sum(meta.row_group(g).num_rows for g in range(meta.num_row_groups))
    except Exception:  # noqa: BLE001
        return 1
    finally:
        pf.close()


def _count_dataset(path: str) -> int:
    try:
        import datasets  # noqa: PLC0415

        loaded = datasets.load_from_disk(path)
    except Exception:  # noqa: BLE001 - the reader yields one bad_record
        return 1
    splits = loaded.values() if isinstance(loaded, datasets.DatasetDict) else [loaded]
    return sum(ds.num_rows if "text" in ds.column_names else 1 for ds in splits)
