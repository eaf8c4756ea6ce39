"""`imr serve` (imr/serve.py): the JSON API with Starlette's test client, the page's HTML, and
the whole flow in headless Chromium (the real PDF dropped on the page's file input).

The browser test drives Chromium over the DevTools protocol on a pipe (`--remote-debugging-pipe`,
no extra package): it opens the served page, sets the PDF on the file input as a user would,
the page's script submits the form, and the result page is checked against the API's record and
photographed. Without Chromium it skips, unless IMR_REQUIRE_BROWSER=1 (CI sets it).
"""
from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from conftest import LETTERS, REAL, ROOT
from imr import serve
from nlp.reading import DEFAULT_MAX_BYTES, iter_documents

PDF = REAL / "CM16-0221706.pdf"
TXT = sorted(LETTERS.glob("*.txt"))
BROWSER = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="module")
def app():
    return serve.create_app()


@pytest.fixture(scope="module")
def client(app):
    return TestClient(app)


def upload(client, path: Path, name: str | None = None, url: str = "/api/score"):
    return client.post(url, files={"file": (name or path.name, path.read_bytes())})


def check_offsets(record: dict) -> None:
    text = record["text"]
    assert isinstance(text, str) and text
    for ent in record["entities"]:
        assert text[ent["start"]:ent["end"]] == ent["text"]
    for item in record["items"]:
        start, end = item["spans"]["item"]
        assert 0 <= start < end <= len(text)


# --------------------------------------------------------------------------- API

def test_real_pdf_upload_gives_the_record_imr_score_writes(client, app):
    res = upload(client, PDF)
    assert res.status_code == 200
    rec = res.json()
    assert rec["error"] is None and rec["id"] == "CM16-0221706" and rec["case_number"] == "CM16-0221706"
    assert rec["dates"]["decision"] == "2016-12-21" and rec["patient"]["age"] == 65
    assert rec["items"] and all("prediction" in item for item in rec["items"])
    fc = rec["items"][0]["prediction"]["forecast"]
    assert 0 <= fc["p_overturned"] <= 1 and fc["explanation"]["terms"]
    check_offsets(rec)
    # its one count ("3 months coverage of Viagra") is a drug's supply, no SESSION_COUNT (real NER gold)
    assert {e["label"] for e in rec["entities"]} == {"DRUG", "GUIDELINE"}
    # the same reader and scorer as `imr score`: the record equals the CLI's, but for the source
    expected = next(app.state.service.scorer.process(iter_documents([str(PDF)])))
    got = {k: v for k, v in rec.items() if k not in ("text", "provenance")}
    assert got.pop("source") == PDF.name
    expected.pop("source")
    assert got == json.loads(json.dumps(expected))
    assert list(rec)[-2:] == ["text", "provenance"]  # as `imr score --include-text` writes them


def test_records_carry_the_provenance_of_imr_score_and_follow_the_schema(client, app):
    """Every answer of /api/score is a record of docs/record.schema.json's `score_record`, with
    the `provenance` `imr score` writes: computed once at start-up from the loaded models."""
    jsonschema = pytest.importorskip("jsonschema")
    from imr.batch import check_models
    from models.bundle import model_digests
    from nlp.record import imr_version, provenance

    schema = json.loads((ROOT / "docs" / "record.schema.json").read_text(encoding="utf-8"))
    check = jsonschema.Draft202012Validator({**schema, "$ref": "#/$defs/score_record"})
    expected = {"imr_version": imr_version(), "models": model_digests()}
    assert set(expected["models"]) == {"ner", "classifier"}
    assert expected == provenance(check_models())  # what `imr score` writes
    assert app.state.service.provenance == expected
    answers = [upload(client, PDF), upload(client, TXT[0]), client.post("/api/score", json={"text": "  "}),
               client.post("/api/score", json={"text": 42}), client.post("/api/score", content=b"x",
                                                                       headers={"content-type": "text/csv"})]
    assert [a.status_code for a in answers] == [200, 200, 200, 400, 415]
    for res in answers:
        rec = res.json()
        assert [f"{list(e.absolute_path)}: {e.message[:200]}" for e in check.iter_errors(rec)] == []
        assert rec["provenance"] == expected
    assert answers[0].json()["items"] and all("prediction" in it for it in answers[0].json()["items"])
    assert client.get("/api/health").json()["provenance"] == expected


