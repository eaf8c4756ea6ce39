"""Corpus generator: determinism, exact spans, coverage of layouts and categories, KB size."""
from __future__ import annotations

import json
import re

import pytest

from training.corpus import load_config
from training.generator import CATEGORIES, LAYOUTS, choose_holdout, deciding_rule, generate_letter, load_kb

CFG = load_config()


@pytest.fixture(scope="module")
def kb():
    return load_kb(CFG)


@pytest.fixture(scope="module")
def holdout(kb):
    return choose_holdout(kb, 0, CFG)


@pytest.fixture(scope="module")
def letters(kb, holdout):
    return [generate_letter(kb, CFG, holdout, 0, i, unseen=(i % 10 == 0)) for i in range(2000)]


def test_deterministic(kb, holdout):
    a = [generate_letter(kb, CFG, holdout, 7, i) for i in range(40)]
    b = [generate_letter(kb, CFG, holdout, 7, i) for i in range(40)]
    assert json.dumps(a, sort_keys=True).encode() == json.dumps(b, sort_keys=True).encode()
    c = [generate_letter(kb, CFG, holdout, 8, i) for i in range(40)]
    assert [x["text"] for x in a] != [x["text"] for x in c]


def test_holdout_deterministic(kb):
    assert choose_holdout(kb, 3, CFG) == choose_holdout(kb, 3, CFG)
    assert choose_holdout(kb, 3, CFG) != choose_holdout(kb, 4, CFG)


def test_spans_refound(letters):
    n = 0
    for L in letters[:500]:
        text, clean = L["text"], L["clean_text"]
        prev_end = -1
        for e in sorted(L["entities"], key=lambda e: e["start"]):
            assert text[e["start"]:e["end"]] == e["text"], (L["id"], e)
            assert e["text"] == e["text"].strip() and e["text"]
            assert " ".join(clean[e["clean_start"]:e["clean_end"]].split()) == " ".join(e["text"].split())
            assert e["start"] >= prev_end, "entities overlap"
            prev_end = e["end"]
            assert e["section"] in ("header", "summary", "item")
            assert (e["item"] is None) == (e["section"] != "item")
            n += 1
        s0, s1 = L["summary_span"]
        for e in L["entities"]:
            if e["section"] == "summary":
                assert s0 <= e["start"] and e["end"] <= s1
        for it in L["items"]:
            h0, h1 = it["heading_span"]
            r0, r1 = it["request_span"]
            assert h0 <= r0 < r1 <= h1
            assert " ".join(text[r0:r1].split()) == it["request"]
            if it["original_request_span"]:
                o0, o1 = it["original_request_span"]
                assert " ".join(text[o0:o1].split()) == it["original_request"]
            a0, a1 = it["rationale_span"]
            rat = " ".join(text[a0:a1].split())
            assert rat.endswith(".")
            for key, cits in (("ca_span", it["ca_guidelines"]), ("reviewer_span", it["reviewer_guidelines"])):
                c0, c1 = it[key]
                seg = " ".join(text[c0:c1].split())
                for c in cits:
                    assert c["text"] in seg
            ents = [e for e in L["entities"] if e["item"] == it["index"]]
            assert all(h0 <= e["start"] and e["end"] <= a1 for e in ents)
    assert n > 3000


def test_layouts_and_categories(letters, kb, holdout):
    assert {L["layout"] for L in letters} == set(LAYOUTS)
    assert {L["era"] for L in letters} == {2013, 2014, 2015, 2016}
    cats = {i["treatment_category"] for L in letters for i in L["items"]}
    assert cats == set(CATEGORIES)
    arts = {a for L in letters for a in L["artifacts"]}
    assert {"wrap_blank", "wrap_pdf", "page_breaks", "redaction"} <= arts
    # typos are rare by design (`typo_rate` on the sentences that hold a typo-prone word): about two
    # letters in a thousand, so they are looked for in a larger sample (fast: no entities are checked)
    assert sum("typos" in generate_letter(kb, CFG, holdout, 0, i, unseen=False)["artifacts"]
               for i in range(2000, 8000)) >= 3
    assert any("\f" in L["text"] for L in letters)
    assert any(i["original_request"] for L in letters for i in L["items"])
    assert any("Associated surgical service: " in L["text"] for L in letters)


