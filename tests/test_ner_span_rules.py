"""SPEC section 2 span rules that real letters need (issue 15): the count grammar, one GUIDELINE
per cited document with drug topics inside citations, and ordinary words that are no drug."""
import functools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.ner.components import CitationDocuments, CountShaper, EntityFilter
from nlp.ner.patterns import citation_documents, count_grammar, ordinary_words
from nlp.ner.tokenizer import blank_pipeline
from nlp.normalizers import normalize_count, normalize_drug, normalize_guideline


@functools.lru_cache(maxsize=1)
def _nlp():
    nlp = blank_pipeline()
    nlp.add_pipe("imr_sections")
    return nlp


@functools.lru_cache(maxsize=1)
def _shaper():
    return CountShaper(**count_grammar())


def _doc(text: str, spans: list[tuple[str, str]]):
    """`text` with entities at the first occurrence of each (span text, label)."""
    doc = _nlp()(text)
    ents = []
    for span, label in spans:
        start = text.index(span)
        ents.append(doc.char_span(start, start + len(span), label, alignment_mode="expand"))
    doc.ents = ents
    return doc


def _shaped(text: str, model_span: str) -> list[str]:
    return [e.text for e in _shaper()(_doc(text, [(model_span, "SESSION_COUNT")])).ents]


# --- the count grammar: the model says whether, the grammar says where -------------------------

@pytest.mark.parametrize("text, model_span, expected", [
    # a range the model cut short
    ("She was approved for 1 to 2 visits with a wound care nurse.", "2 visits", ["1 to 2 visits"]),
    ("A Two to three week trial of Acute Rehabilitation Unit.", "three week", ["Two to three week"]),
    # a course that runs on into the next clause stops at its duration
    ("Therapy two times a week for four weeks, and treatment may be extended only if improved.",
     "two times a week for four weeks, and treatment", ["two times a week for four weeks"]),
    # a course the model cut at the frequency gets its duration
    ("Therapy 1-2 times per week for 3 weeks is recommended.", "1-2 times per week", ["1-2 times per week for 3 weeks"]),
    # the parenthesized total belongs to the count; a number word inside is the count's own
    ("Additional physical therapy two times four visits (8) for the lumbar spine.", "two times four visits",
     ["two times four visits (8)"]),
    ("She has completed at least five (5) physical therapy sessions.", "five (5) physical", ["five (5) physical therapy sessions"]),
    ("The patient had a trial of four sessions.", "a trial of four sessions", ["four sessions"]),
    ("Then 6 visits over 6 weeks are allowed.", "6 visits", ["6 visits over 6 weeks"]),
    ("She attended therapy twice weekly for eight weeks last year.", "eight weeks", ["twice weekly for eight weeks"]),
    ("A total up to 18 visits, over 6-8 weeks, may be appropriate.", "18 visits", ["18 visits, over 6-8 weeks"]),
    # a course's total restated in parentheses, with or without its unit
    ("Therapy 2 times a week for 6 weeks (12 sessions) was requested.", "2 times a week for 6 weeks",
     ["2 times a week for 6 weeks (12 sessions)"]),
    ("Therapy 2 times a week for 6 weeks (12 sessions) was requested.", "12 sessions",
     ["2 times a week for 6 weeks (12 sessions)"]),
    # a year is no count
    ("She was seen at the December 2016 visit.", "2016 visit", []),
    ("She was seen at the 01-20-2016 visit.", "20-2016 visit", []),
    ("Request for physical therapy 2x6. Medication.", "2x6", ["2x6"]),
    ("Massage therapy times 8 for the neck.", "times 8", ["times 8"]),
    ("She asked for massage therapy times 8.", "times 8", ["times 8"]),
    ("Physical therapy x 18 visits was requested.", "x 18 visits", ["18 visits"]),
    ("Group psychotherapy 1x week x 12 weeks is not medically necessary.", "12 weeks", ["1x week x 12 weeks"]),
    # no count: a frequency alone, a dosing frequency, a pain scale, a date
    ("Therapy three times per week, and treatment may be extended.", "three times per week", []),
    ("Tramadol 50 mg three times a day was prescribed.", "three times a day", []),
    ("Therapy three visits per week is recommended.", "three visits", []),
    ("Then 3 visits per week for 2 weeks.", "3 visits", ["3 visits per week for 2 weeks"]),
    ("Pain ranged from 6-8 out of 10.", "6-8", []),
    ("The utilization review (1-3-17) non-certified the request.", "1-3-17) non-certified the", []),
    # a span with no count form that runs on into a documents list is no count
    ("Utilization review (3 pages) Request for authorization dated 09/24/2015 Psychological treatment notes, "
     "06/2015.", "3 pages) Request for authorization dated 09/24/2015 Psychological treatment notes,", []),
    # hours and days are no count; a frequency alone is none even without "times"
    ("Home health nursing 2 hours per day x 14 days is not medically necessary.", "x 14", []),
    ("Panic attacks fell to about twice a week.", "a week", []),
    ("Nightmares decreased to about once a week.", "a week", []),
    ("His Pain Disability Index was 58 versus 55.", "58 versus 55", []),
    ("The notes from those visits are missing.", "those visits", []),
    ("Requests: 3) psychiatric follow-up visits.", "3) psychiatric follow-up visits", []),
    ("An 8 x 5 cm area failed to take.", "8 x 5", []),
    # a procedure code is no frequency: its quantity is the count; a drug's packs are none
    ("Therapeutic exercise 97110 x 12 was requested.", "97110 x 12", ["x 12"]),
    ("Voltaren 1% gel 100gm x 3 is not medically necessary.", "x 3", []),
    ("She was given Voltaren gel, 100 gram tubes x 3.", "x 3", []),
    ("Functional restoration program, 5 days a week for 4 weeks: Upheld", "4 weeks", []),
    # how often a symptom comes is no course
    ("She has 3 to 4 severe attacks a month that force her to lie down.", "a month", []),
    ("It needs at least 15 headache days a month for more than 3 months.", "a month", []),
])
def test_count_shaper_gives_counts_the_extent_of_the_grammar(text, model_span, expected):
    assert _shaped(text, model_span) == expected


def test_the_grammar_is_the_same_in_every_process():
    """The pipeline's config holds the filled grammar: it may not depend on string hashing, or a
    reassembled pipeline (and the bundle's digest) would differ from run to run."""
    import os
    import subprocess
    import sys

    code = "import json; from nlp.ner.patterns import count_grammar; print(json.dumps(count_grammar()))"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1


def test_count_shaper_never_swallows_another_label():
    doc = _doc("Norco 2 times a week for 4 weeks.", [("Norco", "DRUG"), ("4 weeks", "SESSION_COUNT")])
    out = _shaper()(doc)
    assert [(e.text, e.label_) for e in out.ents] == [("Norco", "DRUG"), ("2 times a week for 4 weeks", "SESSION_COUNT")]
    doc = _doc("Per MTUS 2004 guidelines 6 visits.", [("MTUS 2004 guidelines", "GUIDELINE"), ("6 visits", "SESSION_COUNT")])
    assert [e.text for e in _shaper()(doc).ents] == ["MTUS 2004 guidelines", "6 visits"]


NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "eight", "ten", "twelve"]
_number = st.one_of(st.integers(1, 12).map(str), st.sampled_from(NUMBER_WORDS))
_clause = st.sampled_from([", and treatment may be extended", " to the lumbar spine", ". The patient improved",
                           "; the request is not supported", " with a home exercise program"])


@settings(max_examples=150, deadline=None)
@given(freq=_number, dur=_number, per=st.sampled_from(["a week", "per week", "each week"]),
       join=st.sampled_from(["for", "over", "x"]), unit=st.sampled_from(["weeks", "week"]),
       cut=st.sampled_from(["frequency", "duration", "runaway"]), clause=_clause)
def test_frequency_times_duration_is_one_span_that_ends_at_its_duration(freq, dur, per, join, unit, cut, clause):
    course = f"{freq} times {per} {join} {dur} {unit}"
    text = f"Physical therapy {course}{clause}."
    model_span = {"frequency": f"{freq} times {per}", "duration": f"{dur} {unit}",
                  "runaway": course + clause}[cut]
    if cut == "duration" and text.index(model_span) != text.index(course) + len(course) - len(model_span):
        model_span = course  # the duration's text also occurs earlier: let the model span the course
    assert _shaped(text, model_span) == [course]
    norm = normalize_count(course)
    value = {w: i for i, w in enumerate(["zero"] + NUMBER_WORDS[:6], 0)} | {"eight": 8, "ten": 10, "twelve": 12}
    f, d = (int(x) if x.isdigit() else value[x] for x in (freq, dur))
    assert (norm["min"], norm["max"], norm["over"]["min"]) == (f * d, f * d, d)


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.sampled_from(["the", "visits", "and", "6", "two", "times", "a", "week", "for", "-", "to",
                                       "(8)", "sessions", ",", ".", "weeks", "months", "x", "daily", "pain", "QTY:"]),
                      min_size=1, max_size=14),
       start=st.integers(0, 13), length=st.integers(1, 5))
def test_a_shaped_count_is_the_model_span_or_one_whole_form_of_the_grammar(words, start, length):
    import re

    text = " ".join(words)
    doc = _nlp()(text)
    start = min(start, len(doc) - 1)
    from spacy.tokens import Span

    before = Span(doc, start, min(len(doc), start + length), label="SESSION_COUNT")
    doc.ents = [before]
    grammar = count_grammar()
    (b0, b1), forms = (before.start_char, before.end_char), [re.compile(p, re.I) for p in grammar["counts"]]
    sure = [re.compile(p, re.I) for p in grammar["sure_counts"]]
    out = list(_shaper()(doc).ents)
    # besides what becomes of the model's span, only a sure form the model missed may be added
    added = [e for e in out if not (e.start_char < b1 and b0 < e.end_char)]
    assert all(any(m.span() == (e.start_char, e.end_char) for f in sure for m in f.finditer(text)) for e in added)
    shaped = [e for e in out if e not in added]
    assert len(shaped) <= 1
    for e in shaped:
        assert (e.start_char, e.end_char) == (b0, b1) or any(f.fullmatch(e.text) for f in forms + sure)


# --- one GUIDELINE per cited document; a drug topic is inside its citation ----------------------

@functools.lru_cache(maxsize=1)
def _documents():
    return CitationDocuments(**citation_documents())


@pytest.mark.parametrize("sentence, span, expected", [
    ("The California MTUS and ACOEM Guidelines do not address it.", "California MTUS and ACOEM Guidelines",
     ["California MTUS", "ACOEM Guidelines"]),
    ("Decision based on MTUS Neck and Upper Back Complaints 2004, Section(s): Initial Care, and Shoulder "
     "Complaints 2004, Section(s): Initial Care.",
     "MTUS Neck and Upper Back Complaints 2004, Section(s): Initial Care, and Shoulder Complaints 2004, Section(s): Initial Care",
     ["MTUS Neck and Upper Back Complaints 2004, Section(s): Initial Care",
      "Shoulder Complaints 2004, Section(s): Initial Care"]),
    # the elbow chapter by the title of its 2007 revision is an MTUS document too
    ("Decision based on MTUS ACOEM Neck and Upper Back Complaints 2004, Section(s): Special Studies, and Elbow "
     "Disorders 2007, Section(s): Ulnar Nerve Entrapment.",
     "MTUS ACOEM Neck and Upper Back Complaints 2004, Section(s): Special Studies, and Elbow Disorders 2007, Section(s): "
     "Ulnar Nerve Entrapment",
     ["MTUS ACOEM Neck and Upper Back Complaints 2004, Section(s): Special Studies",
      "Elbow Disorders 2007, Section(s): Ulnar Nerve Entrapment"]),
    ("Per MTUS ACOEM Forearm, Wrist, and Hand Complaints, page(s) 270.",
     "MTUS ACOEM Forearm, Wrist, and Hand Complaints, page(s) 270", ["MTUS ACOEM Forearm, Wrist, and Hand Complaints, page(s) 270"]),
    # with the edition's year on the left and pages on the right, still one chapter's name
    ("Decision based on MTUS ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 11, Forearm, Wrist, and Hand "
     "Complaints, pages 260-262.", "MTUS ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 11, Forearm, Wrist, "
     "and Hand Complaints, pages 260-262", ["MTUS ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 11, Forearm, "
                                            "Wrist, and Hand Complaints, pages 260-262"]),
    ("The MTUS/ACOEM guidelines apply.", "MTUS/ACOEM guidelines", ["MTUS/ACOEM guidelines"]),
    # a further topic of the same document with its own pages is part of its citation, after "and"
    # or ";", and so is a page list ("pages 78-80 and page 82"); a named source starts another
    ("He relied on the Chronic Pain Medical Treatment Guidelines, Topical Analgesics, pages 111-113 and Lidoderm "
     "(lidocaine patch), pages 56-57.",
     "Chronic Pain Medical Treatment Guidelines, Topical Analgesics, pages 111-113 and Lidoderm (lidocaine patch), "
     "pages 56-57", ["Chronic Pain Medical Treatment Guidelines, Topical Analgesics, pages 111-113 and Lidoderm "
                     "(lidocaine patch), pages 56-57"]),
    ("Decision based on MTUS Chronic Pain Treatment Guidelines Opioids, ongoing management Page(s): 78; Weaning of "
     "Medications Page(s): 124.",
     "MTUS Chronic Pain Treatment Guidelines Opioids, ongoing management Page(s): 78; Weaning of Medications "
     "Page(s): 124", ["MTUS Chronic Pain Treatment Guidelines Opioids, ongoing management Page(s): 78; Weaning of "
                      "Medications Page(s): 124"]),
    ("Per the MTUS Chronic Pain Medical Treatment Guidelines, pages 78-80 and page 82.",
     "MTUS Chronic Pain Medical Treatment Guidelines, pages 78-80 and page 82",
     ["MTUS Chronic Pain Medical Treatment Guidelines, pages 78-80 and page 82"]),
    ("... the ACOEM Guidelines, Chapter 12, page 299 and on the Chronic Pain Medical Treatment Guidelines, "
     "Manual therapy & manipulation, pages 58-59.",
     "ACOEM Guidelines, Chapter 12, page 299 and on the Chronic Pain Medical Treatment Guidelines, Manual therapy & "
     "manipulation, pages 58-59", ["ACOEM Guidelines, Chapter 12, page 299",
                                   "Chronic Pain Medical Treatment Guidelines, Manual therapy & manipulation, pages 58-59"]),
    # ", on the" before a source's name: another document ("... Page 23, on the Official Disability ...")
    ("He based it on the MTUS Chronic Pain Medical Treatment Guidelines, Behavioral interventions, Page 23, on the "
     "Official Disability Guidelines (ODG), Mental Illness & Stress Chapter.",
     "MTUS Chronic Pain Medical Treatment Guidelines, Behavioral interventions, Page 23, on the Official Disability "
     "Guidelines (ODG), Mental Illness & Stress Chapter",
     ["MTUS Chronic Pain Medical Treatment Guidelines, Behavioral interventions, Page 23",
      "Official Disability Guidelines (ODG), Mental Illness & Stress Chapter"]),
    # ", the ODG ...", " and the Washington State ..." and "; Federation of State Medical Boards, ..." start other documents
    ("Decision based on MTUS ACOEM Knee Complaints, Chapter 13, page 338, the ODG Knee & Leg, Continuous-flow cryotherapy.",
     "MTUS ACOEM Knee Complaints, Chapter 13, page 338, the ODG Knee & Leg, Continuous-flow cryotherapy",
     ["MTUS ACOEM Knee Complaints, Chapter 13, page 338", "ODG Knee & Leg, Continuous-flow cryotherapy"]),
    ("Decision based on ODG Pain (Chronic), Opioids for chronic pain and the Washington State Agency Medical Directors' "
     "Group (AMDG) Interagency Guideline on Opioid Dosing for Chronic Non-cancer Pain, 2010 update.",
     "ODG Pain (Chronic), Opioids for chronic pain and the Washington State Agency Medical Directors' Group (AMDG) "
     "Interagency Guideline on Opioid Dosing for Chronic Non-cancer Pain, 2010 update",
     ["ODG Pain (Chronic), Opioids for chronic pain", "Washington State Agency Medical Directors' Group (AMDG) "
      "Interagency Guideline on Opioid Dosing for Chronic Non-cancer Pain, 2010 update"]),
    ("Decision based on ODG Pain (Chronic), Office visits; Federation of State Medical Boards, Model Policy on the Use "
     "of Opioid Analgesics in the Treatment of Chronic Pain (2013).",
     "ODG Pain (Chronic), Office visits; Federation of State Medical Boards, Model Policy on the Use of Opioid Analgesics "
     "in the Treatment of Chronic Pain (2013)",
     ["ODG Pain (Chronic), Office visits", "Federation of State Medical Boards, Model Policy on the Use of Opioid "
      "Analgesics in the Treatment of Chronic Pain (2013)"]),
    ("Decision based on Aetna Clinical Policy Bulletin: Weight Reduction Medications and Programs, Number 0039, and the "
     "National Institutes of Health (NIH) Practical Guide, 2000.",
     "Aetna Clinical Policy Bulletin: Weight Reduction Medications and Programs, Number 0039, and the National "
     "Institutes of Health (NIH) Practical Guide, 2000",
     ["Aetna Clinical Policy Bulletin: Weight Reduction Medications and Programs, Number 0039",
      "National Institutes of Health (NIH) Practical Guide, 2000"]),
    # after ";" a source's name starts another document, whatever the one before it
    ("Decision based on The diagnosis and management of acute and chronic urticaria: 2014 update; MTUS Chronic Pain "
     "Medical Treatment Guidelines, page 60.", "The diagnosis and management of acute and chronic urticaria: 2014 "
     "update; MTUS Chronic Pain Medical Treatment Guidelines, page 60",
     ["The diagnosis and management of acute and chronic urticaria: 2014 update",
      "MTUS Chronic Pain Medical Treatment Guidelines, page 60"]),
    # a sentence's verb ends the citation a field's lead-in runs on ("Citation(s): MTUS is silent.")
    ("Decision based on MTUS is silent. ODG Pain, Zolpidem.", "MTUS is silent", ["MTUS"]),
    # ... or the paragraph break before that verb, when the field's list ran on into the rationale
    ("Decision based on MTUS Chronic Pain Medical Treatment Guidelines, Page(s): 30-34\n\nThe program is supported "
     "when its criteria are met.", "MTUS Chronic Pain Medical Treatment Guidelines, Page(s): 30-34\n\nThe program is "
     "supported when its criteria are met", ["MTUS Chronic Pain Medical Treatment Guidelines, Page(s): 30-34"]),
    # "and" between two section titles of one document, after its Section(s): one citation
    ("Decision based on MTUS Opioid Treatment 2016, Section(s): Opioids for Chronic Pain and Chronic Opioid "
     "Treatment: Overview.", "MTUS Opioid Treatment 2016, Section(s): Opioids for Chronic Pain and Chronic Opioid "
     "Treatment: Overview", ["MTUS Opioid Treatment 2016, Section(s): Opioids for Chronic Pain and Chronic Opioid "
                              "Treatment: Overview"]),
])
def test_one_guideline_per_cited_document(sentence, span, expected):
    doc = _documents()(_doc(sentence, [(span, "GUIDELINE")]))
    assert [(e.text, e.label_) for e in doc.ents] == [(x, "GUIDELINE") for x in expected]


