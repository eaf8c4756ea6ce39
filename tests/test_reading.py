"""Tests for nlp/reading.py: the input layer (files, dirs, globs, JSONL, Parquet, datasets, PDF)."""
from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp import errors
from nlp.errors import LetterError
from nlp.reading import RawDocument, ReadingError, decode_text, iter_documents, read_pdf_text

FIXTURES = Path(__file__).resolve().parents[1] / "examples" / "real"
SECRET = "ZZSECRETPATIENTZZ"  # planted in bad inputs: must never reach an error message


def docs(*inputs, **kw) -> list[RawDocument]:
    out = list(iter_documents([str(i) for i in inputs], **kw))
    for d in out:
        assert isinstance(d, RawDocument)
        assert (d.text is None) == (d.error is not None)
        if d.error is not None:
            assert isinstance(d.error, LetterError)
            assert SECRET not in d.error.message
            assert SECRET.lower() not in d.error.message.lower()
    return out


def one(*inputs, **kw) -> RawDocument:
    out = docs(*inputs, **kw)
    assert len(out) == 1, out
    return out[0]


def err(doc: RawDocument) -> str | None:
    return doc.error.type if doc.error else None


# ----------------------------------------------------------------------------- PDF builders

def make_pdf(pages: list[str | None]) -> bytes:
    """A PDF with one page per entry: a line of text, or None for a page with only a drawing."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for text in pages:
        if text is None:
            c.rect(100, 100, 200, 200, fill=1)  # graphics only, no characters
        else:
            c.drawString(72, 720, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def encrypt_pdf(data: bytes, user_password: str, algorithm: str) -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(data))
    writer.encrypt(user_password=user_password, owner_password="x", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _needs_crypto(algorithm: str):
    # pypdf writes AES only with the `cryptography` package; RC4 it does in pure Python.
    if algorithm.startswith("AES"):
        pytest.importorskip("cryptography", reason="pypdf needs cryptography to write AES")


# ----------------------------------------------------------------------------- RawDocument

def test_raw_document_is_frozen_with_contract_fields():
    d = RawDocument("a", "a.txt", "x", None)
    assert [f.name for f in dataclasses.fields(RawDocument)] == ["id", "source", "text", "error"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.text = "y"  # type: ignore[misc]


def test_error_constants():
    assert errors.NOT_FOUND == "not_found"
    assert errors.UNREADABLE_INPUT == "unreadable_input"
    # existing ones are kept
    assert errors.BAD_RECORD == "bad_record" and errors.TOO_LARGE == "too_large"


# ----------------------------------------------------------------------------- decode_text

@pytest.mark.parametrize(
    "data, expected",
    [
        ("Café".encode("utf-8"), "Café"),
        ("Café".encode("utf-8-sig"), "Café"),
        ("Café".encode("cp1252"), "Café"),
        ("Café".encode("latin-1"), "Café"),
        ("“Norco” – 10 mg €".encode("cp1252"), "“Norco” – 10 mg €"),
        ("Señor ±5°".encode("latin-1"), "Señor ±5°"),
        ("Café".encode("utf-16"), "Café"),
        (b"a\r\nb\rc\nd", "a\nb\nc\nd"),
        (b"\r\n\r\n", "\n\n"),
        (b"", ""),
        (b"\xef\xbb\xbf", ""),
    ],
)
def test_decode_text_encodings(data, expected):
    assert decode_text(data) == expected


def test_decode_text_mixed_utf8_with_stray_cp1252_byte():
    data = "Café ".encode("utf-8") + b"\x93quoted\x94"
    assert decode_text(data) == "Café “quoted”"


def test_decode_text_undefined_cp1252_byte_falls_back_to_latin1():
    assert decode_text(b"a\x81b") == "a\x81b"


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_decode_text_never_raises(data):
    text = decode_text(data)
    assert isinstance(text, str)
    assert "\r" not in text or data.startswith((b"\xff\xfe", b"\xfe\xff"))  # BOM'd UTF-16/32


# ----------------------------------------------------------------------------- text files

@pytest.mark.parametrize(
    "encoding",
    ["utf-8", "utf-8-sig", "cp1252", "latin-1"],
)
def test_txt_file_each_encoding(tmp_path, encoding):
    p = tmp_path / f"letter_{encoding}.txt"
    p.write_bytes("Café au lait\r\nCase Number: CM16-0000001\r\n".encode(encoding))
    d = one(p)
    assert d == RawDocument(f"letter_{encoding}", str(p), "Café au lait\nCase Number: CM16-0000001\n", None)


def test_txt_crlf_and_cr_become_lf(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"one\r\ntwo\rthree\n\x0cfour")
    assert one(p).text == "one\ntwo\nthree\n\x0cfour"


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  ", b"\xef\xbb\xbf", b"\x0c\x0c\n"])
def test_empty_input(tmp_path, content):
    p = tmp_path / "empty.txt"
    p.write_bytes(content)
    d = one(p)
    assert (d.id, d.source, d.text, err(d)) == ("empty", str(p), None, errors.EMPTY_INPUT)


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x01\x02" + SECRET.encode() + b"\x00" * 10,
        b"%s\x00 and more" % SECRET.encode(),
        bytes(range(1, 32)) * 4,  # control characters only, no NUL
        (b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f" * 20) + SECRET.encode(),
    ],
)
def test_binary_input(tmp_path, content):
    p = tmp_path / "blob.txt"
    p.write_bytes(content)
    d = one(p)
    assert (d.id, d.text, err(d)) == ("blob", None, errors.BINARY_INPUT)
    assert d.error.message == f"binary content ({len(content)} bytes), not text"


def test_a_few_control_chars_are_still_text(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"Decision: Upheld\x02 page 2" + b" lots of normal text" * 10)
    assert err(one(p)) is None


def test_too_large_uses_stat_and_is_exact(tmp_path, monkeypatch):
    p = tmp_path / "big.txt"
    p.write_bytes(b"x" * 101)
    ok = tmp_path / "fits.txt"
    ok.write_bytes(b"y" * 100)

    import builtins

    real_open = builtins.open

    def guarded_open(file, *a, **k):  # the too-large file must never be opened
        assert os.fspath(file) != str(p), "too_large file was opened"
        return real_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", guarded_open)
    big, fits = docs(p, ok, max_bytes=100)
    assert (big.id, big.text, err(big)) == ("big", None, errors.TOO_LARGE)
    assert big.error.message == "file is 101 bytes, over the limit of 100"
    assert (fits.id, fits.text, fits.error) == ("fits", "y" * 100, None)


def test_too_large_pdf(tmp_path):
    p = tmp_path / "x.pdf"
    p.write_bytes(make_pdf(["hello"]))
    assert err(one(p, max_bytes=100)) == errors.TOO_LARGE


def test_missing_path(tmp_path):
    missing = tmp_path / "nope" / "CM16-1.txt"
    d = one(missing)
    assert d == RawDocument("CM16-1", str(missing), None,
                            LetterError(errors.NOT_FOUND, "no such file or directory"))


def test_glob_without_match_is_not_found(tmp_path):
    d = one(tmp_path / "*.pdf")
    assert (d.source, err(d)) == (str(tmp_path / "*.pdf"), errors.NOT_FOUND)


def test_explicit_other_extension_is_read_as_text(tmp_path):
    p = tmp_path / "letter.md"
    p.write_text("HOW THE IMR FINAL DETERMINATION WAS MADE\n", encoding="utf-8")
    assert one(p) == RawDocument("letter", str(p), "HOW THE IMR FINAL DETERMINATION WAS MADE\n", None)
    q = tmp_path / "noext"
    q.write_bytes(b"plain")
    assert (one(q).id, one(q).text) == ("noext", "plain")


def test_unreadable_file(tmp_path, monkeypatch):
    import builtins

    p = tmp_path / "locked.txt"
    p.write_text(SECRET)
    real_open = builtins.open

    def deny(file, *a, **k):
        if os.fspath(file) == str(p):
            raise PermissionError(13, "Permission denied", str(p))
        return real_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", deny)
    d = one(p)
    assert d == RawDocument("locked", str(p), None,
                            LetterError(errors.UNREADABLE_INPUT, "could not be read (PermissionError)"))


# ----------------------------------------------------------------------------- directories, globs

@pytest.fixture()
def tree(tmp_path):
    root = tmp_path / "in"
    (root / "b" / "deep").mkdir(parents=True)
    (root / "a").mkdir()
    (root / ".hidden").mkdir()
    (root / "z.txt").write_text("z text")
    (root / "a" / "one.TXT").write_text("one text")
    (root / "a" / "two.txt").write_text("two text")
    (root / "a" / "notes.md").write_text("ignored in directories")
    (root / "a" / "image.png").write_bytes(b"\x89PNG\x00")
    (root / "b" / "deep" / "three.txt").write_text("three text")
    (root / "b" / "letter.pdf").write_bytes(make_pdf(["pdf text"]))
    (root / "b" / "batch.jsonl").write_text('{"text": "j1"}\n{"text": "j2", "id": "J"}\n')
    (root / ".hidden" / "secret.txt").write_text("hidden")
    (root / ".dot.txt").write_text("hidden too")
    return root


def test_directory_recursion_sorted(tree):
    got = [(d.id, d.source, d.text) for d in docs(tree)]
    assert got == [
        ("one", str(tree / "a" / "one.TXT"), "one text"),
        ("two", str(tree / "a" / "two.txt"), "two text"),
        ("batch-1", f"{tree / 'b' / 'batch.jsonl'}:1", "j1"),
        ("J", f"{tree / 'b' / 'batch.jsonl'}:2", "j2"),
        ("three", str(tree / "b" / "deep" / "three.txt"), "three text"),
        ("letter", str(tree / "b" / "letter.pdf"), "pdf text"),
        ("z", str(tree / "z.txt"), "z text"),
    ]


def test_directory_is_deterministic(tree):
    assert docs(tree) == docs(tree)


def test_glob_patterns(tree):
    got = [d.id for d in docs(tree / "a" / "*.txt")]
    assert got == ["two"]  # glob is case-sensitive on POSIX; one.TXT does not match
    got = [d.id for d in docs(str(tree) + "/**/*.txt")]
    assert got == ["two", "three", "z"]
    # a glob match of any extension is taken: the pattern named it
    assert [(d.id, d.text) for d in docs(tree / "a" / "*.md")] == [("notes", "ignored in directories")]


def test_inputs_are_processed_in_given_order(tree, tmp_path):
    got = [(d.id, err(d)) for d in docs(tree / "z.txt", tmp_path / "missing.txt", tree / "a" / "two.txt")]
    assert got == [("z", None), ("missing", errors.NOT_FOUND), ("two", None)]


def test_iter_documents_streams(tmp_path, monkeypatch):
    import builtins

    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(name)
    opened = []
    real_open = builtins.open

    def spy(file, *a, **k):
        opened.append(os.path.basename(os.fspath(file)))
        return real_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", spy)
    it = iter_documents([str(tmp_path)])
    assert opened == []  # a generator: nothing read before the first next()
    assert next(it).id == "a"
    assert opened == ["a.txt"]  # one unit at a time
    assert [d.id for d in it] == ["b", "c"]


def test_inputs_as_path_objects_or_single_string(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("x")
    assert [d.text for d in iter_documents([p])] == ["x"]
    assert [d.text for d in iter_documents(str(p))] == ["x"]


def test_utf16_with_bom_is_text(tmp_path):
    p = tmp_path / "u16.txt"
    p.write_bytes("Café\r\nline".encode("utf-16"))
    assert one(p).text == "Café\nline"


def test_empty_directory_yields_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    assert docs(tmp_path / "empty") == []


# ----------------------------------------------------------------------------- JSON Lines

def test_jsonl_good_and_bad_lines(tmp_path):
    p = tmp_path / "batch.jsonl"
    lines = [
        json.dumps({"id": "CM16-1", "text": "first\r\nletter"}),
        json.dumps({"text": "no id"}),
        '{"text": "broken ' + SECRET,  # invalid JSON
        json.dumps({"id": "x", "body": SECRET}),  # no text
        json.dumps({"text": 5, "note": SECRET}),  # text not a string
        json.dumps([SECRET]),  # not an object
        "",  # blank line: not a record
        json.dumps({"id": 7, "text": "int id"}),
        json.dumps({"text": "   "}),
        json.dumps({"id": ["bad"], "text": "list id"}),
        json.dumps({"text": "last"}),
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = [(d.id, d.source, d.text, err(d)) for d in docs(p)]
    s = str(p)
    assert got == [
        ("CM16-1", f"{s}:1", "first\nletter", None),
        ("batch-2", f"{s}:2", "no id", None),
        ("batch-3", f"{s}:3", None, errors.BAD_RECORD),
        ("x", f"{s}:4", None, errors.BAD_RECORD),
        ("batch-5", f"{s}:5", None, errors.BAD_RECORD),
        ("batch-6", f"{s}:6", None, errors.BAD_RECORD),
        ("7", f"{s}:8", "int id", None),
        ("batch-9", f"{s}:9", None, errors.EMPTY_INPUT),
        ("batch-10", f"{s}:10", None, errors.BAD_RECORD),
        ("batch-11", f"{s}:11", "last", None),
    ]
    messages = [d.error.message for d in docs(p) if d.error]
    assert messages[0] == "invalid JSON (JSONDecodeError)"
    assert messages[1] == "record has no string 'text' (missing)"
    assert messages[2] == "record has no string 'text' (int)"
    assert messages[3] == "line is a JSON list, not an object"


def test_jsonl_crlf_bom_and_no_final_newline(tmp_path):
    p = tmp_path / "w.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"text": "a"}\r\n{"text": "b"}')
    assert [(d.id, d.text) for d in docs(p)] == [("w-1", "a"), ("w-2", "b")]


def test_jsonl_long_line_is_too_large_and_batch_goes_on(tmp_path):
    p = tmp_path / "long.jsonl"
    long_line = json.dumps({"text": SECRET * 100})
    p.write_text(json.dumps({"text": "ok"}) + "\n" + long_line + "\n" + json.dumps({"text": "after"}) + "\n")
    got = [(d.id, d.text, err(d)) for d in docs(p, max_bytes=200)]
    assert got == [("long-1", "ok", None), ("long-2", None, errors.TOO_LARGE), ("long-3", "after", None)]


def test_jsonl_line_limit_is_exact(tmp_path):
    p = tmp_path / "edge.jsonl"
    line = json.dumps({"text": "x" * 20})  # 33 bytes
    p.write_text(line + "\r\n" + line + "\n")
    assert [err(d) for d in docs(p, max_bytes=len(line))] == [None, None]
    assert [err(d) for d in docs(p, max_bytes=len(line) - 1)] == [errors.TOO_LARGE, errors.TOO_LARGE]


def test_jsonl_cp1252_line_decodes(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_bytes('{"text": "Café"}\n'.encode("cp1252"))
    assert one(p).text == "Café"


# ----------------------------------------------------------------------------- Parquet, datasets

def test_parquet_streams_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "part.parquet"
    table = pa.table({"text": ["a\r\nb", None, "c", ""], "other": [1, 2, 3, 4]})
    pq.write_table(table, p, row_group_size=2)
    got = [(d.id, d.source, d.text, err(d)) for d in docs(p)]
    s = str(p)
    assert got == [
        ("part-0", f"{s}:0", "a\nb", None),
        ("part-1", f"{s}:1", None, errors.BAD_RECORD),
        ("part-2", f"{s}:2", "c", None),
        ("part-3", f"{s}:3", None, errors.EMPTY_INPUT),
    ]


def test_parquet_with_id_column_and_too_large(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"id": ["CM1", None], "text": ["short", "x" * 50]}), p)
    got = [(d.id, d.text, err(d)) for d in docs(p, max_bytes=10)]
    assert got == [("CM1", "short", None), ("ids-1", None, errors.TOO_LARGE)]
    q = tmp_path / "intids.parquet"
    pq.write_table(pa.table({"id": [17, 18], "text": ["a", "b"]}), q)
    assert [(d.id, d.text) for d in docs(q)] == [("17", "a"), ("18", "b")]


def test_parquet_without_text_column_and_corrupt(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "notext.parquet"
    pq.write_table(pa.table({"body": ["x"]}), p)
    d = one(p)
    assert (d.id, d.source, err(d)) == ("notext", str(p), errors.BAD_RECORD)
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really" + SECRET.encode())
    d = one(bad)
    assert (d.id, err(d)) == ("bad", errors.BAD_RECORD)


def test_dataset_save_to_disk(tmp_path):
    import datasets

    path = tmp_path / "single"
    datasets.Dataset.from_dict({"text": ["first", "second"], "n": [1, 2]}).save_to_disk(str(path))
    got = [(d.id, d.source, d.text) for d in docs(path)]
    assert got == [("single-train-0", f"{path}:train:0", "first"),
                   ("single-train-1", f"{path}:train:1", "second")]


def test_dataset_dict_save_to_disk_all_splits_in_order(tmp_path):
    import datasets

    path = tmp_path / "dd"
    dd = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"id": ["T1", None], "text": ["t one", "t two"]}),
        "test": datasets.Dataset.from_dict({"id": ["E1", "E2"], "text": ["e one", None]}),
    })
    dd.save_to_disk(str(path))
    got = [(d.id, d.source, d.text, err(d)) for d in docs(path)]
    assert got == [
        ("T1", f"{path}:train:0", "t one", None),
        ("dd-train-1", f"{path}:train:1", "t two", None),
        ("E1", f"{path}:test:0", "e one", None),
        ("E2", f"{path}:test:1", None, errors.BAD_RECORD),
    ]


def test_dataset_dir_found_in_directory_walk(tmp_path):
    import datasets

    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_text("a")
    datasets.Dataset.from_dict({"text": ["row"]}).save_to_disk(str(root / "b_ds"))
    (root / "c.txt").write_text("c")
    assert [d.id for d in docs(root)] == ["a", "b_ds-train-0", "c"]


def test_dataset_without_text_column(tmp_path):
    import datasets

    path = tmp_path / "nt"
    datasets.Dataset.from_dict({"body": ["x"]}).save_to_disk(str(path))
    d = one(path)
    assert (d.id, err(d)) == ("nt-train", errors.BAD_RECORD)


def test_lazy_imports():
    """Reading text files must not import datasets, pyarrow or pypdfium2 (start-up time)."""
    code = (
        "import sys, tempfile, os\n"
        "from nlp.reading import iter_documents\n"
        "d = tempfile.mkdtemp(); p = os.path.join(d, 'a.txt'); open(p, 'w').write('x')\n"
        "assert [x.text for x in iter_documents([p])] == ['x']\n"
        "print(sorted(m for m in ('datasets', 'pyarrow', 'pypdfium2') if m in sys.modules))\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- PDF

def test_pdf_plain(tmp_path):
    p = tmp_path / "CM99-0000001.pdf"
    p.write_bytes(make_pdf(["Case Number: CM99-0000001", "Page two"]))
    d = one(p)
    assert d == RawDocument("CM99-0000001", str(p), "Case Number: CM99-0000001\fPage two", None)
    assert read_pdf_text(p.read_bytes()) == d.text
    assert read_pdf_text(str(p)) == d.text


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_pdf_encrypted_with_empty_user_password_opens(tmp_path, algorithm):
    _needs_crypto(algorithm)
    p = tmp_path / "enc.pdf"
    p.write_bytes(encrypt_pdf(make_pdf(["Decision: Upheld"]), "", algorithm))
    assert one(p) == RawDocument("enc", str(p), "Decision: Upheld", None)


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_pdf_needing_a_password(tmp_path, algorithm):
    _needs_crypto(algorithm)
    data = encrypt_pdf(make_pdf([SECRET]), "s3cret", algorithm)
    p = tmp_path / "locked.pdf"
    p.write_bytes(data)
    d = one(p)
    assert (d.id, d.text, err(d)) == ("locked", None, errors.ENCRYPTED_PDF)
    with pytest.raises(ReadingError) as exc:
        read_pdf_text(data)
    assert exc.value.type == errors.ENCRYPTED_PDF


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.1])
def test_pdf_truncated(tmp_path, cut):
    data = make_pdf(["Case Number: CM99-0000001 " + SECRET, "two"])
    p = tmp_path / "trunc.pdf"
    p.write_bytes(data[: int(len(data) * cut)])
    d = one(p)
    assert (d.id, d.text, err(d)) == ("trunc", None, errors.UNREADABLE_PDF)
    assert d.error.message == "PDF could not be loaded (PdfiumError code 3)"


def test_pdf_garbage_and_empty(tmp_path):
    g = tmp_path / "garbage.pdf"
    g.write_bytes(SECRET.encode() * 10)
    e = tmp_path / "zero.pdf"
    e.write_bytes(b"")
    assert [(d.id, err(d)) for d in docs(g, e)] == [("garbage", errors.UNREADABLE_PDF), ("zero", errors.EMPTY_INPUT)]
    with pytest.raises(ReadingError) as exc:
        read_pdf_text(b"")
    assert exc.value.type == errors.UNREADABLE_PDF


def test_read_pdf_text_missing_path(tmp_path):
    with pytest.raises(ReadingError) as exc:
        read_pdf_text(str(tmp_path / "missing.pdf"))
    assert exc.value.type == errors.NOT_FOUND


def test_pdf_without_text_layer(tmp_path):
    p = tmp_path / "scan.pdf"
    p.write_bytes(make_pdf([None, None]))
    d = one(p)
    assert (d.id, d.text) == ("scan", None)
    assert d.error == LetterError(errors.NO_TEXT_LAYER, "no extractable text on 2 page(s)")


def test_pdf_with_one_image_page_keeps_page_count(tmp_path):
    p = tmp_path / "mixed.pdf"
    p.write_bytes(make_pdf(["text page", None, "last"]))
    assert one(p).text == "text page\f\flast"


@pytest.mark.parametrize(
    "name, pages, hyphenated",
    [("CM16-0239479", 2, "dated 12-6-16 non-certified the request"),
     ("CM16-0242667", 2, "negative hip and lumbar x-ray under the treatment plan")],
)
def test_real_published_pdf(name, pages, hyphenated):
    p = FIXTURES / f"{name}.pdf"
    d = one(p)
    assert (d.id, d.source, d.error) == (name, str(p), None)
    lines = d.text.split("\n")
    assert lines[0] == f"Case Number: {name}"
    assert d.text.count("\f") + 1 == pages
    assert "\r" not in d.text and "\ufffe" not in d.text
    assert hyphenated in d.text  # pdfium's line-end hyphen (U+FFFE) restored as "-"
    assert "HOW THE IMR FINAL DETERMINATION WAS MADE" in lines


def test_real_pdfs_from_directory(tmp_path):
    got = [(d.id, err(d)) for d in docs(FIXTURES)]
    assert len(got) == 64 and all(e is None for _, e in got)
    assert got[:2] == [("CM16-0221706", None), ("CM16-0228949", None)]  # sorted, deterministic


def test_reading_error_is_typed_and_text_free():
    e = ReadingError(errors.UNREADABLE_PDF, "PDF could not be loaded (PdfiumError code 3)")
    assert e.to_letter_error() == LetterError(errors.UNREADABLE_PDF, "PDF could not be loaded (PdfiumError code 3)")
    assert isinstance(e, Exception)


# ----------------------------------------------------------------------------- properties

@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".pdf", ".bin", ""]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes_yield_exactly_one_document(data, suffix):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x" + suffix)
        with open(p, "wb") as fh:
            fh.write(data)
        out = list(iter_documents([p]))
    assert len(out) == 1
    doc = out[0]
    assert doc.id == "x" and doc.source == p
    assert (doc.text is None) != (doc.error is None)
    if doc.error is not None:
        assert doc.error.type in {errors.EMPTY_INPUT, errors.BINARY_INPUT, errors.UNREADABLE_PDF,
                                  errors.ENCRYPTED_PDF, errors.NO_TEXT_LAYER}
    else:
        assert doc.text.strip() and "\r" not in doc.text


@given(st.lists(st.one_of(st.binary(max_size=80).filter(lambda b: b"\n" not in b),
                          st.builds(lambda t: json.dumps({"text": t}).encode(), st.text(max_size=40))),
                max_size=12))
@settings(max_examples=100, deadline=None)
def test_jsonl_one_document_per_nonblank_line(lines):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "b.jsonl")
        with open(p, "wb") as fh:
            fh.write(b"\n".join(lines))
        out = list(iter_documents([p]))
    expected = [i + 1 for i, line in enumerate(lines) if line.strip(b" \t\r\n\x0b\x0c")]
    assert [int(doc.source.rsplit(":", 1)[1]) for doc in out] == expected
