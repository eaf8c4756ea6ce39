"""`imr serve`: a local web view of one letter at a time, for analysts (issue 18).

    imr serve [--host 127.0.0.1] [--port 8000] [--model DIR]     # needs `pip install imr-nlp[serve]`

A Starlette app run by uvicorn. The models are loaded once, at start-up (`LetterService`: the
object `imr score` runs, plus one warm-up letter that is made up, not a real one), then every
request is read and scored in memory: nothing is written to disk, and logs carry sizes, counts,
error types and timings, never letter text or file names.

Endpoints (the contract; docs in README.md):

* `GET /` — the page: drop or choose a PDF or .txt letter, or paste text; the form posts to
  `POST /view`, which answers with the same page showing the letter (normalized text, entities
  highlighted in displaCy's look, each entity's normalization on hover), the header fields, one
  card per disputed item and a link that downloads the record as JSON. The page loads nothing
  from elsewhere (inline CSS and JS; a Content-Security-Policy forbids any other source).
* `POST /api/score` — a letter as a multipart upload (a `file` part, or a `text` field) or as JSON
  `{"text": "...", "id": "optional"}`; answers the SPEC §4 record (with `item["prediction"]`)
  plus `"text"`: the normalized text that the entity offsets and item spans point into (null
  when the letter could not be read), then `"provenance"`: the same object `imr score` writes
  (`nlp.record.provenance`: the package version and the fingerprints of the models loaded,
  computed once at start-up). Refused requests' records (4xx, 500) carry both too.
* `GET /api/health` — status, start-up time, size limit, the models' fingerprints and the
  `provenance` every record carries.

Status codes of `POST /api/score` and `POST /view` — every answer of /api/score is a record; the
status says whether a letter was received, the record's `error` says what went wrong with it:

* 200: a letter was received (its record may still carry a typed letter error, as `imr score`
  writes it: `empty_input` for an empty file or blank text, `binary_input`, `unreadable_pdf`,
  `encrypted_pdf`, `no_text_layer`, `unknown_layout`, `no_items`, ...);
* 413: the letter is over the reader's limit (`nlp.reading.DEFAULT_MAX_BYTES`, the limit of
  `imr parse`/`imr score`, applied by the same rule: a file's bytes, or the UTF-8 bytes of a
  pasted text): error `too_large`. A request body over the limit plus `BODY_SLACK` (the room
  multipart/JSON framing needs) is refused the same way without reading the rest;
* 400: the request holds no letter: an empty body (`empty_input`), invalid JSON, a JSON value
  without a string "text", a malformed multipart body or one with neither `file` nor `text`
  (`bad_record`);
* 415: another content type (`bad_record`).
"""
from __future__ import annotations

import base64
import functools
import html
import json
import logging
import os
import re
import string
import sys
import threading
import time
from pathlib import Path

from nlp.config import configs_dir
from nlp.errors import BAD_RECORD, EMPTY_INPUT, TOO_LARGE, LetterError

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Room for the multipart boundaries and part headers (or JSON quoting) around a letter at the limit.
BODY_SLACK = 1 << 20
MAX_PARTS = 8
LABELS = ("DRUG", "SESSION_COUNT", "GUIDELINE")
# displaCy's entity look; the colours come from displaCy's palette (ORG, GPE, PERSON).
COLORS = {"DRUG": "#7aecec", "SESSION_COUNT": "#feca74", "GUIDELINE": "#aa9cfc"}
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                                "img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

