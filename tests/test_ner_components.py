"""The spaCy side: tokenizer rules, section detector, normalizer component, save/load, training."""
import functools
import json
import subprocess
import sys

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import DocBin

from conftest import LETTERS
from nlp.ner.tokenizer import blank_pipeline
from nlp.textnorm import normalize_text
from training.ner import assemble


@functools.lru_cache(maxsize=1)
def _blank():
    return blank_pipeline()


@pytest.fixture(scope="module")
def ruler_pipeline(tmp_path_factory):
    path = tmp_path_factory.mktemp("ruler") / "pipe"
    assemble(None, path)
    return path


@pytest.mark.parametrize("text, tokens", [
    ("Guidelines Page(s): 100-102, 127.", ["Guidelines", "Page(s)", ":", "100", "-", "102", ",", "127", "."]),
    ("Prosom 2mg, #30", ["Prosom", "2", "mg", ",", "#", "30"]),
    ("Norco 10/325mg", ["Norco", "10/325", "mg"]),
    ("PT 2x6", ["PT", "2", "x", "6"]),
    ("QTY: 2", ["QTY", ":", "2"]),
    ("flurbiprofen 20%/cyclobenzaprine", ["flurbiprofen", "20", "%", "/", "cyclobenzaprine"]),
    ("10%-Cyclobenzaprine 3%-Gabapentin", ["10", "%", "-", "Cyclobenzaprine", "3", "%", "-", "Gabapentin"]),
    ("a 10%-20% range", ["a", "10%-20", "%", "range"]),
    ("Non-MTUS Citation", ["Non-MTUS", "Citation"]),
    ("Section(s): Special", ["Section(s)", ":", "Special"]),
    # a count before its closing parenthesis is no emoticon
    ("(chiropractic x 8) Physical", ["(", "chiropractic", "x", "8", ")", "Physical"]),
])
def test_tokenizer(text, tokens):
    assert [t.text for t in blank_pipeline()(text)] == tokens


def test_pipeline_order_and_extensions(ruler_pipeline):
    nlp = spacy.load(ruler_pipeline)
    assert nlp.pipe_names == ["imr_sections", "drug_ruler", "imr_package_tier_drugs", "entity_ruler",
                              "imr_guideline_initials", "imr_society_guidelines", "imr_article_citations",
                              "imr_citation_extender",
                              "imr_citation_documents", "imr_drug_name_suffixes", "imr_drug_combinations",
                              "imr_count_shaper", "imr_entity_filter",
                              "imr_request_quantity", "imr_count_echoes", "imr_entity_normalizer", "imr_count_roles"]
    text = normalize_text((LETTERS / "001_37e0e7a9dfbd6631.txt").read_text(encoding="utf-8"))
    doc = nlp(text)
    assert [it.request for it in doc._.layout.items][0] == "WEEKLY COGNITIVE BEHAVIORAL SESSIONS QUANTITY: 24 WEEKS"
    by_text = {(e.text, e._.section, e._.item): e._.norm for e in doc.ents}
    assert by_text[("Klonopin", "summary", None)] == {"generic": "clonazepam", "drug_class": "benzodiazepine"}
    assert by_text[("13-20 visits over 13-20 weeks", "item", 1)] == {
        "min": 13, "max": 20, "unit": "visit", "over": {"min": 13, "max": 20, "unit": "week"}, "role": "recommended"}
    assert by_text[("MTUS Chronic Pain Treatment Guidelines Page(s): 100-102, 127", "item", 2)] == {
        "source": "MTUS", "document": "chronic_pain", "topic": None, "pages": [100, 101, 102, 127]}
    assert ("MTUS", "item", 2) not in by_text  # "Non-MTUS Citation" names no guideline


def test_reassembling_keeps_the_trained_model_and_takes_the_current_rules(tmp_path):
    """`imr train ner --reassemble`: the bundled tok2vec and ner unchanged, the rules from configs/."""
    from models.bundle import DEFAULT_MODEL_DIR
    from training.ner import reassemble

    bundled = DEFAULT_MODEL_DIR / "ner"
    out = reassemble(bundled, tmp_path / "ner")
    for part in ("tok2vec/model", "ner/model"):
        assert (out / part).read_bytes() == (bundled / part).read_bytes()
    a, b = spacy.load(bundled), spacy.load(out)
    assert a.pipe_names == b.pipe_names
    text = "Venlafaxine HCl ER per the California MTUS 2016 Chronic Pain Guidelines; therapy 2 times a week for 6 weeks (12 sessions)."
    assert [(e.text, e.label_) for e in a(text).ents] == [(e.text, e.label_) for e in b(text).ents]
    assert b.get_pipe("imr_count_shaper").counts and b.get_pipe("imr_drug_name_suffixes").words


def test_a_pipeline_saved_with_rule_settings_no_longer_known_still_reassembles(tmp_path):
    """A pipeline saved by an earlier version may carry a rule component setting the factory no
    longer takes; reassembling loads only the trained components and gives the current pipeline."""
    import shutil

    from models.bundle import DEFAULT_MODEL_DIR
    from training.ner import reassemble

    old = tmp_path / "old"
    shutil.copytree(DEFAULT_MODEL_DIR / "ner", old)
    cfg = (old / "config.cfg").read_text(encoding="utf-8")
    section = "[components.imr_citation_documents]\n"
    assert section in cfg
    (old / "config.cfg").write_text(cfg.replace(section, section + "retired_setting = 1\n"), encoding="utf-8")
    with pytest.raises(Exception):
        spacy.load(old)  # the saved settings themselves no longer load
    out = reassemble(old, tmp_path / "new")
    assert (out / "config.cfg").read_text(encoding="utf-8") == (DEFAULT_MODEL_DIR / "ner" / "config.cfg").read_text(
        encoding="utf-8")


def test_saved_pipeline_loads_in_a_fresh_process(ruler_pipeline):
    code = (
        "import spacy, json, sys\n"
        f"nlp = spacy.load({str(ruler_pipeline)!r})\n"
        "doc = nlp('IMR ISSUES, DECISIONS AND RATIONALES\\n\\nKlonopin 1mg: Upheld\\n\\n"
        "Decision rationale: Klonopin is not recommended.')\n"
        "print(json.dumps([(e.text, e.label_, e._.section, e._.item, e._.norm) for e in doc.ents]))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == [
        ["Klonopin", "DRUG", "item", 1, {"generic": "clonazepam", "drug_class": "benzodiazepine"}],
        ["Klonopin", "DRUG", "item", 1, {"generic": "clonazepam", "drug_class": "benzodiazepine"}]]


def test_config_trains_a_small_model(tmp_path):
    """A few steps of `spacy train configs/ner.cfg` on a handful of letters produce a loadable model."""
    from training.ner import train

    nlp = blank_pipeline()
    db = DocBin()
    for _ in range(3):
        doc = nlp.make_doc("The request for Norco 10/325mg and 12 sessions of physical therapy is not medically necessary.")
        doc.ents = [doc.char_span(16, 21, label="DRUG"), doc.char_span(35, 46, label="SESSION_COUNT")]
        db.add(doc)
    db.to_disk(tmp_path / "train.spacy")
    db.to_disk(tmp_path / "dev.spacy")
    best = train(tmp_path, tmp_path / "run", max_steps=20, eval_frequency=10)
    model = spacy.load(best)
    assert model.pipe_names == ["tok2vec", "ner"]
    assert set(model.get_pipe("ner").labels) == {"DRUG", "SESSION_COUNT"}
    assert [t.text for t in model("2x6")] == ["2", "x", "6"]  # the IMR tokenizer travels with the model