@pytest.mark.parametrize("path", TXT, ids=[p.stem for p in TXT])
def test_txt_upload_pasted_json_and_form_text_agree(client, path):
    by_file = upload(client, path)
    assert by_file.status_code == 200
    rec = by_file.json()
    assert rec["error"] is None and rec["id"] == path.stem and rec["items"]
    check_offsets(rec)
    text = path.read_text(encoding="utf-8")
    by_json = client.post("/api/score", json={"text": text, "id": path.stem})
    by_form = client.post("/api/score", files={"text": (None, text.encode("utf-8"))})
    by_urlencoded = client.post("/api/score", data={"text": text})
    for res in (by_json, by_form, by_urlencoded):
        assert res.status_code == 200
        other = res.json()
        for key in ("entities", "items", "text", "case_number", "dates", "patient", "reviewer_specialties"):
            assert other[key] == rec[key], key
    assert by_json.json()["id"] == path.stem and by_form.json()["id"] == "pasted"


@pytest.mark.parametrize("name,data,kind", [
    ("scan.bin", bytes(range(256)) * 40, "binary_input"),
    ("letter.txt", b"\x00\x01\x02 not text \x03\x04" * 100, "binary_input"),
    ("broken.pdf", b"%PDF-1.7\n1 0 obj <<>> endobj\ntruncated", "unreadable_pdf"),
    ("empty.pdf", b"", "empty_input"),
    ("empty.txt", b"", "empty_input"),
    ("blank.txt", b" \n\n \t\n", "empty_input"),
    ("note.txt", b"Dear reader, this is not an IMR letter at all.", "unknown_layout"),
])
def test_bad_letters_give_a_typed_error_record_with_status_200(client, name, data, kind):
    res = client.post("/api/score", files={"file": (name, data)})
    assert res.status_code == 200
    rec = res.json()
    assert rec["error"]["type"] == kind and rec["items"] == [] and rec["entities"] == []
    assert "Traceback" not in res.text


def test_pdf_is_recognised_by_its_signature_whatever_its_name(client):
    res = client.post("/api/score", files={"file": ("letter.dat", PDF.read_bytes())})
    assert res.status_code == 200 and res.json()["case_number"] == "CM16-0221706"


@pytest.mark.parametrize("kwargs,status,kind", [
    ({"content": b""}, 400, "empty_input"),
    ({"content": b"", "headers": {"content-type": "application/json"}}, 400, "empty_input"),
    ({"content": b"", "headers": {"content-type": "multipart/form-data; boundary=x1"}}, 400, "empty_input"),
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "bad_record"),
    ({"json": ["a list"]}, 400, "bad_record"),
    ({"json": {"id": "x"}}, 400, "bad_record"),
    ({"json": {"text": 42}}, 400, "bad_record"),
    ({"content": b"garbage", "headers": {"content-type": "multipart/form-data; boundary=x1"}}, 400, "bad_record"),
    ({"files": {"other": ("a.txt", b"hello")}}, 400, "bad_record"),
    ({"content": b"hello", "headers": {"content-type": "text/plain"}}, 415, "bad_record"),
])
def test_requests_without_a_letter_are_refused_with_a_typed_error(client, kwargs, status, kind):
    res = client.post("/api/score", **kwargs)
    assert res.status_code == status
    rec = res.json()
    assert rec["error"]["type"] == kind and rec["items"] == [] and rec["text"] is None


@pytest.mark.parametrize("blank", [{"json": {"text": ""}}, {"json": {"text": "  \n "}}, {"data": {"text": ""}},
                                   {"files": {"file": ("", b""), "text": (None, b"")}}])
def test_an_empty_letter_is_a_letter_with_empty_input(client, blank):
    res = client.post("/api/score", **blank)
    assert res.status_code == 200 and res.json()["error"]["type"] == "empty_input"


