"""One letter never harms another (issue 16): a letter that trips spaCy inside a NER batch costs
only itself its entities (typed `ner_failed`), never its neighbours; long texts and lone
surrogates do not trip it at all."""
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import LETTERS
from nlp import errors
from nlp.ner.components import EntityFilter, letter_text
from nlp.ner.runtime import SpacyNER, piece_bounds
from nlp.pipeline import LetterParser
from nlp.reading import RawDocument
from models.bundle import has_drug, ner_dir
from nlp.textnorm import normalize_text

SHARED = {p.stem: p.read_text(encoding="utf-8") for p in sorted(LETTERS.glob("*.txt"))}
CUT_ID = "001_37e0e7a9dfbd6631"
CUT_LINE = "The request is not medically necessary."
CUT_TO = "The request is not medically necessary per the Official Disability "
BOOM = "ZZBOOMZZ"  # a letter holding it makes the patched component raise


def _cut_letter() -> str:
    lines = SHARED[CUT_ID].split("\n")
    k = next(i for i, ln in enumerate(lines) if ln.strip() == CUT_LINE)  # the first one only
    lines[k] = CUT_TO
    return "\n".join(lines)


@pytest.fixture(scope="module")
def ner():
    return SpacyNER(ner_dir())


def _parse(ner, letters: dict[str, str], batch_size: int = 64) -> dict[str, dict]:
    parser = LetterParser(ner=ner, has_drug=has_drug, batch_size=batch_size)
    recs = list(parser.process(RawDocument(k, f"{k}.txt", t, None) for k, t in letters.items()))
    assert [r["id"] for r in recs] == list(letters)
    return {r["id"]: r for r in recs}


@pytest.fixture(scope="module")
def alone(ner) -> dict[str, list[dict]]:
    """Each shared letter's entities, processed on its own."""
    return {k: _parse(ner, {k: t})[k]["entities"] for k, t in SHARED.items()}


def _no_overlap(entities):
    spans = sorted((e["start"], e["end"]) for e in entities)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), spans


# --- the reproduction: a sentence cut before an item heading --------------------------------

def test_cut_sentence_letter_keeps_its_neighbours_entities(ner, alone):
    letters = {**SHARED, "cut": _cut_letter()}
    recs = _parse(ner, letters)
    for k in SHARED:
        assert recs[k]["error"] is None and recs[k]["entities"] == alone[k]
    cut = recs["cut"]
    assert cut["error"] is None and cut["entities"]
    _no_overlap(cut["entities"])
    ents = {(e["label"], e["text"]) for e in cut["entities"]}
    # the model's GUIDELINE ran on into the heading: cut where the heading starts
    assert ("GUIDELINE", "Official Disability") in ents and ("SESSION_COUNT", "QUANTITY: 6.00") in ents