def test_entity_filter_drops_impossible_entities():
    from nlp.ner.components import EntityFilter

    nlp = blank_pipeline()
    doc = nlp("Both the MTUS and Chronic benzodiazepines and Norco.")
    doc.ents = [doc.char_span(0, 4, "DRUG"), doc.char_span(9, 13, "GUIDELINE"), doc.char_span(18, 25, "GUIDELINE"),
                doc.char_span(46, 51, "DRUG")]
    doc = EntityFilter(["MTUS", "ODG"])(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("MTUS", "GUIDELINE"), ("Norco", "DRUG")]


def test_entity_filter_drops_drug_use_durations():
    from nlp.ner.components import EntityFilter

    nlp = blank_pipeline()
    doc = nlp("Most guidelines limit use to 4 weeks. Physical therapy for 4 weeks.")
    doc.ents = [doc.char_span(29, 36, "SESSION_COUNT"), doc.char_span(59, 66, "SESSION_COUNT")]
    doc = EntityFilter([], ["use to", "use"])(doc)
    assert [(e.text, e.start_char) for e in doc.ents] == [("4 weeks", 59)]


def test_a_sentence_bound_right_before_an_entity_is_found():
    """The boundary's lookahead needs the entity's first character: a count that starts a sentence
    must not read the cue words of the sentence before it."""
    from nlp.ner.components import _sentence_bounds

    text = "Nine visits were authorized by the Claims Administrator. Twelve visits was the original request."
    start = text.index("Twelve")
    assert _sentence_bounds(text, start, start + len("Twelve visits")) == (start, len(text))


def test_counts_elsewhere_are_requested_only_when_they_are_a_disputed_amount():
    """SPEC: `requested` is what a disputed item asks for. Another request's count is null; a count
    without a cue that restates a heading's amount is requested; cued roles otherwise stand."""
    from types import SimpleNamespace

    from nlp.layout import Span as Part
    from nlp.ner.components import EntityNormalizer
    from nlp.normalizers import normalize_count

    heading = "Physical therapy 6 sessions is: Upheld."
    text = (f"{heading} A request for authorization for physical therapy 2x4 was made in May. "
            f"The current 6 sessions are consistent with the deficits. The patient has completed 6 sessions.")
    doc = blank_pipeline()(text)
    spans = [("6 sessions", 0, "requested"), ("2x4", 0, "requested"), ("6 sessions", 1, None),
             ("6 sessions", 2, "completed")]
    ents, at = [], 0
    for count, nth, role in spans:
        start = text.index(count, at if nth else 0)
        for _ in range(nth):
            start = text.index(count, start + 1)
        ent = doc.char_span(start, start + len(count), "SESSION_COUNT")
        ent._.norm = normalize_count(count, role=role)
        ents.append(ent)
    doc.ents = ents
    layout = SimpleNamespace(items=[SimpleNamespace(heading=Part(0, len(heading)))])
    EntityNormalizer._roles_of_disputed_counts(doc, text, layout)
    assert [(e.text, e._.norm["role"]) for e in doc.ents] == [
        ("6 sessions", "requested"), ("2x4", None), ("6 sessions", "requested"), ("6 sessions", "completed")]
    # with no counted heading nothing changes: the other request may be the disputed one
    for ent, (_, _, role) in zip(doc.ents, spans):
        ent._.norm["role"] = role
    EntityNormalizer._roles_of_disputed_counts(doc, text, SimpleNamespace(items=[]))
    assert [e._.norm["role"] for e in doc.ents] == ["requested", "requested", None, "completed"]


def test_entity_filter_keeps_only_plausible_unknown_drugs():
    from nlp.ner.components import EntityFilter

    nlp = blank_pipeline()
    doc = nlp("He takes Norco, lisinoprilx and level of Mechanism.")
    doc.ents = [doc.char_span(9, 14, "DRUG"), doc.char_span(16, 27, "DRUG"), doc.char_span(32, 37, "DRUG"),
                doc.char_span(41, 50, "DRUG")]
    doc = EntityFilter([], [], ["ol", "ine", "prilx"])(doc)
    assert [e.text for e in doc.ents] == ["Norco", "lisinoprilx"]


@pytest.mark.parametrize("sentence, span, expected", [
    ("The ODG cited above recommend office visits.", "ODG cited above recommend office visits", "ODG"),
    ("The MTUS guidelines, cited above, support it.", "MTUS guidelines, cited above", "MTUS guidelines"),
    ("Per MTUS Chronic Pain Treatment Guidelines Page(s): 100-102, 127.",
     "MTUS Chronic Pain Treatment Guidelines Page(s): 100-102, 127", "MTUS Chronic Pain Treatment Guidelines Page(s): 100-102, 127"),
    ("Official Disability Guidelines were cited.", "Official Disability Guidelines were cited", "Official Disability Guidelines"),
    # lead words the model took in
    ("As noted per MTUS, it is not indicated.", "per MTUS", "MTUS"),
    ("Non-MTUS Official Disability Guidelines (ODG), Pain.", "Non-MTUS Official Disability Guidelines (ODG), Pain",
     "Official Disability Guidelines (ODG), Pain"),
    ("The MTUS states it.", "The MTUS states", "MTUS"),
    ("Guideline: Official Disability Guidelines (ODG) Head, EEG (diagnostic).",
     ": Official Disability Guidelines (ODG) Head, EEG (diagnostic)", "Official Disability Guidelines (ODG) Head, EEG (diagnostic)"),
    ("ODG Preface specifies Physical Therapy Guidelines.", "ODG Preface specifies Physical Therapy Guidelines", "ODG Preface"),
    # what a passing mention says of the guideline is not its name
    ("The ODG supports a trial.", "ODG supports", "ODG"),
    ("He relied on the MTUS only.", "MTUS only", "MTUS"),
    ("No MTUS provisions for this item apply.", "MTUS provisions for this item", "MTUS"),
    ("It is not recommended by the ODG over other heat therapies.", "ODG over", "ODG"),
    ("He found the referenced section of the MTUS applicable and relevant.", "MTUS applicable and relevant", "MTUS"),
    ("The ODG regard it as first-line.", "ODG regard", "ODG"),
    ("It is half of the ODG total.", "ODG total", "ODG"),
    ("The ODG Knee & Leg Chapter likewise recommends it.", "ODG Knee & Leg Chapter likewise", "ODG Knee & Leg Chapter"),
    ("The ODG Knee & Leg chapter takes the same position.", "ODG Knee & Leg chapter takes", "ODG Knee & Leg chapter"),
    # the sentence's period is not the citation's; an abbreviation's or an initial's is
    ("Decision based on MTUS Section(s): Opioids, On-Going Management; When to Discontinue Opioids.",
     "MTUS Section(s): Opioids, On-Going Management; When to Discontinue Opioids.",
     "MTUS Section(s): Opioids, On-Going Management; When to Discontinue Opioids"),
    ("See Katz JN, et al. for the trial.", "Katz JN, et al.", "Katz JN, et al."),
    # a paragraph break ends a citation
    ("ODG Pain (Chronic), Opioids, tapering\n\nDecision rationale: No.", "ODG Pain (Chronic), Opioids, tapering\n\nDecision",
     "ODG Pain (Chronic), Opioids, tapering"),
    ("The ODG pain chapter relied on by the claims administrator.", "ODG pain chapter relied", "ODG pain chapter"),
    # so does the next entry's number of a numbered list run into one line; a page number does not
    ("3. Progress reports 4. Official Disability Guidelines (ODG) 5. Medical Treatment Utilization Schedule",
     "Official Disability Guidelines (ODG) 5", "Official Disability Guidelines (ODG)"),
    ("4. Official Disability Guidelines (ODG) 7. Medical Treatment Utilization Schedule",
     "Official Disability Guidelines (ODG) 7", "Official Disability Guidelines (ODG) 7"),
])
def test_citation_trimmer_cuts_guidelines_at_what_the_sentence_says_of_them(sentence, span, expected):
    assert _trimmed(sentence, span) == [(expected, "GUIDELINE")]