def test_rates_near_public_figures(letters):
    items = [i for L in letters for i in L["items"]]
    over = sum(i["decision"] == "overturned" for i in items) / len(items)
    assert 0.08 <= over <= 0.18
    pharma = sum(i["treatment_category"] == "pharmaceuticals" for i in items) / len(items)
    assert 0.25 <= pharma <= 0.40


def test_norms(letters):
    units = {"session", "visit", "treatment", "week", "month", "unit"}
    for L in letters[:300]:
        for e in L["entities"]:
            n = e["norm"]
            if e["label"] == "DRUG":
                assert n["generic"] == n["generic"].lower() and n["drug_class"]
            elif e["label"] == "SESSION_COUNT":
                assert n["unit"] in units and n["min"] <= n["max"]
                assert n["role"] in ("requested", "completed", "recommended", None)
                if n["over"]:
                    assert n["over"]["unit"] in ("week", "month")
            else:
                assert n["source"] in ("MTUS", "ACOEM", "ODG", "OTHER")
                assert isinstance(n["pages"], list)
                assert not e["text"].lower().startswith(("the ", "decision based on", "non-mtus"))
        for it in L["items"]:
            assert it["rationale"] == it["rationale_labels"][0]
            if it["decision"] == "overturned":
                assert it["rationale"] == "guideline_criteria_met"


def test_kb_size(kb):
    assert len(kb.treatments) >= 80
    assert {t["cat"] for t in kb.treatments.values()} == set(CATEGORIES) - {"pharmaceuticals"}
    for kind, tpls in kb.templates.items():
        assert len(tpls) >= 6, kind
    assert len(kb.drugs) >= 20


def test_every_lexicon_drug_mention_is_annotated():
    """Gold completeness: a drug name of the lexicon in a generated letter lies inside a DRUG (or a
    GUIDELINE) span. Injections named by product ("Orthovisc injections") and "cortisone
    injections" inside guideline statements are left unmarked on purpose (SPEC §2 is silent)."""
    from nlp.ner.patterns import ruler_patterns
    from nlp.ner.tokenizer import blank_pipeline
    from training.corpus import load_config
    from training.generator.kb import choose_holdout, load_kb
    from training.generator.letter import generate_letter

    nlp = blank_pipeline()
    nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"}).add_patterns([p for p in ruler_patterns(nlp.tokenizer) if p["label"] == "DRUG"])
    cfg = load_config()
    kb = load_kb(cfg)
    holdout = choose_holdout(kb, 0, cfg)
    missing = []
    for i in range(120):
        letter = generate_letter(kb, cfg, holdout, 5, i)
        covered = [(e["start"], e["end"]) for e in letter["entities"] if e["label"] in ("DRUG", "GUIDELINE")]
        for m in nlp(letter["text"]).ents:
            # a dosage-form word stays outside the DRUG span (SPEC §2: "Terocin lotion" -> "Terocin")
            end = m.start_char + len(kb.split_dosage_form(m.text)[0])
            if not any(s <= m.start_char and end <= e for s, e in covered):
                missing.append(m.text.lower())
    assert set(missing) <= {"cortisone", "orthovisc"}, missing


# A reviewer's verdict on the request ("the request cannot be supported", "the guideline
# criteria are met") belongs to the rationale; a case summary states facts only, or the
# forecast mode would learn the decision from generated summaries.
VERDICT = re.compile(r"\b(?:request|it)\s+(?:is|are|was|can|cannot|would|could)\s+(?:not\s+)?(?:be\s+)?"
                     r"(?:medically\s+necessary|supported|warranted|appropriate|certified|reasonable)"
                     r"|guideline\s+criteria", re.I)


def test_summaries_state_no_verdict(letters):
    findings = 0
    for L in letters:
        s0, s1 = L["summary_span"]
        summary = L["text"][s0:s1]
        assert not VERDICT.search(summary), (L["id"], VERDICT.search(summary).group(0))
        findings += any(t.startswith(("sfm", "sfg")) for t in L["template_ids"])
    assert findings > 50  # criteria findings are still written, as facts


