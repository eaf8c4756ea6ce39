"""docs/record.schema.json describes what `imr parse` and `imr score` really write; records carry
their provenance (package version, model fingerprints: once per run, the same after a resume);
`--include-text` gives the text every offset points into."""
from __future__ import annotations

import copy
import importlib.metadata
import json
from pathlib import Path

import pytest

from conftest import LAYOUTS, LETTERS, ROOT
from imr import batch
from nlp import errors, record
from models.bundle import model_digests
from test_batch import interrupted_score, letters_jsonl
from test_cli import imr

jsonschema = pytest.importorskip("jsonschema")

SCHEMA_PATH = ROOT / "docs" / "record.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validator(variant: str | None = None):
    schema = SCHEMA if variant is None else {**SCHEMA, "$ref": f"#/$defs/{variant}"}
    return jsonschema.Draft202012Validator(schema)


def problems(rec: dict, variant: str | None = None) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator(variant).iter_errors(rec)]


def read(path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    """The shared letters, the layout fixtures, and inputs that fail in each way the reader knows."""
    d = tmp_path_factory.mktemp("in")
    (d / "empty.txt").write_bytes(b"")
    (d / "garbage.txt").write_bytes(b"\x00\x01\x02" + b"\xff" * 100)
    (d / "note.txt").write_text("Dear reader, thank you for your letter.", encoding="utf-8")
    (d / "truncated.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<<")
    src = d / "rows.jsonl"
    letters_jsonl(src, 3, bad_at=2)
    return [str(LETTERS), str(LAYOUTS), str(d), str(d / "missing.txt")]


@pytest.fixture(scope="module")
def parsed(inputs, tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("parse") / "p.jsonl"
    res = imr("parse", *inputs, "--out", out, "--include-text")
    assert res.returncode == 1, res.stderr  # some inputs fail on purpose
    return read(out)


@pytest.fixture(scope="module")
def scored(inputs, tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("score") / "s.jsonl"
    res = imr("score", *inputs, "--out", out, "--jobs", 1, "--include-text")
    assert res.returncode == 1, res.stderr
    return read(out)


# ------------------------------------------------------------------ the schema itself
def test_the_schema_is_valid_draft_2020_12_and_knows_every_error_type():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert set(SCHEMA["$defs"]["error"]["properties"]["type"]["enum"]) == set(errors.ERROR_TYPES)
    assert {"parse_record", "score_record", "record", "prediction", "explanation", "provenance"} <= set(SCHEMA["$defs"])


# ------------------------------------------------------------------ records as written
def test_parse_records_follow_the_schema(parsed):
    kinds = {(r["error"] or {}).get("type") for r in parsed}
    assert {None, "empty_input", "binary_input", "unreadable_pdf", "unknown_layout", "not_found",
            "bad_record"} <= kinds
    assert any(r["entities"] for r in parsed) and any(r["items"] for r in parsed)
    for rec in parsed:
        assert problems(rec) == [], rec["id"]
        assert problems(rec, "parse_record") == [], rec["id"]


def test_score_records_follow_the_schema(scored):
    predicted = [it for r in scored for it in r["items"] if "prediction" in it]
    assert predicted and any("explanation" in it["prediction"]["forecast"] for it in predicted)
    for rec in scored:
        assert problems(rec) == [], rec["id"]
        assert problems(rec, "score_record") == [], rec["id"]
    assert problems(scored[0], "parse_record")  # a scored record is not a parse record


def test_parse_without_ner_follows_the_schema(tmp_path):
    out = tmp_path / "p.jsonl"
    assert imr("parse", LETTERS, "--out", out, "--no-ner").returncode == 0
    for rec in read(out):
        assert problems(rec, "parse_record") == []
        assert rec["entities"] == [] and rec["provenance"]["models"] == {} and "text" not in rec


def test_the_schema_rejects_what_a_record_is_not(scored):
    good = next(r for r in scored if r["items"] and r["error"] is None)
    assert problems(good, "score_record") == []
    broken = []
    for mutate in (
        lambda r: r.pop("id"),
        lambda r: r.pop("provenance"),
        lambda r: r.__setitem__("unexpected", 1),
        lambda r: r["provenance"]["models"].__setitem__("ner", "not-a-sha256"),
        lambda r: r["error"] is None and r.__setitem__("error", {"type": "oops", "message": ""}),
        lambda r: r["items"][0]["prediction"].__setitem__("p_overturned", 1.5),
        lambda r: r["items"][0]["prediction"].pop("forecast"),
        lambda r: r["items"][0].pop("prediction"),  # a scored letter without error has every prediction
        lambda r: r["entities"][0].__setitem__("start", -1),
        lambda r: r["items"][0]["spans"].__setitem__("item", [1, 2, 3]),
        lambda r: r["provenance"]["models"].pop("classifier"),
    ):
        rec = copy.deepcopy(good)
        mutate(rec)
        broken.append(problems(rec, "score_record"))
    assert all(broken), [i for i, p in enumerate(broken) if not p]


# ------------------------------------------------------------------ provenance
def test_every_record_carries_the_same_provenance(parsed, scored):
    version = importlib.metadata.version("imr-nlp")
    digests = model_digests()
    assert set(digests) == {"ner", "classifier"}
    assert {json.dumps(r["provenance"]) for r in scored} == {
        json.dumps({"imr_version": version, "models": digests})}
    assert {json.dumps(r["provenance"]) for r in parsed} == {
        json.dumps({"imr_version": version, "models": {"ner": digests["ner"]}})}
    assert list(scored[0])[-2:] == ["text", "provenance"]  # both come last, in this order


def test_imr_version_falls_back_to_pyproject(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    record.imr_version.cache_clear()
    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    try:
        assert record.imr_version() == expected
    finally:
        monkeypatch.undo()
        record.imr_version.cache_clear()
    assert record.imr_version() == importlib.metadata.version("imr-nlp")


def test_fingerprints_are_computed_once_per_run(tmp_path, monkeypatch):
    import models.bundle

    calls = []
    real = models.bundle.model_digests

    def counting(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(models.bundle, "model_digests", counting)
    src = tmp_path / "in.jsonl"
    letters_jsonl(src, 7)
    out = tmp_path / "o.jsonl"
    batch.score([str(src)], out, jobs=1, batch_size=2)
    assert len(calls) == 1
    assert len({json.dumps(r["provenance"]) for r in read(out)}) == 1


def test_a_resume_is_byte_identical_and_refuses_other_models(tmp_path, monkeypatch):
    src = tmp_path / "in.jsonl"
    letters_jsonl(src, 6)
    ref, out = tmp_path / "ref.jsonl", tmp_path / "o.jsonl"
    batch.score([str(src)], ref, jobs=1, include_text=True)
    interrupted_score(monkeypatch, [str(src)], out, jobs=1, batch_size=2, include_text=True, stop_at="L00004")
    assert len(read(batch.partial_path(out))) == 4
    with pytest.raises(batch.ResumeMismatch):  # same inputs, without the text: another run
        batch.score([str(src)], out, jobs=1, batch_size=2)
    real_check = batch.check_models
    monkeypatch.setattr(batch, "check_models", lambda *a, **k: {**real_check(*a, **k), "classifier": "0" * 64})
    with pytest.raises(batch.ResumeMismatch):  # other models: their records must not be mixed
        batch.score([str(src)], out, jobs=1, batch_size=2, include_text=True)
    monkeypatch.setattr(batch, "check_models", real_check)
    s = batch.score([str(src)], out, jobs=1, batch_size=3, include_text=True)
    assert s.resumed == 4 and out.read_bytes() == ref.read_bytes()


# ------------------------------------------------------------------ --include-text
def test_include_text_gives_the_text_of_every_offset(parsed, scored):
    for recs in (parsed, scored):
        with_entities = [r for r in recs if r["entities"]]
        assert len(with_entities) >= 5
        for rec in recs:
            if rec["error"] and rec["error"]["type"] in ("empty_input", "binary_input", "unreadable_pdf",
                                                        "not_found", "bad_record"):
                assert rec["text"] is None or not rec["text"].strip()
                continue
            text = rec["text"]
            assert isinstance(text, str) and text
            for e in rec["entities"]:
                assert text[e["start"]:e["end"]] == e["text"]
            for it in rec["items"]:
                start, end = it["spans"]["item"]
                assert 0 <= start < end <= len(text)


def test_text_is_off_by_default(tmp_path):
    out = tmp_path / "s.jsonl"
    batch.score([str(LETTERS)], out, jobs=1)
    recs = read(out)
    assert len(recs) == 3 and all("text" not in r for r in recs)
    assert all(problems(r, "score_record") == [] for r in recs)