def _trimmed(sentence: str, span: str, unnamed_part: bool = False) -> list[tuple[str, str]]:
    """The entities of `sentence` after the citation trimmer, `span` given as the model's GUIDELINE
    (with the configured unnamed part, or without it)."""
    from nlp.ner.components import CitationTrimmer
    from nlp.ner.patterns import (guideline_end_abbreviations, guideline_lead_words, guideline_stop_words,
                                  guideline_unnamed_part)

    doc = blank_pipeline()(sentence)
    start = sentence.index(span)
    doc.ents = [doc.char_span(start, start + len(span), "GUIDELINE")]
    trimmer = CitationTrimmer(guideline_stop_words(), guideline_lead_words(), guideline_end_abbreviations(),
                              *([guideline_unnamed_part()] if unnamed_part else []))
    return [(e.text, e.label_) for e in trimmer(doc).ents]


@pytest.mark.parametrize("sentence, span, expected", [
    # a source with an unnamed part of it (a chapter, its guidance, what it is on) cites the source
    ("The ACOEM chapter on stress-related conditions supports referral.", "ACOEM chapter on stress-related conditions",
     "ACOEM"),
    ("EMDR is not addressed, and the ACOEM chapter relied on by the claims administrator is silent.",
     "ACOEM chapter relied", "ACOEM"),
    ("Decision rationale: ACOEM guidance adopted by the MTUS states it.", "ACOEM guidance", "ACOEM"),
    ("The ACOEM chapter adopted by the MTUS states it.", "ACOEM chapter adopted", "ACOEM"),
    ("The MTUS/ACOEM chapter on hand complaints explains it.", "MTUS/ACOEM chapter on hand complaints", "MTUS/ACOEM"),
    ("The MTUS chapter on hand complaints recommends it.", "MTUS chapter", "MTUS"),
    ("so the Official Disability Guidelines chapter on mental\nillness and stress is more appropriate.",
     "Official Disability Guidelines chapter on mental", "Official Disability Guidelines"),
    # a chapter named by its body part or number is the citation's
    ("The ACOEM shoulder chapter requires imaging findings.", "ACOEM shoulder chapter", "ACOEM shoulder chapter"),
    ("Per ACOEM Chapter 12, it is optional.", "ACOEM Chapter 12", "ACOEM Chapter 12"),
    ("Per the MTUS-adopted ACOEM Guidelines in chapter 15, it is optional.", "MTUS-adopted ACOEM Guidelines in chapter 15",
     "MTUS-adopted ACOEM Guidelines in chapter 15"),
    ("The ODG Pain Chapter on opioids applies.", "ODG Pain Chapter on opioids", "ODG Pain Chapter on opioids"),
])
def test_citation_trimmer_cites_the_source_of_an_unnamed_part(sentence, span, expected):
    assert _trimmed(sentence, span, unnamed_part=True) == [(expected, "GUIDELINE")]


@pytest.mark.parametrize("text, spans, expected", [
    # the treatments in dispute, the determination, the heading: the same words before the same quantity
    ("Treatments: acupuncture for the neck x 12; Norco. The request for acupuncture for the neck x 12 is denied. "
     "1) Regarding the request for acupuncture for the neck X 12:",
     [("x 12", 0)], ["x 12", "x 12", "X 12"]),
    # other words before it, another quantity, a unit or days after it, a number run on: no echo
    ("Then massage therapy x 6 was given. Then massage therapy x 6 weeks. Then massage therapy x 6 days. Then massage "
     "therapy x 8 later. Then nerve block x 6 followed. Then massage therapy x 6 2. Then massage therapy x 6.",
     [("x 6", 0)], ["x 6", "x 6"]),
    # none where the model found no bare quantity
    ("Acupuncture for the neck x 12 and acupuncture for the neck x 12.", [], []),
])
def test_count_echoes_mark_a_quantity_named_again_after_the_same_words(text, spans, expected):
    from nlp.ner.components import CountEchoes
    from nlp.ner.patterns import count_echoes

    doc = blank_pipeline()(text)
    ents = []
    for span, nth in spans:
        start = [i for i in range(len(text)) if text.startswith(span, i)][nth]
        ents.append(doc.char_span(start, start + len(span), "SESSION_COUNT"))
    doc.ents = ents
    out = CountEchoes(**count_echoes())(doc)
    assert [e.text for e in out.ents] == expected
    assert all(e.label_ == "SESSION_COUNT" for e in out.ents)


def _one_item_letter(heading: str):
    """A dwc_2014 items section with one item `heading`, through the section detector."""
    text = ("IMR ISSUES, DECISIONS AND RATIONALES\n\nThe Final Determination was based on decisions for the "
            f"disputed items/services set forth below:\n\n{heading}\n\nClaims Administrator guideline: none.\n")
    nlp = blank_pipeline()
    nlp.add_pipe("imr_sections")
    doc = nlp(text)
    assert doc._.layout is not None and len(doc._.layout.items) == 1
    return doc


@pytest.mark.parametrize("heading, expected", [
    ("WEEKLY COGNITIVE BEHAVIORAL SESSIONS QUANTITY: 24 WEEKS: Upheld", "24 WEEKS"),
    ("MONTHLY MEDICATION MANAGEMENT (IN MONTHS) QUANTITY: 6.00: Upheld", "QUANTITY: 6.00"),
])
def test_request_quantity_of_a_heading(heading, expected):
    from nlp.ner.components import RequestQuantity
    from nlp.ner.patterns import request_quantity_pattern

    doc = RequestQuantity(request_quantity_pattern())(_one_item_letter(heading))
    assert [(e.text, e.label_) for e in doc.ents] == [(expected, "SESSION_COUNT")]