def test_certified_surgery_services(letters, kb):
    """A surgery utilization review certified leaves only its associated services in dispute:
    no surgery item, no depends_on_denied_request, criteria about the surgery never drawn, and
    the summary names the surgery when it says it was certified."""
    surgeries = {t["short"] for t in kb.treatments.values() if t.get("surgery")}
    served, decisions = 0, []
    for L in letters:
        assert [it["index"] for it in L["items"]] == list(range(1, len(L["items"]) + 1))
        cert = [it for it in L["items"] if "certified_surgery" in it["facts"]]
        if not cert:
            continue
        name = cert[0]["facts"]["certified_surgery"]
        assert name in surgeries
        assert not any(kb.treatments.get(it["treatment_id"], {}).get("short") == name for it in L["items"])
        s0, s1 = L["summary_span"]
        if any(t.startswith("ssc") for t in L["template_ids"]):
            assert name in " ".join(L["text"][s0:s1].split())
        for it in cert:
            served += 1
            decisions.append(it["decision"])
            assert "depends_on_denied_request" not in it["rationale_labels"]
            assert it["facts"].get("criterion") != "an approved surgical procedure"
    assert served > 20
    share = decisions.count("overturned") / len(decisions)
    assert 0.3 < share < 0.7  # configs/corpus.yaml certified_surgery.favorable = 0.5


def test_departing_reviewer_summary_states_no_deciding_finding(kb, holdout):
    """Where the reviewer departs from the rule (`disagreement`), the case summary does not state
    the finding the rule turned on (`evidence_slots`), which would contradict the decision; with
    `summary_evidence.disagreement` = 1 it does, so the check can fail."""
    kind_of = kb.template_kinds()

    def deciding_stated(cfg):
        stated = checked = 0
        for i in range(400):
            L = generate_letter(kb, cfg, holdout, 0, i, unseen=False)
            if len(L["items"]) != 1:
                continue
            it = L["items"][0]
            assert it["facts"]["disagreement"]
            kinds = {kind_of.get(t) for t in L["template_ids"]}
            checked += 1
            stated += bool(kinds & set(cfg["evidence_slots"].get(deciding_rule(it["rule"], it["facts"]), ())))
        return stated, checked

    always = {**CFG, "disagreement": 1.0}
    stated, checked = deciding_stated({**always, "summary_evidence": {**CFG["summary_evidence"], "disagreement": 0.0}})
    assert checked > 100 and stated == 0
    stated, checked = deciding_stated({**always, "summary_evidence": {**CFG["summary_evidence"], "disagreement": 1.0}})
    assert stated > checked // 4


# ------------------------------------------------------------------ real-letter forms (issue 15)
def test_parse_count_real_forms():
    from training.generator.text import parse_count

    def mm(t):
        n = parse_count(t, None)
        return n["min"], n["max"], n["unit"], (n["over"] or {}).get("min"), (n["over"] or {}).get("max")
    assert mm("two times a week for four weeks") == (8, 8, "session", 4, 4)
    assert mm("1 to 2 times per week for 3 weeks") == (3, 6, "session", 3, 3)
    assert mm("2-3 times a week for 6 weeks") == (12, 18, "session", 6, 6)
    assert mm("twice a week for six weeks") == (12, 12, "session", 6, 6)
    assert mm("three to four sessions") == (3, 4, "session", None, None)
    assert mm("Two to three week") == (2, 3, "week", None, None)
    assert mm("a month") == (1, 1, "month", None, None)
    assert mm("three to four psychotherapy visits over two weeks") == (3, 4, "visit", 2, 2)
    with pytest.raises(ValueError):
        parse_count("three times a day", None)


@pytest.fixture(scope="module")
def real_form_letters(kb, holdout):
    return [generate_letter(kb, CFG, holdout, 11, i, unseen=(i % 10 == 0)) for i in range(1500)]


def _count_norm(text):
    from training.generator.text import parse_count

    try:
        return parse_count(text, None)
    except (ValueError, KeyError):
        return None


def test_frequency_with_duration_is_one_course(real_form_letters):
    """SPEC §2: "two times a week for four weeks" is one SESSION_COUNT, normalized to the course
    (frequency x duration, over = the duration); "1 to 2 times per week for 3 weeks" is 3-6."""
    freq = re.compile(r"\b(?:times|x|once|twice)\b.*\b(?:for|x)\b.*\bweeks?$|^\d+\s*x\s*\d+$", re.I)
    seen = ranges = 0
    for L in real_form_letters:
        for e in L["entities"]:
            if e["label"] != "SESSION_COUNT" or not freq.search(" ".join(e["text"].split())):
                continue
            n = e["norm"]
            assert n["unit"] == "session" and n["over"] and n["over"]["unit"] == "week", e
            p = _count_norm(" ".join(e["text"].split()))
            if p is not None:  # the "2 x 6" shorthand is not a KB form
                assert (p["min"], p["max"], p["over"]) == (n["min"], n["max"], n["over"]), e
            seen += 1
            ranges += n["min"] < n["max"]
    assert seen > 200 and ranges > 10