# A made-up letter (no real person or case) scored once at start-up, so the first real letter
# does not pay for lazy initialisation (spaCy, the featurizers, pdfium's import).
WARMUP_LETTER = """Case Number: CM00-0000000 Date Assigned: 01/02/2016 Date of Injury: 01/01/2015
Decision Date: 02/01/2016 UR Denial Date: 12/01/2015 Priority: Standard Application Received: 12/15/2015

HOW THE IMR FINAL DETERMINATION WAS MADE

Certification(s)/Specialty: Occupational Medicine

CLINICAL CASE SUMMARY

The injured worker is a 50 year old female with low back pain treated with ibuprofen and six sessions of physical therapy.

IMR ISSUES, DECISIONS AND RATIONALES

The Final Determination was based on decisions for the disputed items/services set forth below:

Physical therapy 2 times a week for 4 weeks: Upheld

Claims Administrator guideline: MTUS Chronic Pain Medical Treatment Guidelines, Physical Medicine, page 99.

MAXIMUS guideline: MTUS Chronic Pain Medical Treatment Guidelines, Physical Medicine, page 99.

Decision rationale: The guidelines allow 9 to 10 visits. The request exceeds the guideline quantity and is not medically necessary.
"""


class RequestRejected(Exception):
    """A request that holds no letter, or one over the limit: (HTTP status, typed error)."""

    def __init__(self, status: int, type_: str, message: str, doc_id: str = "request", source: str = "request"):
        super().__init__(f"{type_}: {message}")
        self.status, self.type, self.message = status, type_, message
        self.doc_id, self.source = doc_id, source


# --------------------------------------------------------------------------- letters in memory

def max_bytes() -> int:
    from nlp.reading import DEFAULT_MAX_BYTES

    return DEFAULT_MAX_BYTES


def _doc_id(filename: str | None, default: str) -> str:
    name = re.split(r"[\\/]", filename or "")[-1]
    stem = os.path.splitext(name)[0] if name else ""
    return (stem or default)[:200]


def document_from_upload(filename: str | None, data: bytes, limit: int | None = None):
    """An uploaded file → `RawDocument`, by the rules of `nlp.reading` for a file on disk: over
    `limit` bytes → `too_large`; a PDF (by name or by its `%PDF` signature) → the PDF reader
    with its typed errors; anything else → the text decoder (encodings, `binary_input`,
    `empty_input`). It calls the reader's own helpers, so the rules cannot drift apart."""
    from nlp.reading import _failed, _pdf_document, _text_document

    limit = max_bytes() if limit is None else limit
    name = re.split(r"[\\/]", filename or "")[-1] or "upload"
    doc_id = _doc_id(filename, "upload")
    if len(data) > limit:
        return _failed(doc_id, name, TOO_LARGE, f"file is {len(data)} bytes, over the limit of {limit}")
    if name.lower().endswith(".pdf") or data[:1024].lstrip().startswith(b"%PDF"):
        if not data:
            return _failed(doc_id, name, EMPTY_INPUT, "no text (0 bytes)")
        return _pdf_document(doc_id, name, bytes(data))
    return _text_document(doc_id, name, bytes(data))


def document_from_text(text, doc_id: str | None = None, limit: int | None = None):
    """Pasted text → `RawDocument`, by the rule of a JSON Lines record's `text` (UTF-8 size
    limit, `binary_input`, `empty_input`)."""
    from nlp.reading import _record_text

    limit = max_bytes() if limit is None else limit
    return _record_text(doc_id or "pasted", "pasted text", text, limit)


# --------------------------------------------------------------------------- the service

def model_fingerprints(model_dir: str | Path | None = None) -> dict:
    """What `GET /api/health` says about the models: the classifier's card (created, format,
    training-data fingerprint, artifact hashes) and the NER pipeline's meta plus a hash of its files."""
    from models.persistence import manifest_digest, tree_manifest
    from models.bundle import classifier_dir, ner_dir

    out: dict = {"ner": None, "classifier": None}
    path = ner_dir(model_dir)
    if path is not None:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8")) if (path / "meta.json").is_file() else {}
        perf = meta.get("performance") or {}
        out["ner"] = {
            "path": str(path), "fingerprint": manifest_digest(tree_manifest(path)),
            "name": meta.get("name"), "version": meta.get("version"),
            "spacy_version": meta.get("spacy_version"), "spacy_git_version": meta.get("spacy_git_version"),
            "pipeline": meta.get("pipeline"), "labels": (meta.get("labels") or {}).get("ner"),
            "ents_f": perf.get("ents_f"),
        }
    path = classifier_dir(model_dir)
    if path is not None:
        card = json.loads((path / "model_card.json").read_text(encoding="utf-8"))
        data = card.get("training_data") or {}
        out["classifier"] = {
            "path": str(path), "format": card.get("format"), "created": card.get("created"),
            "trained_by": card.get("trained_by"),
            "training_data": {"fingerprint": data.get("fingerprint"), "real_items": data.get("real_items"),
                              "generated_items": data.get("generated_items")},
            "forecast": card.get("forecast"),
            "artifacts": {name: a.get("sha256") for name, a in (card.get("artifacts") or {}).items()},
            "library_versions": card.get("library_versions"),
        }
    return out