@pytest.mark.parametrize("heading, expected", [
    ("INDIVIDUAL PSYCHOTHERAPY ONCE A WEEK FOR 20 WEEKS: Upheld", "ONCE A WEEK FOR 20 WEEKS"),
    ("Acupuncture, lumbar spine, times 8: Upheld", "times 8"),
    ("Physical therapy 2 times a week for 6 weeks (12 sessions) for the knee: Overturned",
     "2 times a week for 6 weeks (12 sessions)"),
])
def test_request_quantity_reads_the_count_grammar_where_a_heading_has_no_quantity(heading, expected):
    from nlp.ner.components import RequestQuantity
    from nlp.ner.patterns import count_grammar, request_quantity_pattern

    doc = RequestQuantity(request_quantity_pattern(), count_grammar()["counts"])(_one_item_letter(heading))
    assert [(e.text, e.label_) for e in doc.ents] == [(expected, "SESSION_COUNT")]
    # a drug's heading has no session count
    drug = _one_item_letter("Norco 10/325mg #60 " + heading)
    drug.ents = [drug.char_span(drug.text.index("Norco"), drug.text.index("Norco") + 5, "DRUG")]
    drug = RequestQuantity(request_quantity_pattern(), count_grammar()["counts"])(drug)
    assert [e.label_ for e in drug.ents] == ["DRUG"]


def test_a_drug_headings_quantity_is_its_pack_count():
    """A model's SESSION_COUNT on a drug heading's "QUANTITY: 30.00" is dropped (SPEC section 2: pill counts)."""
    from nlp.ner.components import RequestQuantity
    from nlp.ner.patterns import request_quantity_pattern

    doc = _one_item_letter("RETROSPECTIVE TEROCIN PATCHES QUANTITY: 30.00: Upheld")
    at = lambda s: (doc.text.index(s), doc.text.index(s) + len(s))  # noqa: E731
    doc.ents = [doc.char_span(*at("TEROCIN"), "DRUG"), doc.char_span(*at("QUANTITY: 30.00"), "SESSION_COUNT")]
    doc = RequestQuantity(request_quantity_pattern())(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("TEROCIN", "DRUG")]


def test_request_quantity_takes_no_count_of_injections_from_a_heading():
    """SPEC section 2: counts of injections are no SESSION_COUNT ("nerve blocks x 2"), while a
    service's quantity in its heading is ("Traction x 6")."""
    from nlp.ner.components import RequestQuantity
    from nlp.ner.patterns import count_grammar, request_quantity_pattern

    grammar = count_grammar()
    quantity = RequestQuantity(request_quantity_pattern(), grammar["counts"], grammar["not_counts"])
    assert quantity(_one_item_letter("Bilateral greater occipital nerve blocks x 2: Upheld")).ents == ()
    assert [e.text for e in quantity(_one_item_letter("Traction x 6: Upheld")).ents] == ["x 6"]
    # a quantity in an injection's heading counts injections
    from nlp.ner.patterns import request_quantity_not_for

    quantity = RequestQuantity(request_quantity_pattern(), grammar["counts"], grammar["not_counts"],
                               request_quantity_not_for())
    assert quantity(_one_item_letter("Cervical epidural steroid injection at C5-C6, quantity: 2: Upheld")).ents == ()
    assert [e.text for e in quantity(_one_item_letter("NCV bilateral lower extremities QTY: 2: Upheld")).ents] == ["QTY: 2"]


def _citation_doc(sentence: str, guideline: str, drugs: tuple[str, ...] = ()):
    doc = blank_pipeline()(sentence)
    start = sentence.index(guideline)
    ents = [doc.char_span(start, start + len(guideline), "GUIDELINE")]
    for d in drugs:
        i = sentence.index(d)
        ents.append(doc.char_span(i, i + len(d), "DRUG"))
    doc.ents = sorted(ents, key=lambda e: e.start)
    return doc