BARE_FREQUENCY = re.compile(r"^(?:\w+(?:\s*(?:-|to)\s*\w+)?\s*(?:times|x)|once|twice)\s*(?:a|per|/)?\s*"
                            r"(?:day|daily|night|nightly|week|weekly)$|^(?:\w+\s+)?times\s+(?:a\s+)?(?:day|daily|nightly)$", re.I)


def test_bare_and_dosing_frequencies_are_no_counts(kb, real_form_letters):
    """A frequency alone ("twice weekly") and a dosing frequency ("three times a day") are written
    but never a SESSION_COUNT, nor inside one."""
    forms = kb.count_forms["bare_frequencies"] + kb.count_forms["dosing_frequencies"]
    written = 0
    for L in real_form_letters:
        text = L["text"]
        counts = [(e["start"], e["end"]) for e in L["entities"] if e["label"] == "SESSION_COUNT"]
        for e in L["entities"]:
            if e["label"] == "SESSION_COUNT":
                assert not BARE_FREQUENCY.match(" ".join(e["text"].split())), e
        for f in forms:
            for m in re.finditer(re.escape(f), text):
                if any(s < m.end() and m.start() < t for s, t in counts):
                    continue  # a longer form: "... 2 times per week" of a frequency with its duration
                written += 1
    assert written > 50


def test_quantity_after_service_and_lengths(real_form_letters):
    """"Massage therapy times 8" -> SESSION_COUNT "times 8" (unit "unit"); "Two to three week
    trial of ..." -> a week range; "at least 1 month of conservative therapy" -> "1 month", with
    "at least" outside the span."""
    times = weeks = months = 0
    for L in real_form_letters:
        text = L["text"]
        for e in L["entities"]:
            if e["label"] != "SESSION_COUNT":
                continue
            t = " ".join(e["text"].split())
            if re.match(r"^(?:times|x)\s+\d+$", t, re.I):
                assert e["norm"]["unit"] == "unit" and e["norm"]["min"] == e["norm"]["max"] == int(t.split()[-1])
                times += 1
            if re.search(r"^\s+(?:trial|stay)\b", text[e["end"]:e["end"] + 8]):
                assert e["norm"]["unit"] == "week" and t.lower().endswith("week"), e
                weeks += 1
            if re.match(r"^\s+of\s+conservative", text[e["end"]:e["end"] + 20]):
                assert e["norm"]["unit"] in ("month", "week") and not t.lower().startswith("at least"), e
                months += 1
    assert times > 10 and weeks > 3 and months > 10


def test_dosage_forms_outside_drug_spans(kb, real_form_letters):
    """SPEC §2: "Terocin lotion" -> DRUG "Terocin", "Lidoderm patch" -> "Lidoderm"."""
    forms = 0
    for L in real_form_letters:
        text = L["text"]
        for e in L["entities"]:
            if e["label"] != "DRUG":
                continue
            assert kb.split_dosage_form(" ".join(e["text"].split()))[1] == "", e
            forms += bool(re.match(r"\s+(?:\d+(?:\.\d+)?%\s+)?(?:patch|patches|lotion|cream|gel|ointment|spray)\b",
                                   text[e["end"]:e["end"] + 16], re.I))
    assert forms > 20


def test_drug_topic_citations(kb, real_form_letters):
    """A drug named as a citation's topic or section ("(ODG), Pain Chapter, Meloxicam",
    "Section(s): Cyclobenzaprine (Flexeril)") is inside the GUIDELINE span, and no DRUG."""
    n = 0
    for L in real_form_letters:
        drugs = [e for e in L["entities"] if e["label"] == "DRUG"]
        for g in L["entities"]:
            topic = (g["norm"].get("topic") or "") if g["label"] == "GUIDELINE" else ""
            names = [w for w in re.split(r"[,()]\s*", topic) if w.strip() in kb.drug_by_name]
            if not names:
                continue
            assert all(w.strip() in " ".join(g["text"].split()).lower() for w in names), g
            assert not any(g["start"] < d["end"] and d["start"] < g["end"] for d in drugs)
            n += 1
    assert n > 50