def test_cut_sentence_letter_from_the_command_line(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for k, t in SHARED.items():
        (d / f"{k}.txt").write_text(t, encoding="utf-8")
    (d / "cut.txt").write_text(_cut_letter(), encoding="utf-8")
    out = tmp_path / "x.jsonl"
    res = subprocess.run([sys.executable, "-m", "imr", "parse", str(d), "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "NER failed" not in res.stderr and "failed=0" in res.stderr
    recs = [json.loads(ln) for ln in out.read_text(encoding="utf-8").splitlines()]
    assert len(recs) == 4 and all(r["entities"] and r["error"] is None for r in recs)


def test_request_quantity_never_adds_an_overlapping_span(ner):
    """The component alone: a GUIDELINE from before the heading over its "QUANTITY: 6.00"."""
    nlp = ner.nlp
    text = normalize_text(_cut_letter())
    doc = nlp.make_doc(text)
    for name, proc in nlp.pipeline:  # the components before it, as the pipeline runs them
        if name == "imr_request_quantity":
            break
        doc = proc(doc)
    start = text.index(CUT_TO.strip()) + len("The request is not medically necessary per the ")
    end = text.index("QUANTITY: 6.00") + len("QUANTITY: 6.00")
    doc.ents = [e for e in doc.ents if e.end_char <= start] + [doc.char_span(start, end, label="GUIDELINE")]
    doc = nlp.get_pipe("imr_request_quantity")(doc)
    got = [(e.label_, e.text) for e in doc.ents if e.start_char >= start]
    assert got[:2] == [("GUIDELINE", "Official Disability"), ("SESSION_COUNT", "QUANTITY: 6.00")]

    # an entity that starts inside the heading keeps the quantity out (as before)
    doc = nlp.make_doc(text)
    doc = nlp.get_pipe("imr_sections")(doc)
    head = text.index("MONTHLY MEDICATION MANAGEMENT")
    doc.ents = [doc.char_span(head, end, label="GUIDELINE")]
    doc = nlp.get_pipe("imr_request_quantity")(doc)
    assert [(e.label_, e.start_char, e.end_char) for e in doc.ents if start <= e.start_char < end] == [
        ("GUIDELINE", head, end)]


# --- any failure: letter by letter, only the failing letter gets `ner_failed` ---------------

@pytest.fixture
def boom(monkeypatch):
    """Make a pipeline component raise on a letter holding BOOM (and only there)."""
    original = EntityFilter.__call__

    def call(self, doc):
        if BOOM in letter_text(doc):
            raise RuntimeError("boom")
        return original(self, doc)

    monkeypatch.setattr(EntityFilter, "__call__", call)


def _with_boom(text: str) -> str:
    return text + "\n\n" + BOOM + "\n"


def test_a_failing_letter_gets_ner_failed_and_its_neighbours_keep_their_entities(ner, alone, boom, caplog):
    ids = list(SHARED)
    bad = ids[1]
    letters = {k: _with_boom(t) if k == bad else t for k, t in SHARED.items()}
    recs = _parse(ner, letters)
    for k in ids:
        if k != bad:
            assert recs[k]["error"] is None and recs[k]["entities"] == alone[k]
    rec = recs[bad]
    assert rec["error"] == {"type": errors.NER_FAILED, "message": "NER failed: RuntimeError"}
    assert rec["entities"] == []
    # what could be read is kept: the items, their requests and decisions
    plain = _parse(None, {bad: SHARED[bad]})[bad]
    assert [(i["request"], i["decision"]) for i in rec["items"]] == [(i["request"], i["decision"]) for i in plain["items"]]
    assert rec["items"] and rec["format"] == plain["format"] and rec["case_number"] == plain["case_number"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "NER failed for " + bad in logged and BOOM not in logged


@pytest.mark.parametrize("batch_size", [1, 2])
def test_batch_sizes(ner, alone, boom, batch_size):
    letters = {"bad": _with_boom(SHARED[CUT_ID]), **SHARED}
    recs = _parse(ner, letters, batch_size=batch_size)
    assert recs["bad"]["error"]["type"] == errors.NER_FAILED
    assert all(recs[k]["entities"] == alone[k] for k in SHARED)


def test_a_failing_letter_makes_the_run_exit_1(tmp_path, boom, capsys):
    from imr.cli import main

    d = tmp_path / "in"
    d.mkdir()
    for k, t in SHARED.items():
        (d / f"{k}.txt").write_text(t, encoding="utf-8")
    (d / "bad.txt").write_text(_with_boom(SHARED[CUT_ID]), encoding="utf-8")
    out = tmp_path / "x.jsonl"
    assert main(["parse", str(d), "--out", str(out)]) == 1
    assert "failed=1 (ner_failed=1)" in capsys.readouterr().err
    recs = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert recs["bad"]["error"]["type"] == errors.NER_FAILED
    assert all(recs[k]["entities"] and recs[k]["error"] is None for k in SHARED)


class _FakeNER:
    """Entities that name their letter; raises on a batch holding BOOM."""

    def __init__(self, short_by: int = 0):
        self.calls = []
        self.short_by = short_by

    def __call__(self, texts, layouts):
        self.calls.append(len(texts))
        if any(BOOM in t for t in texts):
            raise ValueError("E1010")
        return [[{"label": "DRUG", "text": t[:3], "start": 0, "end": 3, "norm": None}] for t in texts][self.short_by:]


def test_fallback_runs_letter_by_letter_only_after_a_failure():
    fake = _FakeNER()
    letters = {k: SHARED[CUT_ID] + f"\n\n{k}\n" for k in "abcd"}
    letters["c"] = _with_boom(letters["c"])
    recs = _parse(fake, letters, batch_size=3)
    assert fake.calls == [3, 1, 1, 1, 1]  # batch a-c fails → a, b, c one by one; then d
    assert {k: (r["error"] or {}).get("type") for k, r in recs.items()} == {
        "a": None, "b": None, "c": errors.NER_FAILED, "d": None}
    assert [len(r["entities"]) for r in recs.values()] == [1, 1, 0, 1]


def test_a_wrong_number_of_entity_lists_is_a_failure_not_a_lost_letter():
    recs = _parse(_FakeNER(short_by=1), {k: SHARED[CUT_ID] for k in "ab"})
    assert [r["error"]["type"] for r in recs.values()] == [errors.NER_FAILED] * 2


# --- texts over spaCy's max_length: run in pieces, offsets kept -----------------------------

def test_text_over_max_length_is_run_in_pieces(ner, alone, monkeypatch):
    long_text = "\n\n".join([SHARED[CUT_ID]] * 3)
    letters = {"long": long_text, **SHARED}
    whole = _parse(ner, letters)
    monkeypatch.setattr(ner.nlp, "max_length", 3000)
    assert len(normalize_text(long_text)) > 3 * 3000
    with pytest.raises(ValueError):  # what happened before: spaCy refuses the text
        ner.nlp.make_doc(normalize_text(long_text))
    pieces = _parse(ner, letters)
    assert pieces["long"]["error"] is None
    assert len(pieces["long"]["entities"]) == 3 * len(alone[CUT_ID])
    assert pieces["long"]["entities"] == whole["long"]["entities"]  # offsets, sections, items, norms
    text = normalize_text(long_text)
    assert all(text[e["start"]:e["end"]] == e["text"] for e in pieces["long"]["entities"])
    for k in SHARED:  # 001 is itself over 3,000 characters: in pieces too, the same entities
        assert pieces[k]["entities"] == alone[k]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab \n"), max_size=80), st.integers(1, 12))
def test_piece_bounds(text, limit):
    pieces = list(piece_bounds(text, limit))
    assert all(0 < e - s <= limit for s, e in pieces)
    assert all(a[1] <= b[0] for a, b in zip(pieces, pieces[1:]))
    covered = {i for s, e in pieces for i in range(s, e)}
    assert all(i in covered for i, c in enumerate(text) if not c.isspace())  # only white space is left out
    if len(text) <= limit and text:
        assert pieces == [(0, len(text))]


# --- lone surrogates --------------------------------------------------------------------------

def test_a_lone_surrogate_does_not_break_the_batch(ner, alone):
    bad = SHARED[CUT_ID].replace("Klonopin", "Klon\udc80opin", 1).replace("The ", "The \ud800", 1)
    recs = _parse(ner, {**SHARED, "bad": bad})
    for k in SHARED:
        assert recs[k]["entities"] == alone[k]
    assert recs["bad"]["error"] is None and recs["bad"]["entities"]
    text = normalize_text(bad)
    assert all(len(text[e["start"]:e["end"]]) == len(e["text"]) for e in recs["bad"]["entities"])


# --- property: whatever one letter holds, the others get what they get alone ------------------

_ODD = st.sampled_from(["\udc80", "\ud800", "\udfff", "\ufffd", "\x00", "\u200b", "\u2028", "\n", "\f",
                        "QUANTITY: 6.00", "Official Disability", "(", ")"])
_EDIT = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, 10_000), st.integers(0, 200)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 200),
              st.lists(st.one_of(st.characters(), _ODD), max_size=12).map("".join)),
    st.tuples(st.just("dup"), st.integers(0, 10_000)),
)


def _mutate(text: str, edits) -> str:
    lines = text.split("\n")
    for edit in edits:
        k = edit[1] % len(lines)
        if edit[0] == "cut":
            lines[k] = lines[k][:edit[2]]
        elif edit[0] == "insert":
            pos = min(edit[2], len(lines[k]))
            lines[k] = lines[k][:pos] + edit[3] + lines[k][pos:]
        else:
            lines.insert(k, lines[k])
    return "\n".join(lines)


@settings(max_examples=30, deadline=None)
@given(which=st.integers(0, len(SHARED) - 1), edits=st.lists(_EDIT, min_size=1, max_size=8))
def test_a_mutated_letter_never_harms_its_neighbours(ner, alone, which, edits):
    ids = list(SHARED)
    letters = dict(SHARED)
    letters[ids[which]] = _mutate(SHARED[ids[which]], edits)
    recs = _parse(ner, letters)
    for k in ids:
        if k != ids[which]:
            assert recs[k]["error"] is None and recs[k]["entities"] == alone[k]
    err = recs[ids[which]]["error"]
    assert err is None or set(err) == {"type", "message"}
    _no_overlap(recs[ids[which]]["entities"])