@pytest.mark.parametrize("sentence, guideline, drugs, expected", [
    # a topic closed by its pages, a drug named there included (SPEC section 2)
    ("Decision based on MTUS Chronic Pain Medical Treatment Guidelines 2009, Section(s): Cyclobenzaprine (Flexeril), "
     "Page(s): 41-42. The request", "MTUS Chronic Pain Medical Treatment Guidelines 2009", ("Cyclobenzaprine", "Flexeril"),
     [("MTUS Chronic Pain Medical Treatment Guidelines 2009, Section(s): Cyclobenzaprine (Flexeril), Page(s): 41-42",
       "GUIDELINE")]),
    ("He relied on the Chronic Pain Medical Treatment Guidelines (2009), Opioids, criteria for use, pages 78-80 and 91.",
     "Chronic Pain Medical Treatment Guidelines", (),
     [("Chronic Pain Medical Treatment Guidelines (2009), Opioids, criteria for use, pages 78-80 and 91", "GUIDELINE")]),
    ("Per the MTUS Chronic Pain Guidelines p. 78, opioids are continued.", "MTUS Chronic Pain Guidelines", (),
     [("MTUS Chronic Pain Guidelines p. 78", "GUIDELINE")]),
    ("the California MTUS Acupuncture Medical Treatment Guidelines, Section 9792.24.1, were",
     "California MTUS Acupuncture Medical Treatment Guidelines", (),
     [("California MTUS Acupuncture Medical Treatment Guidelines, Section 9792.24.1", "GUIDELINE")]),
    ("the Acupuncture Medical Treatment Guidelines (2009), section 9792.24.1, which are",
     "Acupuncture Medical Treatment Guidelines (2009)", (),
     [("Acupuncture Medical Treatment Guidelines (2009), section 9792.24.1", "GUIDELINE")]),
    # the regulation's subdivisions; a year after a comma that closes the citation
    ("the Acupuncture Medical Treatment Guidelines, 9792.24.1(c)(1), which are", "Acupuncture Medical Treatment Guidelines",
     (), [("Acupuncture Medical Treatment Guidelines, 9792.24.1(c)(1)", "GUIDELINE")]),
    ("5. California Medical Treatment Utilization Schedule (MTUS), 2009\nMedical Qualifications",
     "California Medical Treatment Utilization Schedule (MTUS)", (),
     [("California Medical Treatment Utilization Schedule (MTUS), 2009", "GUIDELINE")]),
    ("Per the ODG, 2016 guidance, it is fine.", "ODG", (), [("ODG", "GUIDELINE")]),
    # a drug that closes the sentence after a citation is its topic
    ("Guideline(s) relied upon: ODG Pain (Chronic), Zolpidem (Ambien).", "ODG Pain (Chronic)", ("Zolpidem", "Ambien"),
     [("ODG Pain (Chronic), Zolpidem (Ambien)", "GUIDELINE")]),
    # ... or comes before another source's citation after "and"
    ("He relied on ODG Mental Illness & Stress Chapter, Zolpidem (Ambien) and ODG Pain Chapter.",
     "ODG Mental Illness & Stress Chapter", ("Zolpidem", "Ambien"),
     [("ODG Mental Illness & Stress Chapter, Zolpidem (Ambien)", "GUIDELINE")]),
    # prose is no tail: a stop word, page furniture; a drug outside the citation stays a DRUG
    ("The MTUS, which has no chapter on it, is silent on page 3.", "MTUS", (), [("MTUS", "GUIDELINE")]),
    ("The MTUS does not address cryotherapy, so the Page 2 of 2 Official Disability", "MTUS", (),
     [("MTUS", "GUIDELINE")]),
    ("Per the MTUS, Norco is not recommended.", "MTUS", ("Norco",), [("MTUS", "GUIDELINE"), ("Norco", "DRUG")]),
    # lower-case words naming the document, up to its guideline or chapter word; never a function word
    ("The MTUS chronic pain guideline adopted in 2017 supports it.", "MTUS chronic", (),
     [("MTUS chronic pain guideline", "GUIDELINE")]),
    ("Per the MTUS-adopted ACOEM shoulder chapter, surgery is indicated.", "MTUS-adopted ACOEM", (),
     [("MTUS-adopted ACOEM shoulder chapter", "GUIDELINE")]),
    # a drug topic closing the sentence, its generic in parentheses in lower case
    ("Decision based on ODG Pain (Chronic), Pennsaid (diclofenac sodium topical solution).", "ODG Pain (Chronic)",
     ("Pennsaid", "diclofenac sodium"),
     [("ODG Pain (Chronic), Pennsaid (diclofenac sodium topical solution)", "GUIDELINE")]),
    ("He read the ODG and the guideline.", "ODG", (), [("ODG", "GUIDELINE")]),
    ("The MTUS does support guideline care.", "MTUS", (), [("MTUS", "GUIDELINE")]),
    # no citation ends in a comma or a conjunction
    ("Decision based on ODG Pain, which", "ODG Pain,", (), [("ODG Pain", "GUIDELINE")]),
    ("He relied on ODG Mental Illness & Stress, Hypnosis and ODG Pain.", "ODG Mental Illness & Stress, Hypnosis and",
     (), [("ODG Mental Illness & Stress, Hypnosis", "GUIDELINE")]),
    ("ACOEM 2004 Shoulder Complaints Section in order to decide", "ACOEM 2004 Shoulder Complaints Section in", (),
     [("ACOEM 2004 Shoulder Complaints Section", "GUIDELINE")]),
    # the section a citation ends on
    ("Decision based on MTUS Chronic Pain Medical Treatment Guidelines 2009, Section(s): Lidoderm (lidocaine patch). The",
     "MTUS Chronic Pain Medical Treatment Guidelines 2009, Section(s):", ("Lidoderm", "lidocaine"),
     [("MTUS Chronic Pain Medical Treatment Guidelines 2009, Section(s): Lidoderm (lidocaine patch)", "GUIDELINE")]),
    # the chapter an ACOEM mention names in prose, whether the model took "chapter" or not
    ("The ACOEM chapter on stress related conditions recommends it.", "ACOEM", (),
     [("ACOEM chapter on stress related conditions", "GUIDELINE")]),
    ("The ACOEM chapter on low back complaints states that", "ACOEM chapter", (),
     [("ACOEM chapter on low back complaints", "GUIDELINE")]),
    ("The ACOEM chapter on it is silent.", "ACOEM", (), [("ACOEM", "GUIDELINE")]),
    # the document's year after its name
    ("Per the Chronic Pain Medical Treatment Guidelines 2016, it is not indicated.",
     "Chronic Pain Medical Treatment Guidelines", (), [("Chronic Pain Medical Treatment Guidelines 2016", "GUIDELINE")]),
    # a body named in full and its guideline; not after initials, nor a word that only begins like it
    ("The American Academy of Sleep Medicine practice parameters support a study.", "American Academy of Sleep Medicine",
     (), [("American Academy of Sleep Medicine practice parameters", "GUIDELINE")]),
    ("The American Academy of Dermatology guidelines apply.", "American Academy of Dermatology", (),
     [("American Academy of Dermatology guidelines", "GUIDELINE")]),
    ("Per the MTUS guidelines, it is not indicated.", "MTUS", (), [("MTUS", "GUIDELINE")]),
    ("The American Academy of Neurology guidelinesfoo apply.", "American Academy of Neurology", (),
     [("American Academy of Neurology", "GUIDELINE")]),
    # the edition and its year; what a plural subject states is prose, not its pages
    ("Per the ACOEM Practice Guidelines, 2nd Edition (2004), rest is optional.", "ACOEM Practice Guidelines", (),
     [("ACOEM Practice Guidelines, 2nd Edition (2004)", "GUIDELINE")]),
    ("The MTUS Chronic Pain Medical Treatment Guidelines state plainly on page 29 that it is not recommended.",
     "MTUS Chronic Pain Medical Treatment Guidelines", (), [("MTUS Chronic Pain Medical Treatment Guidelines", "GUIDELINE")]),
    # a Medicare coverage document's kind, number, chapters and title; a title in lower case is prose
    ("Decision based on the Medicare National Coverage Determination (NCD) for Hospital Beds (280.7). The",
     "Medicare National Coverage Determination", (),
     [("Medicare National Coverage Determination (NCD) for Hospital Beds (280.7)", "GUIDELINE")]),
    ("He relied on the Medicare National Coverage Determinations Manual, Chapter 1, Part 4, Section 280.1, which is "
     "not part of the MTUS.", "Medicare National Coverage Determinations Manual", (),
     [("Medicare National Coverage Determinations Manual, Chapter 1, Part 4, Section 280.1", "GUIDELINE")]),
    ("Decision based on CMS Medicare National Coverage Determination 280.3, Mobility Assistive Equipment. The",
     "CMS Medicare National Coverage Determination", (),
     [("CMS Medicare National Coverage Determination 280.3, Mobility Assistive Equipment", "GUIDELINE")]),
    ("Non-MTUS Citation Medicare Local Coverage Determination (LCD): Therapeutic Shoes for Persons with Diabetes. The",
     "Medicare Local Coverage Determination", (),
     [("Medicare Local Coverage Determination (LCD): Therapeutic Shoes for Persons with Diabetes", "GUIDELINE")]),
    ("The Medicare National Coverage Determination for hospital beds covers a bed.", "Medicare National Coverage Determination",
     (), [("Medicare National Coverage Determination", "GUIDELINE")]),
    # the rest of a topic the model cut at its slash, to the clause's end; not into a sentence
    ("Decision based on ODG Knee & Leg Chapter, Heat/cold packs, which is not part of the MTUS.",
     "ODG Knee & Leg Chapter, Heat/", (), [("ODG Knee & Leg Chapter, Heat/cold packs", "GUIDELINE")]),
    ("Decision based on ODG Knee & Leg Chapter, Heat/cold packs are not supported by any study here.",
     "ODG Knee & Leg Chapter, Heat/", (), [("ODG Knee & Leg Chapter, Heat/", "GUIDELINE")]),
])
def test_citation_extender_takes_topic_and_pages_and_stops_at_prose(sentence, guideline, drugs, expected):
    from nlp.ner.components import CitationExtender
    from nlp.ner.patterns import citation_tails, guideline_stop_words

    doc = CitationExtender(citation_tails(), guideline_stop_words())(_citation_doc(sentence, guideline, drugs))
    assert [(e.text, e.label_) for e in doc.ents] == expected