def test_multi_document_citations(real_form_letters):
    """One GUIDELINE per cited document: "MTUS Neck and Upper Back Complaints 2004, Section(s):
    Initial Care, and Shoulder Complaints 2004, Section(s): ..." is two; so is "California MTUS
    and ACOEM Guidelines"; "MTUS/ACOEM" is one."""
    pairs = mentions = single = 0
    for L in real_form_letters:
        text = L["text"]
        gl = sorted((e for e in L["entities"] if e["label"] == "GUIDELINE"), key=lambda e: e["start"])
        for a, b in zip(gl, gl[1:]):
            between = " ".join(text[a["end"]:b["start"]].split())
            if between in (", and", "and", ";") and "Section(s)" in a["text"] and "Section(s)" in b["text"]:
                assert a["norm"]["document"] != b["norm"]["document"]
                pairs += 1
            if between == "and" and a["text"].endswith("MTUS") and b["text"].startswith(("ACOEM", "ODG", "Official")):
                mentions += 1
        single += sum(e["text"] in ("MTUS/ACOEM", "CA MTUS/ACOEM Guidelines", "MTUS/ACOEM guidelines") for e in gl)
    assert pairs > 20 and mentions > 20 and single > 5


# ---------------------------------------------------------------- one source for layout markers
def test_generator_markers_come_from_the_parser_configs():
    """The headings, field labels, decision words, unit words and specialties the generator writes
    are the ones the parser's configs list (training/generator/markers.py reads them there)."""
    from pathlib import Path

    from nlp.config import load_yaml
    from nlp.letter_fields import canonical_specialty
    from training.generator import DECISIONS, letter, markers

    cfg = load_yaml("layouts.yaml")
    assert set(LAYOUTS) == set(cfg["layouts"]) == set(cfg["sections"])
    assert DECISIONS == list(cfg["decision_words"])
    for layout in LAYOUTS:
        for part in ("summary", "items"):
            assert markers.section_heading(layout, part).rstrip(":") in cfg["sections"][layout][part]
        for role, label in zip(markers.FIELD_ROLES, markers.field_labels(layout)):
            assert label in cfg["item_fields"][role]
    for decision in DECISIONS:
        assert markers.decision_word(decision) == cfg["decision_words"][decision]
    # every fixed marker letter.py writes, in branches a sample may not reach too
    src = Path(letter.__file__).read_text(encoding="utf-8")
    fixed = re.findall(r"markers\.written\('([^']+)'\)", src)
    assert fixed and all(m in cfg["headings"] or m in cfg["line_starts"] for m in fixed)
    assert "markers.written(" not in re.sub(r"markers\.written\('[^']+'\)", "", src)
    # unit words: each word (and its singular) a count_terms unit word
    units = load_yaml("lexicons/count_terms.yaml")["units"]
    for unit, words in letter._UNIT_WORDS.items():
        for w in words:
            assert w in units and w[:-1] in units and units[w] == units[w[:-1]]
    # specialties: every name the generator writes is in the parser's lexicon (an alias or a known
    # name), so the canonical name a generated record carries is the parser's
    spec = load_yaml("lexicons/specialties.yaml")
    listed = {a.lower() for a in spec["aliases"]} | {k.lower() for k in spec["known"]}
    written = load_yaml("templates/vocab.yaml")["specialties"]
    assert all(isinstance(s, str) for s in written)
    assert {s for s in written if s.lower() not in listed} == set()
    assert canonical_specialty("Physical Medicine & Rehabilitation") == "Physical Medicine and Rehabilitation"
    pools = [*letter._SPEC_DEFAULT, *(s for p in letter._SPEC_BY_CAT.values() for s in p)]
    assert set(pools) <= set(written)


def test_parser_reads_the_layout_the_generator_writes(letters):
    """A generated letter, normalized, parses to its layout, its items, their three fields and decisions;
    every all-capitals line it writes is a heading of configs/layouts.yaml."""
    from nlp.config import load_yaml
    from nlp.layout import parse_layout
    from nlp.textnorm import normalize_text

    headings = {h.lower().rstrip(":") for h in load_yaml("layouts.yaml")["headings"]}
    for L in letters[:300]:
        lay = parse_layout(normalize_text(L["clean_text"]))
        assert lay.format == L["layout"] and len(lay.items) == len(L["items"]), L["id"]
        for got, gold in zip(lay.items, L["items"]):
            assert got.claims_administrator and got.reviewer and got.rationale, L["id"]
            assert got.decision in (None, gold["decision"]), L["id"]
        for line in L["clean_text"].split("\n"):
            s = line.strip()
            if s and s == s.upper() and any(ch.isalpha() for ch in s):
                assert s.lower().rstrip(":") in headings, L["id"]
