"""Entity normalizers: gold norms, hard forms, and property tests (SPEC section 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.normalizers import (
    expand_pages,
    infer_count_role,
    role_cue,
    normalize_count,
    normalize_drug,
    normalize_guideline,
    unit_from_hint,
)

GOLD_DIR = Path(__file__).resolve().parents[1] / "examples" / "gold"
GOLD = [json.loads(p.read_text()) for p in sorted(GOLD_DIR.glob("*.json"))]


def _entities(label):
    out = []
    for doc in GOLD:
        requests = {it["index"]: it.get("request") for it in doc["items"]}
        for e in doc["entities"]:
            if e["label"] == label:
                out.append(pytest.param(e, requests.get(e["item"]), id=f"{doc['id']}:{e['text']}"))
    return out


def _item_guidelines():
    out = []
    for doc in GOLD:
        for it in doc["items"]:
            for side, gl in it["guidelines"].items():
                for g in gl:
                    out.append(pytest.param(g, id=f"{doc['id']}:{it['index']}:{side}:{g['text']}"))
    return out


# ---------------------------------------------------------------- gold
def test_gold_fixtures_present():
    assert len(GOLD) == 3


@pytest.mark.parametrize("ent,request_text", _entities("DRUG"))
def test_gold_drug_norms(ent, request_text):
    assert normalize_drug(ent["text"]) == ent["norm"]


@pytest.mark.parametrize("ent,request_text", _entities("SESSION_COUNT"))
def test_gold_count_norms(ent, request_text):
    got = normalize_count(ent["text"], role=ent["norm"]["role"], unit_hint=request_text)
    assert got == ent["norm"]


@pytest.mark.parametrize("ent,request_text", _entities("GUIDELINE"))
def test_gold_guideline_entity_norms(ent, request_text):
    # Gold entity norms never fill `topic` (the item-level guideline lists do; see below), so
    # entity norms are compared on source, document and pages.
    got = normalize_guideline(ent["text"])
    want = ent["norm"]
    assert (got["source"], got["document"], got["pages"]) == (want["source"], want["document"], want["pages"])


@pytest.mark.parametrize("g", _item_guidelines())
def test_gold_item_guidelines(g):
    got = normalize_guideline(g["text"])
    assert got == {k: g[k] for k in ("source", "document", "topic", "pages")}


# ---------------------------------------------------------------- counts: hard forms
@pytest.mark.parametrize(
    "text,hint,want",
    [
        ("36 sessions", None, (36, 36, "session", None)),
        ("24 WEEKS", None, (24, 24, "week", None)),
        ("QUANTITY: 6.00", None, (6, 6, "unit", None)),
        ("QUANTITY: 6.00", "MONTHLY MEDICATION MANAGEMENT (IN MONTHS) QUANTITY: 6.00", (6, 6, "month", None)),
        ("QUANTITY: 6.00", "month", (6, 6, "month", None)),
        ("QUANTITY: 24 WEEKS", None, (24, 24, "week", None)),
        ("QTY: 2", None, (2, 2, "unit", None)),
        ("QTY: 12", "Acupuncture sessions", (12, 12, "session", None)),
        ("3 - 4 sessions over two weeks", None, (3, 4, "session", (2, 2, "week"))),
        ("13-20 visits over 13-20 weeks", None, (13, 20, "visit", (13, 20, "week"))),
        ("6 visits over 6 weeks", None, (6, 6, "visit", (6, 6, "week"))),
        ("Six visits", None, (6, 6, "visit", None)),
        ("four sessions", None, (4, 4, "session", None)),
        ("twenty-four sessions", None, (24, 24, "session", None)),
        ("Twelve physical therapy visits", None, (12, 12, "visit", None)),
        ("3 to 4 sessions", None, (3, 4, "session", None)),
        ("12-18 sessions", None, (12, 18, "session", None)),
        ("2 x 6", None, (12, 12, "session", (6, 6, "week"))),
        ("2x6", None, (12, 12, "session", (6, 6, "week"))),
        ("2 times a week for 6 weeks", None, (12, 12, "session", (6, 6, "week"))),
        ("two times a week for three weeks", None, (6, 6, "session", (3, 3, "week"))),
        ("2x/week x 6 weeks", None, (12, 12, "session", (6, 6, "week"))),
        ("1-2 times per week for 6 weeks", None, (6, 12, "session", (6, 6, "week"))),
        ("3 visits per week for 2 weeks", None, (6, 6, "visit", (2, 2, "week"))),
        ("Four sessions of electrical stimulation two times a week times 2 weeks", None,
         (4, 4, "session", (2, 2, "week"))),
        ("physical therapy 2 times a week for 6 weeks (12 sessions)", None, (12, 12, "session", (6, 6, "week"))),
        ("Six sessions of acupuncture one time a week for six weeks", None, (6, 6, "session", (6, 6, "week"))),
        ("8-10 visits over 4 weeks", None, (8, 10, "visit", (4, 4, "week"))),
        ("6 treatments", None, (6, 6, "treatment", None)),
        # a figure restating its number word, a parenthesized gloss, a hyphenated unit, "a month"
        ("five (5) physical therapy sessions", None, (5, 5, "session", None)),
        ("6 PT (physical therapy) sessions", None, (6, 6, "session", None)),
        ("6-visit", None, (6, 6, "visit", None)),
        ("a month", None, (1, 1, "month", None)),
        ("twice weekly for eight weeks", None, (16, 16, "session", (8, 8, "week"))),
        ("once weekly over 6 weeks", None, (6, 6, "session", (6, 6, "week"))),
        # the frequency word alone: once a week (month) for the duration
        ("weekly for six weeks", None, (6, 6, "session", (6, 6, "week"))),
        ("monthly for 12 months", None, (12, 12, "session", (12, 12, "month"))),
        ("weekly sessions over six weeks", None, (6, 6, "session", (6, 6, "week"))),
    ],
)
def test_count_forms(text, hint, want):
    got = normalize_count(text, unit_hint=hint)
    over = None if got["over"] is None else (got["over"]["min"], got["over"]["max"], got["over"]["unit"])
    assert (got["min"], got["max"], got["unit"], over) == want


def test_count_role_passthrough():
    assert normalize_count("36 sessions", role="requested")["role"] == "requested"
    assert normalize_count("36 sessions", role="bogus")["role"] is None
    assert normalize_count("36 sessions")["role"] is None


def test_count_without_number():
    assert normalize_count("no count here") == {"min": None, "max": None, "unit": None, "over": None, "role": None}


def test_unit_from_hint():
    assert unit_from_hint("MONTHLY MEDICATION MANAGEMENT (IN MONTHS)") == "month"
    assert unit_from_hint("WEEKLY COGNITIVE BEHAVIORAL SESSIONS") == "session"
    assert unit_from_hint("visit") == "visit"
    assert unit_from_hint(None) is None
    assert unit_from_hint("MRI of the knee") is None


@pytest.mark.parametrize(
    "context,in_request,want",
    [
        ("The Official Disability Guidelines-Psychotherapy Guidelines recommend an initial trial of 6 visits "
         "over 6 weeks", False, "recommended"),
        ("the guidelines allow up to 10 visits", False, "recommended"),
        ("The patient has attended 12 sessions of physical therapy.", False, "completed"),
        ("She has had 6 prior acupuncture treatments.", False, "completed"),
        ("The patient already underwent 8 sessions.", False, "completed"),
        ("This is a request for 12 sessions of physical therapy.", False, "requested"),
        ("Six visits for medication management is appropriate due to the complexity", False, "requested"),
        ("the attending provider stated that a trial of four sessions of cognitive behavioral therapy would "
         "not be adequate here.", False, None),
        ("WEEKLY COGNITIVE BEHAVIORAL SESSIONS QUANTITY: 24 WEEKS", True, "requested"),
        ("", False, None),
        # the authorized part of a partly authorized request: neither requested nor received
        ("Acupuncture 6 sessions was authorized by the Claims Administrator.", True, None),
        ("Acupuncture 18 sessions was the original request.", True, "requested"),
        ("She had been approved for 1 to 2 visits.", False, None),
    ],
)
def test_infer_count_role(context, in_request, want):
    assert infer_count_role(context, in_request) == want


def test_infer_count_role_nearest_cue():
    ctx = "The patient has completed 12 sessions; guidelines recommend 10 visits."
    assert infer_count_role(ctx, False, span=(26, 37)) == "completed"
    i = ctx.index("10 visits")
    assert infer_count_role(ctx, False, span=(i, i + 9)) == "recommended"
    ctx = "The request was modified to allow for 6 sessions; guidelines recommend 10 visits."
    i = ctx.index("6 sessions")
    assert infer_count_role(ctx, False, span=(i, i + 10)) is None
    i = ctx.index("10 visits")
    assert infer_count_role(ctx, False, span=(i, i + 9)) == "recommended"



@pytest.mark.parametrize("ctx, count, want", [
    # no cue word near the count: a guideline named before it in the sentence says what it allows
    ("According to the California MTUS 2016 Chronic Pain Guidelines, biofeedback may be considered "
     "after 4 weeks of cognitive behavioral therapy.", "4 weeks", "recommended"),
    ("ODG advise 9-10 visits over 8 weeks for myalgia.", "9-10 visits over 8 weeks", "recommended"),
    # the guideline named after the count attributes nothing
    ("As such, 6 therapy sessions is consistent with guideline recommendations.", "6 therapy sessions", None),
    # a cue word still wins over the attribution
    ("Per the guidelines, the patient has completed 12 sessions.", "12 sessions", "completed"),
    # "despite" and "earlier" mark a course already received
    ("Despite 12 sessions of physical therapy, there is no objective functional improvement.", "12 sessions",
     "completed"),
    ("An earlier course of acupuncture consisted of 4 visits.", "4 visits", "completed"),
    # a course placed in a past year was received; a clinician's recommendation is the request
    ("She had physical therapy 2x/week for 9 weeks in 2012, then a home program.", "2x/week for 9 weeks",
     "completed"),
    ("The chiropractor recommended manipulation 3 times weekly for 4 weeks.", "3 times weekly for 4 weeks",
     "requested"),
    ("Utilization review modified the chiropractic request to six (6) sessions.", "six (6) sessions", None),
    ("The additional four visits are therefore not supported.", "four visits", "requested"),
    ("Asking for 12 visits at the outset exceeds the initial trial.", "12 visits", "requested"),
    ("The number requested is within the allowance of 9-10 visits over 8 weeks.", "9-10 visits over 8 weeks",
     "recommended"),
    ("Physical therapy daily notes (12 visits) dated 03/09/2015 through 04/17/2015", "12 visits", "completed"),
    ("Conservative care has consisted of 16 sessions of physical therapy.", "16 sessions", "completed"),
    ("The psychologist recommended 6 sessions of cognitive behavioral therapy.", "6 sessions", "requested"),
    ("The claims administrator has already certified six visits.", "six visits", None),
    ("This injured worker received three physical therapy visits.", "three physical therapy visits", "completed"),
    ("She had undergone 1 session of physical therapy.", "1 session", "completed"),
    # "prior to" is "before", no cue: the guideline named before the count decides
    ("The guidelines state that patients should be formally assessed after a six-visit clinical trial "
     "prior to continuing.", "six-visit", "recommended"),
    # a request received is a request; the header's "Application Received:" is a label
    ("On November 21, a request was received for physical therapy 12 sessions.", "12 sessions", "requested"),
    ("IMR Application Received: 01/15/2015 Treatment(s) in Dispute: Eighteen sessions of physical therapy",
     "Eighteen sessions", None),
    ("The request for 12 sessions was modified to 6 sessions.", "6 sessions", None),
    # a further / additional course is what the item asks for; a course failed or had, received;
    # a guideline's time to improvement and its limits, what it allows (written letters)
    ("Without evidence of functional improvement, a further 20 sessions cannot be supported.", "20 sessions",
     "requested"),
    ("An additional eight treatments cannot be supported.", "eight treatments", "requested"),
    ("He has failed 18 visits of physical therapy.", "18 visits", "completed"),
    ("She also had two sessions of massage in May.", "two sessions", "completed"),
    ("The time to produce functional improvement is 3 to 6 treatments.", "3 to 6 treatments", "recommended"),
    ("Total treatment should generally not exceed 20 sessions.", "20 sessions", "recommended"),
    # treatment included / treated with / the last N: received; beyond / may be allowed: what the
    # guideline allows (written letters, session 13)
    ("Treatment has included physical therapy, chiropractic care for 24 visits from August 2012.", "24 visits",
     "completed"),
    ("He was treated initially with a knee sleeve and six sessions of physical therapy.", "six sessions", "completed"),
    ("The notes report that the last six sessions helped temporarily.", "six sessions", "completed"),
    ("An additional 12 sessions would carry the course well beyond the 13-20 visits contemplated.", "13-20 visits",
     "recommended"),
    ("For flare-ups, 1-2 visits every 4-6 months may be allowed if return to work was achieved.", "1-2 visits",
     "recommended"),
    # a course completed or documented in the file; a guideline's limit; an evaluator's recommendation is
    # the request; the part utilization review modified to (written letters, session 16)
    ("This worker appears to meet the criteria, including his completion of 6 sessions of pain psychology.",
     "6 sessions", "completed"),
    ("Physical therapy progress notes (8 visits)", "8 visits", "completed"),
    ("The chiropractic records document a total of 24 chiropractic visits through 06/2013.",
     "24 chiropractic visits", "completed"),
    ("The 20 sessions requested stay within the limit of 50 sessions that the ODG sets.", "50 sessions",
     "recommended"),
    ("The evaluator recommended an initial course of four sessions of cognitive behavioral therapy.",
     "four sessions", "requested"),
    ("Utilization review modified the physical therapy to 2 times a week for 3 weeks.",
     "2 times a week for 3 weeks", None),
    # a trial already completed, the most recent sessions; a guideline's maximum and the time it
    # expects; the request's own trial; the part utilization review modified to (written letters, vault/)
    ("This applicant completed the initial trial of six sessions, with measurable gains.", "six sessions",
     "completed"),
    ("Nor did the most recent 6 sessions produce objective functional improvement.", "6 sessions", "completed"),
    ("The 12 visits requested are more than the guideline maximum of 8 visits.", "8 visits", "recommended"),
    ("Functional improvement is expected within 3 to 6 treatments.", "3 to 6 treatments", "recommended"),
    ("The program proposes an initial trial of 10 sessions over two weeks with reassessment.",
     "10 sessions over two weeks", "requested"),
    ("Utilization review modified the acupuncture to 6 treatments.", "6 treatments", None),
    # a count that falls within the guideline is the request, not the allowance
    ("The request is for an initial block of four sessions, which falls within the trial the guideline "
     "endorses.", "four sessions", "requested"),
])
def test_infer_count_role_guideline_attribution_and_received_cues(ctx, count, want):
    i = ctx.index(count)
    assert infer_count_role(ctx, False, span=(i, i + len(count))) == want


def test_role_cue_names_the_authorized_class_that_the_role_leaves_null():
    ctx = "The request was modified to allow for 6 sessions."
    i = ctx.index("6 sessions")
    assert role_cue(ctx, (i, i + 10)) == "authorized"
    assert infer_count_role(ctx, False, span=(i, i + 10)) is None
    assert role_cue("Physical therapy 6 sessions.", (17, 27)) is None

# ---------------------------------------------------------------- guidelines: hard forms
@pytest.mark.parametrize(
    "text,want",
    [
        ("MTUS Shoulder Complaints 2004, Section(s): Special Studies", ("MTUS", "acoem_ch9", "special studies", [])),
        ("MTUS Low Back Complaints 2004, Section(s): Special Studies, Summary",
         ("MTUS", "acoem_ch12", "special studies, summary", [])),
        ("MTUS Neck and Upper Back Complaints 2004, Section(s): Initial Care", ("MTUS", "acoem_ch8", "initial care", [])),
        ("MTUS Knee Complaints 2004, Section(s): Surgical Considerations",
         ("MTUS", "acoem_ch13", "surgical considerations", [])),
        ("MTUS Forearm, Wrist, and Hand Complaints 2004, Section(s): Diagnostic Criteria",
         ("MTUS", "acoem_ch11", "diagnostic criteria", [])),
        ("MTUS Elbow Complaints 2007, Section(s): Recommendations", ("MTUS", "acoem_ch10", "recommendations", [])),
        ("MTUS Ankle and Foot Complaints 2004, Section(s): Summary", ("MTUS", "acoem_ch14", "summary", [])),
        ("MTUS Stress-Related Conditions 2004, Section(s): General Approach",
         ("MTUS", "acoem_ch15", "general approach", [])),
        ("MTUS ACOEM Chapter 15 Stress Related Conditions Page(s): 402", ("MTUS", "acoem_ch15", None, [402])),
        ("MTUS ACOEM Chapter 12 Low Back Complaints Page(s): 400-1", ("MTUS", "acoem_ch12", None, [400, 401])),
        ("MTUS-adopted ACOEM Guidelines in chapter 15", ("MTUS", "acoem_ch15", None, [])),
        # a section of the regulation is no page
        ("MTUS Acupuncture Medical Treatment Guidelines, Section(s): 9792.24.1", ("MTUS", "acupuncture", None, [])),
        # a chapter named in prose: the adopted chapter, no topic
        ("ACOEM chapter on stress related conditions", ("MTUS", "acoem_ch15", None, [])),
        ("the ACOEM chapter on the low back complaints", ("MTUS", "acoem_ch12", None, [])),
        ("ACOEM chapter on consultations", ("ACOEM", None, "consultations", [])),
        ("ACOEM Guidelines, Chapter 7, Independent Medical Examinations and Consultations, page 137",
         ("MTUS", "acoem_ch7", None, [137])),
        ("MTUS ACOEM pages 303-305", ("MTUS", None, None, [303, 304, 305])),
        ("MTUS Chronic Pain Treatment Guidelines Page(s): 100-102, 127",
         ("MTUS", "chronic_pain", None, [100, 101, 102, 127])),
        ("MTUS Chronic Pain Medical Treatment 2016, Section(s): Physical medicine treatment",
         ("MTUS", "chronic_pain", "physical medicine treatment", [])),
        ("Chronic Pain Medical Treatment 2016, Section(s): Topical analgesics",
         ("MTUS", "chronic_pain", "topical analgesics", [])),
        ("MTUS 2016 Chronic Pain Guidelines", ("MTUS", "chronic_pain", None, [])),
        ("MTUS Acupuncture Treatment 2007", ("MTUS", "acupuncture", None, [])),
        ("MTUS Acupuncture Medical Treatment Guidelines", ("MTUS", "acupuncture", None, [])),
        ("MTUS Postsurgical Treatment Guidelines", ("MTUS", "postsurgical", None, [])),
        ("MTUS Opioid Treatment 2016", ("MTUS", "opioids", None, [])),
        ("MTUS General Approaches 2004, Section(s): Cornerstones of Disability Prevention and Management",
         ("MTUS", "general_approaches", "cornerstones of disability prevention and management", [])),
        ("ODG Pain", ("ODG", "pain", None, [])),
        ("Official Disability Guidelines (ODG) Mental Illnes and Stress Chapter, Office Visits",
         ("ODG", "mental_illness_stress", "office visits", [])),
        ("Official Disability Guidelines (ODG), Low Back & Thoracic chapter (Acute & Chronic): Preoperative "
         "lab testing", ("ODG", "low_back", "preoperative lab testing", [])),
        ("Official Disability Guidelines (ODG) Neck & upper back, Cervical pillow",
         ("ODG", "neck_upper_back", "cervical pillow", [])),
        ("Official Disability Guidelines (ODG) Knee & Leg, Durable medical equipment (DME)",
         ("ODG", "knee_leg", "durable medical equipment (dme)", [])),
        ("Official Disability Guidelines (ODG) Shoulder, MRI", ("ODG", "shoulder", "mri", [])),
        ("Official Disability Guidelines (ODG) Hip & Pelvis, X-Ray", ("ODG", "hip_pelvis", "x-ray", [])),
        ("Official Disability Guidelines (ODG), Head (updated 11/22/16)", ("ODG", "head", None, [])),
        ("Official Disability Guidelines (ODG) Pain, Insomnia treatment, Suvorexant (Belsomra)",
         ("ODG", "pain", "insomnia treatment, suvorexant (belsomra)", [])),
        ("Official Disability Guidelines-Psychotherapy Guidelines", ("ODG", None, "psychotherapy", [])),
        ("ODG", ("ODG", None, None, [])),
        ("ACOEM", ("ACOEM", None, None, [])),
        ("ACOEM: Low back disorders, diagnostic and treatment recommendations",
         ("ACOEM", "low_back_disorders", "diagnostic and treatment recommendations", [])),
        ("Sildenafil: Drug information, accessed from UpToDate.com on 12/17/2016", ("OTHER", None, None, [])),
        ("FDA", ("OTHER", None, None, [])),
        ("California Medical Treatment Utilization Schedule (MTUS) Guidelines", ("MTUS", None, None, [])),
        ("Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), Pain", ("ODG", "pain", None, [])),
        ("MTUS Chronic Pain Treatment Guidelines Page(s): 24, 66", ("MTUS", "chronic_pain", None, [24, 66])),
    ],
)
def test_guideline_forms(text, want):
    got = normalize_guideline(text)
    assert (got["source"], got["document"], got["topic"], got["pages"]) == want


@pytest.mark.parametrize(
    "spec,want",
    [
        ("100-102, 127", [100, 101, 102, 127]),
        ("400-1", [400, 401]),
        ("24, 66", [24, 66]),
        ("303-305", [303, 304, 305]),
        ("127, 100-102", [100, 101, 102, 127]),
        ("56-57 and 111", [56, 57, 111]),
        ("12, 12", [12]),
        ("", []),
    ],
)
def test_expand_pages(spec, want):
    assert expand_pages(spec) == want


# ---------------------------------------------------------------- drugs: hard forms
@pytest.mark.parametrize(
    "text,generic,cls",
    [
        ("Prosom", "estazolam", "benzodiazepine"),
        ("ProSom", "estazolam", "benzodiazepine"),
        ("KLONOPIN", "clonazepam", "benzodiazepine"),
        ("cyclobenzaprine HCL", "cyclobenzaprine", "muscle_relaxant"),
        ("Oxycodone HCL ER", "oxycodone", "opioid"),
        ("hydrocodone/APAP", "hydrocodone/acetaminophen", "opioid"),
        ("Norco", "hydrocodone/acetaminophen", "opioid"),
        ("Terocin", "methyl salicylate/capsaicin/menthol/lidocaine", "topical_analgesic"),
        ("Soma", "carisoprodol", "muscle_relaxant"),
        ("ketoprofen", "ketoprofen", "nsaid"),
        ("BuSpar", "buspirone", "other"),
        ("Pantoprazole sodium", "pantoprazole", "proton_pump_inhibitor"),
        ("flurbiprofen/cyclobenzaprine/lidocaine cream", "flurbiprofen/cyclobenzaprine/lidocaine", "compounded"),
    ],
)
def test_drug_forms(text, generic, cls):
    assert normalize_drug(text) == {"generic": generic, "drug_class": cls}


@pytest.mark.parametrize("text", ["benzodiazepines", "opioids", "anxiolytics", "physical therapy", "2mg", "#30", ""])
def test_not_drugs(text):
    assert normalize_drug(text) is None


# ---------------------------------------------------------------- properties
COUNT_KEYS = {"min", "max", "unit", "over", "role"}
GUIDELINE_KEYS = {"source", "document", "topic", "pages"}
count_text = st.one_of(
    st.text(max_size=200),
    st.from_regex(r"(QTY|QUANTITY|#)?:? ?[0-9]{1,3}(\.[0-9]{1,2})?( ?- ?[0-9]{1,3})? ?(sessions|visits|weeks|x|times a week for)? ?[0-9]{0,2} ?(weeks)?", fullmatch=True),
)
guideline_text = st.one_of(
    st.text(max_size=200),
    st.from_regex(r"(MTUS|ODG|ACOEM|Official Disability Guidelines)( ACOEM)?( Chapter [0-9]{1,3})?[ ,A-Za-z]{0,30}( Page\(s\): [0-9]{1,4}(-[0-9]{1,4})?(, [0-9]{1,4})*)?", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(count_text, st.sampled_from([None, "requested", "completed", "recommended", "x"]),
       st.one_of(st.none(), st.text(max_size=40)))
def test_count_never_raises(text, role, hint):
    got = normalize_count(text, role=role, unit_hint=hint)
    assert set(got) == COUNT_KEYS
    assert got["unit"] in (None, "session", "visit", "treatment", "week", "month", "unit")
    assert got["role"] in (None, "requested", "completed", "recommended")
    if got["min"] is not None:
        assert got["max"] is not None and got["min"] <= got["max"]
    if got["over"] is not None:
        assert set(got["over"]) == {"min", "max", "unit"}
        assert got["over"]["unit"] in ("week", "month")


@settings(max_examples=300, deadline=None)
@given(guideline_text)
def test_guideline_never_raises(text):
    got = normalize_guideline(text)
    assert set(got) == GUIDELINE_KEYS
    assert got["source"] in ("MTUS", "ACOEM", "ODG", "OTHER")
    assert got["topic"] is None or (got["topic"] == got["topic"].lower() and got["topic"].strip())
    assert got["pages"] == sorted(set(got["pages"]))
    assert all(isinstance(p, int) for p in got["pages"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 2000)), max_size=6))
def test_expand_pages_sorted_unique(ranges):
    spec = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges)
    got = expand_pages(spec)
    assert got == sorted(set(got))
    for a, _ in ranges:
        assert a in got


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_drug_never_raises(text):
    got = normalize_drug(text)
    assert got is None or (set(got) == {"generic", "drug_class"} and got["generic"] == got["generic"].lower())


def test_a_guideline_normalization_is_a_fresh_dict_each_call():
    """Normalizations are kept per text (the citation components ask for the same texts several times a
    letter); what a caller does to the dict it got never reaches the next caller."""
    text = "MTUS Chronic Pain Medical Treatment Guidelines, Opioids, Page(s): 78-80"
    first = normalize_guideline(text)
    first["pages"].append(1)
    first["source"] = "OTHER"
    assert normalize_guideline(text) == {"source": "MTUS", "document": "chronic_pain", "topic": "opioids",
                                         "pages": [78, 79, 80]}