def _field_letter(field: str):
    """A dwc_2013_notice-like letter whose one item has `field` as its reviewer's guideline field."""
    from nlp.ner.components import SectionDetector

    text = ("INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE\n\n1) Regarding the request for Lorazepam 1mg #60:\n\n"
            f"Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:\n\n{field}\n\n"
            "Rationale for the Decision:\n\nThe request is not medically necessary.\n")
    return SectionDetector()(blank_pipeline()(text))


@pytest.mark.parametrize("field, model_ents, expected", [
    # a lower-case topic closing the sentence, wrapped over a line; ", which are ..." is no part of it
    ("The Expert Reviewer based his/her decision on the ODG Mental Illness & Stress, Relaxation\ntraining, "
     "which are not part of the MTUS.", [("ODG Mental Illness & Stress", "GUIDELINE")],
     ["ODG Mental Illness & Stress, Relaxation\ntraining"]),
    ("The Expert Reviewer based his/her decision on UpToDate, Pharmacotherapy for posttraumatic stress disorder in "
     "adults.", [("UpToDate, Pharmacotherapy", "GUIDELINE")],
     ["UpToDate, Pharmacotherapy for posttraumatic stress disorder in adults"]),
    # a further topic with its own pages; the drug named there is part of it
    ("The Expert Reviewer based his/her decision on the Chronic Pain Medical Treatment Guidelines, Topical Analgesics, "
     "pages 111-113 and Lidoderm (lidocaine patch), pages 56-57, which are part of the MTUS.",
     [("Chronic Pain Medical Treatment Guidelines, Topical Analgesics, pages 111-113", "GUIDELINE"),
      ("Lidoderm", "DRUG"), ("lidocaine", "DRUG")],
     ["Chronic Pain Medical Treatment Guidelines, Topical Analgesics, pages 111-113 and Lidoderm (lidocaine patch), "
      "pages 56-57"]),
])
def test_in_a_guideline_field_a_citation_takes_a_closing_lower_case_topic_and_further_paged_topics(
        field, model_ents, expected):
    from nlp.ner.components import CitationExtender
    from nlp.ner.patterns import citation_field_tails, citation_tails, guideline_stop_words

    doc = _field_letter(field)
    start = doc.text.index(field)
    doc.ents = [doc.char_span(doc.text.index(t, start), doc.text.index(t, start) + len(t), label)
                for t, label in model_ents]
    doc = CitationExtender(citation_tails(), guideline_stop_words(), citation_field_tails())(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [(x, "GUIDELINE") for x in expected]
    if model_ents[0][0].endswith(("Stress", "Pharmacotherapy")):  # outside a field: prose is no topic
        plain = blank_pipeline()(field)
        t = model_ents[0][0]
        plain.ents = [plain.char_span(field.index(t), field.index(t) + len(t), "GUIDELINE")]
        plain = CitationExtender(citation_tails(), guideline_stop_words(), citation_field_tails())(plain)
        assert [e.text for e in plain.ents] == [t]


@given(topic=st.lists(st.sampled_from(["Opioids", "criteria", "for", "use", "(ESIs)", "Flexeril", "&", "GI"]),
                      min_size=0, max_size=6),
       pages=st.tuples(st.integers(1, 300), st.integers(1, 300)))
@settings(max_examples=60, deadline=None)
def test_a_page_closed_citation_takes_its_whole_topic_and_nothing_after(topic, pages):
    from nlp.ner.components import CitationExtender
    from nlp.ner.patterns import citation_tails, guideline_stop_words

    cited = "MTUS Chronic Pain Medical Treatment Guidelines" + "".join(", " + w for w in topic) + \
        f", pages {pages[0]}-{pages[1]}"
    sentence = cited + ". The request is not medically necessary."
    doc = CitationExtender(citation_tails(), guideline_stop_words())(
        _citation_doc(sentence, "MTUS Chronic Pain Medical Treatment Guidelines"))
    assert [e.text for e in doc.ents] == [cited]


@pytest.mark.parametrize("sentence, count, kept", [
    ("She has taken the drug every night for about nine months.", "nine months", False),
    ("Cyclobenzaprine is not supported for use for longer than 2 to 3 weeks.", "2 to 3 weeks", False),
    ("The injection relieved his pain for about two weeks.", "two weeks", False),
    ("Monthly medication management visits for 6 months were requested.", "6 months", True),
    ("A TENS trial for one month is recommended.", "one month", True),
    ("He completed physical therapy, 4 weeks in all.", "4 weeks", True),
])
def test_a_bare_duration_after_drug_use_is_no_count(sentence, count, kept):
    from nlp.ner.components import EntityFilter
    from nlp.ner.patterns import (drug_duration_cues, drug_duration_service_words, drug_duration_window,
                                  guideline_single_words)

    doc = blank_pipeline()(sentence)
    i = sentence.index(count)
    ent = doc.char_span(i, i + len(count), "SESSION_COUNT")
    keep = EntityFilter(guideline_single_words(), drug_duration_cues(), cue_window=drug_duration_window(),
                        service_words=drug_duration_service_words()).keep(ent)
    assert keep is kept


def test_a_fragment_of_a_known_guideline_name_is_the_whole_name():
    """The model's "MTUS)" of "Medical Treatment Utilization Schedule (MTUS)" (documents reviewed)."""
    from nlp.ner.components import CitationDocuments
    from nlp.ner.patterns import citation_documents

    text = "Employee medical records and Medical Treatment Utilization Schedule (MTUS)\n\nMedical Qualifications"
    nlp = blank_pipeline()
    doc = nlp(text)
    i = text.index("MTUS)")
    doc.ents = [doc.char_span(i, i + 5, "GUIDELINE")]
    doc = CitationDocuments(**citation_documents(), vocab=nlp.vocab)(doc)
    assert [e.text for e in doc.ents] == ["Medical Treatment Utilization Schedule (MTUS)"]


def test_bundled_pipeline_multiplies_with_the_configured_backend():
    """configs/ner/ops.yaml decides BLIS or numpy for the models' gemm (nlp/ner/ops.py); the
    models keep the ops current when they were built, so loading must apply it first."""
    from thinc.api import NumpyOps

    from nlp.config import load_yaml
    from nlp.ner.runtime import load_pipeline
    from models.bundle import ner_dir

    use_blis = load_yaml("ner/ops.yaml")["use_blis"]
    nlp = load_pipeline(str(ner_dir(None)))
    threads = load_yaml("ner/ops.yaml")["scoring_blas_threads"]
    from threadpoolctl import threadpool_info

    assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {threads}
    # spaCy builds the parser's optional upper layer under `use_ops("cpu")` (the C loop does not use it)
    layers = [*nlp.get_pipe("tok2vec").model.walk(), *nlp.get_pipe("ner").model.get_ref("lower").walk()]
    assert len(layers) > 20
    for layer in layers:
        assert isinstance(layer.ops, NumpyOps) and layer.ops.use_blis is use_blis, layer.name


_TEXT_PARTS = st.sampled_from(["Dr.", "Page(s):", "don't", "e.g.", "QTY:", "Non-MTUS", "2x6", "10/325mg", "U.S.",
                               "MTUS", "(ODG)", "a.m.", "x12", "Norco", "20%/cyclobenzaprine", "--", ":)"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_TEXT_PARTS, st.text(alphabet=" \n\t.,:;()-/%#'\"aZ9é", max_size=6)), max_size=40))