@pytest.mark.parametrize("sentence, spans, expected", [
    # a document named with its year, split by the model at the year
    ("Per the California MTUS 2016 Chronic Pain Guidelines, it is not indicated.",
     ["California MTUS", "Chronic Pain Guidelines"], ["California MTUS 2016 Chronic Pain Guidelines"]),
    # two documents side by side stay two: the right one starts with a source
    ("Both MTUS 2016 ODG Pain Chapter apply.", ["MTUS", "ODG Pain Chapter"], ["MTUS", "ODG Pain Chapter"]),
    # more than a year between them: two
    ("The MTUS and in 2016 Chronic Pain Guidelines apply.", ["MTUS", "Chronic Pain Guidelines"],
     ["MTUS", "Chronic Pain Guidelines"]),
    # a chapter number and its title after a comma: one chapter (written letters)
    ("on the ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12, Low Back Complaints, page 299 and",
     ["ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12", "Low Back Complaints, page 299"],
     ["ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12, Low Back Complaints, page 299"]),
    ("Per ACOEM Chapter 12, ODG Low Back applies.", ["ACOEM Chapter 12", "ODG Low Back"],
     ["ACOEM Chapter 12", "ODG Low Back"]),
    ("on the ACOEM Practice Guidelines, 2nd Edition (2004), Low Back Complaints, Chapter 12, pages 303-304.",
     ["ACOEM Practice Guidelines, 2nd Edition (2004)", "Low Back Complaints, Chapter 12, pages 303-304"],
     ["ACOEM Practice Guidelines, 2nd Edition (2004), Low Back Complaints, Chapter 12, pages 303-304"]),
])
def test_a_document_split_at_its_year_is_one_citation(sentence, spans, expected):
    doc = _documents()(_doc(sentence, [(s, "GUIDELINE") for s in spans]))
    assert [e.text for e in doc.ents] == expected


@pytest.mark.parametrize("sentence, span, expected", [
    # two ODG chapters in one list are two citations (real letters)
    ("Decision based on Official Disability Guidelines (ODG), Neck and Upper Back, Low Back.",
     "Official Disability Guidelines (ODG), Neck and Upper Back, Low Back",
     ["Official Disability Guidelines (ODG), Neck and Upper Back", "Low Back"]),
    ("Per the Official Disability Guidelines, Neck and Upper Back Chapter, Shoulder Chapter, Physical therapy.",
     "Official Disability Guidelines, Neck and Upper Back Chapter, Shoulder Chapter, Physical therapy",
     ["Official Disability Guidelines, Neck and Upper Back Chapter", "Shoulder Chapter, Physical therapy"]),
    # ... after "and", with or without a comma, when the chapter's name is capitalized
    ("Per ODG, Pain (Chronic), Insomnia treatment and Mental Illness & Stress, Eszopiclone (Lunesta).",
     "ODG, Pain (Chronic), Insomnia treatment and Mental Illness & Stress, Eszopiclone (Lunesta)",
     ["ODG, Pain (Chronic), Insomnia treatment", "Mental Illness & Stress, Eszopiclone (Lunesta)"]),
    ("Per ODG Pain (Chronic), Insomnia treatment, and Mental Illness & Stress, Zolpidem.",
     "ODG Pain (Chronic), Insomnia treatment, and Mental Illness & Stress, Zolpidem",
     ["ODG Pain (Chronic), Insomnia treatment", "Mental Illness & Stress, Zolpidem"]),
    ("Per Official Disability Guidelines (ODG) Low Back and neck Chapter, Physical Therapy.",
     "Official Disability Guidelines (ODG) Low Back and neck Chapter, Physical Therapy",
     ["Official Disability Guidelines (ODG) Low Back and neck Chapter, Physical Therapy"]),
    ("Per ODG Forearm, Wrist and Hand, Splints.", "ODG Forearm, Wrist and Hand, Splints",
     ["ODG Forearm, Wrist and Hand, Splints"]),
    # a topic of the same chapter, or one that only begins like a chapter's name, stays
    ("Per ODG Low Back Chapter, Lumbar supports.", "ODG Low Back Chapter, Lumbar supports",
     ["ODG Low Back Chapter, Lumbar supports"]),
    ("Per ODG Pain (Chronic), Neck pain treatment.", "ODG Pain (Chronic), Neck pain treatment",
     ["ODG Pain (Chronic), Neck pain treatment"]),
])
def test_another_odg_chapter_in_a_list_is_another_citation(sentence, span, expected):
    doc = _documents()(_doc(sentence, [(span, "GUIDELINE")]))
    assert [e.text for e in doc.ents] == expected