def test_oversized_letters_get_413_by_the_readers_rule(client):
    limit = DEFAULT_MAX_BYTES
    at_limit = client.post("/api/score", files={"file": ("big.txt", b"a" * limit)})
    assert at_limit.status_code == 200 and at_limit.json()["error"]["type"] == "unknown_layout"
    for kwargs in ({"files": {"file": ("big.txt", b"a" * (limit + 1))}},
                   {"files": {"file": ("big.pdf", b"%PDF" + b"a" * limit)}},
                   {"json": {"text": "a" * (limit + 1)}},
                   {"json": {"text": "é" * (limit // 2 + 1)}},  # the text's UTF-8 bytes count
                   {"data": {"text": "a" * (limit + 1)}},
                   {"content": b"a" * (limit + serve.BODY_SLACK + 1), "headers": {"content-type": "application/json"}}):
        res = client.post("/api/score", **kwargs)
        assert res.status_code == 413, kwargs.keys()
        rec = res.json()
        assert rec["error"]["type"] == "too_large"
        assert re.search(rf"over the limit of ({limit}|{limit + serve.BODY_SLACK})", rec["error"]["message"])
        assert rec["items"] == [] and rec["text"] is None


def _asgi_post(app, chunks: int, headers: list[tuple[bytes, bytes]], first: bytes = b"") -> tuple[int, int]:
    """POST `first` and 1 MB chunks straight to the ASGI app: (HTTP status, chunks the app read)."""
    import anyio

    read, sent = {"n": 0}, []

    async def receive():
        read["n"] += 1
        body = (first if read["n"] == 1 else b"") + b"a" * 1_000_000
        return {"type": "http.request", "body": body, "more_body": read["n"] < chunks}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/score", "raw_path": b"/api/score", "root_path": "",
             "query_string": b"", "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    anyio.run(app, scope, receive, send)
    return sent[0]["status"], read["n"]


def test_a_body_over_the_cap_is_refused_before_it_is_read(app):
    cap_chunks = (DEFAULT_MAX_BYTES + serve.BODY_SLACK) // 1_000_000
    part = b'--x1\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
    for ctype, first in ((b"application/json", b'{"text": "'), (b"multipart/form-data; boundary=x1", part)):
        headers = [(b"content-type", ctype)]
        status, read = _asgi_post(app, 100, headers, first)  # 100 MB if it were all read
        assert status == 413 and read <= cap_chunks + 1
        status, read = _asgi_post(app, 100, headers + [(b"content-length", b"100000000")], first)
        assert status == 413 and read == 0  # refused on its Content-Length alone


def test_health_reports_the_model_fingerprints(client):
    res = client.get("/api/health")
    assert res.status_code == 200
    h = res.json()
    card = json.loads((ROOT / "models" / "default" / "classifier" / "model_card.json").read_text(encoding="utf-8"))
    meta = json.loads((ROOT / "models" / "default" / "ner" / "meta.json").read_text(encoding="utf-8"))
    clf, ner = h["models"]["classifier"], h["models"]["ner"]
    assert h["status"] == "ok" and h["max_bytes"] == DEFAULT_MAX_BYTES
    assert h["startup_seconds"] > 0 and h["startup_seconds"] >= h["load_seconds"]
    assert clf["training_data"]["fingerprint"] == card["training_data"]["fingerprint"]
    assert clf["created"] == card["created"] and clf["format"] == card["format"]
    assert clf["artifacts"] == {k: v["sha256"] for k, v in card["artifacts"].items()}
    assert re.fullmatch(r"[0-9a-f]{64}", ner["fingerprint"])
    assert ner["pipeline"] == meta["pipeline"] and ner["spacy_version"] == meta["spacy_version"]
    assert set(ner["labels"]) == {"DRUG", "SESSION_COUNT", "GUIDELINE"}


def test_nothing_is_written_to_disk_and_no_letter_text_is_logged(client, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise AssertionError("a temporary file was made")

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    real_open = open

    def read_only_open(file, mode="r", *args, **kwargs):
        assert not set(mode) & set("wax+"), f"opened for writing: {file}"
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", read_only_open)
    caplog.set_level(logging.DEBUG)
    text = TXT[0].read_text(encoding="utf-8")
    for res in (upload(client, PDF, "Secret-Name.pdf"), upload(client, TXT[0], "Another Name.txt"),
                client.post("/api/score", json={"text": text}), upload(client, PDF, "Secret-Name.pdf", "/view"),
                client.post("/api/score", files={"file": ("x.pdf", b"%PDF-1.4 garbage \x00\x01")})):
        assert res.status_code == 200
    letter = upload(client, PDF).json()["text"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "scored a letter" in logged
    assert "Secret-Name" not in logged and "Another Name" not in logged
    for sample in (letter, text):
        words = re.findall(r"[A-Za-z]{4,}(?: [A-Za-z]{4,}){2}", sample)
        assert words and not [w for w in words if w in logged]


# --------------------------------------------------------------------------- the page

EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def test_the_page_is_self_contained(client):
    res = client.get("/")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    page = res.text
    assert 'action="/view"' in page and 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page and "<textarea" in page
    assert not EXTERNAL.search(page) and "@import" not in page and "url(" not in page
    csp = res.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp


def test_view_renders_entities_items_and_the_downloadable_record(client):
    record = upload(client, PDF).json()
    res = upload(client, PDF, url="/view")
    assert res.status_code == 200
    page = res.text
    assert not EXTERNAL.search(page)
    marks = re.findall(r'<mark class="entity" data-label="([A-Z_]+)"[^>]*title="([^"]*)">(.*?)<span', page)
    assert [(lbl, txt) for lbl, _, txt in marks] == [(e["label"], e["text"]) for e in record["entities"]]
    import html as html_lib
    assert [html_lib.unescape(t) for _, t, _ in marks] == [serve.entity_title(e) for e in record["entities"]]
    assert any("generic: sildenafil" in html_lib.unescape(t) for _, t, _ in marks)
    cards = re.findall(r'<section class="card" data-item="(\d+)">', page)
    assert cards == [str(i["index"]) for i in record["items"]]
    for item in record["items"]:
        assert html_lib.escape(item["request"]) in page
        pred = item["prediction"]
        assert f'{100 * pred["p_overturned"]:.1f}%' in page
        assert f'{100 * pred["forecast"]["p_overturned"]:.1f}%' in page
        assert pred["rationale"] in page
        for term in pred["forecast"]["explanation"]["terms"]:
            assert html_lib.escape(term["feature"]) in page and f'{term["contribution"]:+.3f}' in page
    for value in ("CM16-0221706", "2016-12-21", "Preventive Medicine", "65 years, male"):
        assert value in page
    blob = re.search(r'href="data:application/json;charset=utf-8;base64,([^"]+)"', page).group(1)
    assert json.loads(base64.b64decode(blob)) == record


def test_view_shows_a_typed_error_not_a_traceback(client):
    res = client.post("/view", files={"file": ("x.pdf", b"%PDF-1.4 not really")})
    assert res.status_code == 200
    assert 'data-type="unreadable_pdf"' in res.text and "Traceback" not in res.text
    res = client.post("/view", files={"file": ("big.txt", b"a" * (DEFAULT_MAX_BYTES + 1))})
    assert res.status_code == 413 and 'data-type="too_large"' in res.text


def test_letter_html_is_escaped_and_overlaps_are_dropped():
    text = "Give <script>alert(1)</script> & Norco 10/325\nNext line"
    at = text.index("Norco")
    ents = [{"label": "DRUG", "text": "Norco", "start": at, "end": at + 5, "section": "item", "item": 1,
             "norm": {"generic": "hydrocodone/acetaminophen", "drug_class": "opioid"}},
            {"label": "DRUG", "text": "Norco 10", "start": at, "end": at + 8, "section": "item", "item": 1,
             "norm": None},
            {"label": "GUIDELINE", "text": "co 1", "start": at + 3, "end": at + 7, "section": "item", "item": 1,
             "norm": None}]
    out = serve.render_letter(text, ents, [{"index": 1, "spans": {"heading": [0, 10]}}])
    assert "<script>" not in out and "&lt;script&gt;" in out and "&amp;" in out
    assert out.count("<mark") == 1 and ">Norco 10<span" in out  # the longest at a start wins
    assert '<a class="anchor" id="item-1" data-item="1"></a>' in out and "</p><p>Next line</p>" in out
    assert 'title="DRUG → not normalized (item 1)"' in out
    assert serve.entity_title(ents[0]) == "DRUG → generic: hydrocodone/acetaminophen; drug_class: opioid (item 1)"


def test_cli_has_serve_bound_to_localhost_by_default():
    from imr.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.model) == ("127.0.0.1", 8000, None)
    args = build_parser().parse_args(["serve", "--port", "9001", "--model", "models/default"])
    assert (args.port, args.model) == (9001, "models/default")


def test_serve_refuses_a_missing_model_without_a_traceback(tmp_path):
    res = subprocess.run([sys.executable, "-m", "imr", "serve", "--model", str(tmp_path / "none"), "--port", "1"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert res.returncode == 2 and "cannot load the models" in res.stderr and "Traceback" not in res.stderr


# --------------------------------------------------------------------------- in a browser

class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4 of the child)."""

    def __init__(self, browser: str, profile: Path, width: int = 1280, height: int = 1000):
        cmd_r, self.cmd_w = os.pipe()
        self.out_r, out_w = os.pipe()

        def to_fds_3_and_4():  # runs in the child before exec
            a, b = os.dup(cmd_r), os.dup(out_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--hide-scrollbars", "--remote-debugging-pipe", f"--user-data-dir={profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=to_fds_3_and_4)
        os.close(cmd_r)
        os.close(out_w)
        self.buf, self.next_id, self.events = b"", 0, []
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Page.enable", page=True)

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from the browser")
            if select.select([self.out_r], [], [], left)[0]:
                chunk = os.read(self.out_r, 1 << 20)
                if not chunk:
                    raise EOFError("the browser closed its pipe")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, page: bool = False, timeout: float = 60, **params) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if page:
            msg["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self.events.append(answer)

    def wait_for(self, event: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, msg in enumerate(self.events):
                if msg.get("method") == event:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def evaluate(self, expression: str):
        res = self.send("Runtime.evaluate", page=True, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in res, res
        return res["result"]["value"]

    def screenshot(self, width: int, height: int) -> bytes:
        self.send("Emulation.setDeviceMetricsOverride", page=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        shot = self.send("Page.captureScreenshot", page=True, format="png")
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.cmd_w)
        os.close(self.out_r)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`imr serve` in a subprocess on a free localhost port: its base URL."""
    _need_browser()  # the only user of the server is the browser test
    import httpx

    port = _free_port()
    log_path = tmp_path_factory.mktemp("serve") / "server.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "imr", "serve", "--port", str(port)], cwd=ROOT,
                                stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, log_path.read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "imr serve did not start"
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    out = log_path.read_text(errors="replace")
    assert "start-up" in out and "Traceback" not in out
    assert "Viagra" not in out and "sildenafil" not in out  # no letter text in the server's log


PROBE = """JSON.stringify({
  url: location.href,
  marks: Array.from(document.querySelectorAll('#letter mark.entity')).map(m => ({
    label: m.dataset.label, title: m.title, text: m.firstChild.textContent,
    drawn: m.getBoundingClientRect().width > 0})),
  cards: Array.from(document.querySelectorAll('section.card')).map(c => ({
    item: c.dataset.item, request: c.querySelector('h4.request').textContent,
    read: c.querySelector('[data-p=read]').textContent, forecast: c.querySelector('[data-p=forecast]').textContent,
    terms: c.querySelectorAll('table.explain td.term').length,
    rationale: c.querySelector('.rationale-cat').textContent})),
  fields: Array.from(document.querySelectorAll('.fields dd')).map(d => d.textContent),
  download: (document.getElementById('download') || {}).download,
  error: !!document.getElementById('error'),
  resources: performance.getEntriesByType('resource').map(r => r.name),
  scroll_width: document.documentElement.scrollWidth,
  height: document.documentElement.scrollHeight})"""


def browse_upload(url: str, path: Path, tmp: Path, how: str = "choose") -> tuple[dict, bytes]:
    """Open the page, choose `path` in its file input (or drag and drop it on the drop zone), let
    the page submit it; (what the result page shows, a screenshot of it)."""
    chrome = Chromium(BROWSER, tmp / f"profile-{how}")
    try:
        chrome.send("Page.navigate", page=True, url=f"{url}/")
        chrome.wait_for("Page.loadEventFired")
        if how == "choose":
            root = chrome.send("DOM.getDocument", page=True)["root"]["nodeId"]
            node = chrome.send("DOM.querySelector", page=True, nodeId=root, selector="input[type=file]")["nodeId"]
            chrome.send("DOM.setFileInputFiles", page=True, nodeId=node, files=[str(path.resolve())])
        else:
            x, y = json.loads(chrome.evaluate(
                "(r => JSON.stringify([r.x + r.width / 2, r.y + r.height / 2]))"
                "(document.getElementById('drop').getBoundingClientRect())"))
            data = {"items": [], "files": [str(path.resolve())], "dragOperationsMask": 1}
            for kind in ("dragEnter", "dragOver", "drop"):
                chrome.send("Input.dispatchDragEvent", page=True, type=kind, x=x, y=y, data=data)
        chrome.wait_for("Page.loadEventFired", timeout=120)  # the page's script submitted the form
        seen = json.loads(chrome.evaluate(PROBE))
        shot = chrome.screenshot(1280, min(max(seen["height"], 900), 2400))
        return seen, shot
    finally:
        chrome.close()


def _need_browser():
    if BROWSER is None:
        if os.environ.get("IMR_REQUIRE_BROWSER") == "1":
            raise RuntimeError("IMR_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip("no chromium on PATH (set IMR_REQUIRE_BROWSER=1 to make this an error)")


def test_the_page_reads_a_chosen_pdf_in_a_browser(server, tmp_path):
    _need_browser()
    import httpx
    from PIL import Image

    record = httpx.post(f"{server}/api/score", files={"file": (PDF.name, PDF.read_bytes())}, timeout=120).json()
    seen, shot = browse_upload(server, PDF, tmp_path)
    assert seen["url"] == f"{server}/view" and not seen["error"]
    assert [(m["label"], m["text"]) for m in seen["marks"]] == [(e["label"], e["text"]) for e in record["entities"]]
    assert [m["title"] for m in seen["marks"]] == [serve.entity_title(e) for e in record["entities"]]
    assert all(m["drawn"] for m in seen["marks"])
    assert [c["item"] for c in seen["cards"]] == [str(i["index"]) for i in record["items"]]
    for card, item in zip(seen["cards"], record["items"]):
        pred = item["prediction"]
        assert card["request"] == item["request"] and card["rationale"] == pred["rationale"]
        assert card["read"] == f'{100 * pred["p_overturned"]:.1f}%'
        assert card["forecast"] == f'{100 * pred["forecast"]["p_overturned"]:.1f}%'
        assert card["terms"] == len(pred["forecast"]["explanation"]["terms"])
    assert "CM16-0221706" in seen["fields"] and "2016-12-21" in seen["fields"]
    assert seen["download"] == "CM16-0221706.json"
    assert seen["resources"] == []  # nothing loaded from anywhere: CSS and JS are inline
    assert seen["scroll_width"] <= 1280
    img = Image.open(io.BytesIO(shot)).convert("RGB")
    assert img.width == 1280
    colors = img.getcolors(maxcolors=1 << 20)
    assert len(colors) > 200  # text, highlights, bars: not a blank or broken page
    present = {rgb for _, rgb in colors}
    for hex_color in serve.COLORS.values():  # every entity type's highlight is drawn
        assert tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5)) in present
    gray = img.convert("L").histogram()
    assert sum(gray[:200]) / (img.width * img.height) > 0.02


def test_a_letter_dropped_on_the_page_is_read(server, tmp_path):
    _need_browser()
    import httpx

    path = TXT[1]
    record = httpx.post(f"{server}/api/score", files={"file": (path.name, path.read_bytes())}, timeout=120).json()
    seen, _shot = browse_upload(server, path, tmp_path, how="drop")
    assert seen["url"] == f"{server}/view" and not seen["error"]
    assert len(seen["marks"]) == len(record["entities"]) and len(record["items"]) > 1
    assert [c["request"] for c in seen["cards"]] == [i["request"] for i in record["items"]]
    assert seen["download"] == f"{path.stem}.json"