def test_tokenizing_by_paragraph_gives_the_tokens_of_one_call(parts):
    """`CachePrimingTokenizer` only changes what spaCy's cache keeps: every token attribute the
    models read is the same as tokenizing the whole text in one call, in both of its modes."""
    from spacy.attrs import IDS
    from spacy.tokens._serialize import ALL_ATTRS  # what a DocBin stores

    text = "".join(parts)
    nlp = _blank()
    whole, by_paragraph, primed = nlp.tokenizer.tokenizer(text), nlp.tokenizer.by_paragraph(text), nlp.tokenizer(text)
    attrs = [IDS[a] for a in ALL_ATTRS] + [IDS[a] for a in ("SPACY", "LOWER", "SHAPE", "PREFIX", "SUFFIX")]
    assert by_paragraph.text == primed.text == text
    assert by_paragraph.has_annotation("SENT_START") == whole.has_annotation("SENT_START") == primed.has_annotation("SENT_START")
    assert by_paragraph.to_array(attrs).tolist() == whole.to_array(attrs).tolist() == primed.to_array(attrs).tolist()


def test_cache_priming_tokenizer_switches_to_whole_texts():
    nlp = blank_pipeline()
    tok = nlp.tokenizer
    assert tok.prime_texts > 0
    for _ in range(tok.prime_texts + 2):
        doc = nlp("Dr. Smith asked for 12 sessions.\nPage(s): 24\n")
    assert tok._calls == tok.prime_texts
    assert [t.text for t in doc] == ["Dr.", "Smith", "asked", "for", "12", "sessions", ".", "\n", "Page(s)", ":", "24", "\n"]
    tok.add_special_case("Q-tip", [{"ORTH": "Q-tip"}])  # new rules empty spaCy's cache: prime again
    assert tok._calls == 0


def test_bundled_pipeline_tags_and_normalizes_a_package_tier_drug():
    # a drug the seed lexicon lacks (nlp/lexicon.py, configs/lexicons/drugs_package.tsv): the tier's
    # component finds it, the normalizer gives the package's generic, class `other`
    from models.bundle import ner_dir
    from nlp.ner.runtime import entity_dicts, load_pipeline

    nlp = load_pipeline(str(ner_dir(None)))
    assert nlp.pipe_names.index("imr_package_tier_drugs") == nlp.pipe_names.index("drug_ruler") + 1
    doc = nlp("CLINICAL CASE SUMMARY\nHer medications are Invokana 300 mg daily and glipizide 5 mg twice "
              "daily for diabetes, with Norco 10/325 mg for pain.\n")
    drugs = [(e["text"], e["norm"]) for e in entity_dicts(doc) if e["label"] == "DRUG"]
    assert drugs == [("Invokana", {"generic": "canagliflozin", "drug_class": "other"}),
                     ("glipizide", {"generic": "glipizide", "drug_class": "other"}),
                     ("Norco", {"generic": "hydrocodone/acetaminophen", "drug_class": "opioid"})]


def test_bundled_pipeline_tags_a_medicare_coverage_document_named_in_prose():
    from models.bundle import ner_dir
    from nlp.ner.runtime import entity_dicts, load_pipeline

    nlp = load_pipeline(str(ner_dir(None)))
    doc = nlp("CLINICAL CASE SUMMARY\nShe uses a walker.\n\nIMR ISSUES, DECISIONS AND RATIONALES\n\nPower wheelchair: "
              "Upheld\n\nDecision rationale: The Medicare National Coverage Determination likewise requires that a cane "
              "or walker cannot meet the need. The CMS Medicare Benefit Policy Manual, Chapter 7, Home Health Services "
              "says the same.\n")
    assert [e["text"] for e in entity_dicts(doc) if e["label"] == "GUIDELINE"] == [
        "Medicare National Coverage Determination", "CMS Medicare Benefit Policy Manual, Chapter 7, Home Health Services"]


@pytest.mark.parametrize("text, drugs", [
    ("Invokana 300 mg and glipizide daily", ["Invokana", "glipizide"]),
    ("insulin glargine nightly, Aethoxy-Sklerol for the veins", ["insulin glargine", "Aethoxy-Sklerol"]),
    ("Norco and Invokana", ["Norco", "Invokana"]),           # a seed name stays the drug ruler's
    ("serotonin syndrome, amino acids, INVOKANA", ["INVOKANA"]),
])
def test_package_tier_drugs_tags_tier_names_where_no_entity_is(text, drugs):
    from nlp.ner.components import PackageTierDrugs

    nlp = blank_pipeline()
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns([{"label": "DRUG", "pattern": "Norco"}])
    doc = PackageTierDrugs()(ruler(nlp(text)))
    assert [e.text for e in doc.ents if e.label_ == "DRUG"] == drugs


@pytest.mark.parametrize("text, citations", [
    ("The National Institute for Health and Care Excellence (NICE) guideline on post-traumatic stress disorder both "
     "identify it.", ["National Institute for Health and Care Excellence (NICE) guideline on post-traumatic stress disorder"]),
    ("and the U.S. Preventive Services Task Force (USPSTF) recommendation on weight loss interventions for adults "
     "with obesity (2018) assigns a grade B.",
     ["U.S. Preventive Services Task Force (USPSTF) recommendation on weight loss interventions for adults with "
      "obesity (2018)"]),
    ("Decision based on Non-MTUS Citation North American Spine Society (NASS) Evidence-Based Clinical Guidelines for "
     "Multidisciplinary Spine Care: Diagnosis and Treatment (2012).",
     ["North American Spine Society (NASS) Evidence-Based Clinical Guidelines for Multidisciplinary Spine Care: "
      "Diagnosis and Treatment (2012)"]),
    ("the American Urological Association (AUA) guideline on erectile dysfunction was applied.",
     ["American Urological Association (AUA) guideline on erectile dysfunction"]),
    # a body alone is no guideline; initials that its name does not hold are no body's
    ("The American Urological Association (AUA) met in May.", []),
    ("He saw Dr. Smith (QME) guideline-wise.", []),
    ("Range of Motion (ROM) guidelines vary.", []),
])
def test_society_guidelines_cite_a_body_named_in_full_with_its_initials(text, citations):
    from nlp.ner.components import SocietyGuidelines
    from nlp.ner.patterns import society_guidelines

    doc = SocietyGuidelines(**society_guidelines())(blank_pipeline()(text))
    assert [e.text for e in doc.ents if e.label_ == "GUIDELINE"] == citations


def test_article_citations_take_the_models_drug_guesses_on_authors_names_but_no_known_drug():
    from nlp.ner.components import ArticleCitations
    from nlp.ner.patterns import article_citation

    text = "Per Sihvonen et al. (2013) and O\u2019Brien and colleagues (2010); Norco and Soma (2014) were tried."
    doc = blank_pipeline()(text)
    doc.ents = [doc.char_span(text.index(w), text.index(w) + len(w), "DRUG") for w in ("Sihvonen", "Norco", "Soma")]
    doc = ArticleCitations(article_citation())(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Sihvonen et al. (2013)", "GUIDELINE"), ("O\u2019Brien and colleagues (2010)", "GUIDELINE"),
        ("Norco", "DRUG"), ("Soma", "DRUG")]