def service_provenance(model_dir: str | Path | None = None) -> dict:
    """The `provenance` of the records `imr serve` answers: the package version and the
    fingerprints of the NER pipeline and classifier of `model_dir`, as `imr score` computes them
    (`nlp.record.provenance`, `models.bundle.model_digests`)."""
    from models.bundle import model_digests
    from nlp.record import provenance

    return provenance(model_digests(model_dir, ner=True, classifier=True))


class LetterService:
    """The scorer of `imr score`, loaded once; `score(doc)` → the record plus `"text"`.

    Reading (pdfium is not thread-safe) and scoring run under one lock, so requests served from
    worker threads are scored one at a time."""

    def __init__(self, model_dir: str | Path | None = None, scorer=None, warm_up: bool = True):
        t0 = time.perf_counter()
        if scorer is None:
            from models.bundle import load_scorer

            scorer = load_scorer(model_dir)
        self.scorer = scorer
        self.model_dir = model_dir
        self.fingerprints = model_fingerprints(model_dir)
        self.provenance = service_provenance(model_dir)
        self.load_seconds = time.perf_counter() - t0
        self.lock = threading.Lock()
        t1 = time.perf_counter()
        if warm_up:
            import pypdfium2  # noqa: F401 - imported now, not on the first PDF
            from nlp.reading import RawDocument

            self.score(RawDocument("warm-up", "warm-up", WARMUP_LETTER, None))
        self.warmup_seconds = time.perf_counter() - t1
        self.startup_seconds = time.perf_counter() - t0
        log.info("imr serve: models loaded in %.2f s, warm-up %.2f s, start-up %.2f s (NER %s, classifier %s)",
                 self.load_seconds, self.warmup_seconds, self.startup_seconds,
                 "yes" if self.fingerprints["ner"] else "no", "yes" if self.fingerprints["classifier"] else "no")

    def score(self, doc) -> dict:
        """The record of a `RawDocument`, plus "text": its normalized text (None if unread), and
        "provenance" (`self.provenance`), as `imr score --include-text` writes it."""
        return self.read_and_score(lambda: doc)

    def read_and_score(self, make_doc) -> dict:
        """`make_doc()` (reading a PDF, decoding bytes) and the scoring, under the lock."""
        from nlp.record import PROVENANCE_KEY
        from nlp.textnorm import normalize_text

        with self.lock:
            doc = make_doc()
            record = next(iter(self.scorer.process([doc])))
        out = dict(record)
        out["text"] = normalize_text(doc.text) if doc.text is not None else None
        out[PROVENANCE_KEY] = self.provenance
        return out

    def health(self) -> dict:
        from nlp import __version__

        return {"status": "ok", "version": __version__, "startup_seconds": round(self.startup_seconds, 3),
                "load_seconds": round(self.load_seconds, 3), "warmup_seconds": round(self.warmup_seconds, 3),
                "max_bytes": max_bytes(), "models": self.fingerprints, "provenance": self.provenance}


def rejected_record(exc: RequestRejected, provenance: dict | None = None) -> dict:
    """The record of a refused request: a typed error, "text" null and, when given, the
    service's "provenance"."""
    from nlp.record import PROVENANCE_KEY, error_record

    rec = error_record(exc.doc_id, exc.source, LetterError(exc.type, exc.message))
    rec["text"] = None
    if provenance is not None:
        rec[PROVENANCE_KEY] = provenance
    return rec