def test_a_guideline_in_a_document_is_one_citation():
    sentence = "He cited the MTUS guideline in ACOEM Chapter 11, page 261 for it."
    doc = _documents()(_doc(sentence, [("MTUS guideline", "GUIDELINE"), ("ACOEM Chapter 11, page 261", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["MTUS guideline in ACOEM Chapter 11, page 261"]
    # the ACOEM's guidelines and the MTUS that adopted them: two citations, as independent writers annotate them
    sentence = "Per the ACOEM guidelines adopted by the MTUS, imaging is not indicated."
    doc = _documents()(_doc(sentence, [("ACOEM guidelines", "GUIDELINE"), ("MTUS", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["ACOEM guidelines", "MTUS"]
    sentence = "The MTUS and ACOEM Chapter 11 apply."  # two documents side by side stay two
    doc = _documents()(_doc(sentence, [("MTUS", "GUIDELINE"), ("ACOEM Chapter 11", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["MTUS", "ACOEM Chapter 11"]


def test_a_citation_listed_after_another_without_a_source_cites_the_same_source():
    from nlp.ner.components import EntityNormalizer

    text = ("Decision based on Official Disability Guidelines (ODG), Neck and Upper Back; Low Back. "
            "The UpToDate topics; Low Back.")
    doc = _doc(text, [("Official Disability Guidelines (ODG), Neck and Upper Back", "GUIDELINE"),
                      ("Low Back", "GUIDELINE"), ("UpToDate", "GUIDELINE")])
    last = text.rindex("Low Back")
    doc.ents = list(doc.ents) + [doc.char_span(last, last + len("Low Back"), "GUIDELINE")]
    norms = [(e.text, e._.norm["source"], e._.norm["document"]) for e in EntityNormalizer()(doc).ents]
    assert norms == [("Official Disability Guidelines (ODG), Neck and Upper Back", "ODG", "neck_upper_back"),
                     ("Low Back", "ODG", "low_back"), ("UpToDate", "OTHER", None),
                     ("Low Back", "OTHER", None)]  # after "topics;", not right after a named source
    # a society's own guideline listed after another citation names its source: not that one's topic
    text = ("Decision based on the MTUS Chronic Pain Guidelines, page 23, and on the American Psychiatric Association "
            "Practice Guideline.")
    doc = _doc(text, [("MTUS Chronic Pain Guidelines, page 23", "GUIDELINE"),
                      ("American Psychiatric Association Practice Guideline", "GUIDELINE")])
    assert [e._.norm["source"] for e in EntityNormalizer()(doc).ents] == ["MTUS", "OTHER"]
    assert normalize_guideline("American Academy of Neurology, Evidence-based guideline")["source"] == "OTHER"


def test_fragments_of_a_known_guideline_name_are_one_citation():
    """A retrained model cut "California Medical Treatment Utilization Schedule (MTUS) Guidelines"
    in two; the entity ruler knows the whole name (its cores), so the fragments are joined. One
    fragment is the whole name too (the bundled model's "MTUS)" of "Medical Treatment Utilization
    Schedule (MTUS)" in written letters); a known name with another label inside is left alone."""
    from nlp.ner.components import CitationDocuments

    docs = CitationDocuments(**citation_documents(), vocab=_nlp().vocab)
    sentence = "Per the California Medical Treatment Utilization Schedule (MTUS) Guidelines, it is not indicated."
    doc = docs(_doc(sentence, [("California Medical Treatment Utilization Schedule", "GUIDELINE"),
                               ("MTUS) Guidelines", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["California Medical Treatment Utilization Schedule (MTUS) Guidelines"]
    doc = docs(_doc(sentence, [("California Medical Treatment Utilization Schedule", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["California Medical Treatment Utilization Schedule (MTUS) Guidelines"]
    doc = docs(_doc(sentence, [("California Medical Treatment Utilization Schedule", "GUIDELINE"), ("MTUS", "DRUG")]))
    assert [(e.text, e.label_) for e in doc.ents] == [("California Medical Treatment Utilization Schedule", "GUIDELINE"),
                                                      ("MTUS", "DRUG")]


def _letter(field: str) -> str:
    return ("IMR ISSUES, DECISIONS AND RATIONALES\n\nThe Final Determination was based on decisions for the "
            "disputed items/services set forth below:\n\nMeloxicam 7.5mg #30: Upheld\n\n"
            f"MAXIMUS guideline: {field}\n\nDecision rationale: The request is not medically necessary.\n")


@pytest.mark.parametrize("field, model_ents, expected", [
    # the model cut the citation at the drug the lexicon ruler had tagged
    ("Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), Pain Chapter, Meloxicam.",
     [("Official Disability Guidelines (ODG), Pain Chapter,", "GUIDELINE"), ("Meloxicam.", "DRUG")],
     ["Official Disability Guidelines (ODG), Pain Chapter, Meloxicam"]),
    ("Decision based on Non-MTUS Citation Sildenafil: Drug information, accessed from UpToDate.com on 12/17/2016.",
     [("Sildenafil", "DRUG"), ("UpToDate.com", "GUIDELINE")],
     ["Sildenafil: Drug information, accessed from UpToDate.com on 12/17/2016"]),
    ("Decision based on Non-MTUS Citation Official Disability Guidelines (ODG) Low Back Chapter, Epidural Steroid "
     "Injection (ESI) and Other Medical Treatment Guidelines www.mdguidelines.com.",
     [("Official Disability Guidelines (ODG) Low Back Chapter, Epidural Steroid Injection (ESI) and Other Medical "
       "Treatment Guidelines www.mdguidelines.com", "GUIDELINE")],
     ["Official Disability Guidelines (ODG) Low Back Chapter, Epidural Steroid Injection (ESI)", "www.mdguidelines.com"]),
    # "Other Medical Treatment Guideline or Medical Evidence:" leads in a further document, wrapped or not
    ("Decision based on MTUS/ACOEM Guidelines, Shoulder Complaints 2004, Section(s): Surgical Considerations, and "
     "Other Medical Treatment Guideline or \n\nMedical Evidence: Official Disability Guidelines (ODG), Shoulder "
     "Chapter, Surgery for rotator cuff repair.",
     [("MTUS/ACOEM Guidelines, Shoulder Complaints 2004", "GUIDELINE"),
      ("or \n\nMedical Evidence: Official Disability Guidelines (ODG), Shoulder Chapter", "GUIDELINE")],
     ["MTUS/ACOEM Guidelines, Shoulder Complaints 2004, Section(s): Surgical Considerations",
      "Official Disability Guidelines (ODG), Shoulder Chapter, Surgery for rotator cuff repair"]),
    # a colon after the lead-in, the sentence's period before a paragraph break: neither is the citation's
    ("Decision based on Non-MTUS Citation: Official Disability Guidelines (ODG), Ankle & Foot (Acute & Chronic), "
     "Surgery for hallux valgus.", [("Official Disability Guidelines (ODG), Ankle & Foot", "GUIDELINE")],
     ["Official Disability Guidelines (ODG), Ankle & Foot (Acute & Chronic), Surgery for hallux valgus"]),
    # an organization's guideline after ";" is another document
    ("Decision based on ODG Low Back, Preoperative testing, general; American College of Radiology ACR "
     "Appropriateness Criteria, routine chest radiography.",
     [("ODG Low Back, Preoperative testing, general; American College of Radiology", "GUIDELINE")],
     ["ODG Low Back, Preoperative testing, general",
      "American College of Radiology ACR Appropriateness Criteria, routine chest radiography"]),
    # a source that is no guideline, after one, is another document; "; and" before a lead-in
    ("Decision based on Non-MTUS Official Disability Guidelines (ODG) Pain (Chronic), Zolpidem (Ambien); FDA "
     "Prescribing Information, Ambien (zolpidem tartrate) tablets.",
     [("Official Disability Guidelines (ODG) Pain (Chronic)", "GUIDELINE"), ("Ambien", "DRUG")],
     ["Official Disability Guidelines (ODG) Pain (Chronic), Zolpidem (Ambien)",
      "FDA Prescribing Information, Ambien (zolpidem tartrate) tablets"]),
    ("Decision based on MTUS Chronic Pain Treatment Guidelines Behavioral interventions Page(s): 23; and Non-MTUS "
     "Official Disability Guidelines (ODG) Mental Illness & Stress, Cognitive therapy for anxiety.",
     [("MTUS Chronic Pain Treatment Guidelines", "GUIDELINE")],
     ["MTUS Chronic Pain Treatment Guidelines Behavioral interventions Page(s): 23",
      "Official Disability Guidelines (ODG) Mental Illness & Stress, Cognitive therapy for anxiety"]),
    # other writers' fields: the sentence after "Expert Reviewer:" or "The Expert Reviewer based ... on the" is
    # a citation list; one document's further paged topics stay in it; it ends before what the sentence says of it
    ("The Expert Reviewer based his/her decision on the Official Disability Guidelines (ODG), Pain Chapter, "
     "Lidoderm (lidocaine patch), which is not part of the MTUS.",
     [("Official Disability Guidelines (ODG), Pain Chapter", "GUIDELINE"), ("Lidoderm", "DRUG"), ("MTUS", "GUIDELINE")],
     ["Official Disability Guidelines (ODG), Pain Chapter, Lidoderm (lidocaine patch)", "MTUS"]),
    ("Expert Reviewer: MTUS Chronic Pain Medical Treatment Guidelines, Aquatic therapy, page 22; Physical medicine, "
     "pages 98-99, a guideline adopted by the state.",
     [("MTUS Chronic Pain Medical Treatment Guidelines, Aquatic therapy, page 22", "GUIDELINE")],
     ["MTUS Chronic Pain Medical Treatment Guidelines, Aquatic therapy, page 22; Physical medicine, pages 98-99"]),
    # the model's citation that runs on into what the sentence says of it gives way to the list
    ("The Claims Administrator based its decision on the Official Disability Guidelines (ODG), Pain Chapter, NSAIDs, "
     "a Medical Treatment Guideline (MTG) that is not part of the MTUS.",
     [("Official Disability Guidelines (ODG), Pain Chapter, NSAIDs, a Medical Treatment Guideline (MTG)", "GUIDELINE"),
      ("MTUS", "GUIDELINE")],
     ["Official Disability Guidelines (ODG), Pain Chapter, NSAIDs", "MTUS"]),
    # a comma before a source's name starts another document
    ("Decision based on MTUS Chronic Pain Medical Treatment Guidelines Antidepressants Page(s): 13-16, MTUS Chronic "
     "Pain Medical Treatment Guidelines Duloxetine (Cymbalta) Page(s): 43-44.",
     [("MTUS Chronic Pain Medical Treatment Guidelines Antidepressants Page(s): 13-16", "GUIDELINE")],
     ["MTUS Chronic Pain Medical Treatment Guidelines Antidepressants Page(s): 13-16",
      "MTUS Chronic Pain Medical Treatment Guidelines Duloxetine (Cymbalta) Page(s): 43-44"]),
    # a second list after ", and on the" (past what the sentence says of the first, or not); "non-MTUS" is
    # no part of a citation
    ("The Expert Reviewer based his/her decision on the Chronic Pain Medical Treatment Guidelines (2009), "
     "Buprenorphine for chronic pain, page 27, which is part of the MTUS, and on the Official Disability Guidelines "
     "(ODG), Pain Chapter, Buprenorphine for chronic pain, which is not part of the MTUS.",
     [("Chronic Pain Medical Treatment Guidelines (2009), Buprenorphine for chronic pain, page 27", "GUIDELINE"),
      ("MTUS", "GUIDELINE"), ("Official Disability Guidelines (ODG), Pain Chapter,", "GUIDELINE")],
     ["Chronic Pain Medical Treatment Guidelines (2009), Buprenorphine for chronic pain, page 27", "MTUS",
      "Official Disability Guidelines (ODG), Pain Chapter, Buprenorphine for chronic pain"]),
    ("The Expert Reviewer based his/her decision on the Official Disability Guidelines (ODG), Shoulder Chapter, Gym "
     "memberships, and on the Chronic Pain Medical Treatment Guidelines (2009), Exercise, pages 46-47.",
     [("Official Disability Guidelines (ODG), Shoulder Chapter, Gym memberships, and on the Chronic Pain Medical "
       "Treatment Guidelines (2009), Exercise, pages 46-47", "GUIDELINE")],
     ["Official Disability Guidelines (ODG), Shoulder Chapter, Gym memberships",
      "Chronic Pain Medical Treatment Guidelines (2009), Exercise, pages 46-47"]),
    ("The Expert Reviewer based his/her decision on the MTUS ACOEM Practice Guidelines, Low Back Complaints, pages "
     "303-304; and on the non-MTUS Official Disability Guidelines (ODG) Low Back, MRIs (magnetic resonance imaging).",
     [("MTUS ACOEM Practice Guidelines, Low Back Complaints, pages 303-304; and on the non-MTUS Official Disability "
       "Guidelines (ODG) Low Back, MRIs (magnetic resonance imaging)", "GUIDELINE")],
     ["MTUS ACOEM Practice Guidelines, Low Back Complaints, pages 303-304",
      "Official Disability Guidelines (ODG) Low Back, MRIs (magnetic resonance imaging)"]),
    # ... one the model ran over both lists is each list's
    ("The Expert Reviewer relied on the National Heart, Lung, and Blood Institute (NHLBI) Clinical Guidelines on "
     "Obesity in Adults, and on the Aetna Clinical Policy Bulletin: Weight Reduction Medications and Programs, "
     "neither of which is part of the MTUS.",
     [("National Heart, Lung, and Blood Institute (NHLBI) Clinical Guidelines on Obesity in Adults, and on the Aetna "
       "Clinical Policy Bulletin: Weight Reduction Medications and Programs", "GUIDELINE")],
     ["National Heart, Lung, and Blood Institute (NHLBI) Clinical Guidelines on Obesity in Adults",
      "Aetna Clinical Policy Bulletin: Weight Reduction Medications and Programs"]),
    # "also part of", "not part of": what the sentence says of the list
    ("The Expert Reviewer based his/her decision on the ACOEM, 2nd Edition (2004), Chapter 12, Low Back Complaints, "
     "page 309, also part of the MTUS.", [("ACOEM, 2nd Edition (2004), Chapter 12, Low Back Complaints, page 309, "
                                           "also", "GUIDELINE"), ("MTUS", "GUIDELINE")],
     ["ACOEM, 2nd Edition (2004), Chapter 12, Low Back Complaints, page 309", "MTUS"]),
    # ... on either side of it, the other a document too; a further topic of the same document stays in it
    ("Decision based on Non-MTUS Citation Campbell's Operative Orthopaedics, 12th edition, 2013, chapter 46; Official "
     "Disability Guidelines (ODG) Shoulder Chapter, Surgery for impingement syndrome.",
     [("Campbell's Operative Orthopaedics, 12th edition, 2013, chapter 46; Official Disability Guidelines (ODG) Shoulder "
       "Chapter, Surgery for impingement syndrome", "GUIDELINE")],
     ["Campbell's Operative Orthopaedics, 12th edition, 2013, chapter 46",
      "Official Disability Guidelines (ODG) Shoulder Chapter, Surgery for impingement syndrome"]),
    # the MTUS named alone before the ACOEM chapter it adopted: one citation (as "MTUS ACOEM Chapter 15")
    ("The Expert Reviewer based his/her decision on the Medical Treatment Utilization Schedule (MTUS), ACOEM Practice "
     "Guidelines, 2nd Edition (2004), Chapter 7, page 127.",
     [("Medical Treatment Utilization Schedule (MTUS), ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 7, "
       "page 127", "GUIDELINE")],
     ["Medical Treatment Utilization Schedule (MTUS), ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 7, "
      "page 127"]),
    # (the first document named without its source, a topic with "and" in it)
    ("The Expert Reviewer based his/her decision on the Chronic Pain Medical Treatment Guidelines (2009), Manual "
     "Therapy and Manipulation, pages 58-60, and the Official Disability Guidelines (ODG), Neck and Upper Back "
     "Chapter, Manipulation.",
     [("Chronic Pain Medical Treatment Guidelines (2009), Manual Therapy and Manipulation, pages 58-60", "GUIDELINE"),
      ("Official Disability Guidelines (ODG), Neck and Upper Back Chapter, Manipulation", "GUIDELINE")],
     ["Chronic Pain Medical Treatment Guidelines (2009), Manual Therapy and Manipulation, pages 58-60",
      "Official Disability Guidelines (ODG), Neck and Upper Back Chapter, Manipulation"]),
    # (a body's appropriate use criteria, a society's guideline for a topic)
    ("Decision based on Non-MTUS Citation Appropriate Use Criteria for Cardiac Radionuclide Imaging (2009); 2012 "
     "ACCF/AHA Guideline for the Diagnosis and Management of Patients With Stable Ischemic Heart Disease.",
     [("Appropriate Use Criteria for Cardiac Radionuclide Imaging (2009); 2012 ACCF/AHA Guideline for the Diagnosis "
       "and Management of Patients With Stable Ischemic Heart Disease", "GUIDELINE")],
     ["Appropriate Use Criteria for Cardiac Radionuclide Imaging (2009)",
      "2012 ACCF/AHA Guideline for the Diagnosis and Management of Patients With Stable Ischemic Heart Disease"]),
    ("Decision based on Non-MTUS Citation Official Disability Guidelines (ODG) Mental Illness & Stress, Cognitive "
     "therapy for PTSD; Psychotherapy Guidelines.",
     [("Official Disability Guidelines (ODG) Mental Illness & Stress, Cognitive therapy for PTSD; Psychotherapy "
       "Guidelines", "GUIDELINE")],
     ["Official Disability Guidelines (ODG) Mental Illness & Stress, Cognitive therapy for PTSD; Psychotherapy "
      "Guidelines"]),
    # "; and the Non-MTUS ..." starts another list; so does ", and Non-MTUS Citation ...", which is a
    # citation whatever the model found
    ("The Expert Reviewer based his/her decision on the MTUS Chronic Pain Medical Treatment Guidelines, Section(s): "
     "Benzodiazepines, Page(s): 24 ; and the Non-MTUS ODG Pain (Chronic), Insomnia treatment.",
     [("MTUS Chronic Pain Medical Treatment Guidelines, Section(s): Benzodiazepines, Page(s): 24 ; and the Non-MTUS ODG "
       "Pain (Chronic), Insomnia treatment", "GUIDELINE")],
     ["MTUS Chronic Pain Medical Treatment Guidelines, Section(s): Benzodiazepines, Page(s): 24",
      "ODG Pain (Chronic), Insomnia treatment"]),
    ("Decision based on MTUS Chronic Pain Medical Treatment Guidelines, Section(s): Benzodiazepines, and Non-MTUS "
     "Citation Department of Veterans Affairs and Department of Defense Clinical Practice Guideline for Management "
     "of Post-Traumatic Stress.",
     [("MTUS Chronic Pain Medical Treatment Guidelines, Section(s): Benzodiazepines", "GUIDELINE")],
     ["MTUS Chronic Pain Medical Treatment Guidelines, Section(s): Benzodiazepines",
      "Department of Veterans Affairs and Department of Defense Clinical Practice Guideline for Management of "
      "Post-Traumatic Stress"]),
    # a period before a number ends no sentence; an article's authors cut off by their initials are no citation
    ("The Expert Reviewer based his/her decision on the MTUS Chronic Pain Medical Treatment Guidelines Page(s): "
     "58-59, and on Non-MTUS Agency for Healthcare Research and Quality, Noninvasive Treatments for Low Back Pain, "
     "Comparative Effectiveness Review No. 169.",
     [("MTUS Chronic Pain Medical Treatment Guidelines Page(s): 58-59", "GUIDELINE")],
     ["MTUS Chronic Pain Medical Treatment Guidelines Page(s): 58-59",
      "Agency for Healthcare Research and Quality, Noninvasive Treatments for Low Back Pain, Comparative "
      "Effectiveness Review No. 169"]),
    ("Decision based on Non-MTUS Citation: Marlowe RT, Ostrand JK. Topical agents in musculoskeletal pain.", [], []),
    # a lead-in that opens a clause of the sentence
    ("The Expert Reviewer found that the MTUS does not address the requested medication, and based his/her decision "
     "on the Official Disability Guidelines (ODG), Mental Illness & Stress, Quetiapine (Seroquel), and Pain Chapter, "
     "Insomnia treatment.",
     [("MTUS", "GUIDELINE"), ("Official Disability Guidelines (ODG), Mental Illness & Stress", "GUIDELINE")],
     ["MTUS", "Official Disability Guidelines (ODG), Mental Illness & Stress, Quetiapine (Seroquel)",
      "Pain Chapter, Insomnia treatment"]),
    # after ";" a document of another kind is another citation
    ("Decision based on Non-MTUS Citation Official Disability Guidelines (ODG) Pain Chapter, Tapentadol (Nucynta); "
     "Nucynta ER (tapentadol) extended-release tablets, prescribing information, revised 12/2014.",
     [("Official Disability Guidelines (ODG) Pain Chapter, Tapentadol (Nucynta); Nucynta ER", "GUIDELINE")],
     ["Official Disability Guidelines (ODG) Pain Chapter, Tapentadol (Nucynta)",
      "Nucynta ER (tapentadol) extended-release tablets, prescribing information, revised 12/2014"]),
    # after "Non-MTUS Citation" the sentence is a citation even where the model found none; a drug there is its topic
    ("The Expert Reviewer based their decision on recommendation(s) outside of the MTUS Guidelines. Decision based on "
     "Non-MTUS Citation Sildenafil: Drug information, accessed from UpToDate.com on 12/17/2016.",
     [("Sildenafil", "DRUG")], ["Sildenafil: Drug information, accessed from UpToDate.com on 12/17/2016"]),
    # ... or what its user said of it
    ("The Claims Administrator relied on the ACOEM Practice Guidelines, Chapter 8, Neck and Upper Back Complaints, page "
     "174, and stated that acupuncture is not recommended for neck complaints.",
     [("ACOEM Practice Guidelines, Chapter 8, Neck and Upper Back Complaints, page 174, and stated", "GUIDELINE")],
     ["ACOEM Practice Guidelines, Chapter 8, Neck and Upper Back Complaints, page 174"]),
    # "The Claims Administrator's decision was based on:" leads in a list
    ("The Claims Administrator's decision was based on: ODG Knee & Leg Chapter, Hyaluronic acid injections.",
     [("ODG Knee & Leg Chapter", "GUIDELINE")], ["ODG Knee & Leg Chapter, Hyaluronic acid injections"]),
    # the periods of an initialism end no sentence
    ("Decision based on Chronic Pain Medical Treatment Guidelines 8 C.C.R. 9792.20 - 9792.26 MTUS (Effective July 18, "
     "2009) Page(s): 101, 105-107 of 127.", [("Chronic Pain Medical Treatment Guidelines 8", "GUIDELINE")],
     ["Chronic Pain Medical Treatment Guidelines 8 C.C.R. 9792.20 - 9792.26 MTUS (Effective July 18, 2009) Page(s): "
      "101, 105-107 of 127"]),
])
def test_a_citation_in_a_guideline_field_runs_to_its_sentence_end_and_holds_its_drug_topic(field, model_ents, expected):
    text = _letter(field)
    doc = _nlp()(text)
    start = text.index(field)
    ents = []
    for span, label in model_ents:
        s = text.index(span, start)
        ents.append(doc.char_span(s, s + len(span.rstrip(".")), label, alignment_mode="expand"))
    doc.ents = ents
    doc = _documents()(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [(x, "GUIDELINE") for x in expected]


def test_a_numbered_section_does_not_end_the_citation_sentence():
    field = ("Decision based on MTUS Opioid Treatment 2016, Section(s): 3. Opioids for Chronic Pain and Chronic "
             "Opioid Treatment: Overview of recommendations, 4.1 Tapering Opioids: Indications for Tapering Opioids.")
    text = _letter(field)
    doc = _nlp()(text)
    ents = []
    for span in ("MTUS Opioid Treatment 2016, Section(s): 3", "Chronic Opioid Treatment: Overview of recommendations"):
        s = text.index(span)
        ents.append(doc.char_span(s, s + len(span), "GUIDELINE", alignment_mode="expand"))
    doc.ents = ents
    assert [e.text for e in _documents()(doc).ents] == [field[len("Decision based on "):-1]]


def test_a_model_span_that_took_in_the_lead_in_is_the_citation_after_it():
    field = "Decision based on Non-MTUS Official Disability Guidelines (ODG), Pain Chapter, Meloxicam."
    text = _letter(field)
    doc = _nlp()(text)
    s = text.index("Non-MTUS Official")
    e = text.index(", Meloxicam")
    doc.ents = [doc.char_span(s, e, "GUIDELINE", alignment_mode="expand")]
    assert [x.text for x in _documents()(doc).ents] == ["Official Disability Guidelines (ODG), Pain Chapter, Meloxicam"]


def test_a_fields_first_sentence_that_opens_with_a_citation_is_a_citation_list():
    """"MTUS ACOEM Shoulder Complaints 2004, Section(s): Special Studies and Diagnostic and Treatment
    Considerations" after a field label is one citation; a first sentence of prose is left alone."""
    field = "MTUS ACOEM Shoulder Complaints 2004, Section(s): Special Studies and Diagnostic and Treatment Considerations."
    text = _letter(field).replace("MAXIMUS guideline: ", "Claims Administrator guideline: ")
    doc = _nlp()(text)
    span = "MTUS ACOEM Shoulder Complaints 2004, Section(s): Special Studies"
    doc.ents = [doc.char_span(text.index(span), text.index(span) + len(span), "GUIDELINE")]
    assert [e.text for e in _documents()(doc).ents] == [field[:-1]]
    prose = "The MTUS does not address the issue in dispute."
    text = _letter(prose)
    doc = _nlp()(text)
    doc.ents = [doc.char_span(text.index("MTUS"), text.index("MTUS") + 4, "GUIDELINE")]
    assert [e.text for e in _documents()(doc).ents] == ["MTUS"]


def test_a_citation_list_splits_first_where_a_source_is_named():
    """"A, Page(s): 86; B Page(s): 88-89; Official Disability Guidelines ..." is one MTUS citation with
    two topics and one ODG citation, not A and "B; ODG ..."."""
    cited = ("California MTUS 2016 Chronic Pain Guidelines, Opioids, dosing Page(s): 86; Opioids, long-term assessment "
             "Page(s): 88-89; Official Disability Guidelines (ODG) Pain (Chronic), Opioids, tapering")
    text = _letter(cited + ".")
    doc = _nlp()(text)
    doc.ents = [doc.char_span(text.index(cited), text.index(cited) + len(cited), "GUIDELINE")]
    assert [e.text for e in _documents()(doc).ents] == [
        "California MTUS 2016 Chronic Pain Guidelines, Opioids, dosing Page(s): 86; Opioids, long-term assessment "
        "Page(s): 88-89", "Official Disability Guidelines (ODG) Pain (Chronic), Opioids, tapering"]


@pytest.mark.parametrize("cited, expected", [
    ("ODG Knee & Leg, Skilled nursing facility (SNF) care; Medicare Benefit Policy Manual, Chapter 8",
     ["ODG Knee & Leg, Skilled nursing facility (SNF) care", "Medicare Benefit Policy Manual, Chapter 8"]),
    # CMS names a source as Medicare does
    ("Official Disability Guidelines (ODG), Knee & Leg (Acute & Chronic), Power mobility devices (PMDs) and CMS "
     "Medicare National Coverage Determination 280.3, Mobility Assistive Equipment",
     ["Official Disability Guidelines (ODG), Knee & Leg (Acute & Chronic), Power mobility devices (PMDs)",
      "CMS Medicare National Coverage Determination 280.3, Mobility Assistive Equipment"]),
])
def test_a_citation_list_splits_before_a_medicare_document(cited, expected):
    """Medicare's manuals and coverage determinations are cited as guidelines are: "ODG ..., Skilled nursing
    facility (SNF) care; Medicare Benefit Policy Manual, Chapter 8" is two citations."""
    text = _letter(cited + ".")
    doc = _nlp()(text)
    doc.ents = [doc.char_span(text.index(cited), text.index(cited) + len(cited), "GUIDELINE")]
    assert [e.text for e in _documents()(doc).ents] == expected


def test_a_lead_in_followed_by_other_words_than_a_citation_makes_no_citation_list():
    field = ("The Expert Reviewer based their decision on recommendation(s) outside of the MTUS Guidelines, "
             "Official Disability Guidelines (ODG), Pain.")
    text = _letter(field)
    doc = _nlp()(text)
    spans = ("MTUS Guidelines", "Official Disability Guidelines (ODG), Pain")
    doc.ents = [doc.char_span(text.index(x), text.index(x) + len(x), "GUIDELINE") for x in spans]
    assert [e.text for e in _documents()(doc).ents] == list(spans)


def test_no_guideline_in_a_field_sentence_means_no_citation():
    """... unless its lead-in says one follows ("Non-MTUS Citation", above)."""
    text = _letter("Decision based on Sildenafil: Drug information.")
    doc = _nlp()(text)
    s = text.index("Sildenafil")
    doc.ents = [doc.char_span(s, s + len("Sildenafil"), "DRUG")]
    assert [(e.text, e.label_) for e in _documents()(doc).ents] == [("Sildenafil", "DRUG")]


@pytest.mark.parametrize("field, citation", [
    ("Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), Pain Chapter, Meloxicam.",
     "Official Disability Guidelines (ODG), Pain Chapter, Meloxicam"),
    ("Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): Cyclobenzaprine (Flexeril).",
     "MTUS Chronic Pain Medical Treatment 2016, Section(s): Cyclobenzaprine (Flexeril)"),
])
def test_a_drug_inside_a_citation_is_never_a_drug_in_the_bundled_pipeline(field, citation):
    from nlp.ner.runtime import load_pipeline
    from models.bundle import DEFAULT_MODEL_DIR

    text = _letter(field)
    doc = load_pipeline(str(DEFAULT_MODEL_DIR / "ner"))(text)
    lo, hi = text.index(field), text.index(field) + len(field)
    in_field = [(e.text, e.label_) for e in doc.ents if lo <= e.start_char < hi]
    assert in_field == [(citation, "GUIDELINE")]


# --- a drug the lexicon does not know is no ordinary word --------------------------------------

@pytest.mark.parametrize("form, name", [
    ("Terocin lotion", "Terocin"), ("Lidoderm patch", "Lidoderm"), ("lidocaine 5% patch", "lidocaine"),
    ("ondansetron ODT", "ondansetron"), ("Medrol Dosepak", "Medrol"),
    ("Diclofenac ER", "Diclofenac ER"), ("Tiger Balm", "Tiger Balm"), ("Norco", "Norco"),
])
def test_drug_ruler_names_leave_dosage_forms_outside(form, name):
    from nlp.ner.patterns import drug_name

    assert drug_name(form) == name


@pytest.mark.parametrize("text, drugs", [
    ("She takes Venlafaxine HCl ER 75mg daily.", ["Venlafaxine HCl ER"]),
    ("Orphenadrine citrate ER 100mg #60 was requested.", ["Orphenadrine citrate ER"]),
    ("Tramadol extended-release 100mg.", ["Tramadol extended-release"]),
    ("Terocin lotion was applied.", ["Terocin"]),
    ("Norco, per Dr. Smith.", ["Norco"]),
])
def test_a_drug_span_takes_in_its_salt_and_release_words_not_its_dosage_form(text, drugs):
    """SPEC section 2: a release suffix stays inside the span ("Diclofenac ER"), a dosage form outside;
    salts sit between the name and its suffix ("Venlafaxine HCl ER"). Bundled pipeline."""
    from nlp.ner.runtime import load_pipeline
    from models.bundle import DEFAULT_MODEL_DIR

    doc = load_pipeline(str(DEFAULT_MODEL_DIR / "ner"))(text)
    assert [e.text for e in doc.ents if e.label_ == "DRUG"] == drugs
    assert all(e._.norm["generic"] for e in doc.ents if e.label_ == "DRUG")


def test_a_dosage_form_after_a_drug_still_decides_its_product():
    from nlp.ner.components import EntityNormalizer

    text = "She uses Voltaren gel and takes Voltaren tablets."
    doc = _doc(text, [("Voltaren", "DRUG")])
    second = text.index("Voltaren", 10)
    doc.ents = list(doc.ents) + [doc.char_span(second, second + 8, "DRUG")]
    doc = EntityNormalizer()(doc)
    assert [e._.norm["drug_class"] for e in doc.ents] == ["topical_analgesic", "nsaid"]


def test_entity_filter_drops_unknown_drugs_made_of_ordinary_words():
    doc = _doc("Pain lying prone; she takes Zorvolex and gabapentin; control of symptoms.",
               [("prone", "DRUG"), ("Zorvolex", "DRUG"), ("gabapentin", "DRUG"), ("control", "DRUG")])
    doc._.layout = None  # no letter layout: nothing is dropped for standing in the header
    f = EntityFilter([], [], ["one", "ex", "ol", "ine"])
    assert [e.text for e in f(_doc(doc.text, [("prone", "DRUG"), ("control", "DRUG")])).ents] == []  # (the header's rule)
    f_plain = EntityFilter([], [], ["one", "ex", "ol", "ine"])
    assert [e.text for e in f_plain(doc).ents] == ["prone", "Zorvolex", "gabapentin", "control"]  # without the word list
    f.set_ordinary_words(ordinary_words())
    assert [e.text for e in f(doc).ents] == ["Zorvolex", "gabapentin"]
    # a tissue's name that ends like a drug's (DRUG_LOOKALIKE_WORDS)
    doc = _doc("By September the epithelium had healed on Zorvolex.", [("epithelium", "DRUG"), ("Zorvolex", "DRUG")])
    doc._.layout = None
    assert [e.text for e in f(doc).ents] == ["Zorvolex"]


def test_entity_filter_drops_an_ordinary_word_cut_at_its_hyphen():
    """"moderate- and high-risk patients": the word before a suspended hyphen is no drug either."""
    doc = _doc("Testing is reserved for moderate- and high-risk patients on Zorvolex.",
               [("moderate-", "DRUG"), ("Zorvolex", "DRUG")])
    doc._.layout = None  # no letter layout: nothing is dropped for standing in the header
    assert [t.text for t in doc.ents[0]] == ["moderate-"]  # one token, its hyphen kept
    f = EntityFilter([], [], ["ate", "ex"])
    f.set_ordinary_words(ordinary_words())
    assert [e.text for e in f(doc).ents] == ["Zorvolex"]


def test_a_drug_name_that_is_a_persons_name_is_no_drug():
    doc = _doc("Sincerely, Corwin A. Hallberg, MD. Dr. Ambien saw her; Norco A. was not given; Lyrica helps.",
               [("Corwin", "DRUG"), ("Ambien", "DRUG"), ("Norco", "DRUG"), ("Lyrica", "DRUG")])
    f = EntityFilter([], [], ["ica", "co", "ien"])
    assert [e.text for e in f(doc).ents] == ["Norco", "Lyrica"]


def test_a_drug_name_before_a_surname_and_a_degree_is_a_persons_name():
    from nlp.ner.patterns import guideline_person_degrees

    doc = _doc("Sincerely, Corwin Althaus, MD. Records from Celeste Amundsen, MD. Norco Daily, as needed; Lyrica Pfizer, Inc.",
               [("Corwin", "DRUG"), ("Celeste", "DRUG"), ("Norco", "DRUG"), ("Lyrica", "DRUG")])
    f = EntityFilter([], [], ["ica", "co", "win", "ste"], person_degrees=guideline_person_degrees())
    assert [e.text for e in f(doc).ents] == ["Norco", "Lyrica"]


def test_a_drug_word_in_its_lay_use_or_before_a_laboratory_word_is_no_drug():
    """SPEC section 2: "cortisone" as a lay word for a steroid injection is no DRUG; a word the
    lexicon does not know before "testing" is the test's analyte; the drug itself stays a DRUG."""
    from nlp.ner.patterns import drug_analyte_words, drug_lay_uses

    doc = _doc("Cortisone 25 mg daily; a subacromial cortisone injection, creatinine testing and a Toradol injection.",
               [("Cortisone", "DRUG"), ("cortisone", "DRUG"), ("creatinine", "DRUG"), ("Toradol", "DRUG")])
    f = EntityFilter([], [], ["ine", "one", "ol"], drug_lay_uses(), drug_analyte_words())
    assert [e.text for e in f(doc).ents] == ["Cortisone", "Toradol"]
    # a body part's name, alone or in a pair, is no DRUG either
    doc = _doc("An intact cruciate and collateral ligaments; a torn cruciate ligament; Lovenox after surgery.",
               [("cruciate", "DRUG"), ("cruciate ligament", "DRUG"), ("Lovenox", "DRUG")])
    doc.ents = [e if e.text != "cruciate ligament" else doc[e.start:e.start + 1] for e in doc.ents]
    f = EntityFilter([], [], ["ate", "ox"], drug_lay_uses(), drug_analyte_words())
    assert [e.text for e in f(doc).ents] == ["Lovenox"]


def test_a_drug_word_as_a_measure_or_a_procedure_name_is_no_drug():
    """"120 mg of morphine equivalents" is a measure, "hyaluronic acid injections" a procedure (as
    independent writers annotate them); morphine prescribed stays a DRUG."""
    from nlp.ner.patterns import drug_analyte_words, drug_lay_uses

    text = "Morphine 15 mg; 120 mg of morphine equivalents; hyaluronic acid injections."
    doc = blank_pipeline()(text)
    spans = ((0, "Morphine"), (text.index("morphine"), "morphine"), (text.index("hyaluronic"), "hyaluronic acid"))
    doc.ents = [doc.char_span(s, s + len(w), "DRUG") for s, w in spans]
    f = EntityFilter([], [], ["ine"], drug_lay_uses(), drug_analyte_words())
    assert [e.text for e in f(doc).ents] == ["Morphine"]


@pytest.mark.parametrize("sentence, counts", [
    ("The surgeon requested 12 PT to focus on strengthening.", ["12 PT"]),
    ("She had 6 PT (physical therapy) sessions.", ["6 PT (physical therapy) sessions"]),
    ("He then had four more follow-up visits and 2 supportive visits.", ["four more follow-up visits",
                                                                         "2 supportive visits"]),
    ("Cortisone injections times 3 were given.", []),
    # an injection's count with where it went between; a service after an injection keeps its count
    ("Treatment(s) in Dispute: MRI right wrist; Kenalog injection right thumb x3", []),
    ("Requested: Lumbar ESI L5-S1 left; post-injection PT x6; omeprazole 20mg #60.", ["x6"]),
    # a pill count run into the next line's service is no count of it; "#6 sessions" is one
    ("Treatment(s) in Dispute: Lidoderm 5% patch #30\npain management follow-up visits times 3", ["times 3"]),
    ("On November 05, 2016 he reported #6 sessions physical therapy authorized.", ["6 sessions"]),
    # services named by five tokens and by "pool"
    ("He had 12 post-operative physical therapy visits and 12 pool sessions.",
     ["12 post-operative physical therapy visits", "12 pool sessions"]),
    # a date before a service is no count of it
    ("Chiropractic daily notes, 11/2014 to 04/2015 Acupuncture treatment notes (6 visits), 01/2015.", ["6 visits"]),
])
def test_counts_the_model_may_miss_are_found_by_the_ruler_and_grammar(sentence, counts):
    from nlp.ner.runtime import load_pipeline
    from models.bundle import DEFAULT_MODEL_DIR

    doc = load_pipeline(str(DEFAULT_MODEL_DIR / "ner"))(sentence)
    assert [e.text for e in doc.ents if e.label_ == "SESSION_COUNT"] == counts


@pytest.mark.parametrize("sentence, citations", [
    ("The American Psychiatric Association guideline advises continuing it.", ["American Psychiatric Association guideline"]),
    ("The ODG and the FDA label say so.", ["ODG", "FDA label"]),
    ("The ASAM practice guideline agrees.", ["ASAM practice guideline"]),
    # an outcome measure is no guideline, however far the span runs; what a passing mention says of
    # a guideline is not its name; the document and what it is part of are one
    ("The Neck Disability Index was 38% and the ODG applies.", ["ODG"]),
    ("Sincerely, Marcus D. Ellery, MD Medical Director\n\ncc: Department of Industrial Relations", []),
    ("She scored low on the Opioid Risk Tool, and the ODG applies.", ["ODG"]),
    ("Her Beck Depression Inventory fell from 29 to 22, and the ODG lists it.", ["ODG"]),
    ("Per the Postsurgical Treatment Guidelines of the MTUS, 24 visits are allowed.",
     ["Postsurgical Treatment Guidelines of the MTUS"]),
    ("The American College of Occupational and Environmental Medicine (ACOEM) guidelines apply.",
     ["American College of Occupational and Environmental Medicine (ACOEM) guidelines"]),
    # a society's guideline by its initials; a treatment's initials name no guideline
    ("Per the AUA guideline, tamsulosin is a first-line option.", ["AUA guideline"]),
    ("The APA practice guideline supports continuation.", ["APA practice guideline"]),
    ("Her CBT guidelines handout was reviewed, and the ODG applies.", ["ODG"]),
    # a body named in full with its initials; FDA communications; articles by authors and year
    ("Per the American Urological Association (AUA) guideline on erectile dysfunction, a history is taken.",
     ["American Urological Association (AUA) guideline on erectile dysfunction"]),
    ("Under the FDA prescribing information, it is contraindicated.", ["FDA prescribing information"]),
    ("The FDA's 2013 drug safety communication reported it.", ["FDA's 2013 drug safety communication"]),
    ("This agrees with the trial of Sihvonen et al. (2013) and with Mirza and Deyo (2007).",
     ["Sihvonen et al. (2013)", "Mirza and Deyo (2007)"]),
    ("The Cochrane review found moderate evidence; the ACR Appropriateness Criteria take radiographs first.",
     ["Cochrane review", "ACR Appropriateness Criteria"]),
    # a body named with a hyphen inside its name, its initials, its guideline words; a reference in full
    ("Per the American Academy of Otolaryngology-Head and Neck Surgery Foundation tinnitus guideline, it helps.",
     ["American Academy of Otolaryngology-Head and Neck Surgery Foundation tinnitus guideline"]),
    ("The AAO-HNSF guideline does not recommend it.", ["AAO-HNSF guideline"]),
    ("The American Academy of Sleep Medicine practice parameters support a study.",
     ["American Academy of Sleep Medicine practice parameters"]),
    ("Decision based on Non-MTUS Citation Mustoe TA, et al. International clinical recommendations on scar "
     "management. Plast Reconstr Surg 2002. Decision rationale: it helps.",
     ["Mustoe TA, et al. International clinical recommendations on scar management. Plast Reconstr Surg 2002"]),
])
def test_sources_that_are_no_state_guideline_are_cited_whole(sentence, citations):
    from nlp.ner.runtime import load_pipeline
    from models.bundle import DEFAULT_MODEL_DIR

    doc = load_pipeline(str(DEFAULT_MODEL_DIR / "ner"))(sentence)
    assert [e.text for e in doc.ents if e.label_ == "GUIDELINE"] == citations


def test_a_drug_word_naming_a_class_by_its_mechanism_is_no_drug():
    """"a serotonin norepinephrine reuptake inhibitor" names a class (written letters); duloxetine,
    the drug of that class, stays a DRUG."""
    from nlp.ner.patterns import drug_class_words

    text = "Duloxetine is a serotonin norepinephrine reuptake inhibitor; norepinephrine was not given."
    spans = ((0, "Duloxetine"), (26, "norepinephrine"), (61, "norepinephrine"))
    doc = blank_pipeline()(text)  # no layout: no word is in the header
    doc.ents = [doc.char_span(s, s + len(w), "DRUG") for s, w in spans]
    f = EntityFilter([], [], ["ine"], class_words=drug_class_words())
    assert [(e.text, e.start_char) for e in f(doc).ents] == [("Duloxetine", 0), ("norepinephrine", 61)]


def test_a_drug_class_named_in_the_singular_is_no_drug_and_medical_verbs_are_ordinary_words():
    """SPEC section 2: drug classes are no DRUG, in the singular too ("a benzodiazepine"); "titrate"
    and "postpone" (written letters) end like drug names but are ordinary words; a drug the
    lexicon lacks stays ("Qsymia", in an item's rationale, not the header)."""
    from nlp.ner.patterns import drug_class_nouns

    rationale = "Xanax is a benzodiazepine; titrate slowly, postpone Qsymia; two anxiolytics were tried."
    text = _letter("Decision based on MTUS.").replace("The request is not medically necessary.", rationale)
    doc = _doc(text, [("Xanax", "DRUG"), ("benzodiazepine", "DRUG"), ("titrate", "DRUG"), ("postpone", "DRUG"),
                      ("Qsymia", "DRUG"), ("anxiolytics", "DRUG")])
    assert doc._.layout.locate(text.index("Qsymia"))[0] == "item"
    f = EntityFilter([], [], ["ine", "ate", "one", "ia", "ics"], class_nouns=drug_class_nouns())
    f.set_ordinary_words(ordinary_words())
    assert [e.text for e in f(doc).ents] == ["Xanax", "Qsymia"]
    assert not {"xanax", "ketamine", "phentermine"} & f.ordinary  # drug names are never ordinary words


@pytest.mark.parametrize("text, count, kept", [
    ("The request for three months of trazodone cannot be supported.", "three months", False),
    ("He continued three months of the Norco before tapering.", "three months", False),
    ("On 10-20-2016, the request for 3 months coverage of Viagra 50 mg was non-certified.", "3 months", False),
    ("A cortisone injection gave relief for about a month.", "a month", False),
    ("Three months of physical therapy were completed.", "Three months", True),
])
def test_a_duration_of_a_drug_or_of_relief_is_no_count(text, count, kept):
    """SPEC section 2: durations of drug use are no SESSION_COUNT; a service's course stays."""
    from nlp.ner.patterns import drug_duration_cues

    spans = [(count, "SESSION_COUNT")] + [(d, "DRUG") for d in ("trazodone", "Norco", "Viagra") if d in text]
    f = EntityFilter([], drug_duration_cues(), [], cue_window=6)
    assert (count in [e.text for e in f(_doc(text, spans)).ents]) is kept


@pytest.mark.parametrize("text, model_ents, expected", [
    # a frequency with its duration the model missed, or took for something else
    ("She asked for acupuncture twice a week for four weeks to the neck.", [], ["twice a week for four weeks"]),
    ("Twice a week for eight weeks is 16 sessions.", [("Twice a week for eight weeks", "DRUG"), ("16 sessions", "SESSION_COUNT")],
     ["Twice a week for eight weeks", "16 sessions"]),
    # the weeks of a named program
    ("Treatment included four weeks of work conditioning in 2014.", [], ["four weeks"]),
    ("The provider asked for a full program of four weeks, 160 hours in total.", [], ["four weeks"]),
    # more of a course
    ("The provider requested six further sessions. Twelve additional visits (12) were asked for.", [],
     ["six further sessions", "Twelve additional visits (12)"]),
    # no course: a dosing frequency, or a form that would cut into another entity
    ("Tramadol three times a day for four weeks.", [], []),
    ("She saw the surgeon once more, then six more months passed.", [], []),
    # a quantity right after a therapy in running text, at a sentence's end too; not a drug's refills,
    # nor weeks
    ("He asked for massage therapy times 8. She had aquatic therapy x 6, then rest.", [], ["times 8", "x 6"]),
    ("Norco x 2 refills and aquatic therapy x 6 weeks.", [], []),
    ("The request for pain management follow-up visits times 4 is not necessary.", [], ["times 4"]),
    # ... after a treatment, a consultation or a management visit, in digits or words
    ("Pain management follow-up consultation times 4. Chiropractic treatment times twelve was asked for.", [],
     ["times 4", "times twelve"]),
    ("Dermatology office visit X SIX; follow-up visits with pain management x 3.", [], ["X SIX", "x 3"]),
    ("Chiropractic treatment x 2 weeks and consultation x 30 mg.", [], []),
    # a program's weeks with its hours in parentheses, or of "the program"; not hours alone, nor a
    # drug's weeks
    ("She completed 4 weeks (160 hours) by June. They proposed a two week trial of the program.", [],
     ["4 weeks", "two week"]),
    ("He slept 6 hours (poorly) and took naproxen for 2 weeks (14 days).", [], []),
    ("Per ODG Pain twice a week for 4 weeks, Page(s): 9.", [("ODG Pain twice a week for 4 weeks, Page(s): 9", "GUIDELINE")],
     ["ODG Pain twice a week for 4 weeks, Page(s): 9"]),
])
def test_a_sure_form_of_the_grammar_is_a_count_where_the_model_found_none(text, model_ents, expected):
    assert [e.text for e in _shaper()(_doc(text, model_ents)).ents] == expected


@pytest.mark.parametrize("text, model_ents, expected", [
    # a count form the model took for a drug as a whole, or a number word of it
    ("She completed twenty-four sessions of physical therapy.", [("twenty-four sessions", "DRUG")],
     [("twenty-four sessions", "SESSION_COUNT")]),
    ("The 2013 course consisted of eight (8) visits.", [("eight (8) visits", "DRUG")], [("eight (8) visits", "SESSION_COUNT")]),
    ("She completed twenty four sessions of therapy.", [("twenty", "DRUG"), ("four sessions", "SESSION_COUNT")],
     [("twenty four sessions", "SESSION_COUNT")]),
    # a number alone, with no count form, is neither a drug nor a count
    ("She was seen on the Third of June.", [("Third", "DRUG")], []),
    # a drug name is never made a count, nor is a drug beside a count
    ("Norco 10/325 twice a day; six sessions of therapy.", [("Norco", "DRUG"), ("six sessions", "SESSION_COUNT")],
     [("Norco", "DRUG"), ("six sessions", "SESSION_COUNT")]),
])
def test_a_count_the_model_took_for_a_drug_is_a_count(text, model_ents, expected):
    assert [(e.text, e.label_) for e in _shaper()(_doc(text, model_ents)).ents] == expected


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["twice a week for four weeks", "1 to 2 times per week for 3 weeks (3-6 visits)", "12 PT",
                                 "six (6) physical therapy sessions over 6 weeks", "x 6", "2 x 6 visits", "three times a day",
                                 "the", "physical", "therapy", "and", "visits", "24", "-", "to", "(8)", "injections x 3",
                                 "2016", "sessions", "twenty-four"]), min_size=1, max_size=60),
       st.data())
def test_count_forms_near_a_span_are_those_of_its_whole_sentence(words, data):
    """The count forms are searched within _FORM_REACH characters of a span (speed); the forms that
    overlap the span are those a search of the whole sentence finds."""
    from nlp.ner.components import _near

    text = " ".join(words)
    i = data.draw(st.integers(0, len(text) - 1))
    here = (i, min(len(text), i + data.draw(st.integers(1, 12))))
    whole = (0, len(text))
    shaper = _shaper()
    for patterns in (shaper.counts, shaper.not_counts):
        assert shaper._overlapping(patterns, text, _near(text, whole, here), here) == \
            shaper._overlapping(patterns, text, whole, here)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["twice a week for four weeks", "1x week x 12 weeks", "2 times per week for 6 weeks (12 sessions)",
                                 "four weeks of work conditioning", "a program of 4 weeks", "PT 3 visits per week",
                                 "for eight weeks", "Norco 10/325", "x 6 sessions", ".", ",", "\n\n", "the", "weekly",
                                 "month", "one to three months of acupuncture", "twenty-four", "(8)", "weeks",
                                 "six further sessions", "12 additional visits", "more", "remaining treatments",
                                 "massage therapy times 8.", "therapy x 6", "Norco x 2", "x", "12.",
                                 "consultation times twelve", "treatment x six"]),
                max_size=40))
def test_sure_forms_found_near_their_anchor_words_are_those_of_the_whole_text(words):
    """The sure forms run only in windows around their anchor words ("week", "month", "further
    sessions", ...: `sure_anchor`, speed); they find what a search of the whole text finds."""
    from nlp.ner.components import _windows

    text = " ".join(words)
    shaper = _shaper()
    forms = shaper.sure
    whole = {m.span() for p in forms for m in p.finditer(text)}
    near = {m.span() for a, b in _windows(shaper.sure_anchor, text, 120, 60) for p in forms for m in p.finditer(text, a, b)}
    assert near == whole


@pytest.mark.parametrize("text, count, kept", [
    ("The ODG recommends a 10% reduction in dose every two to four weeks.", "two to four weeks", False),
    ("If return to work is achieved, 1-2 visits may be considered every 4-6 months.", "4-6 months", False),
    ("The only test was performed roughly eight months before the request.", "eight months", False),
    ("An epidural injection gave about three weeks of relief.", "three weeks", False),
    # a window of time, a point after an event, how long an injection helped
    ("Only one urine drug screen was provided for the past 12 months.", "12 months", False),
    ("She reported worsening low back pain over the prior two months.", "two months", False),
    ("Six months after the injury, the tenosynovitis persists.", "Six months", False),
    ("A second injection helped for less than two weeks.", "two weeks", False),
    ("An injection in 2012 gave him about a month of partial relief.", "a month", False),
    ("He has taken gabapentin at 1800 mg a day for about eight months.", "eight months", False),
    ("He had gabapentin and physical therapy for about eight months.", "eight months", True),
    ("Chiropractic care for four weeks was completed.", "four weeks", True),
    # how long a condition, a work status or a recovery lasts
    ("Imaging is not advised even if the pain has persisted for at least 6 weeks.", "6 weeks", False),
    ("She has been off work for 26 months.", "26 months", False),
    ("He should reach maximum medical improvement in about two months.", "two months", False),
    ("Physical therapy for low back pain visits for six weeks was requested.", "six weeks", True),
    ("Imaging is indicated when symptoms persist after at least 1 month of conservative therapy.", "1 month", True),
    # a window, an interval or a point in time past "of" and "up to"
    ("Topical NSAIDs work for short periods of up to 4 to 12 weeks.", "4 to 12 weeks", False),
    ("Most patients are retested at intervals of 6 to 12 months.", "6 to 12 months", False),
    ("Test again at 6 weeks after the exposure.", "6 weeks", False),
    ("Low-risk patients should be tested within 6 months of starting therapy.", "6 months", False),
    ("Repeat testing at 3 and 6 months post exposure.", "6 months", False),
    ("This worker is two months out from a total hip arthroplasty.", "two months", False),
    ("Her dizziness has been present for about ten months.", "ten months", False),
    ("Repeat it at an interval of two months.", "two months", False),
    ("The patient is more than 18 months past her surgery.", "18 months", False),
    ("It was a lumbar strain of less than three months' duration.", "three months", False),
    ("The note documents two months of new numbness in the hand.", "two months", False),
    # an estimate is a history, not a course; an estimated count of visits stays a count
    ("The patient has taken it three times a day, continuously, for about 16 months.", "16 months", False),
    ("She wore the splint at night, roughly eight months, with no change.", "eight months", False),
    ("She has attended approximately 90 sessions of psychotherapy.", "90 sessions", True),
    ("Physical therapy for 6 months is requested.", "6 months", True),
    ("Control should be reassessed in two to six weeks.", "two to six weeks", False),
    ("He was given tramadol in 2013, which he stopped after two weeks.", "two weeks", False),
    # a rate
    ("He uses hydrocodone occasionally, about two tablets a week.", "a week", False),
])
def test_an_interval_a_point_in_time_an_outcome_or_a_drug_use_is_no_course(text, count, kept):
    """SPEC section 2: weeks or months of a service are a count; other durations are not."""
    from nlp.ner.patterns import drug_duration_cues, drug_duration_service_words, drug_duration_window, duration_not_course

    spans = [(count, "SESSION_COUNT")] + [("gabapentin", "DRUG")] * ("gabapentin" in text)
    f = EntityFilter([], drug_duration_cues(), [], cue_window=drug_duration_window(),
                     service_words=drug_duration_service_words(), not_course=duration_not_course())
    assert (count in [e.text for e in f(_doc(text, spans)).ents]) is kept


def test_durations_listed_after_a_point_in_time_are_none():
    """"at 6 weeks, 3 months and 6 months": every member of a list of time points; a course listed after
    a course stays."""
    from nlp.ner.patterns import duration_not_course

    def counts(text):
        doc = _nlp()(text)
        doc.ents = [doc.char_span(m.start(), m.end(), "SESSION_COUNT") for m in re.finditer(r"\d (?:weeks|months)", text)]
        return [e.text for e in EntityFilter([], not_course=duration_not_course())(doc).ents]

    assert counts("Antibody testing at 6 weeks, 3 months and 6 months was negative.") == []
    assert counts("He completed 6 weeks, 3 months and 6 months of therapy.") == ["6 weeks", "3 months", "6 months"]


def test_ordinary_words_travel_with_the_saved_pipeline(tmp_path):
    nlp = blank_pipeline()
    f = nlp.add_pipe("imr_entity_filter", config={"guideline_single_words": [], "drug_duration_cues": [],
                                                  "unknown_drug_endings": ["one"]})
    f.set_ordinary_words(["prone", "# a comment", "level"])
    nlp.to_disk(tmp_path / "p")
    import spacy

    loaded = spacy.load(tmp_path / "p").get_pipe("imr_entity_filter")
    assert loaded.ordinary == frozenset({"prone", "level"})


@pytest.mark.parametrize("text, expected", [
    ("two times four visits (8)", (8, 8, "visit", None)),
    ("1-2 times 3 sessions", (3, 6, "session", None)),
    ("2x6", (12, 12, "session", {"min": 6, "max": 6, "unit": "week"})),
])
def test_a_count_written_as_frequency_times_count_is_their_product_or_its_stated_total(text, expected):
    norm = normalize_count(text)
    assert (norm["min"], norm["max"], norm["unit"], norm["over"]) == expected


@pytest.mark.parametrize("text, drug, drug_class", [
    ("The knee was injected with Depo-Medrol 40 mg and 3 mL of 1% lidocaine on 03/05/2013.", "lidocaine", "other"),
    ("No diagnostic lidocaine injection of the joint is documented.", "lidocaine", "other"),
    ("He received a subacromial injection of Kenalog with 4 mL of 1% Xylocaine.", "Xylocaine", "other"),
    # a topical form near it: the topical analgesic, injection or not
    ("Lidocaine 5% patches were used after the epidural injection.", "Lidocaine", "topical_analgesic"),
    ("She applies lidocaine ointment twice daily.", "lidocaine", "topical_analgesic"),
    ("The request for lidocaine is not medically necessary.", "lidocaine", "topical_analgesic"),
])
def test_lidocaine_injected_as_a_local_anesthetic_is_class_other(text, drug, drug_class):
    from nlp.ner.components import EntityNormalizer

    doc = EntityNormalizer()(_doc(text, [(drug, "DRUG")]))
    assert [(e.text, e._.norm["generic"], e._.norm["drug_class"]) for e in doc.ents] == [(drug, "lidocaine", drug_class)]


@functools.lru_cache(maxsize=1)
def _bundled():
    from models.bundle import DEFAULT_MODEL_DIR
    from nlp.ner.runtime import load_pipeline

    return load_pipeline(str(DEFAULT_MODEL_DIR / "ner"))


@pytest.mark.parametrize("sentence, expected", [
    # an ordinal is no count (spaCy's LIKE_NUM holds for "first")
    ("Neck pain was 6/10, the same as at the first visit, and no change.", []),
    ("He attended 12 visits of therapy and the second visit went well.", [("12 visits", "SESSION_COUNT")]),
    # how long a work status lasted is no course; a program's weeks are
    ("He returned to full duty after five months of modified work.", []),
    ("He completed four weeks of work conditioning.", [("four weeks", "SESSION_COUNT")]),
    # days or hours a week are no count; a window or a use is no course
    ("She reported occipital headaches two to three days per week.", []),
    ("Hypnotics are limited in the first two months of injury.", []),
    ("In addition, two months of use have produced no change in pain.", []),
    # the frequency word alone with its duration is a course; a weekly drug's duration is none
    # (only where the model found a count: a sure form would take in a weekly drug's dose)
    ("He requested biofeedback weekly for 6 weeks.", [("weekly for 6 weeks", "SESSION_COUNT")]),
    ("Medication management monthly for 12 months was requested.", [("monthly for 12 months", "SESSION_COUNT")]),
    ("He takes methotrexate weekly for 8 weeks.", [("methotrexate", "DRUG")]),
    ("He has had 12 medication management visits this year.", [("12 medication management visits", "SESSION_COUNT")]),
    # a document's year before its name is part of it
    ("Per the 2016 MTUS Chronic Pain Medical Treatment Guidelines, it is not indicated.",
     [("2016 MTUS Chronic Pain Medical Treatment Guidelines", "GUIDELINE")]),
    ("He has a history of heroin use.", [("heroin", "DRUG")]),
    # a drug word as a measure, across a hyphen
    ("He takes a high daily morphine-equivalent dose.", []),
    # the compounded cream "Fluriflex"
    ("He uses Fluriflex cream daily.", [("Fluriflex", "DRUG")]),
    # a guideline the model took for a drug; a verb after a citation is prose
    ("According to ACOEM chapter 13, a brace can be used.", [("ACOEM chapter 13", "GUIDELINE")]),
    ("The ODG Neck chapter sets criteria for it.", [("ODG Neck chapter", "GUIDELINE")]),
    # a program's weeks after a drug are the program's course; one session as an occasion is no count
    ("He asked for Xanax and a functional restoration program for 6 weeks.",
     [("Xanax", "DRUG"), ("6 weeks", "SESSION_COUNT")]),
    ("No more than two levels should be injected in one session.", []),
    # the Post-Surgical Treatment Guidelines named bare, hyphen or not
    ("The Post-Surgical Treatment Guidelines allow it.", [("Post-Surgical Treatment Guidelines", "GUIDELINE")]),
    # a drug's label is a document; the drug it names is its topic
    ("The reviewer relied on the Prilosec (omeprazole) prescribing information.",
     [("Prilosec (omeprazole) prescribing information", "GUIDELINE")]),
    ("Per the Lyrica (pregabalin) package insert, Pfizer, 2012, the dose is too high.",
     [("Lyrica (pregabalin) package insert, Pfizer, 2012", "GUIDELINE")]),
    # a society's standards, parameters or criteria by its initials, with their "of Care"
    ("The ADA Standards of Medical Care call for an A1c every three months.",
     [("ADA Standards of Medical Care", "GUIDELINE")]),
    ("The AANEM practice parameter supports the study.", [("AANEM practice parameter", "GUIDELINE")]),
    # ... never an injured worker's criteria or a procedure's guidance
    ("This IW meets most criteria.", []),
    ("The injection was done under CT guidance.", []),
    # a body named in full with its initials, lower-case words before the kind of its document
    ("The American Academy of Orthopaedic Surgeons (AAOS) clinical practice guideline recommends it.",
     [("American Academy of Orthopaedic Surgeons (AAOS) clinical practice guideline", "GUIDELINE")]),
    # the schedule named alone; the ACOEM guideline for a chapter's complaints
    ("The reviewer applied the Medical Treatment Utilization Schedule.", [("Medical Treatment Utilization Schedule", "GUIDELINE")]),
    ("The MTUS-adopted ACOEM guideline for neck and upper back complaints supports imaging.",
     [("MTUS-adopted ACOEM guideline for neck and upper back complaints", "GUIDELINE")]),
    # cannabis as letters name it; a strength's name after a brand is none of it
    ("She uses a compounded CBD cream and asked about medical marijuana.", [("CBD", "DRUG"), ("marijuana", "DRUG")]),
    ("Tylenol Extra Strength did little.", [("Tylenol", "DRUG")]),
    # a time from surgery, a window "of starting" a drug, are no course
    ("This patient is less than five months from surgery.", []),
    ("Within about five weeks of starting Cymbalta his pain fell.", [("Cymbalta", "DRUG")]),
])
def test_the_bundled_pipeline_on_sentences(sentence, expected):
    assert [(e.text, e.label_) for e in _bundled()(sentence).ents] == expected


def test_a_citation_never_ends_in_an_article():
    from nlp.ner.components import CitationExtender
    from nlp.ner.patterns import citation_tails, guideline_stop_words

    text = "It is part of the MTUS, and the ODG applies."
    doc = CitationExtender(citation_tails(), guideline_stop_words())(_doc(text, [("MTUS, and the", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["MTUS"]
    text = "He relied on ODG Pain, Zolpidem (Ambien), not part of the MTUS."
    doc = CitationExtender(citation_tails(), guideline_stop_words())(
        _doc(text, [("ODG Pain, Zolpidem (Ambien), not", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["ODG Pain, Zolpidem (Ambien)"]
    assert normalize_drug("Fluriflex") == {"generic": "flurbiprofen/cyclobenzaprine", "drug_class": "compounded"}


def test_a_statute_and_an_outcome_measure_are_no_guideline():
    """The letters' closing boilerplate names "the California Labor Code" (222 times in the written
    letters, never annotated): a statute, like an outcome measure, is no treatment guideline."""
    from nlp.ner.patterns import guideline_measure_words

    text = ("Final determinations may be appealed as set forth in the California Labor Code. The Neck "
            "Disability Index was 38. The Official Disability Guidelines apply.")
    doc = _doc(text, [("California Labor Code", "GUIDELINE"), ("Neck Disability Index", "GUIDELINE"),
                      ("Official Disability Guidelines", "GUIDELINE")])
    f = EntityFilter([], [], [], measure_words=guideline_measure_words())
    assert [e.text for e in f(doc).ents] == ["Official Disability Guidelines"]


def test_a_name_before_a_degree_is_a_person_not_a_guideline():
    """"Sincerely, Marguerite Osterhout, MD Medical Director": the model's GUIDELINE on a signature's
    name goes; a guideline followed by a comma and other words stays."""
    from nlp.ner.patterns import guideline_person_degrees

    text = "Sincerely, Marguerite Osterhout, MD Medical Director. Per the ODG, Pain Chapter, it is fine."
    doc = _doc(text, [("Marguerite Osterhout", "GUIDELINE"), ("ODG", "GUIDELINE")])
    f = EntityFilter([], [], [], person_degrees=guideline_person_degrees())
    assert [e.text for e in f(doc).ents] == []  # "ODG" alone is one word, not in the single-word list here
    doc = _doc(text, [("Marguerite Osterhout", "GUIDELINE"), ("ODG, Pain Chapter", "GUIDELINE")])
    assert [e.text for e in f(doc).ents] == ["ODG, Pain Chapter"]
    # a name with its degree inside the span ("Provider Name: Corinne Vasquez-Lind, MD"), or running on through a
    # documents list ("Medical Records from Corinne Vasquez-Lind, MD (dated ...) CT")
    text = ("Provider Name: Corinne Vasquez-Lind, MD Treatment. Records from Teodor Milanesi, MD (dated 1/2/2013) CT scan. "
            "Per the ODG, Pain Chapter, it is fine.")
    doc = _doc(text, [("Corinne Vasquez-Lind, MD", "GUIDELINE"), ("Teodor Milanesi, MD (dated 1/2/2013) CT", "GUIDELINE"),
                      ("ODG, Pain Chapter", "GUIDELINE")])
    assert [e.text for e in f(doc).ents] == ["ODG, Pain Chapter"]


def test_the_first_pass_filters_the_models_drugs_alone_and_leaves_numbers_to_the_count_grammar():
    """Right after the model: "Bulletin" tagged DRUG goes (the patterns may then claim "Aetna Clinical Policy
    Bulletin"); "eight (8) visits" tagged DRUG stays for the count grammar, a SESSION_COUNT for the last pass."""
    text = "Per the Aetna Clinical Policy Bulletin, therapy consisted of eight (8) visits over about 16 months."
    spans = [("Bulletin", "DRUG"), ("eight (8) visits", "DRUG"), ("16 months", "SESSION_COUNT")]
    first = EntityFilter([], [], ["ine"], first_pass=True)
    first.set_ordinary_words(["bulletin"])
    assert [e.text for e in first(_doc(text, spans)).ents] == ["eight (8) visits", "16 months"]
    last = EntityFilter([], [], ["ine"])
    last.set_ordinary_words(["bulletin"])
    assert [e.text for e in last(_doc(text, spans)).ents if e.label_ == "DRUG"] == []


def test_the_bundled_pipeline_filters_the_models_drugs_before_the_patterns():
    from models.bundle import ner_dir
    from nlp.ner.runtime import load_pipeline

    names = load_pipeline(str(ner_dir(None))).pipe_names
    assert names.index("imr_citation_trimmer") < names.index("imr_model_drug_filter") < names.index("entity_ruler")


def test_a_signature_title_or_a_medical_legal_report_is_no_guideline():
    """"Sincerely, Chief Medical Officer" and "Agreed Medical Evaluation in psychiatry dated 3/4/2013"
    name no treatment guideline (no gold file of 2,572 written letters annotates either)."""
    from nlp.ner.patterns import guideline_measure_words

    text = ("Sincerely, Chief Medical Officer. Agreed Medical Evaluation in psychiatry. Per the ODG Pain Chapter, it is. "
            "Medical records from the Primary Treating Physician dated 12/3/2012 through 5/1/2013.")
    doc = _doc(text, [("Chief Medical Officer", "GUIDELINE"), ("Agreed Medical Evaluation in psychiatry", "GUIDELINE"),
                      ("ODG Pain Chapter", "GUIDELINE"), ("Primary Treating Physician dated", "GUIDELINE")])
    f = EntityFilter([], [], [], measure_words=guideline_measure_words())
    assert [e.text for e in f(doc).ents] == ["ODG Pain Chapter"]


@pytest.mark.parametrize("text, model_span, expected", [
    # a closing parenthesis the citation never opened ends it (the model ran on into the next line)
    ("Utilization review letter, with the guideline it cites (ODG Shoulder) Orthopedic progress reports dated 04/08/2015",
     "ODG Shoulder) Orthopedic progress reports dated 04/08/2015", ["ODG Shoulder"]),
    # a parenthesis it opened stays
    ("He relied on ODG Pain (Chronic), Zolpidem (Ambien) here.", "ODG Pain (Chronic), Zolpidem (Ambien)",
     ["ODG Pain (Chronic), Zolpidem (Ambien)"]),
    # what a guideline adds or how it refines is prose
    ("The Official Disability Guidelines (ODG) Pain Chapter, Urine Drug Testing adds that patients at low risk",
     "Official Disability Guidelines (ODG) Pain Chapter, Urine Drug Testing adds",
     ["Official Disability Guidelines (ODG) Pain Chapter, Urine Drug Testing"]),
    ("ODG refines this: a second injection is not recommended.", "ODG refines", ["ODG"]),
    # a list of documents run into one line: "... from the Provider" + the MTUS
    ("Employee medical records from the Provider Medical Treatment Utilization Schedule (MTUS) were read.",
     "Provider Medical Treatment Utilization Schedule (MTUS)", ["Medical Treatment Utilization Schedule (MTUS)"]),
    ("The ODG identifies MRI as the most accepted form of imaging.", "ODG identifies MRI", ["ODG"]),
    ("The MTUS ACOEM Chapter 15 guideline names the criteria.", "MTUS ACOEM Chapter 15 guideline names",
     ["MTUS ACOEM Chapter 15 guideline"]),
])
def test_the_trimmer_ends_a_citation_at_an_unopened_parenthesis_or_a_verb(text, model_span, expected):
    from nlp.ner.components import CitationTrimmer
    from nlp.ner.patterns import guideline_lead_words, guideline_stop_words

    trimmer = CitationTrimmer(guideline_stop_words(), guideline_lead_words())
    assert [e.text for e in trimmer(_doc(text, [(model_span, "GUIDELINE")])).ents] == expected


def test_a_topic_never_ends_in_and_before_a_page():
    """"... Guidelines as an option to assess ..., and page 78 includes random screening" is prose: the
    citation is the guidelines' name; "..., pages 30-34 and page 49" is still one citation."""
    from nlp.ner.components import CitationExtender
    from nlp.ner.patterns import citation_tails, guideline_stop_words

    extender = CitationExtender(citation_tails(), guideline_stop_words())
    text = ("Drug testing is recommended by the MTUS Chronic Pain Treatment Guidelines as an option to assess for "
            "illegal drugs, and page 78 includes random drug screening.")
    doc = extender(_doc(text, [("MTUS Chronic Pain Treatment Guidelines", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["MTUS Chronic Pain Treatment Guidelines"]
    text = "Per the MTUS Chronic Pain Medical Treatment Guidelines, Opioids, criteria for use, pages 78-80 it is."
    doc = extender(_doc(text, [("MTUS Chronic Pain Medical Treatment Guidelines", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["MTUS Chronic Pain Medical Treatment Guidelines, Opioids, criteria for use, pages 78-80"]


def test_a_practice_parameter_before_a_semicolon_is_a_document_of_its_own():
    from nlp.ner.components import CitationDocuments

    text = ("Decision based on Non-MTUS Citation AASM Practice Parameters for the Indications for Polysomnography "
            "and Related Procedures; ODG Pain (Chronic), Polysomnography.")
    span = "AASM Practice Parameters for the Indications for Polysomnography and Related Procedures; ODG Pain (Chronic), Polysomnography"
    doc = CitationDocuments(**citation_documents())(_doc(text, [(span, "GUIDELINE")]))
    assert [e.text for e in doc.ents] == [
        "AASM Practice Parameters for the Indications for Polysomnography and Related Procedures",
        "ODG Pain (Chronic), Polysomnography"]


def test_mentherm_and_tylenol_with_codeine_no_3_are_known_products():
    assert normalize_drug("Mentherm") == {"generic": "methyl salicylate/menthol", "drug_class": "topical_analgesic"}
    assert normalize_drug("Tylenol with Codeine No. 3") == {"generic": "acetaminophen/codeine", "drug_class": "opioid"}
    assert normalize_drug("PreviDent") == {"generic": "sodium fluoride", "drug_class": "other"}
    assert [e.text for e in _bundled()("Medications include Tylenol with Codeine No. 3 at night.").ents] == [
        "Tylenol with Codeine No. 3"]


_ONE_ITEM_2015 = ("MAXIMUS FEDERAL SERVICES, INC.\nIndependent Medical Review\n\nHOW THE IMR FINAL DETERMINATION WAS "
                  "MADE\n\nCLINICAL CASE SUMMARY\n\nThe patient is a 40 year old male.\n\nIMR DECISION(S) AND "
                  "RATIONALE(S)\n\n1. Trazodone 50mg #30 is not medically necessary and appropriate.\n{fields}\n"
                  "Rationale for the Decision: No.\n")


def _bundled_item_fields(fields: str) -> list[tuple[str, str]]:
    """The bundled pipeline's entities in the guideline fields of a one-item letter, its layout known."""
    from nlp.layout import parse_layout
    from nlp.textnorm import normalize_text

    text = normalize_text(_ONE_ITEM_2015.format(fields=fields))
    nlp = _bundled()
    doc = nlp.make_doc(text)
    doc._.letter_text = text
    doc._.layout = parse_layout(text)
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    start, end = text.index(fields[:20]), text.index("Rationale for the Decision")
    return [(e.text, e.label_) for e in doc.ents if start <= e.start_char < end]


def test_a_drug_topic_before_a_description_of_the_guideline_is_the_citations():
    """In a guideline field, "ODG, Mental Illness & Stress Chapter, Trazodone (Desyrel), a nationally
    recognized guideline" cites the drug as the chapter's topic (SPEC section 2: part of the GUIDELINE)."""
    assert _bundled_item_fields(
        "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer: The Expert Reviewer relied on the Official "
        "Disability Guidelines, Mental Illness & Stress Chapter, Trazodone (Desyrel), a nationally recognized guideline."
    ) == [("Official Disability Guidelines, Mental Illness & Stress Chapter, Trazodone (Desyrel)", "GUIDELINE")]


def test_a_topics_lower_case_qualifier_and_the_regulations_sections_belong_to_the_citation():
    """"..., Epidural steroid injections (ESIs), therapeutic." (an ODG topic's own qualifier) and "Chronic Pain
    Medical Treatment Guidelines 8 C.C.R. 9792.20 - 9792.26 MTUS (Effective July 18, 2009) Page(s): 46" (the
    published letters' form, the model finding its two ends) are one citation each."""
    assert _bundled_item_fields(
        "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer: The Expert Reviewer relied on the Official "
        "Disability Guidelines (ODG), Low Back Chapter, Epidural steroid injections (ESIs), therapeutic.") == [
        ("Official Disability Guidelines (ODG), Low Back Chapter, Epidural steroid injections (ESIs), therapeutic",
         "GUIDELINE")]
    text = ("Per the Chronic Pain Medical Treatment Guidelines 8 C.C.R. 9792.20 - 9792.26 MTUS (Effective July 18, 2009) "
            "Page(s): 46, it is not indicated.")
    doc = _doc(text, [("Chronic Pain Medical Treatment Guidelines", "GUIDELINE"),
                      ("MTUS (Effective July 18, 2009) Page(s): 46", "GUIDELINE")])
    from nlp.ner.components import CitationDocuments
    assert [e.text for e in CitationDocuments(**citation_documents())(doc).ents] == [
        "Chronic Pain Medical Treatment Guidelines 8 C.C.R. 9792.20 - 9792.26 MTUS (Effective July 18, 2009) Page(s): 46"]


def test_a_guideline_named_in_a_field_as_not_addressing_the_request_is_the_guideline_alone():
    """"Guidelines cited: MTUS does not address this request." names the MTUS, not a citation running to the
    sentence's end."""
    assert _bundled_item_fields("Guidelines cited: MTUS does not address this request. ODG, Low Back Chapter, "
                                "Surgical assistant.") == [
        ("MTUS", "GUIDELINE"), ("ODG, Low Back Chapter, Surgical assistant", "GUIDELINE")]


def test_a_citation_closes_a_parenthesis_it_opened_or_ends_before_it():
    from nlp.ner.components import CitationExtender
    from nlp.ner.patterns import citation_tails, guideline_stop_words

    extender = CitationExtender(citation_tails(), guideline_stop_words())
    text = "Per ODG Forearm, Wrist & Hand, Percutaneous release (of the trigger finger and/or trigger thumb), not the MTUS."
    doc = extender(_doc(text, [("ODG Forearm, Wrist & Hand, Percutaneous release (of the trigger finger", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == [
        "ODG Forearm, Wrist & Hand, Percutaneous release (of the trigger finger and/or trigger thumb)"]
    text = "Per the Chronic Pain Medical Treatment Guidelines (2009 edition. The request is denied."
    doc = extender(_doc(text, [("Chronic Pain Medical Treatment Guidelines (2009", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["Chronic Pain Medical Treatment Guidelines"]


def test_asa_is_aspirin_unless_it_names_the_anesthesiologists():
    """"concurrent use of ASA, corticosteroids" names aspirin (independent writers annotate 24 of 27 such
    mentions); "the ASA practice guidelines" cites the American Society of Anesthesiologists (the initials
    the drug ruler took give way to the guideline), and "the ASA physical status" is neither."""
    assert normalize_drug("ASA") == {"generic": "aspirin", "drug_class": "nsaid"}
    for sentence, expected in [
            ("Risk factors include concurrent use of ASA, corticosteroids and/or an anticoagulant.", [("ASA", "DRUG")]),
            ("The ASA practice guidelines likewise endorse regional techniques.", [("ASA practice guidelines", "GUIDELINE")]),
            ("He was ASA  physical status II before the surgery.", [])]:
        assert [(e.text, e.label_) for e in _bundled()(sentence).ents] == expected, sentence



def test_a_fields_label_is_no_citation_and_is_not_extended():
    """"MTUS Citation:" labels a field (SPEC section 2: "Non-MTUS Citation" is no GUIDELINE): the model's
    "MTUS" on it goes before the pages tail could run it into the citation that follows."""
    from nlp.ner.components import CitationExtender
    from nlp.ner.patterns import citation_tails, guideline_field_labels, guideline_stop_words

    extender = CitationExtender(citation_tails(), guideline_stop_words(), field_labels=guideline_field_labels())
    text = "MTUS Citation: Chronic Pain Medical Treatment Guidelines 2009, NSAIDs, GI symptoms, Pages 68-69. Done."
    doc = extender(_doc(text, [("MTUS", "GUIDELINE"), ("Chronic Pain Medical Treatment Guidelines", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["Chronic Pain Medical Treatment Guidelines 2009, NSAIDs, GI symptoms, Pages 68-69"]
    doc = extender(_doc(text, [("MTUS Citation: Chronic Pain Medical Treatment Guidelines", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["Chronic Pain Medical Treatment Guidelines 2009, NSAIDs, GI symptoms, Pages 68-69"]


def test_testosterone_as_a_laboratory_value_is_no_drug():
    assert [(e.text, e.label_) for e in _bundled()("His serum testosterone levels were low.").ents] == []
    assert [(e.text, e.label_) for e in _bundled()("He uses testosterone gel daily.").ents] == [("testosterone", "DRUG")]
    # a hormone the body makes, after "total", "free", "serum", "morning" or "low": a measured value
    for sentence in ("A single serum total testosterone of 212 ng/dL was recorded.",
                     "There were no free testosterone, LH or FSH values.", "He reported fatigue and low testosterone.",
                     "A low vitamin D level was repleted.", "Labs showed 25-hydroxy vitamin D 14 ng/mL.",
                     "Her vitamin D deficiency was treated.", "A single testosterone result was low."):
        assert [e.text for e in _bundled()(sentence).ents if e.label_ == "DRUG"] == [], sentence
    assert [e.text for e in _bundled()("She takes a daily vitamin D supplement.").ents if e.label_ == "DRUG"] == [
        "vitamin D"]
    # a drug's own level is the drug monitored
    assert [e.text for e in _bundled()("A serum lithium level was drawn.").ents if e.label_ == "DRUG"] == ["lithium"]


@pytest.mark.parametrize("span, expected", [
    # a clinical practice guideline before "; and" is a document of its own; "the NIH" names a source
    ("AAOMS Parameters of Care: Clinical Practice Guidelines for Oral and Maxillofacial Surgery, Trauma Surgery; and "
     "Official Disability Guidelines (ODG) Knee & Leg, Hardware implant removal",
     ["AAOMS Parameters of Care: Clinical Practice Guidelines for Oral and Maxillofacial Surgery, Trauma Surgery",
      "Official Disability Guidelines (ODG) Knee & Leg, Hardware implant removal"]),
    ("Official Disability Guidelines (ODG), Diabetes Chapter, Bariatric surgery, and the NIH Consensus Development "
     "Conference Statement, Gastrointestinal Surgery for Severe Obesity (1991)",
     ["Official Disability Guidelines (ODG), Diabetes Chapter, Bariatric surgery",
      "NIH Consensus Development Conference Statement, Gastrointestinal Surgery for Severe Obesity (1991)"]),
    # a numbered chapter after another's pages is a second citation
    ("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 8, Neck and Upper Back Complaints, pages 177-178, and "
     "Chapter 11, Forearm, Wrist, and Hand Complaints, page 261",
     ["ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 8, Neck and Upper Back Complaints, pages 177-178",
      "Chapter 11, Forearm, Wrist, and Hand Complaints, page 261"]),
    # the MTUS's own document after ", and the" is a second citation; so is a society's by its initials
    ("Chronic Pain Medical Treatment Guidelines (2009), Aquatic therapy, page 22, and the Postsurgical Treatment "
     "Guidelines, Ankle & Foot, Fracture of ankle",
     ["Chronic Pain Medical Treatment Guidelines (2009), Aquatic therapy, page 22",
      "Postsurgical Treatment Guidelines, Ankle & Foot, Fracture of ankle"]),
    ("Official Disability Guidelines (ODG), Pain Chapter, Polysomnography and the AASM Clinical Guideline for the "
     "Evaluation, Management and Long-term Care of Obstructive Sleep Apnea in Adults",
     ["Official Disability Guidelines (ODG), Pain Chapter, Polysomnography",
      "AASM Clinical Guideline for the Evaluation, Management and Long-term Care of Obstructive Sleep Apnea in Adults"]),
    # a list of documents whose lines were joined: a whole name, then a source's name
    ("MTUS Chronic Pain Medical Treatment Guidelines Official Disability Guidelines",
     ["MTUS Chronic Pain Medical Treatment Guidelines", "Official Disability Guidelines"]),
    # a named report after "; " is a document of its own
    ("Official Disability Guidelines (ODG) Diabetes, Hypertension treatment; 2014 Evidence-Based Guideline for the "
     "Management of High Blood Pressure in Adults (JNC 8)",
     ["Official Disability Guidelines (ODG) Diabetes, Hypertension treatment",
      "2014 Evidence-Based Guideline for the Management of High Blood Pressure in Adults (JNC 8)"]),
    # a society's guideline by its initials after ", and the" or "; " is another document
    ("Official Disability Guidelines (ODG), Head Chapter, Computed tomography (CT), and the ACR Appropriateness "
     "Criteria: Headache",
     ["Official Disability Guidelines (ODG), Head Chapter, Computed tomography (CT)", "ACR Appropriateness Criteria: Headache"]),
    ("AUA Guideline on the Management of Erectile Dysfunction: Diagnosis and Treatment Recommendations (2011); Levitra "
     "(vardenafil) prescribing information",
     ["AUA Guideline on the Management of Erectile Dysfunction: Diagnosis and Treatment Recommendations (2011)",
      "Levitra (vardenafil) prescribing information"]),
    # a second ODG chapter after ", and the" starts without "the"
    ("Official Disability Guidelines (ODG), Mental Illness & Stress Chapter, Neuropsychological testing, and the Head "
     "Chapter, Neuropsychological testing",
     ["Official Disability Guidelines (ODG), Mental Illness & Stress Chapter, Neuropsychological testing",
      "Head Chapter, Neuropsychological testing"]),
])
def test_other_documents_are_split_from_a_citation(span, expected):
    from nlp.ner.components import CitationDocuments

    text = f"He relied on the {span}."
    doc = CitationDocuments(**citation_documents())(_doc(text, [(span, "GUIDELINE")]))
    assert [e.text for e in doc.ents] == expected


def test_versed_is_midazolam_unless_one_is_well_versed_in_something():
    assert normalize_drug("Versed") == {"generic": "midazolam", "drug_class": "benzodiazepine"}
    assert [(e.text, e.label_) for e in _bundled()("Versed 2 mg was given intravenously before the block.").ents] == [
        ("Versed", "DRUG")]
    assert [e.label_ for e in _bundled()("He should be well versed in a home exercise program.").ents] == []


@pytest.mark.parametrize("name, generic", [
    ("Prialt", "ziconotide"), ("vitamin C", "ascorbic acid"), ("vitamin B12", "cyanocobalamin"),
    ("Glucovance", "glyburide/metformin"), ("Lipo-Flavonoid", "bioflavonoid"), ("Refresh Plus", "carboxymethylcellulose"),
    ("Augmentin", "amoxicillin/clavulanate"), ("amoxicillin-clavulanate", "amoxicillin/clavulanate"),
    ("Unasyn", "ampicillin/sulbactam"), ("DuoNeb", "ipratropium/albuterol"), ("Engerix-B", "hepatitis b vaccine"),
    ("HepaGam B", "hepatitis b immune globulin"), ("Boostrix", "tdap vaccine"),
    ("emtricitabine/tenofovir disoproxil fumarate", "emtricitabine/tenofovir"),
    ("marijuana", "cannabis"), ("CBD", "cannabidiol"), ("Benicar HCT", "olmesartan/hydrochlorothiazide"),
    ("Hyzaar", "losartan/hydrochlorothiazide"), ("Zestoretic", "lisinopril/hydrochlorothiazide"),
    ("Janumet", "sitagliptin/metformin"), ("Kaletra", "lopinavir/ritonavir"), ("Combivir", "lamivudine/zidovudine"),
    ("Truvada", "emtricitabine/tenofovir"), ("gabapentin enacarbil", "gabapentin"),
    ("Bactrim DS", "sulfamethoxazole/trimethoprim"), ("Neosporin", "neomycin/polymyxin b/bacitracin"),
    ("Systane Ultra", "polyethylene glycol/propylene glycol"),
])
def test_products_independent_writers_named(name, generic):
    assert normalize_drug(name)["generic"] == generic


def test_a_ganglion_and_a_vitamin_level_are_no_drugs():
    """"stellate" ends like a drug name and is unknown to the lexicon; before "ganglion" it names a part
    of the body. A vitamin B12 level is a laboratory value, not the vitamin given."""
    for sentence in ("Stellate ganglion blocks x 3 were requested.", "Two right stellate ganglion blocks gave relief.",
                     "He had a pes anserine bursa injection.",
                     "There is no vitamin B12 level in the records."):
        assert [e.text for e in _bundled()(sentence).ents if e.label_ == "DRUG"] == [], sentence
    assert [(e.text, e.label_) for e in _bundled()("He received a vitamin B12 injection.").ents] == [
        ("vitamin B12", "DRUG")]
    # a bacterium's genus before its species names no drug
    assert [e.text for e in _bundled()("There is a risk of Clostridium difficile infection.").ents
            if e.label_ == "DRUG"] == []
    # a bacterium's resistance names no drug given
    assert [e.text for e in _bundled()("The culture grew methicillin-resistant Staphylococcus aureus.").ents
            if e.label_ == "DRUG"] == []
    assert [(e.text, e.label_) for e in _bundled()("He was given Augmentin 875 mg twice daily.").ents] == [
        ("Augmentin", "DRUG")]


@pytest.mark.parametrize("sentence, expected", [
    # services named by words the service list lacked, and a unit word naming the service before its unit
    ("The device representative performed two reprogramming sessions in April.", ["two reprogramming sessions"]),
    ("He used a TENS unit during six treatment sessions in 2012.", ["six treatment sessions"]),
    # the weeks or months a program or membership is requested for
    ("The physician requested a medically supervised weight loss program for ten weeks.", ["ten weeks"]),
    # windows and how long symptoms lasted are no course
    ("A repeat procedure should not occur at an interval of less than six months from the first.", []),
    ("Topical agents may be considered for short-term use (4-12 weeks) in osteoarthritis.", []),
    ("He has had more than eight months of symptoms despite therapy.", []),
])
def test_session_counts_of_session_29(sentence, expected):
    assert [e.text for e in _bundled()(sentence).ents if e.label_ == "SESSION_COUNT"] == expected


def test_the_mtus_named_with_its_year_before_its_own_document_is_one_citation():
    text = "Decision based on the California MTUS 2009 Acupuncture Medical Treatment Guidelines, 9792.24.1."
    doc = CitationDocuments(**citation_documents())(_doc(text, [
        ("California MTUS", "GUIDELINE"), ("Acupuncture Medical Treatment Guidelines", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["California MTUS 2009 Acupuncture Medical Treatment Guidelines"]


def _one_item_layout(fields: str):
    from nlp.layout import parse_layout
    from nlp.textnorm import normalize_text

    text = normalize_text(_ONE_ITEM_2015.format(fields=fields))
    return text, parse_layout(text).items[0]


def test_each_side_of_unlabelled_fields_without_periods_keeps_its_own_paragraph():
    """"The Claims Administrator based its decision on: X" / "The Expert Reviewer based the decision on: Y",
    no period after either: a paragraph ends a side's sentence, so Y is the reviewer's (and the whole
    of it one citation, the lead-in's colon no part of it)."""
    fields = ("\nThe Claims Administrator based its decision on: ODG Diabetes Chapter\n\n"
              "The Expert Reviewer based the decision on: Official Disability Guidelines (ODG), Diabetes (Type\n"
              "1, 2, and Gestational) Chapter, Bariatric surgery\n")
    text, item = _one_item_layout(fields)
    assert text[item.claims_administrator.start:item.claims_administrator.end].endswith("ODG Diabetes Chapter")
    assert text[item.reviewer.start:item.reviewer.end].startswith("The Expert Reviewer")
    assert _bundled_item_fields(fields) == [
        ("ODG Diabetes Chapter", "GUIDELINE"),
        ("Official Disability Guidelines (ODG), Diabetes (Type 1, 2, and Gestational) Chapter, Bariatric surgery",
         "GUIDELINE")]


def test_a_salt_is_part_of_the_drugs_name_and_a_salt_named_alone_is_a_drug():
    assert [(e.text, e.label_) for e in _bundled()("Peridex (chlorhexidine gluconate) is an oral rinse.").ents] == [
        ("Peridex", "DRUG"), ("chlorhexidine gluconate", "DRUG")]
    assert [(e.text, e.label_) for e in _bundled()("She was treated with topical calcium gluconate gel.").ents] == [
        ("calcium gluconate", "DRUG")]


def test_a_guidelines_title_after_for_or_on_is_part_of_it():
    assert [(e.text, e.label_) for e in _bundled()(
        "Per the CDC Guideline for Prescribing Opioids for Chronic Pain, doses above 90 MME are avoided.").ents] == [
        ("CDC Guideline for Prescribing Opioids for Chronic Pain", "GUIDELINE")]
    assert [e.text for e in _bundled()("The AAO Preferred Practice Pattern for Dry Eye Syndrome advises lubricants.").ents
            if e.label_ == "GUIDELINE"] == ["AAO Preferred Practice Pattern for Dry Eye Syndrome"]
    # a lower-case topic is prose
    assert [e.text for e in _bundled()("The MTUS Guidelines for acupuncture allow 6 visits.").ents
            if e.label_ == "GUIDELINE"] == ["MTUS Guidelines"]


def test_a_citation_ends_before_prose_and_a_listed_one_starts_after_the_article():
    # an adjective after it is no part of a citation
    assert [e.text for e in _bundled()("The Expert Reviewer found the MTUS silent on this request.").ents
            if e.label_ == "GUIDELINE"] == ["MTUS"]
    # a sentence's verb is never inside a citation
    assert [(e.text, e.label_) for e in _bundled()(
        "Decision rationale: Clonidine is used off label to blunt the symptoms of withdrawal.").ents
        if e.label_ == "GUIDELINE"] == []
    assert [(e.text, e.label_) for e in _bundled()(
        "The American Geriatrics Society Beers Criteria also advise avoiding zolpidem.").ents] == [
        ("American Geriatrics Society Beers Criteria", "GUIDELINE"), ("zolpidem", "DRUG")]
    # nor an adverb of the sentence
    assert [e.text for e in _bundled()("The ODG specifically does not recommend TENS for this.").ents
            if e.label_ == "GUIDELINE"] == ["ODG"]
    assert [e.text for e in _bundled()("The ODG further defines durable medical equipment as such.").ents
            if e.label_ == "GUIDELINE"] == ["ODG"]
    # a measure's initials before "criteria" name no guideline
    assert _bundled()("This patient meets the age, BMI and symptom criteria and has failed injections.").ents == ()
    assert _bundled_item_fields(
        "Medical Treatment Guideline(s) Used: Official Disability Guidelines (ODG), Mental Illness & Stress, Office "
        "visits; and the California MTUS ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 15, page 405.") == [
        ("Official Disability Guidelines (ODG), Mental Illness & Stress, Office visits", "GUIDELINE"),
        ("California MTUS ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 15, page 405", "GUIDELINE")]


def test_a_reviewers_specialty_is_no_guideline():
    from nlp.ner.patterns import guideline_specialty_leads

    text = "He is Board Certified in Orofacial Pain and licensed in California."
    f = EntityFilter([], [], [], specialty_leads=guideline_specialty_leads())
    doc = _doc(text, [("Orofacial Pain", "GUIDELINE")])
    assert [e.text for e in doc.ents if f.keep(e)] == []
    doc = _doc("The American Academy of Orofacial Pain guidelines apply.", [("Orofacial Pain", "GUIDELINE")])
    assert [e.text for e in doc.ents if f.keep(e)] == ["Orofacial Pain"]
    # ... or in the credentials block's specialty field
    from nlp.ner.patterns import guideline_specialty_fields

    f = EntityFilter([], [], [], specialty_fields=guideline_specialty_fields())
    text = "Certification(s)/Specialty: Otolaryngology, Facial Plastic & Reconstructive Surgery\nPer the ODG Head Chapter, no."
    doc = _doc(text, [("Facial Plastic & Reconstructive Surgery", "GUIDELINE"), ("ODG Head Chapter", "GUIDELINE")])
    assert [e.text for e in doc.ents if f.keep(e)] == ["ODG Head Chapter"]


def test_a_drug_class_is_no_drug():
    assert normalize_drug("phenothiazine") is None
    assert [e.text for e in _bundled()("Promethazine is a phenothiazine used as an antiemetic.").ents] == ["Promethazine"]


def test_a_guideline_adopted_by_the_mtus_in_the_next_sentence_is_another_citation():
    """"... (MRI). Decision rationale: The neck guideline adopted by the" + "MTUS": a sentence ended between
    them, so "adopted by the" joins nothing (nor does it in one sentence: "ACOEM guidelines" + "MTUS")."""
    text = ("Decision based on ODG Neck and Upper Back (Acute & Chronic), Magnetic resonance imaging (MRI). Decision "
            "rationale: The neck guideline adopted by the MTUS requires red flags.")
    doc = CitationDocuments(**citation_documents())(_doc(text, [
        ("ODG Neck and Upper Back (Acute & Chronic), Magnetic resonance imaging (MRI)", "GUIDELINE"), ("MTUS", "GUIDELINE")]))
    assert [e.text for e in doc.ents] == ["ODG Neck and Upper Back (Acute & Chronic), Magnetic resonance imaging (MRI)",
                                          "MTUS"]


@pytest.mark.parametrize("text, parts", [
    # a field's list that ran on into the rationale's paragraph
    ("Page(s): 70-73\n\nThe MTUS recommends NSAIDs.", ["Page(s): 70-73", "The MTUS recommends NSAIDs."]),
    # breaks the extraction left inside one sentence: after an abbreviation's period, before a dash, a number or a label
    ("prescribing information, U.S.\n\nFood and Drug Administration", None),
    ("for Chronic Pain\n\n- United States, 2016", None),
    ("8 C.C.R.\n\n9792.24.1", None),
    ("Non-MTUS\n\nCitation: CDC Guideline", None),
    ("Other Medical Treatment Guideline or \n\nMedical Evidence: Official Disability Guidelines", None),
])
def test_a_field_sentence_ends_where_a_new_paragraph_opens_with_a_capitalized_word(text, parts):
    from nlp.ner.components import _at_paragraph_starts

    assert [text[a:b] for a, b in _at_paragraph_starts(text, 0, len(text))] == (parts or [text])