@pytest.mark.parametrize("text, citation", [
    # a reference in full: authors by surname and initials, title, journal, year with volume and issue
    ("Decision based on Non-MTUS Citation Lindqvist PA, Okafor RN, Baumer JS. Opioid dose escalation and delayed "
     "recovery after work-related low back injury. J Occup Environ Med. 2013;55(4). Decision rationale: ...",
     "Lindqvist PA, Okafor RN, Baumer JS. Opioid dose escalation and delayed recovery after work-related low back "
     "injury. J Occup Environ Med. 2013;55(4)"),
    ("1. Karjalainen K, van Tulder M, et al. Multidisciplinary rehabilitation for neck pain. Cochrane Database "
     "Syst Rev 2003. 2. The",
     "Karjalainen K, van Tulder M, et al. Multidisciplinary rehabilitation for neck pain. Cochrane Database Syst Rev 2003"),
    ("Hallorann DE, Reyes CM. Return to work after functional restoration. Spine (Phila Pa 1976). 2011;36(22):1-9.",
     "Hallorann DE, Reyes CM. Return to work after functional restoration. Spine (Phila Pa 1976). 2011;36(22):1-9"),
    # a physician's name and degree before a report's title and a date is no reference
    ("Reviewed: Smith MD, Jones DO. Progress report of the lumbar spine. Primary Treating Physician 2015-03-02.", None),
])
def test_article_citations_take_a_reference_in_full(text, citation):
    from nlp.ner.components import ArticleCitations
    from nlp.ner.patterns import article_citation

    doc = ArticleCitations(article_citation())(blank_pipeline()(text))
    assert [e.text for e in doc.ents] == ([citation] if citation else [])


def test_a_reference_in_full_takes_the_drugs_of_its_title_and_ends_a_citation_run_into_it():
    from nlp.ner.components import ArticleCitations
    from nlp.ner.patterns import article_citation

    text = ("Decision based on ODG Pain, Anticonvulsants; Vance R, Iqbal S. Gabapentin for cervical "
            "radiculopathy: an open-label study. Pain Med. 2014;15(2). The rest.")
    doc = blank_pipeline()(text)
    run_in = "ODG Pain, Anticonvulsants; Vance"
    doc.ents = [doc.char_span(text.index(run_in), text.index(run_in) + len(run_in), "GUIDELINE"),
                doc.char_span(text.index("Gabapentin"), text.index("Gabapentin") + 10, "DRUG")]
    doc = ArticleCitations(article_citation())(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("ODG Pain, Anticonvulsants", "GUIDELINE"),
        ("Vance R, Iqbal S. Gabapentin for cervical radiculopathy: an open-label study. Pain Med. 2014;15(2)", "GUIDELINE")]


@pytest.mark.parametrize("text, drugs, expected", [
    # a slash combination without doses is one DRUG (SPEC section 2), however many parts
    ("a ketamine/gabapentin/clonidine cream", ["ketamine", "gabapentin", "clonidine"], ["ketamine/gabapentin/clonidine"]),
    ("flurbiprofen/cyclobenzaprine/menthol cream", ["flurbiprofen/cyclobenzaprine", "menthol"],
     ["flurbiprofen/cyclobenzaprine/menthol"]),
    # with doses in between, or a spaced slash, they stay two
    ("flurbiprofen 20%/cyclobenzaprine 10%", ["flurbiprofen", "cyclobenzaprine"], ["flurbiprofen", "cyclobenzaprine"]),
    ("baclofen / tizanidine", ["baclofen", "tizanidine"], ["baclofen", "tizanidine"]),
])
def test_drug_combinations_join_drugs_of_a_bare_slash(text, drugs, expected):
    from nlp.ner.components import DrugCombinations

    doc = blank_pipeline()(text)
    doc.ents = [doc.char_span(text.index(d), text.index(d) + len(d), "DRUG") for d in drugs]
    doc = DrugCombinations()(doc)
    assert [e.text for e in doc.ents] == expected
    from nlp.normalizers import normalize_drug

    assert normalize_drug(doc.ents[0].text) is not None


@pytest.mark.parametrize("text, citations", [
    ("Per the AUA guideline, it is first-line.", ["AUA guideline"]),
    ("The APA practice guideline and EAU guidelines agree.", ["APA practice guideline", "EAU guidelines"]),
    ("The CBT guidelines handout; MAXIMUS guideline: none; a guideline.", []),  # initials that name no guideline
    ("As written, the request for EMDR exceeds guideline recommendations.", []),  # a treatment's initials
    ("Guidelines vary.", []),
    # joint guidelines, their year and a topic word
    ("Per the 2017 ACC/AHA guideline and the VA/DoD guideline.", ["2017 ACC/AHA guideline", "VA/DoD guideline"]),
    ("The 2013 AHA/ACC/TOS obesity guideline applies.", ["2013 AHA/ACC/TOS obesity guideline"]),
    ("The AUA/SUFU guideline; the CBT/PT guideline.", ["AUA/SUFU guideline"]),
    ("Per the ASAM National Practice Guideline; the ODG CBT guidelines; the MTUS chronic pain guideline.",
     ["ASAM National Practice Guideline"]),
    # no stop word between the initials and the head: a sentence, not a name
    ("Only in severe depression or PTSD do the guidelines allow up to 50 sessions.", []),
])
def test_guideline_initials_cites_a_societys_guideline(text, citations):
    from nlp.ner.components import GuidelineInitials
    from nlp.ner.patterns import guideline_initials

    doc = GuidelineInitials(**guideline_initials())(blank_pipeline()(text))
    assert [e.text for e in doc.ents if e.label_ == "GUIDELINE"] == citations


def test_cache_priming_tokenizer_saves_and_loads_its_rules(tmp_path):
    nlp = blank_pipeline()
    nlp.tokenizer.add_special_case("Q-tip", [{"ORTH": "Q-tip"}])
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert type(loaded.tokenizer).__name__ == "CachePrimingTokenizer"
    assert [t.text for t in loaded("Q-tip\nPT 2x6\n")] == ["Q-tip", "\n", "PT", "2", "x", "6", "\n"]


def test_a_drug_used_off_label_cites_no_label():
    """"Methotrexate is used off label": no citation of a label; "the Lyrica prescribing information" is one."""
    from nlp.ner.components import ArticleCitations
    from nlp.ner.patterns import article_citation, drug_label_citation

    text = "Methotrexate is used off label for hand eczema. Per the Lyrica prescribing information, it is fine."
    doc = blank_pipeline()(text)
    doc.ents = [doc.char_span(text.index(d), text.index(d) + len(d), "DRUG") for d in ("Methotrexate", "Lyrica")]
    doc = ArticleCitations(article_citation(), **drug_label_citation())(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("Methotrexate", "DRUG"),
                                                     ("Lyrica prescribing information", "GUIDELINE")]