def status_of(record: dict) -> int:
    err = record.get("error") or {}
    return 413 if err.get("type") == TOO_LARGE else 200


# --------------------------------------------------------------------------- requests

async def _chunks(request, cap: int):
    """The request body, chunk by chunk; refused (413) as soon as it is over `cap` bytes, or at
    once when its Content-Length says so."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise RequestRejected(413, TOO_LARGE, f"request is {int(declared)} bytes, over the limit of {cap}")
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > cap:
            raise RequestRejected(413, TOO_LARGE, f"request is over the limit of {cap} bytes")
        if chunk:
            yield chunk


async def _read_body(request, cap: int) -> bytes:
    return b"".join([chunk async for chunk in _chunks(request, cap)])


async def _read_multipart(request, boundary: bytes, cap: int) -> dict[str, tuple[str | None, bytes]]:
    """The parts of a multipart/form-data body, in memory (never spooled to disk): name →
    (filename or None, data). At most `MAX_PARTS` parts and `cap` bytes in all."""
    from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

    parts: dict[str, tuple[str | None, bytes]] = {}
    state: dict = {"headers": [], "field": b"", "value": b"", "data": bytearray(), "count": 0}

    def on_part_begin():
        state["headers"], state["data"] = [], bytearray()
        state["count"] += 1
        if state["count"] > MAX_PARTS:
            raise RequestRejected(400, BAD_RECORD, f"more than {MAX_PARTS} form parts")

    def on_header_field(data, start, end):
        state["field"] += data[start:end]

    def on_header_value(data, start, end):
        state["value"] += data[start:end]

    def on_header_end():
        state["headers"].append((state["field"].lower(), state["value"]))
        state["field"], state["value"] = b"", b""

    def on_part_data(data, start, end):
        state["data"] += data[start:end]

    def on_part_end():
        disposition = dict(state["headers"]).get(b"content-disposition", b"")
        _kind, options = parse_options_header(disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if name and name not in parts:
            parts[name] = (filename.decode("utf-8", "replace") if filename is not None else None, bytes(state["data"]))
        state["data"] = bytearray()

    # its warnings quote bytes of the body (a letter's): not logged
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_part_data": on_part_data, "on_part_end": on_part_end})
    total = 0
    try:
        async for chunk in _chunks(request, cap):
            total += len(chunk)
            parser.write(chunk)
        if total == 0:
            raise RequestRejected(400, EMPTY_INPUT, "the request has no body")
        parser.finalize()
    except MultipartParseError as exc:
        raise RequestRejected(400, BAD_RECORD, f"malformed multipart body ({type(exc).__name__})") from None
    return parts


async def letter_from_request(request, limit: int | None = None):
    """The letter of a request → a zero-argument function that reads it into a `RawDocument`
    (so PDF reading runs under the service lock). Raises `RequestRejected` (400/413/415)."""
    limit = max_bytes() if limit is None else limit
    cap = limit + BODY_SLACK
    ctype = request.headers.get("content-type", "")
    media = ctype.split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        from python_multipart.multipart import parse_options_header

        _kind, options = parse_options_header(ctype)
        boundary = options.get(b"boundary")
        if not boundary:
            raise RequestRejected(400, BAD_RECORD, "multipart body without a boundary")
        parts = await _read_multipart(request, boundary, cap)
        filename, data = parts.get("file", (None, b""))
        if "file" in parts and (filename or data):
            return lambda: document_from_upload(filename, data, limit)
        if "text" in parts:
            text = parts["text"][1].decode("utf-8", "replace")
            return lambda: document_from_text(text, None, limit)
        if "file" in parts:  # an empty file part with no name: nothing was chosen
            return lambda: document_from_upload(filename, data, limit)
        raise RequestRejected(400, BAD_RECORD, "no 'file' part and no 'text' field in the form")
    body = await _read_body(request, cap)
    if not body:
        raise RequestRejected(400, EMPTY_INPUT, "the request has no body")
    if media == "application/x-www-form-urlencoded":  # a form with only the text field
        from urllib.parse import parse_qs

        fields = parse_qs(body.decode("ascii", "replace"), keep_blank_values=True, errors="replace")
        if "text" not in fields:
            raise RequestRejected(400, BAD_RECORD, "no 'text' field in the form")
        text = fields["text"][0]
        return lambda: document_from_text(text, None, limit)
    if media in ("application/json", "") or media.endswith("+json"):
        try:
            obj = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise RequestRejected(400, BAD_RECORD, f"invalid JSON ({type(exc).__name__})") from None
        if not isinstance(obj, dict):
            raise RequestRejected(400, BAD_RECORD, f"the body is a JSON {type(obj).__name__}, not an object")
        text, doc_id = obj.get("text"), obj.get("id")
        doc_id = doc_id[:200] if isinstance(doc_id, str) and doc_id else "pasted"
        if not isinstance(text, str):
            kind = "missing" if text is None else type(text).__name__
            raise RequestRejected(400, BAD_RECORD, f"no string 'text' ({kind})", doc_id, "pasted text")
        return lambda: document_from_text(text, doc_id, limit)
    raise RequestRejected(415, BAD_RECORD, f"unsupported content type {media[:60]!r}: "
                                           "send multipart/form-data or application/json")


async def score_request(service: LetterService, request) -> tuple[dict, int]:
    """(record with "text", HTTP status) of one request; never raises for what a client sends."""
    from starlette.concurrency import run_in_threadpool

    t0 = time.perf_counter()
    try:
        make_doc = await letter_from_request(request)
    except RequestRejected as exc:
        log.info("request refused: HTTP %d %s", exc.status, exc.type)
        return rejected_record(exc, service.provenance), exc.status
    try:
        record = await run_in_threadpool(service.read_and_score, make_doc)
    except Exception as exc:  # noqa: BLE001 - the scorer never raises; this is a last guard
        log.warning("scoring failed: %s", type(exc).__name__)
        from nlp.errors import INTERNAL
        return rejected_record(RequestRejected(500, INTERNAL, f"scoring failed ({type(exc).__name__})"),
                               service.provenance), 500
    err = (record.get("error") or {}).get("type")
    log.info("scored a letter: %d chars, %d items, error=%s, %.0f ms", len(record.get("text") or ""),
             len(record.get("items") or []), err, (time.perf_counter() - t0) * 1000)
    return record, status_of(record)


# --------------------------------------------------------------------------- the page

@functools.lru_cache(maxsize=None)
def _template(name: str) -> str:
    return (configs_dir() / "templates" / "serve" / name).read_text(encoding="utf-8")


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _norm_text(norm: dict | None) -> str:
    if not norm:
        return "not normalized"
    parts = []
    for key, value in norm.items():
        if value is None or value == [] or value == "":
            continue
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        parts.append(f"{key}: {value}")
    return "; ".join(parts) or "not normalized"


def entity_title(ent: dict) -> str:
    where = ent.get("section") or "letter"
    if ent.get("item") is not None:
        where = f"item {ent['item']}" if where == "item" else f"{where}, item {ent['item']}"
    return f"{ent.get('label')} → {_norm_text(ent.get('norm'))} ({where})"


def render_letter(text: str, entities: list[dict], items: list[dict] | None = None) -> str:
    """The normalized text, one `<p>` per line (the normalized text has one paragraph per
    line), each entity in a displaCy-style `<mark>` (its normalization in the title) and an
    anchor at each item's heading. Overlapping entities keep the first."""
    anchors: dict[int, list[int]] = {}
    for item in items or []:
        span = ((item.get("spans") or {}).get("heading") or (item.get("spans") or {}).get("item"))
        if span and 0 <= span[0] <= len(text):
            anchors.setdefault(int(span[0]), []).append(int(item.get("index", 0)))
    ents, end = [], -1
    for ent in sorted(entities, key=lambda e: (e.get("start", 0), -e.get("end", 0))):
        s, t = ent.get("start"), ent.get("end")
        if isinstance(s, int) and isinstance(t, int) and end <= s < t <= len(text):
            ents.append(ent)
            end = t
    out, pos = [], 0

    def para(chunk: str) -> str:  # a line end outside an entity ends a paragraph
        return "</p><p>".join(_e(line) for line in chunk.split("\n"))

    def plain(upto: int):
        nonlocal pos
        for a in sorted(p for p in anchors if pos <= p < upto):
            out.append(para(text[pos:a]))
            out.extend(f'<a class="anchor" id="item-{i}" data-item="{i}"></a>' for i in anchors.pop(a))
            pos = a
        out.append(para(text[pos:upto]))
        pos = upto

    for ent in ents:
        plain(ent["start"])
        label = str(ent.get("label"))
        color = COLORS.get(label, "#ddd")
        out.append(f'<mark class="entity" data-label="{_e(label)}" style="background: {color}" '
                   f'title="{_e(entity_title(ent))}">{_e(text[ent["start"]:ent["end"]])}'
                   f'<span class="entity-label">{_e(label)}</span></mark>')
        pos = ent["end"]
    plain(len(text))
    for rest in anchors.values():  # anchors past the end (should not happen)
        out.extend(f'<a class="anchor" id="item-{i}" data-item="{i}"></a>' for i in rest)
    return "<p>" + "".join(out).replace("<p></p>", "") + "</p>"


def _pct(p) -> str:
    return "–" if p is None else f"{100 * float(p):.1f}%"


def _bar(p, cls: str) -> str:
    width = 0.0 if p is None else max(0.0, min(100.0, 100 * float(p)))
    return f'<span class="bar {cls}"><span style="width: {width:.1f}%"></span></span>'


def _badge(decision) -> str:
    if not decision:
        return '<span class="badge none">not stated</span>'
    return f'<span class="badge {_e(decision)}">{_e(decision)}</span>'


def _citations(cites: list[dict]) -> str:
    if not cites:
        return '<span class="muted">none cited</span>'
    rows = []
    for c in cites:
        norm = {k: c.get(k) for k in ("source", "document", "topic", "pages")}
        rows.append(f'<li title="{_e(_norm_text(norm))}"><span class="cite-source">{_e(c.get("source") or "?")}</span> '
                    f'{_e(c.get("text"))}</li>')
    return f'<ul class="cites">{"".join(rows)}</ul>'


def _explanation(expl: dict | None) -> str:
    if not expl:
        return '<p class="muted">no explanation (the forecast model is not linear)</p>'
    rows = []
    for term in expl.get("terms") or []:
        c = float(term.get("contribution") or 0.0)
        cls = "pos" if c > 0 else "neg" if c < 0 else ""
        rows.append(f'<tr><td class="term">{_e(term.get("feature"))}</td>'
                    f'<td class="num {cls}">{c:+.3f}</td></tr>')
    rows.append(f'<tr class="minor"><td>other terms</td><td class="num">{float(expl.get("other") or 0):+.3f}</td></tr>')
    rows.append(f'<tr class="minor"><td>intercept</td><td class="num">{float(expl.get("intercept") or 0):+.3f}</td></tr>')
    rows.append(f'<tr class="total"><td>logit</td><td class="num">{float(expl.get("logit") or 0):+.3f}</td></tr>')
    return ('<table class="explain"><thead><tr><th>term (+ toward overturned, − toward upheld)</th>'
            f'<th class="num">logit</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def render_item(item: dict) -> str:
    idx = item.get("index")
    pred = item.get("prediction")
    head = (f'<div class="card-head"><a class="item-no" href="#item-{_e(idx)}">Item {_e(idx)}</a>'
            f'<span class="category">{_e(item.get("treatment_category") or "")}</span></div>'
            f'<h4 class="request">{_e(item.get("request"))}</h4>')
    if item.get("original_request"):
        head += f'<p class="original">original request: {_e(item["original_request"])}</p>'
    stated = f'<div class="row"><span class="key">stated decision</span>{_badge(item.get("decision"))}</div>'
    guides = item.get("guidelines") or {}
    cites = (f'<div class="guides"><div><h5>Claims administrator cited</h5>{_citations(guides.get("claims_administrator") or [])}</div>'
             f'<div><h5>Reviewer cited</h5>{_citations(guides.get("reviewer") or [])}</div></div>')
    if not pred:
        return (f'<section class="card" data-item="{_e(idx)}">{head}{stated}'
                f'<p class="muted">no prediction (no classifier in the model bundle)</p>{cites}</section>')
    fc = pred.get("forecast") or {}
    probs = (f'<div class="probs">'
             f'<div class="row prob"><span class="key">read P(overturned)</span>{_bar(pred.get("p_overturned"), "read")}'
             f'<span class="p" data-p="read">{_pct(pred.get("p_overturned"))}</span>{_badge(pred.get("decision"))}</div>'
             f'<div class="row prob"><span class="key">forecast P(overturned)</span>{_bar(fc.get("p_overturned"), "forecast")}'
             f'<span class="p" data-p="forecast">{_pct(fc.get("p_overturned"))}</span>{_badge(fc.get("decision"))}</div>'
             f'</div>')
    scores = sorted((pred.get("rationale_scores") or {}).items(), key=lambda kv: -float(kv[1]))
    srows = "".join(
        f'<tr class="{"chosen" if name == pred.get("rationale") else ""}"><td>{_e(name)}</td>'
        f'<td>{_bar(p, "rat")}</td><td class="num">{float(p):.3f}</td></tr>' for name, p in scores)
    labels = ", ".join(pred.get("rationale_labels") or []) or "none"
    rationale = (f'<div class="rationale"><div class="row"><span class="key">rationale</span>'
                 f'<span class="rationale-cat">{_e(pred.get("rationale"))}</span></div>'
                 f'<table class="scores"><tbody>{srows}</tbody></table>'
                 f'<p class="labels">labels: {_e(labels)}</p></div>')
    explain = (f'<details class="explanation" open><summary>Forecast explanation</summary>'
               f'{_explanation(fc.get("explanation"))}</details>')
    return f'<section class="card" data-item="{_e(idx)}">{head}{stated}{probs}{explain}{rationale}{cites}</section>'


def _fields(record: dict) -> str:
    dates = record.get("dates") or {}
    patient = record.get("patient") or {}
    rows = [("case number", record.get("case_number")), ("layout", record.get("format")),
            ("date assigned", dates.get("assigned")), ("decision date", dates.get("decision")),
            ("UR denial", dates.get("ur_denial")), ("application received", dates.get("application_received")),
            ("reviewer specialties", ", ".join(record.get("reviewer_specialties") or []) or None),
            ("patient", ", ".join(str(v) for v in (
                f"{patient['age']} years" if patient.get("age") is not None else None, patient.get("sex"))
                if v) or None),
            ("date of injury", patient.get("date_of_injury"))]
    return "".join(f'<div class="field"><dt>{_e(k)}</dt><dd>{_e(v) if v is not None else "<span class=muted>–</span>"}</dd></div>'
                   for k, v in rows)


def render_result(record: dict) -> str:
    text = record.get("text")
    error = record.get("error")
    blob = base64.b64encode(json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8")).decode("ascii")
    fname = re.sub(r"[^A-Za-z0-9._-]+", "_", str(record.get("id") or "record"))[:120] + ".json"
    download = (f'<a class="download" id="download" download="{_e(fname)}" '
                f'href="data:application/json;charset=utf-8;base64,{blob}">Download record (JSON)</a>')
    banner = ""
    if error:
        banner = (f'<div class="error" id="error" data-type="{_e(error.get("type"))}"><strong>{_e(error.get("type"))}</strong>: '
                  f'{_e(error.get("message"))}</div>')
    items = record.get("items") or []
    entities = record.get("entities") or []
    counts = {label: sum(e.get("label") == label for e in entities) for label in LABELS}
    legend = "".join(f'<mark class="entity" style="background: {COLORS[label]}">{counts[label]}'
                     f'<span class="entity-label">{label}</span></mark>' for label in LABELS)
    letter = (f'<article class="letter"><h3>Letter <span class="muted">(normalized text; hover an entity for its '
              f'normalization)</span></h3><div class="legend">{legend}</div>'
              f'<div class="entities" id="letter">{render_letter(text, entities, items)}</div></article>'
              if text else "")
    cards = "".join(render_item(item) for item in items)
    aside = (f'<aside class="items"><h3>Disputed items ({len(items)})</h3>{cards or "<p class=muted>no items</p>"}</aside>')
    title = record.get("case_number") or record.get("id") or "letter"
    return (f'<section class="result" id="result"><div class="summary"><h2>{_e(title)}</h2>{download}</div>'
            f'{banner}<dl class="fields">{_fields(record)}</dl>'
            f'<div class="columns">{letter}{aside}</div></section>')


def render_page(record: dict | None = None, health: dict | None = None) -> str:
    models = ""
    if health:
        m = health.get("models") or {}
        clf, ner = m.get("classifier") or {}, m.get("ner") or {}
        models = (f'NER {_e((ner.get("fingerprint") or "none")[:12])} · classifier {_e(clf.get("created") or "none")} '
                  f'· data {_e(((clf.get("training_data") or {}).get("fingerprint") or "none")[:12])}')
    limit_mb = max_bytes() / 1_000_000
    return string.Template(_template("page.html")).safe_substitute(
        title=_e(f"{record.get('case_number') or record.get('id')} · IMR letter" if record else "IMR letter view"),
        css=_template("serve.css"), js=_template("serve.js"), models=models,
        limit=f"{limit_mb:g} MB", result=render_result(record) if record else "")


# --------------------------------------------------------------------------- the app

def create_app(model_dir: str | Path | None = None, service: LetterService | None = None):
    """The Starlette app; loads the models now (unless `service` is given)."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    service = service or LetterService(model_dir)

    async def page(request):
        return HTMLResponse(render_page(None, service.health()), headers=SECURITY_HEADERS)

    async def view(request):
        record, status = await score_request(service, request)
        return HTMLResponse(render_page(record, service.health()), status_code=status, headers=SECURITY_HEADERS)

    async def api_score(request):
        record, status = await score_request(service, request)
        return JSONResponse(record, status_code=status, headers={"Cache-Control": "no-store"})

    async def api_health(request):
        return JSONResponse(service.health())

    app = Starlette(routes=[Route("/", page, methods=["GET"]), Route("/view", view, methods=["POST"]),
                            Route("/api/score", api_score, methods=["POST"]),
                            Route("/api/health", api_health, methods=["GET"])])
    app.state.service = service
    return app


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, model: str | None = None) -> int:
    try:
        import uvicorn
        import starlette  # noqa: F401
        import python_multipart  # noqa: F401
    except ImportError as exc:
        print(f"imr serve: needs the serve extra ({exc.name} is missing): pip install 'imr-nlp[serve]'",
              file=sys.stderr)
        return 2
    log.setLevel(logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    try:
        app = create_app(model)
    except Exception as exc:  # a missing or tampered model bundle: say so, without a traceback
        print(f"imr serve: cannot load the models ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2
    log.info("imr serve: http://%s:%d/ (start-up %.1f s)", host, port, app.state.service.startup_seconds)
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0


def add_subcommand(sub) -> None:
    """`imr serve` on the `imr` argument parser (imr/cli.py)."""
    p = sub.add_parser("serve", help="a local web view of one letter at a time (needs imr-nlp[serve])",
                       description="Serve the one-letter web view and its JSON API; models are loaded once at start-up.")
    p.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s, this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s)")
    p.add_argument("--model", default=None, help="model directory (default: the bundled one)")
    p.set_defaults(func=lambda args: serve(args.host, args.port, args.model))
