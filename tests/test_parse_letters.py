"""Letters → records: exact fields on the shared real letters, the 64 published PDFs and each layout."""
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LAYOUTS, LETTERS, REAL, letter_pdf
from nlp.layout import parse_layout
from nlp.normalizers import normalize_guideline
from nlp.record import build_record
from nlp.pipeline import LetterParser
from nlp.reading import RawDocument, iter_documents
from nlp.textnorm import normalize_text


def parse_files(*paths):
    return list(LetterParser().process(iter_documents([str(p) for p in paths])))


def parse_string(text, doc_id="x"):
    return next(LetterParser().process([RawDocument(doc_id, doc_id, text, None)]))


@pytest.fixture(scope="module")
def real_records():
    return {r["id"]: r for r in parse_files(REAL)}


def test_shared_letters_match_gold(gold):
    records = {r["id"]: r for r in parse_files(LETTERS)}
    assert set(records) == set(gold)
    for gid, g in gold.items():
        r = records[gid]
        assert r["error"] is None
        assert r["format"] == g["format"]
        assert r["reviewer_specialties"] == g["reviewer_specialties"]
        assert r["patient"] == g["patient"]
        assert [(i["index"], i["request"], i["decision"]) for i in r["items"]] == \
               [(i["index"], i["request"], i["decision"]) for i in g["items"]]


def test_real_pdfs_all_items_and_decisions(real_records, real_labels):
    assert len(real_records) == 64
    items = [i for r in real_records.values() for i in r["items"]]
    assert len(items) == 161
    assert sum(i["decision"] == "overturned" for i in items) == 20
    for rid, r in real_records.items():
        assert r["error"] is None, rid
        assert r["case_number"] == rid  # the file is named after its case number
        assert r["format"] == "dwc_2014"


def test_real_requests_match_hand_labels(real_records, real_labels):
    """Every request, original request and decision equals the independent hand annotation."""
    for lab in real_labels:
        it = real_records[lab["case_number"]]["items"][lab["index"] - 1]
        assert (it["request"], it["original_request"], it["decision"]) == \
               (lab["request"], lab["original_request"], lab["decision"]), (lab["case_number"], lab["index"])


# Read by hand from the PDFs' header tables and case summaries.
HEADER_TABLES = {
    "CM16-0221706": ("2016-11-23", "2016-12-21", "2016-10-20", "2016-11-15", "2016-10-16", 65, "male"),
    "CM16-0228949": ("2016-12-05", "2016-12-30", "2016-11-16", "2016-11-28", "2016-10-14", 57, "female"),
    "CM16-0246635": ("2017-01-11", "2017-02-06", "2016-11-30", "2016-12-23", "2016-10-16", 28, "female"),
    "CM17-0002857": ("2017-01-09", "2017-02-01", "2016-12-22", "2017-01-04", "2016-12-16", 62, "male"),
    "CM17-0008577": ("2017-01-17", "2017-02-14", "2017-01-12", "2017-01-12", "2016-10-13", 37, "female"),
    "CM17-0013754": ("2017-01-26", "2017-02-17", "2016-12-20", "2017-01-20", "2016-11-02", 45, "male"),
    "CM17-0021791": ("2017-02-03", "2017-02-28", "2017-01-28", "2017-02-02", "2016-10-24", 66, "male"),
}


@pytest.mark.parametrize("case", sorted(HEADER_TABLES))
def test_real_header_tables(real_records, case):
    r = real_records[case]
    assigned, decision, ur, received, doi, age, sex = HEADER_TABLES[case]
    assert r["dates"] == {"assigned": assigned, "decision": decision, "ur_denial": ur, "application_received": received}
    assert r["patient"] == {"age": age, "sex": sex, "date_of_injury": doi}


@pytest.mark.parametrize("table", [
    # as the published PDFs extract: each label with its value
    "Case Number: CM14-0176430 Date Assigned: 10/28/2014 Date of Injury: 04/07/2014\n\n"
    "Decision Date: 12/15/2014 UR Denial Date: 10/14/2014 Priority: Standard Application Received: 10/22/2014",
    # column by column, as other tools extract the same table: labels first, then their values
    "Case Number: Date of Injury: UR Denial Date: Application Received: CM14-0176430 04/07/2014 10/14/2014 "
    "10/22/2014 Date Assigned:\n\nDecision Date: Priority: 10/28/2014 12/15/2014 Standard",
    "Case Number: Date Assigned: CM14-0176430 10/28/2014 Date of Injury:\n\nDecision Date: 04/07/2014 12/15/2014 "
    "UR Denial Date: Priority: 10/14/2014 Standard Application Received: 10/22/2014",
])
def test_a_header_table_read_in_any_cell_order(table):
    from nlp.layout import Span
    from nlp.letter_fields import header_table

    text = table + "\n\nHOW THE IMR FINAL DETERMINATION WAS MADE\n\nThe decision of 01/02/2015 was ..."
    assert header_table(text, Span(0, len(text))) == {
        "case_number": "CM14-0176430", "assigned": "2014-10-28", "date_of_injury": "2014-04-07",
        "decision": "2014-12-15", "ur_denial": "2014-10-14", "application_received": "2014-10-22"}


def test_real_credentials_block(real_records):
    assert real_records["CM16-0221706"]["reviewer_specialties"] == [
        "Preventive Medicine", "Occupational Medicine", "Family Practice"]
    assert real_records["CM16-0249724"]["reviewer_specialties"] == [
        "Physical Medicine and Rehabilitation", "Pain Management"]
    assert real_records["CM17-0007300"]["reviewer_specialties"] == [
        "Preventive Medicine", "Occupational Medicine", "Public Health and General Preventive Medicine"]


def test_a_partial_authorization_written_as_three_paragraphs_is_one_heading():
    items = ("Urine drug screen: Upheld\nClaims Administrator guideline: MTUS.\nDecision rationale: No.\n\n"
             "Physical therapy two times a week for six weeks was the original request.\n\n"
             "Physical therapy two times a week for three weeks was authorized by the Claims Administrator.\n\n"
             "The remaining IMR eligible portion of the original request, physical therapy two times a week for "
             "three weeks is: Upheld\nClaims Administrator guideline: MTUS.\nDecision rationale: No.\n")
    text = normalize_text("HOW THE IMR FINAL DETERMINATION WAS MADE\n\nCLINICAL CASE SUMMARY\n\nThe patient is a "
                          "40 year old male.\n\nIMR ISSUES, DECISIONS AND RATIONALES\n\n" + items)
    first, second = parse_layout(text).items
    assert second.original_request == "Physical therapy two times a week for six weeks"
    assert second.request == "physical therapy two times a week for three weeks"
    # the original and authorized paragraphs belong to the second item, not to the first
    assert first.span.end == text.index("Physical therapy two times a week for six weeks") == second.span.start
    # a comma may close the remaining portion before "is:"; it is no part of the request
    first, second = parse_layout(text.replace("three weeks is: Upheld", "three weeks, is: Upheld")).items
    assert second.request == "physical therapy two times a week for three weeks"


def test_an_item_heading_run_into_the_end_of_the_previous_rationale():
    """Extraction ran a heading into the last line of the item before it ("... documents a need. Office visits QTY:
    3.00: Overturned"): the heading is that last sentence, the rest stays the previous item's rationale."""
    items = ("Colace 100mg #60: Upheld\nClaims Administrator guideline: MTUS.\nDecision rationale: It is not needed. "
             "This does not preclude its use if the physician documents a need. Office visits QTY: 3.00: Overturned\n"
             "Claims Administrator guideline: MTUS.\nDecision rationale: Yes.\n")
    text = normalize_text("HOW THE IMR FINAL DETERMINATION WAS MADE\n\nCLINICAL CASE SUMMARY\n\nThe patient is a "
                          "40 year old male.\n\nIMR ISSUES, DECISIONS AND RATIONALES\n\n" + items)
    first, second = parse_layout(text).items
    assert (first.request, first.decision) == ("Colace 100mg #60", "upheld")
    assert (second.request, second.decision) == ("Office visits QTY: 3.00", "overturned")
    assert first.rationale.text(text).endswith("physician documents a need.")
    assert second.span.start == text.index("Office visits QTY")


def test_the_sides_labels_run_into_one_line_under_a_relied_upon_heading():
    """Extraction ran the reviewer's label into the end of the claims administrator's citation ("... Table 13-5
    MAXIMUS guideline: ..."), under a "Guideline(s) Relied Upon:" heading with nothing of its own: each side has its
    citation, the heading no field."""
    items = ("MRI of the left knee: Overturned\n\nGuideline(s) Relied Upon:\n\n"
             "Claims Administrator guideline: MTUS ACOEM Knee Complaints, Chapter 13, Table 13-5 MAXIMUS guideline: "
             "ODG Knee & Leg, MRI's\n\nRationale: Imaging is indicated.\n")
    text = normalize_text("HOW THE IMR FINAL DETERMINATION WAS MADE\n\nCLINICAL CASE SUMMARY\n\nThe patient is a "
                          "40 year old male.\n\nIMR ISSUES, DECISIONS AND RATIONALES\n\n" + items)
    item, = parse_layout(text).items
    assert item.claims_administrator.text(text) == "MTUS ACOEM Knee Complaints, Chapter 13, Table 13-5"
    assert item.reviewer.text(text) == "ODG Knee & Leg, MRI's"
    assert item.rationale.text(text) == "Imaging is indicated."
    # in prose the label is no label: after a word, not after white space
    assert parse_layout(text.replace(" MAXIMUS guideline:", "-MAXIMUS guideline:")).items[0].reviewer.text(text) == ""


def test_real_partial_authorization(real_records):
    it = real_records["CM16-0249724"]["items"][0]
    assert it["original_request"] == "Standard wheelchair for a 3 month rental"
    assert it["request"] == "standard wheelchair for a 2 month rental"
    it = real_records["CM17-0007300"]["items"][1]  # "320.5" in the original, "30.5" in the remainder
    assert it["original_request"] == "One month supply of Trezix capsule 320.5/30/16mg"
    assert it["request"] == "one month supply of Trezix capsule 30.5/30/16mg"


def test_item_fields_are_found_on_every_real_item(real_records):
    for r in real_records.values():
        text_spans = [it["spans"] for it in r["items"]]
        for s in text_spans:
            assert s["claims_administrator"] and s["reviewer"] and s["rationale"]
            assert s["heading"][0] < s["claims_administrator"][0] < s["reviewer"][0] < s["rationale"][0] <= s["item"][1]


def test_dwc_2013_notice_layout():
    (r,) = parse_files(LAYOUTS / "dwc_2013_notice.txt")
    assert r["format"] == "dwc_2013_notice" and r["error"] is None
    assert r["case_number"] == "CM13-0004321"
    assert r["dates"] == {"assigned": None, "decision": "2013-09-19", "ur_denial": "2013-07-25",
                          "application_received": None}
    assert r["reviewer_specialties"] == ["Psychiatry and Neurology"]
    assert r["patient"] == {"age": 47, "sex": "male", "date_of_injury": "2007-05-22"}
    assert [(i["request"], i["decision"]) for i in r["items"]] == [
        ("ProSom", "upheld"), ("cognitive behavioral therapy (36 sessions)", "overturned")]


@pytest.mark.parametrize("credentials, expected", [
    # SPEC section 2: full words, "&" spelled out, one name per specialty (the shared gold's
    # "Preventive Medicine" for "Preventative"; independent writers' "Orthopedic Surgery" for
    # "Orthopaedic" in three letters of four, "Chiropractic" as written)
    ("The expert reviewer is Board Certified in Orthopaedic Surgery and is licensed to practice in California.",
     ["Orthopedic Surgery"]),
    ("The expert reviewer is Board Certified in Physical Medicine & Rehabilitation and Preventative Medicine.",
     ["Physical Medicine and Rehabilitation", "Preventive Medicine"]),
    ("The expert reviewer has a subspecialty in Chiropractic and is licensed to practice in California.",
     ["Chiropractic"]),
    # a name the lexicon lacks, made of capitalized words before a known one, stays whole
    ("The expert reviewer is Board Certified in Orthopedic Surgery, has a subspecialty in Spine Surgery and is "
     "licensed to practice in California.", ["Orthopedic Surgery", "Spine Surgery"]),
    # other writers' credentials sentences; their clauses are no specialty
    ("The expert reviewer is Board Certified in Anesthesiology, holds a subspecialty certification in Pain Medicine, "
     "and is licensed in California.", ["Anesthesiology", "Pain Medicine"]),
    ("The expert reviewer is Board Certified in Plastic Surgery, has a subspecialty in Hand Surgery and holds a "
     "California medical license.", ["Plastic Surgery", "Hand Surgery"]),
    ("The independent Expert Reviewer who reviewed this case is licensed in Chiropractic and Acupuncture and is "
     "licensed to practice in California.", ["Chiropractic", "Acupuncture"]),
    # the licence a credentials sentence names is the specialty
    ("The expert reviewer is a Licensed Chiropractor and is licensed to practice in California.", ["Chiropractic"]),
    # two licences, each a specialty
    ("The expert reviewer is a Licensed Chiropractor and Acupuncturist, who is licensed to practice in California.",
     ["Chiropractic", "Acupuncture"]),
    ("The expert reviewer is a Licensed Psychologist and is licensed to practice in California.", ["Psychology"]),
    # a certificate's name with "of" in it stays whole
    ("The expert reviewer is Board Certified in Plastic Surgery, has a subspecialty in Surgery of the Hand and is "
     "licensed to practice in California.", ["Plastic Surgery", "Surgery of the Hand"]),
    # a Doctor of Chiropractic also licensed or certified in Acupuncture
    ("The independent Expert Reviewer who reviewed this case is a Doctor of Chiropractic who is also licensed in "
     "Acupuncture. The Expert Reviewer is licensed to practice in California.", ["Acupuncture", "Chiropractic"]),
    ("The expert reviewer is a Doctor of Chiropractic, is certified in Acupuncture and is licensed to practice in "
     "California.", ["Acupuncture", "Chiropractic"]),
    # a subspecialty's clause after it is none ("..., has no affiliation with the employer, ...")
    ("The independent physician who reviewed the file is Board Certified in Orthopedic Surgery, has a subspecialty "
     "in Sports Medicine, has no affiliation with the employer, employee, providers or the claims administrator.",
     ["Orthopedic Surgery", "Sports Medicine"]),
    # a qualification that names no specialty is none
    ("Your case was reviewed by a physician who is board certified in the same or a similar specialty as the "
     "provider who requested the treatment. The expert reviewer is Board Certified in Psychiatry.", ["Psychiatry"]),
    ("A physician reviewer who is board certified in an appropriate specialty reviewed the complete case file.", []),
    # the credentials block extracted labels first, then values; a sentence run into the specialty line
    ("Certification(s)/Specialty: State(s) of Licensure: Preventive Medicine, Occupational Medicine California",
     ["Preventive Medicine", "Occupational Medicine"]),
    ("State(s) of Licensure: Certification(s)/Specialty: Texas, New York Physical Medicine & Rehabilitation",
     ["Physical Medicine and Rehabilitation"]),
    ("Certification(s)/Specialty: Internal Medicine, Cardiovascular Disease The expert reviewer is licensed to "
     "practice in California. He/she has been in active clinical practice for more than five years.",
     ["Internal Medicine", "Cardiovascular Disease"]),
    # a specialty ends at the licence's clause, however worded, or at the board that certified it
    ("The expert reviewer is Licensed in Chiropractic, has a subspecialty in Acupuncture and is licensed to practice "
     "in California.", ["Chiropractic", "Acupuncture"]),
    ("The expert reviewer holds Board certification in Anesthesiology with a subspecialty in Pain Medicine and a "
     "California license.", ["Anesthesiology", "Pain Medicine"]),
    ("The expert reviewer is a licensed physician board certified in Family Practice, licensed in California, with "
     "more than five years of active clinical practice.", ["Family Practice"]),
    ("The expert reviewer is Board Certified in Psychiatry by the American Board of Psychiatry and Neurology and is "
     "licensed to practice in California.", ["Psychiatry"]),
    # names of one certificate joined by "&" or "and" stay whole
    ("The expert reviewer is Board Certified in Allergy & Immunology and Internal Medicine, and is licensed to "
     "practice in California.", ["Allergy and Immunology", "Internal Medicine"]),
    ("Certification(s)/Specialty: Dentistry, Oral & Maxillofacial Surgery", ["Dentistry", "Oral and Maxillofacial Surgery"]),
    # the credentials block's list is the letter's: a sentence names the same certificates otherwise
    ("The expert reviewer is Board Certified in Plastic Surgery, has a subspecialty in Surgery of the Hand.\n"
     "Certification(s)/Specialty: Plastic Surgery, Hand Surgery", ["Plastic Surgery", "Hand Surgery"]),
    # certified by a board, with its name before or after the specialty; added qualifications
    ("The expert reviewer is a psychiatrist certified in Psychiatry by the American Board of Psychiatry and Neurology "
     "and holds an active license to practice in California.", ["Psychiatry"]),
    ("The expert reviewer is a Doctor of Osteopathy who is board-certified in Occupational Medicine by the American "
     "Board of Preventive Medicine and who holds licenses in California and Nevada.", ["Occupational Medicine"]),
    ("The Expert Reviewer holds a license to practice medicine in California and is certified by the American Board "
     "of Internal Medicine in Internal Medicine, with added qualifications in Geriatric Medicine.",
     ["Internal Medicine", "Geriatric Medicine"]),
    ("The expert reviewer is a physician Board Certified in Anesthesiology with a subspecialty certificate in Pain "
     "Medicine; he/she is licensed to practice in California.", ["Anesthesiology", "Pain Medicine"]),
])
def test_reviewer_specialties_are_full_words_as_written(credentials, expected):
    from nlp.layout import Span
    from nlp.letter_fields import reviewer_specialties

    assert reviewer_specialties(credentials, Span(0, len(credentials))) == expected


def test_the_specialty_line_ends_before_the_credentials_sentence_that_follows_it():
    from nlp.letter_fields import reviewer_specialties

    raw = ("Certification(s)/Specialty: Anesthesiology, Pain Medicine\nThe expert reviewer was selected on the basis of "
           "his/her clinical experience, education, background, and expertise in the same or similar specialties.\n")
    text = normalize_text(raw)
    assert reviewer_specialties(text, parse_layout(text).header) == ["Anesthesiology", "Pain Medicine"]


def test_a_credentials_block_after_the_items_still_names_the_specialties():
    """Another extraction may leave the credentials block after the last item: it is still the letter's."""
    from nlp.letter_fields import reviewer_specialties

    text = normalize_text((LETTERS / "001_37e0e7a9dfbd6631.txt").read_text(encoding="utf-8"))
    header = parse_layout(text).header
    moved = (text + "\n\nState(s) of Licensure: California\nCertification(s)/Specialty: Orthopedic Surgery, "
             "Sports Medicine\n")
    assert "Certification(s)/Specialty" not in text[header.start:header.end]
    assert reviewer_specialties(moved, header) == ["Orthopedic Surgery", "Sports Medicine"]


def test_the_decisions_heading_decides_the_layout_under_a_notice_title():
    text = ONE_ITEM_2015.format(fields="Rationale: No.").replace(
        "HOW THE IMR", "Notice of Independent Medical Review Determination\n\nDOCUMENTS REVIEWED\n\nHOW THE IMR")
    layout = parse_layout(normalize_text(text))
    assert layout.format == "dwc_2015" and [it.request for it in layout.items] == ["Norco 10/325mg #60"]
    notice = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    assert parse_layout(normalize_text(notice)).format == "dwc_2013_notice"


def test_dwc_2015_layout():
    (r,) = parse_files(LAYOUTS / "dwc_2015.txt")
    assert r["format"] == "dwc_2015" and r["error"] is None
    assert r["reviewer_specialties"] == ["Physical Medicine and Rehabilitation"]
    assert r["patient"] == {"age": 58, "sex": "female", "date_of_injury": "2012-06-14"}
    assert [(i["request"], i["decision"]) for i in r["items"]] == [
        ("Physical therapy 2 times a week for 6 weeks for the lumbar spine", "upheld"),
        ("Soma 350mg #60", "upheld")]


def _items(rec):
    return [(i["request"], i["original_request"], i["decision"]) for i in rec["items"]]


def test_variants_give_the_same_items():
    raw = (LETTERS / "001_37e0e7a9dfbd6631.txt").read_text(encoding="utf-8")
    base = _items(parse_string(raw))
    assert len(base) == 3
    assert _items(parse_string(raw.replace("\n", "\r\n"))) == base  # CRLF
    broken = raw.replace("efficacy is unproven and there is a risk of dependence",
                         "efficacy is unproven and there\fis a risk of dependence")
    assert broken != raw
    assert _items(parse_string(broken)) == base  # a page break inside an item
    numbered = raw.replace("WEEKLY COGNITIVE", "1. WEEKLY COGNITIVE").replace("MONTHLY MED", "2. MONTHLY MED")
    assert _items(parse_string(numbered)) == base  # items numbered


def test_pdf_of_a_letter(tmp_path):
    raw = (LETTERS / "000_9f49410813e2b735.txt").read_text(encoding="utf-8")
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(letter_pdf(normalize_text(raw)))
    (rec,) = parse_files(pdf)
    assert rec["id"] == "letter" and rec["error"] is None
    assert _items(rec) == _items(parse_string(raw)) == [
        ("ProSom", None, "upheld"), ("Cognitive behavioral therapy (36 sessions)", None, "upheld")]


def test_summary_but_no_items():
    raw = (LETTERS / "002_9c890e9297bcac86.txt").read_text(encoding="utf-8")
    cut = raw[:raw.index("Prosom 2mg, #30")]
    rec = parse_string(cut)
    assert rec["items"] == [] and rec["error"]["type"] == "no_items"
    assert rec["patient"]["age"] == 33


def test_unknown_layout_is_typed():
    rec = parse_string("Dear claimant, we have received your letter about the MRI of your knee.")
    assert rec["format"] == "unknown" and rec["items"] == []
    assert rec["error"]["type"] == "unknown_layout"
    assert "MRI" not in rec["error"]["message"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_any_bytes_give_one_record(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("b") / "in.txt"
    path.write_bytes(data)
    recs = parse_files(path)
    assert len(recs) == 1 and recs[0]["id"] == "in"
    json.dumps(recs[0])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([
    "IMR ISSUES, DECISIONS AND RATIONALES", "CLINICAL CASE SUMMARY", "ProSom: Upheld", "Norco 10/325mg #60:",
    "Overturned", "Claims Administrator guideline: MTUS", "MAXIMUS guideline: ODG", "Decision rationale: no.",
    "The patient is a 40 year old male.", "", "\f", "X was the original request.",
    "The remaining IMR eligible portion of the original request, PT 6 sessions is: Upheld"]), max_size=25))
def test_item_spans_lie_inside_the_text(lines):
    text = normalize_text("\n".join(lines))
    layout = parse_layout(text)
    for it in layout.items:
        for span in (it.span, it.heading, it.claims_administrator, it.reviewer, it.rationale):
            if span is not None:
                assert 0 <= span.start <= span.end <= len(text)
        assert it.span.start <= it.heading.start <= it.heading.end <= it.span.end
        assert it.decision in ("upheld", "overturned", None)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "Claims Administrator guideline:", "MAXIMUS guideline:", "Decision rationale:", "Rationale for the Decision:",
    "Guideline(s) Relied Upon:", "The Expert Reviewer's decision rationale:", "Citation:", "Non-MTUS Citation:",
    "Guidelines cited by UR:", "Claims Administrator and MAXIMUS guideline:", "ODG Pain.", "MTUS, page 9", "is",
    "appropriate.", "\n", "\n\n", " ", "  ", "\t", ". ", "? "]), max_size=30))
def test_field_labels_are_found_where_a_search_for_each_label_finds_them(parts):
    """The layout looks for each field label only where one of its role's labels starts (a run-in
    label may follow any sentence): it finds what a search for each label over the whole body finds."""
    from nlp.layout import _field_labels, _label_matches
    body = "".join(parts)
    for role, starts, labels in _field_labels():
        at = None if starts is None else [s.start() for s in starts.finditer(body)]
        for label in labels:
            fast = [(m.start(), m.end()) for m in _label_matches(body, at, label)]
            assert fast == [(m.start(), m.end()) for m in label.finditer(body)], (role, label.pattern)


def test_a_guideline_the_reviewer_did_not_use_is_not_a_citation():
    from models.bundle import load_parser

    (rec,) = [r for r in load_parser().process(iter_documents([str(LETTERS / "001_37e0e7a9dfbd6631.txt")]))]
    reviewer = rec["items"][0]["guidelines"]["reviewer"]
    assert [(c["text"], c["source"], c["document"]) for c in reviewer] == [
        ("Official Disability Guidelines (ODG) Pain, Behavioral Interventions", "ODG", "pain")]
    assert any(e["text"] == "MTUS" and e["item"] == 1 for e in rec["entities"])  # still an entity


@pytest.mark.parametrize("summary, doi", [
    ("The applicant is a 58-year-old male who injured his right shoulder on 06/03/2013 while lifting.", "2013-06-03"),
    ("A 50 year old male who sustained a crush injury to the left foot on 11/05/2012 when a pallet fell.",
     "2012-11-05"),
    ("Date of injury: 04/02/2011. He was seen on 05/06/2014.", "2011-04-02"),
    # a visit about the injury is no date of injury; two different dates decide nothing
    ("He was seen on 03/04/2015 for the low back. Follow-up on 04/04/2015.", None),
    ("He injured his back on 01/02/2010 and injured his knee on 02/03/2011.", None),
    ("This 58 year old female injured her neck and low back on 09/30/2008 while lifting.", "2008-09-30"),
    # told by the event, or by a cumulative trauma's end, in the sentence that introduces the patient
    ("The records show: This 41 year old female bus operator was assaulted by a passenger on October 5, 2012 "
     "while driving. She was seen on 03/04/2015.", "2012-10-05"),
    ("A 52-year-old clerk reported hand numbness from cumulative trauma through 08/15/2014. EMG on 09/01/2014.",
     "2014-08-15"),
    # that sentence with two dates, or a date only in another sentence, decides nothing
    ("A 44 year old roofer fell on 06/02/2014 and was seen on 06/03/2014.", None),
    ("A 44 year old roofer with back pain. He fell from a roof on 06/02/2014.", None),
])
def test_date_of_injury_from_the_case_summary(summary, doi):
    from nlp.layout import Span
    from nlp.letter_fields import patient

    assert patient(summary, Span(0, len(summary)))["date_of_injury"] == doi


@pytest.mark.parametrize("summary, age, sex", [
    ("38 y/o F, bank teller, held up on 04/02/2013.", 38, "female"),
    ("A 52 yo male warehouse worker; she is mentioned once.", 52, "male"),
    ("Pt is a 61 y.o. M with low back pain.", 61, "male"),
    ("A 45-year-old woman.", 45, "female"),
    # a bare letter is a sex only after the shorthand: "a 12-year history of F..." says nothing
    ("He has a 12-year history of pain. Fluoxetine helps.", None, "male"),
    # the age that introduces the patient when the summary names others; describing words before the sex
    ("The injured worker is a 52-year-old female. She lives with her 16-year-old daughter.", 52, "female"),
    ("The employee is a 39-year-old right-hand-dominant female assembler.", 39, "female"),
    ("A 60-year-old with a wife who is a retired nurse.", 60, None),
])
def test_age_and_sex_from_the_case_summary(summary, age, sex):
    from nlp.layout import Span
    from nlp.letter_fields import patient

    got = patient(summary, Span(0, len(summary)))
    assert (got["age"], got["sex"]) == (age, sex)


@pytest.mark.parametrize("layout, line, written, named", [
    ("dwc_2015", "2. Soma 350mg #60 is not", "2. Soma 350mg #60, 2 refills, is not", "Soma 350mg #60, 2 refills"),
    ("dwc_2015", "2. Soma 350mg #60 is not", "2. The request for a Soma 350mg #60 is not", "Soma 350mg #60"),
    ("dwc_2013_notice", "1) Regarding the request for ProSom:", "1) Regarding the request for a ProSom trial:",
     "ProSom trial"),
    # a request for a service already given, with its date of service
    ("dwc_2013_notice", "1) Regarding the request for ProSom:",
     "1) Regarding the retrospective request for ProSom 1mg #30 (DOS 6/24/2013):", "ProSom 1mg #30 (DOS 6/24/2013)"),
])
def test_a_request_is_named_without_its_article_or_trailing_comma(layout, line, written, named):
    text = normalize_text((LAYOUTS / f"{layout}.txt").read_text(encoding="utf-8"))
    assert line in text
    requests = [it.request for it in parse_layout(text.replace(line, written)).items]
    assert named in requests


ONE_ITEM_2015 = ("MAXIMUS FEDERAL SERVICES, INC.\nIndependent Medical Review\n\nHOW THE IMR FINAL DETERMINATION WAS MADE\n\n"
                 "CLINICAL CASE SUMMARY\n\nThe patient is a 40 year old male.\n\nIMR DECISION(S) AND RATIONALE(S)\n\n"
                 "1. Norco 10/325mg #60 is not medically necessary and appropriate.\n{fields}\n")


@pytest.mark.parametrize("fields, claims, reviewer, rationale", [
    # both sides in one field, each sentence saying whose guideline it names
    ("Guidelines cited: The Claims Administrator cited ODG Pain. The Expert Reviewer relied on MTUS Opioids, page 78.\n"
     "Rationale: Not supported.", "The Claims Administrator cited ODG Pain.",
     "The Expert Reviewer relied on MTUS Opioids, page 78.", "Not supported."),
    # the reviewer's field opens with the claims administrator's sentence
    ("Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer: The Claims Administrator based its decision on "
     "ODG Pain. The Expert Reviewer based his/her decision on MTUS Opioids.\nRationale for the Decision: No.",
     "The Claims Administrator based its decision on ODG Pain.",
     "The Expert Reviewer based his/her decision on MTUS Opioids.", "No."),
    # other writers' labels
    ("Guideline(s) cited by the Claims Administrator: ODG Pain.\nGuidelines relied upon by the Expert Reviewer: MTUS.\n"
     "Decision rationale: No.", "ODG Pain.", "MTUS.", "No."),
    ("Claims Administrator guideline(s): ODG Pain.\nExpert Reviewer guideline(s): MTUS.\nRationale: No.",
     "ODG Pain.", "MTUS.", "No."),
    ("Medical Treatment Guideline(s) Used by the Claims Administrator Utilization Review Agency:\n\nODG Pain.\n\n"
     "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:\n\nMTUS.\n\nRationale for the Decision:\n\nNo.",
     "ODG Pain.", "MTUS.", "No."),
    # a field label on the line after an unfinished one starts a field of its own
    ("Guideline(s) used by the Claims Administrator: MTUS Chronic Pain, Opioids Page(s): 74-96\n"
     "Guideline(s) used by the Expert Reviewer: ODG Pain\nDecision rationale: No.",
     "MTUS Chronic Pain, Opioids Page(s): 74-96", "ODG Pain", "No."),
    # the sides named without "the"
    ("Guideline(s) cited: Claims Administrator: ODG Pain, page 2. Expert Reviewer: MTUS, page 78.\nRationale: No.",
     "Claims Administrator: ODG Pain, page 2.", "Expert Reviewer: MTUS, page 78.", "No."),
    # no guideline label: the paragraphs before the rationale that name a side are its field
    ("The Claims Administrator based its decision on ODG Pain.\n\nThe Expert Reviewer based his/her decision on "
     "MTUS Opioids.\n\nRationale: No.", "The Claims Administrator based its decision on ODG Pain.",
     "The Expert Reviewer based his/her decision on MTUS Opioids.", "No."),
    # ... and when none names a side, they are the reviewer's (the item block is the reviewer's decision), as
    # the citations a dwc_2015 statement is followed by
    ("The request does not meet the guideline.\n\nRationale: No.", None, "The request does not meet the guideline.",
     "No."),
    ("Decision based on MTUS Chronic Pain, Exercise, Page(s): 46-47.\n\nDecision based on Non-MTUS Citation ODG Knee "
     "& Leg, Exercise.\n\nDecision rationale: No.", None, "Decision based on MTUS Chronic Pain, Exercise, Page(s): "
     "46-47.\n\nDecision based on Non-MTUS Citation ODG Knee & Leg, Exercise.", "No."),
    # no label at all: the opening paragraphs that name a side, then the rationale
    ("The Claims Administrator based its decision on ODG Pain.\n\nThe Expert Reviewer based his/her decision on "
     "MTUS Opioids.\n\nThe MTUS does not support it. No.",
     "The Claims Administrator based its decision on ODG Pain.",
     "The Expert Reviewer based his/her decision on MTUS Opioids.", "The MTUS does not support it. No."),
    ("The MTUS does not support it.\n\nNo.", None, None, None),
    # the rationale labelled as the reviewer's own
    ("The Claims Administrator based its decision on ODG Pain.\n\nThe Expert Reviewer based his/her decision on "
     "MTUS Opioids.\n\nThe Expert Reviewer's decision rationale:\n\nNo.",
     "The Claims Administrator based its decision on ODG Pain.",
     "The Expert Reviewer based his/her decision on MTUS Opioids.", "No."),
    # a labelled guideline field that names no side is the reviewer's
    ("Guideline(s) cited: MTUS Opioids, page 78.\nRationale: No.", None, "MTUS Opioids, page 78.", "No."),
    ("Guidelines/Criteria Used in Analysis: MTUS Opioids; ODG Pain.\n\nRationale: No.", None,
     "MTUS Opioids; ODG Pain.", "No."),
    # "MTUS Citation:" and "Non-MTUS Citation:" labels name no side: the reviewer's, both of them
    ("MTUS Citation: MTUS Opioids, page 78.\n\nNon-MTUS Citation: ODG Pain.\n\nDecision rationale: No.", None,
     "MTUS Opioids, page 78.\n\nNon-MTUS Citation: ODG Pain.", "No."),
    # "Citation(s):" names no side either: the reviewer's; "Citation:" ending a "Non-MTUS" line is no label
    ("Citation(s): ODG, Pain Chapter, Insomnia treatment.\nDecision rationale: No.", None,
     "ODG, Pain Chapter, Insomnia treatment.", "No."),
    ("Guidelines cited: MTUS Knee Complaints 2004; Non-MTUS\nCitation: ODG Knee & Leg, Office visits.\nDecision "
     "rationale: No.", None, "MTUS Knee Complaints 2004; Non-MTUS\n\nCitation: ODG Knee & Leg, Office visits.", "No."),
    # a parenthesis after the side's name
    ("Guidelines Used by Claims Administrator (Utilization Review Agency): ODG Pain.\n\n"
     "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer: MTUS.\n\nRationale for the Decision: No.",
     "ODG Pain.", "MTUS.", "No."),
    # a field of a side's own label keeps it, whatever the other field's sentences say
    ("Claims Administrator guideline: ODG Pain.\nMAXIMUS guideline: The Claims Administrator cited ODG; the reviewer "
     "relied on MTUS.\nDecision rationale: No.", "ODG Pain.", "the reviewer relied on MTUS.", "No."),
    # a label wrapped over two lines, its last word with a slash
    ("Medical Treatment Guideline(s) Used by the Claims Administrator Utilization Review\nPhysician/Agent:\nODG Pain.\n\n"
     "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:\nMTUS.\n\nRationale for the Decision:\nNo.",
     "ODG Pain.", "MTUS.", "No."),
    # labelled fields but none for the claims administrator: its own paragraph before them
    ("The Claims Administrator based its decision on ODG Pain.\n\nMedical Treatment Guideline(s) Relied Upon by the "
     "Expert Reviewer: MTUS Opioids.\n\nRationale for the Decision: No.",
     "The Claims Administrator based its decision on ODG Pain.", "MTUS Opioids.", "No."),
    ("The request was modified.\n\nMedical Treatment Guideline(s) Relied Upon by the Expert Reviewer: MTUS Opioids.\n\n"
     "Rationale for the Decision: No.", None, "MTUS Opioids.", "No."),
    # the claims administrator's field as other writers label it
    ("Section of the Medical Treatment Utilization Schedule (MTUS) cited by the Claims Administrator: ODG Pain.\n\n"
     "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer: MTUS.\n\nRationale for the Decision: No.",
     "ODG Pain.", "MTUS.", "No."),
    ("Rationale Used by Claims Administrator/URO: ODG Pain.\n\nMedical Treatment Guideline(s) Relied Upon by the "
     "Expert Reviewer: MTUS.\n\nRationale for the Decision: No.", "ODG Pain.", "MTUS.", "No."),
    ("Rationale Used by the Claims Administrator in the Utilization Review Denial:\nODG Pain.\n\nMedical Treatment "
     "Guideline(s) Relied Upon by the Expert Reviewer:\nMTUS.\n\nRationale for the Decision:\nNo.", "ODG Pain.", "MTUS.",
     "No."),
    ("Medical Treatment Guideline(s) Relied Upon by the Claims Administrator based on the Utilization Review "
     "determination: ODG Pain.\n\nMedical Treatment Guideline(s) Relied Upon by the Expert Reviewer: MTUS.\n\n"
     "Rationale for the Decision: No.", "ODG Pain.", "MTUS.", "No."),
    ("Guidelines Used by Claims Administrator in Utilization Review Decision: ODG Pain.\n\nMedical Treatment "
     "Guideline(s) Relied Upon by the Expert Reviewer: MTUS.\n\nRationale for the Decision: No.",
     "ODG Pain.", "MTUS.", "No."),
    ("Guideline(s) Cited in the Utilization Review Determination: ODG Pain.\n\nMedical Treatment Guideline(s) "
     "Relied Upon by the Expert Reviewer: MTUS.\n\nRationale for the Decision: No.", "ODG Pain.", "MTUS.", "No."),
    # one field naming both sides, the claims administrator's as "The utilization review"
    ("Guidelines relied upon: The utilization review cited ODG Pain. The reviewer relied on MTUS.\n\nRationale: No.",
     "The utilization review cited ODG Pain.", "The reviewer relied on MTUS.", "No."),
    ("Medical Treatment Guideline Issue(s) Relied Upon by the Claims Administrator: ODG Pain.\n\nMedical Treatment "
     "Guideline Issue(s) Relied Upon by the Expert Reviewer: MTUS.\n\nRationale for the Decision: No.",
     "ODG Pain.", "MTUS.", "No."),
    ("Guidelines Relied Upon by the Claims Administrator in its Utilization Review (UR) Decision: ODG Pain.\n\n"
     "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer: MTUS.\n\nRationale for the Decision: No.",
     "ODG Pain.", "MTUS.", "No."),
    # "Medical Treatment Guideline Issue:" names no side: its sentence does
    ("Medical Treatment Guideline Issue: The Claims Administrator based its decision on ODG Pain.\n\nMedical "
     "Treatment Guideline(s) Relied Upon by the Expert Reviewer: MTUS.\n\nRationale for the Decision: No.",
     "The Claims Administrator based its decision on ODG Pain.", "MTUS.", "No."),
    # one label naming both sides: the field is each side's
    ("Claims Administrator and MAXIMUS guideline: Decision based on ODG Pain.\nDecision rationale: No.",
     "Decision based on ODG Pain.", "Decision based on ODG Pain.", "No."),
])
def test_item_fields_and_whose_guideline_each_sentence_names(fields, claims, reviewer, rationale):
    text = normalize_text(ONE_ITEM_2015.format(fields=fields))
    (item,) = parse_layout(text).items
    got = tuple(getattr(item, side).text(text) if getattr(item, side) else None
                for side in ("claims_administrator", "reviewer", "rationale"))
    assert got == (claims, reviewer, rationale)


@pytest.mark.parametrize("fields, claims, reviewer", [
    # a guideline named as not covering the request is no citation
    ("Claims Administrator guideline: MTUS Chronic Pain, Opioids Page(s): 78.\nMAXIMUS guideline: The MTUS does not "
     "address zolpidem. Decision based on Non-MTUS Citation ODG Pain, Zolpidem.\nDecision rationale: No.",
     [("MTUS", [78])], [("ODG", [])]),
    ("Claims Administrator guideline: ODG Pain.\nMAXIMUS guideline: The MTUS is silent on it. ACOEM, page 3.\n"
     "Decision rationale: No.", [("ODG", [])], [("ACOEM", [3])]),
    ("Claims Administrator guideline: ODG Pain.\nMAXIMUS guideline: The MTUS did not specifically address the issue "
     "in dispute. ACOEM, page 3.\nDecision rationale: No.", [("ODG", [])], [("ACOEM", [3])]),
    # where a cited document belongs is no citation of it ("..., pages 63-66, of the MTUS")
    ("Claims Administrator guideline: ODG Pain.\nMAXIMUS guideline: ACOEM, page 3, of the MTUS.\n"
     "Decision rationale: No.", [("ODG", [])], [("ACOEM", [3])]),
    # the reviewer found the claims administrator's guideline the right one: it cites it too
    ("Claims Administrator guideline: MTUS Chronic Pain, Opioids Page(s): 78.\nMAXIMUS guideline: The Expert Reviewer "
     "found that the guideline used by the Claims Administrator was relevant and appropriate, and also relied on "
     "ODG Pain.\nDecision rationale: No.", [("MTUS", [78])], [("MTUS", [78]), ("ODG", [])]),
    ("Claims Administrator guideline: MTUS Chronic Pain, Opioids Page(s): 78.\nMAXIMUS guideline: The Expert Reviewer "
     "relied on ODG Pain.\nDecision rationale: No.", [("MTUS", [78])], [("ODG", [])]),
    # ... so has one who found its referenced section of the MTUS applicable (the MTUS named there is
    # no further citation); one who found no section applicable has not, and names the MTUS as not used
    ("Claims Administrator guideline: MTUS Chronic Pain, Opioids Page(s): 78.\nMAXIMUS guideline: The Expert Reviewer "
     "found the referenced section of the MTUS applicable and relevant to the issue at dispute.\nDecision rationale: "
     "No.", [("MTUS", [78])], [("MTUS", [78])]),
    ("Claims Administrator guideline: MTUS Chronic Pain, Opioids Page(s): 78.\nMAXIMUS guideline: The Expert Reviewer "
     "found that no section of the MTUS was applicable. ODG Pain.\nDecision rationale: No.", [("MTUS", [78])],
     [("ODG", [])]),
    ("Claims Administrator guideline: MTUS Chronic Pain, Opioids Page(s): 78.\nMAXIMUS guideline: The Expert Reviewer "
     "did not base his/her decision on the MTUS. Decision based on Non-MTUS Citation ODG Pain.\nDecision rationale: No.",
     [("MTUS", [78])], [("ODG", [])]),
    # a guideline found not applicable is no citation; one the reviewer agreed applies is the reviewer's too
    ("Claims Administrator guideline: MTUS Chronic Pain, Opioids Page(s): 78.\nMAXIMUS guideline: The Expert Reviewer "
     "found that the MTUS Chronic Pain Medical Treatment Guidelines were not applicable. The Expert Reviewer relied on "
     "ODG Pain.\nDecision rationale: No.", [("MTUS", [78])], [("ODG", [])]),
    ("Claims Administrator guideline: MTUS Chronic Pain, Opioids Page(s): 78.\nMAXIMUS guideline: The Expert Reviewer "
     "agreed with the Claims Administrator that this guideline applies to the request and relied upon it.\n"
     "Decision rationale: No.", [("MTUS", [78])], [("MTUS", [78])]),
])
def test_which_mentions_an_item_cites(fields, claims, reviewer):
    text = normalize_text(ONE_ITEM_2015.format(fields=fields))
    layout = parse_layout(text)
    ents = [{"label": "GUIDELINE", "text": m.group(), "start": m.start(), "end": m.end(),
             "norm": normalize_guideline(m.group())}
            for m in re.finditer(r"MTUS Chronic Pain, Opioids Page\(s\): 78|(?<!-)\bMTUS\b(?! Chronic)|ODG Pain|ACOEM, page 3", text)]
    (item,) = build_record("x", "x", text, layout, ents)["items"]
    got = {side: [(c["source"], c["pages"]) for c in item["guidelines"][side]] for side in ("claims_administrator", "reviewer")}
    assert got == {"claims_administrator": claims, "reviewer": reviewer}


def _notice_headed_by_numbered_requests(colon: str) -> str:
    """The 2013 notice fixture with its items headed "1. ProSom" + `colon` instead of "1) Regarding
    the request for ProSom:"."""
    text = normalize_text((LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8"))
    return text.replace("1) Regarding the request for ProSom:", "1. ProSom" + colon).replace(
        "2) Regarding the request for cognitive behavioral therapy (36 sessions):",
        "2. Cognitive behavioral therapy (36 sessions)" + colon)


@pytest.mark.parametrize("lead_in", [
    "The Final Determination rests on the decisions for the disputed items/services listed below:",
    "The Final Determination was based on the decisions for the disputed items/services shown below:",
    "Final Determination decisions for each disputed item/service follow:",
])
def test_the_items_lead_in_in_other_words_ends_its_paragraph(lead_in):
    """The sentence before the items' list, worded otherwise than the published letters' "... set
    forth below:", is no part of the first item's heading, even on the line right before it."""
    text = (LETTERS / "000_9f49410813e2b735.txt").read_text(encoding="utf-8")
    phrase = "The Final Determination was based on decisions for the disputed items/services set forth below:"
    adjacent = re.sub(re.escape(phrase) + r"\s*ProSom:", lead_in + "\nProSom:", text)
    assert adjacent != text
    items = lambda t: [(it.request, it.decision) for it in parse_layout(normalize_text(t)).items]  # noqa: E731
    assert items(adjacent) == items(text)
    assert items(text)[0] == ("ProSom", "upheld")


def _notice_items(text: str) -> list[tuple[str, str | None, bool]]:
    """(request, decision, whether all three fields were found) of each item of a notice's text."""
    return [(it.request, it.decision, bool(it.claims_administrator and it.reviewer and it.rationale))
            for it in parse_layout(normalize_text(text)).items]


NOTICE_ITEMS = [("ProSom", "upheld", True), ("cognitive behavioral therapy (36 sessions)", "overturned", True)]


@pytest.mark.parametrize("first, second", [("I.", "II."), ("#1", "#2")])
def test_notice_items_numbered_otherwise(first, second):
    """Determinations and item headings numbered with Roman numerals or "#1" read as "1." / "1)"."""
    text = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    assert _notice_items(text) == NOTICE_ITEMS
    renumbered = text.replace("1. MAXIMUS", f"{first} MAXIMUS").replace("2. MAXIMUS", f"{second} MAXIMUS")
    renumbered = renumbered.replace("1) Regarding", f"{first} Regarding").replace("2) Regarding", f"{second} Regarding")
    assert renumbered.count(second) == 2
    assert _notice_items(renumbered) == NOTICE_ITEMS


def test_notice_items_headed_by_their_determination_sentence():
    """A notice whose item blocks are headed by the determination as the list up front words it ("1. MAXIMUS
    Federal Services, Inc. has determined the request for ProSom is not medically necessary and appropriate.")
    names the request alone."""
    text = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    determinations = re.findall(r"\n([12]\. MAXIMUS Federal Services, Inc\. has determined the request for .+?appropriate\.)\n",
                                text, flags=re.S)
    assert len(determinations) == 2
    reheaded = text
    for n, sentence in zip((1, 2), determinations):
        reheaded = re.sub(rf"\n{n}\) Regarding the request for [^\n]*:\n", "\n" + sentence.replace("\\", "") + "\n", reheaded)
    assert "Regarding the request" not in reheaded
    assert _notice_items(reheaded) == NOTICE_ITEMS


def test_a_notice_without_item_headings_and_with_labels_without_colons():
    """A notice whose items are only their fields (no "1) Regarding the request for ..." heading), with
    field labels alone on their lines without colons, and its determinations joined by ", and", takes
    each item's request and decision from the determinations up front, in order."""
    text = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    headless = re.sub(r"\n[12]\) Regarding the request for [^\n]*:\n", "\n", text)
    for label in ("Medical Treatment Guideline(s) Relied Upon by the Claims Administrator",
                  "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer", "Rationale for the Decision"):
        headless = headless.replace(label + ":", label)
    headless = re.sub(r"not medically\s+necessary and appropriate\.(\s+2\. MAXIMUS)", r"not medically necessary and appropriate, and\1",
                      headless)
    assert "Regarding the request" not in headless and "the Decision:" not in headless and "appropriate, and" in headless
    assert _notice_items(headless) == NOTICE_ITEMS


def test_notice_determinations_run_together_and_a_summary_heading_run_in():
    """A dwc_2013_notice whose numbered determinations share one paragraph after the "Final
    Determination:" label, and whose summary heading runs into its first sentence, gives the same
    items and decisions; the summary section starts at its heading."""
    text = normalize_text((LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8"))
    joined = re.sub(r"Final Determination:\s*1\.(.*?)appropriate\.\s*2\.", r"Final Determination: 1.\1appropriate. 2.",
                    text, flags=re.S)
    joined = re.sub(r"Expert Reviewer Case Summary:\s*", "Expert Reviewer Case Summary: ", joined)
    assert joined.count("Final Determination: 1.") == 1 and "Case Summary: The applicant" in joined
    layout = parse_layout(joined)
    assert [(it.request, it.decision) for it in layout.items] == [
        ("ProSom", "upheld"), ("cognitive behavioral therapy (36 sessions)", "overturned")]
    assert joined[layout.summary.start:].startswith("Expert Reviewer Case Summary: The applicant")
    assert joined[layout.summary.end:].startswith("1) Regarding the request for ProSom:")


@pytest.mark.parametrize("heading", ["Clinical Summary", "Summary of the Records Reviewed"])
def test_a_notice_summary_headed_as_some_offices_head_it(heading):
    """A dwc_2013_notice whose case summary is headed "Clinical Summary" or "Summary of the Records
    Reviewed" has its summary section there, not in the header."""
    text = normalize_text((LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8"))
    renamed = re.sub(r"Expert Reviewer Case Summary:?", heading, text)
    assert renamed.count(heading) == 1
    layout = parse_layout(renamed)
    assert [(it.request, it.decision) for it in layout.items] == [
        ("ProSom", "upheld"), ("cognitive behavioral therapy (36 sessions)", "overturned")]
    assert renamed[layout.summary.start:].startswith(heading + "\n")
    assert renamed[layout.summary.end:].startswith("1) Regarding the request for ProSom:")


def test_notice_items_headed_by_a_numbered_label_with_fields_named_otherwise():
    """A dwc_2013_notice whose items are headed "Issue 1: ..." or "Request 1: ..." and whose fields read
    "Guidelines Applied:" / "Guideline(s) Considered:" and "Rationale:", with no blank lines, takes each
    request from its heading and its decision from the determinations up front."""
    text = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    for label in ("Issue", "Request"):
        renamed = re.sub(r"\n([12])\) Regarding the request for ([^\n]*):\n", lambda m: f"\n{label} {m[1]}: {m[2]}\n", text)
        renamed = renamed.replace("Medical Treatment Guideline(s) Relied Upon by the Claims Administrator:", "Guidelines Applied:")
        renamed = re.sub(r"\nMedical Treatment Guideline\(s\) Relied Upon by the Expert Reviewer:[^\n]*\n", "\n", renamed)
        renamed = renamed.replace("Guidelines Applied:", "Guideline(s) Considered:" if label == "Request" else "Guidelines Applied:")
        renamed = re.sub(r"\n\s*\n", "\n", renamed)
        assert f"{label} 2: " in renamed and "Regarding the request" not in renamed
        layout = parse_layout(normalize_text(renamed))
        assert [(it.request, it.decision) for it in layout.items] == [
            ("ProSom", "upheld"), ("cognitive behavioral therapy (36 sessions)", "overturned")]
        assert all(it.rationale is not None for it in layout.items)


def test_an_item_heading_without_its_colon_and_its_decision_on_the_next_line():
    """A dwc_2014 item heading whose request has no colon and whose decision stands on the next line
    ("TENS unit, 30-day rental" / "Upheld") before the item's fields is still the item's heading."""
    text = (LETTERS / "001_37e0e7a9dfbd6631.txt").read_text(encoding="utf-8")
    plain = parse_layout(normalize_text(text))
    expected = [(it.request, it.decision) for it in plain.items]
    assert expected
    split = re.sub(r"^(.+?)\s*:\s*(Upheld|Overturned)\s*$", r"\1\n\2", text, flags=re.M)
    assert split != text
    assert [(it.request, it.decision) for it in parse_layout(normalize_text(split)).items] == expected


def test_a_2015_statement_run_into_its_fields_on_the_same_lines():
    """A dwc_2015 numbered statement whose guideline and rationale labels follow it on the same lines
    ("... is not medically necessary and appropriate. Claims Administrator guideline: ... MAXIMUS
    guideline: ... Decision rationale: ...") gives the same items and fields as the statement on its
    own lines; a side-less label run in after a sentence ("... 29. Non-MTUS Citation: ...") stays
    inside the field it is in."""
    text = (LAYOUTS / "dwc_2015.txt").read_text(encoding="utf-8")
    apart = parse_layout(normalize_text(text))
    run_in = re.sub(r"\n(Claims Administrator guideline:|MAXIMUS guideline:|Decision rationale:)", r" \1", text)
    assert run_in != text and "appropriate. Claims Administrator guideline:" in run_in
    norm = normalize_text(run_in)
    joined = parse_layout(norm)
    assert [(it.request, it.decision) for it in joined.items] == [(it.request, it.decision) for it in apart.items]
    ref = normalize_text(text)
    for a, b in zip(apart.items, joined.items):
        for role in ("claims_administrator", "reviewer", "rationale"):
            assert norm[getattr(b, role).start:getattr(b, role).end] == ref[getattr(a, role).start:getattr(a, role).end]
    # one statement run in, the other alone: both are items
    mixed = re.sub(r"\n(Claims Administrator guideline:|MAXIMUS guideline:|Decision rationale:)", r" \1", text, count=3)
    assert [(it.request, it.decision) for it in parse_layout(normalize_text(mixed)).items] == \
        [(it.request, it.decision) for it in apart.items]
    cited = run_in.replace("Carisoprodol\nPage(s): 29.", "Carisoprodol\nPage(s): 29. Non-MTUS Citation: ODG Pain, Soma.")
    assert cited != run_in
    norm = normalize_text(cited)
    reviewer = parse_layout(norm).items[1].reviewer
    assert norm[reviewer.start:reviewer.end].endswith("Page(s): 29. Non-MTUS Citation: ODG Pain, Soma.")


@pytest.mark.parametrize("upheld, overturned", [
    ("The request for {} is not medically necessary.", "The request for {} is medically necessary."),
    ("{}: Not medically necessary.", "{}: Medically necessary."),
    ("{} -- NOT MEDICALLY NECESSARY.", "{} -- MEDICALLY NECESSARY."),
    ("{} (NOT MEDICALLY NECESSARY)", "{} (MEDICALLY NECESSARY)"),
    ("The requested {} does not meet criteria for medical necessity.", "The requested {} meets criteria for medical necessity."),
    ("Medical necessity for {} has not been established.", "Medical necessity for {} has been established."),
])
def test_2015_statements_worded_otherwise(upheld, overturned):
    """A dwc_2015 letter whose numbered statements are worded otherwise than "X is (not) medically
    necessary and appropriate" gives each item's request and decision."""
    text = (LAYOUTS / "dwc_2015.txt").read_text(encoding="utf-8")
    statements = list(re.finditer(r"^(\d)\. (.+?) is not medically necessary\s+and appropriate\.", text, re.M | re.S))
    assert len(statements) == 2
    requests = [re.sub(r"\s+", " ", m[2]) for m in statements]
    reworded = text
    for m, form in zip(reversed(statements), (overturned, upheld)):
        reworded = reworded[:m.start()] + f"{m[1]}. " + form.format(m[2]) + reworded[m.end():]
    layout = parse_layout(normalize_text(reworded))
    assert [(it.request, it.decision) for it in layout.items] == [(requests[0], "upheld"), (requests[1], "overturned")]


@pytest.mark.parametrize("label", ["Issue {}:", "Disputed item {} -", "Item {}."])
def test_2014_item_headings_after_a_numbered_label(label):
    """A dwc_2014 item heading with a numbered label before its request ("Issue 2: X: Upheld") gives the
    request without the label."""
    text = (LETTERS / "001_37e0e7a9dfbd6631.txt").read_text(encoding="utf-8")
    plain = [(it.request, it.decision) for it in parse_layout(normalize_text(text)).items]
    labelled = text
    for k, request in enumerate(("WEEKLY COGNITIVE BEHAVIORAL", "KLONOPIN 1MG TABLETS"), start=1):
        assert labelled.count(request) == 1
        labelled = labelled.replace(request, label.format(k) + " " + request)
    got = [(it.request, it.decision) for it in parse_layout(normalize_text(labelled)).items]
    assert got == plain and len(got) == 3


@pytest.mark.parametrize("first, second", [
    ("1. The Expert Reviewer found that the request for ProSom is NOT medically necessary and appropriate.",
     "2. The Expert Reviewer found that the request for cognitive behavioral therapy (36 sessions) IS medically "
     "necessary and appropriate."),
    ("1. The request for ProSom is not medically necessary and appropriate; the utilization review decision is upheld.",
     "2. The request for cognitive behavioral therapy (36 sessions) is medically necessary and appropriate; the "
     "utilization review decision is overturned."),
    ("1. ProSom: not medically necessary and appropriate. The utilization review denial is UPHELD.",
     "2. Cognitive behavioral therapy (36 sessions): medically necessary and appropriate. The denial is OVERTURNED."),
    ("1. MAXIMUS Federal Services, Inc. upholds the denial of ProSom. It is not medically necessary and appropriate.",
     "2. MAXIMUS Federal Services, Inc. overturns the denial of cognitive behavioral therapy (36 sessions). It is "
     "medically necessary and appropriate."),
    ("1. Based on the Expert Reviewer's findings, ProSom is likewise not certified as medically necessary and appropriate.",
     "2. Based on the Expert Reviewer's findings, cognitive behavioral therapy (36 sessions) is certified as "
     "medically necessary and appropriate."),
    # worded freely, the last words before "medically necessary" saying whether it is
    ("1. ProSom: the expert reviewer found that this medication is not medically necessary at this time.",
     "2. The Expert Reviewer has found the request for cognitive behavioral therapy (36 sessions) to be medically "
     "necessary and appropriate, and it should be provided."),
    ("1. As to the ProSom requested on 5/20/2013, MAXIMUS Federal Services, Inc. has determined the request is not "
     "medically necessary and appropriate.",
     "2. Cognitive behavioral therapy (36 sessions) has been shown to be medically necessary."),
    ("1. Having reviewed the records, the Expert Reviewer has concluded that ProSom cannot be certified as medically "
     "necessary and appropriate at this time.",
     "2. The Expert Reviewer found cognitive behavioral therapy (36 sessions) medically necessary."),
    ("1. ProSom has not been shown to be medically necessary.",
     "2. The request for cognitive behavioral therapy (36 sessions) is likewise found medically necessary."),
])
def test_notice_determinations_phrased_otherwise(first, second):
    """A dwc_2013_notice's numbered determinations phrased otherwise than "MAXIMUS Federal Services, Inc.
    has determined the request for X is (not) medically necessary and appropriate" still give each item
    its decision."""
    text = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    rephrased = re.sub(r"1\. MAXIMUS Federal Services, Inc\. has determined the request for ProSom is not medically\s+"
                       r"necessary and appropriate\.", first, text)
    rephrased = re.sub(r"2\. MAXIMUS Federal Services, Inc\. has determined the request for cognitive behavioral therapy\s+"
                       r"\(36 sessions\) is medically necessary and appropriate\.", second, rephrased)
    assert first in rephrased and second in rephrased
    assert _notice_items(rephrased) == NOTICE_ITEMS


def test_notice_determinations_listed_after_a_label_on_the_same_paragraph():
    """Numbered determinations whose list a label opens on the same line ("Our findings on the treatments in
    dispute are: 1. ProSom: ...") give each item its decision."""
    text = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    relabelled = re.sub(r"\n1\. MAXIMUS Federal Services, Inc\. has determined the request for ProSom is not medically\s+"
                        r"necessary and appropriate\.", "\nOur findings on the treatments in dispute are: 1. ProSom: the "
                        "reviewer did not find this request medically necessary.", text)
    assert "Our findings" in relabelled
    assert _notice_items(relabelled) == NOTICE_ITEMS


@pytest.mark.parametrize("claims, reviewer, rationale", [
    ("What the Claims Administrator relied on:", "What the Expert Reviewer relied on:", "Why:"),
    ("Cited by UR:", "Cited by the Reviewer:", "Basis for finding:"),
    ("Standard cited in the UR denial:", "Basis the Expert Reviewer drew on:", "Clinical reasoning:"),
    ("UR reference:", "IMR reference:", "Discussion and conclusion:"),
])
def test_notice_item_fields_under_labels_of_other_forms(claims, reviewer, rationale):
    """Short labels naming the claims administrator (or utilization review) and what it cited, the reviewer
    and what it relied on, and the reasoning, open the item's three fields; the request ends before them."""
    text = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    relabelled = (text.replace("Medical Treatment Guideline(s) Relied Upon by the Claims Administrator:", claims)
                  .replace("Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:", reviewer)
                  .replace("Rationale for the Decision:", rationale))
    relabelled = re.sub(r"\n([12])\) Regarding the request for ([^\n]*):\n", r"\nIssue \1: \2\n", relabelled)
    assert relabelled.count(claims) == relabelled.count(reviewer) == relabelled.count(rationale) == 2
    assert _notice_items(relabelled) == NOTICE_ITEMS
    norm = normalize_text(relabelled)
    for it in parse_layout(norm).items:  # each field's text follows its label
        for span, label in ((it.claims_administrator, claims), (it.reviewer, reviewer), (it.rationale, rationale)):
            assert norm[:span.start].rstrip().endswith(label) and label not in norm[span.start:span.end]


@pytest.mark.parametrize("form", [
    "{n}. Request: {x}\nDetermination: {d}.",
    "Item {n}. The disputed request is for {x}. The Expert Reviewer has determined that this request is {nm}medically "
    "necessary and appropriate.",
])
def test_2015_items_with_the_request_and_determination_apart(form):
    """A dwc_2015 item stating its request and its determination on labelled lines or in two sentences."""
    text = (LAYOUTS / "dwc_2015.txt").read_text(encoding="utf-8")
    statements = list(re.finditer(r"^(\d)\. (.+?) is not medically necessary\s+and appropriate\.", text, re.M | re.S))
    requests = [re.sub(r"\s+", " ", m[2]) for m in statements]
    reworded = text
    for m, overturned in zip(reversed(statements), (True, False)):
        reworded = reworded[:m.start()] + form.format(n=m[1], x=m[2], d="Overturned" if overturned else "Upheld",
                                                      nm="" if overturned else "not ") + reworded[m.end():]
    layout = parse_layout(normalize_text(reworded))
    assert [(it.request, it.decision) for it in layout.items] == [(requests[0], "upheld"), (requests[1], "overturned")]


@pytest.mark.parametrize("therapy, medications", [("Therapy", "Medications"), ("Lumbar spine:", "Pain medications")])
def test_2015_items_grouped_under_subheadings(therapy, medications):
    """A short subheading on its own line before a numbered item ("Medications" / "2. Soma 350mg #60 is not
    medically necessary ...") does not join the item's statement, which stays its heading."""
    text = (LAYOUTS / "dwc_2015.txt").read_text(encoding="utf-8")
    plain = [(it.request, it.decision) for it in parse_layout(normalize_text(text)).items]
    grouped = text.replace("\n1. Physical therapy", f"\n{therapy}\n1. Physical therapy").replace(
        "\n2. Soma", f"\n{medications}\n\n2. Soma")
    assert grouped.count(therapy) == 1 and grouped.count(medications) == 1
    assert [(it.request, it.decision) for it in parse_layout(normalize_text(grouped)).items] == plain
    assert len(plain) == 2


def test_a_notice_item_headed_request_for_x_names_x():
    """A notice item block headed "1) Request for X:" has the request X."""
    text = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    relabelled = re.sub(r"\n([12])\) Regarding the request for ([^\n]*):\n", r"\n\1) Request for \2:\n", text)
    assert relabelled.count(") Request for ") == 2
    assert _notice_items(relabelled) == NOTICE_ITEMS


@pytest.mark.parametrize("last", [True, False])
def test_2015_items_whose_determination_ends_the_rationale(last):
    """A dwc_2015 item headed by its numbered request alone ("1. Soma 350mg #60") before its fields takes the
    decision its text concludes with: the last "... is (not) medically necessary" sentence."""
    text = (LAYOUTS / "dwc_2015.txt").read_text(encoding="utf-8")
    statements = list(re.finditer(r"^(\d)\. (.+?) is not medically necessary\s+and appropriate\.", text, re.M | re.S))
    requests = [re.sub(r"\s+", " ", m[2]) for m in statements]
    reworded = text
    for m in reversed(statements):
        reworded = reworded[:m.start()] + f"{m[1]}. {m[2]}" + reworded[m.end():]
    # the second item is overturned: its rationale concludes so (an earlier sentence may say otherwise)
    end = "The\nrequest is not medically necessary."
    assert reworded.count(end) == 2
    k = reworded.rindex(end)
    conclusion = ("The records document what the guideline asks. For these reasons, the request for Soma 350mg #60 "
                  "is medically necessary and appropriate.")
    reworded = reworded[:k] + (conclusion if last else conclusion + " " + end) + reworded[k + len(end):]
    layout = parse_layout(normalize_text(reworded))
    assert [(it.request, it.decision) for it in layout.items] == [
        (requests[0], "upheld"), (requests[1], "overturned" if last else "upheld")]
    assert all(it.claims_administrator and it.reviewer and it.rationale for it in layout.items)


@pytest.mark.parametrize("form", ["{r}: [{d}]", "{r} ({d})", "{r}:\n[{d}]", "{r}:  {d}    Claims Administrator guideline:"])
def test_2014_decisions_in_brackets_on_the_next_line_or_run_into_the_first_field(form):
    """A dwc_2014 heading's decision in brackets or parentheses, on the line after the request, or run into
    the first field's label on the same line, is still the item's heading."""
    text = (LETTERS / "001_37e0e7a9dfbd6631.txt").read_text(encoding="utf-8")
    plain = [(it.request, it.decision) for it in parse_layout(normalize_text(text)).items]
    headings = list(re.finditer(r"^(.+?):[ \t]+(Upheld|Overturned)[ \t]*$", text, re.M))
    assert len(headings) == 2
    changed = text
    for m in reversed(headings):
        new = form.format(r=m[1], d=m[2])
        if new.endswith("guideline:"):  # the label moves up onto the heading's line
            rest = changed[m.end():].lstrip()
            assert rest.startswith("Claims Administrator guideline:")
            changed = changed[:m.start()] + new + rest[len("Claims Administrator guideline:"):]
        else:
            changed = changed[:m.start()] + new + changed[m.end():]
    assert changed != text
    assert [(it.request, it.decision) for it in parse_layout(normalize_text(changed)).items] == plain


@pytest.mark.parametrize("label", ["Issue No. {n} --", "Disputed Service {a}.", "Request under review ({n} of 2):",
                                   "Point {n} of 2."])
def test_notice_items_after_numbered_labels_of_other_forms(label):
    """A notice's items headed by a numbered (or lettered) label of other forms take their requests from the
    heading and their decisions from the determinations up front."""
    text = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    relabelled = re.sub(r"\n([12])\) Regarding the request for ([^\n]*):\n",
                        lambda m: "\n" + label.format(n=m[1], a="AB"[int(m[1]) - 1]) + f" {m[2]}\n", text)
    assert "Regarding the request" not in relabelled
    assert _notice_items(relabelled) == NOTICE_ITEMS
    norm = normalize_text(relabelled)  # found by their headings, not as a notice without any
    assert [norm[it.heading.start:it.heading.end].split()[0] for it in parse_layout(norm).items] == [label.split()[0]] * 2


@pytest.mark.parametrize("claims_label, reviewer_label", [
    ("Sources consulted by the Claims Administrator:", "Sources consulted by the Expert Reviewer:"),
    ("Medical Treatment Guideline(s) which the Claims Administrator based its decision on:",
     "Medical Treatment Guideline(s) which the Expert Reviewer based his/her decision on:"),
])
def test_notice_items_after_an_unnumbered_label_with_other_field_labels(claims_label, reviewer_label):
    """A notice item headed "THE DISPUTED TREATMENT: X" whose fields read "Sources consulted by the Claims
    Administrator:" / "... by the Expert Reviewer:", or "Medical Treatment Guideline(s) which the Claims
    Administrator based its decision on:"."""
    text = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    relabelled = re.sub(r"\n[12]\) Regarding the request for ([^\n]*):\n", r"\nTHE DISPUTED TREATMENT: \1\n", text)
    relabelled = relabelled.replace("Medical Treatment Guideline(s) Relied Upon by the Claims Administrator:",
                                    claims_label)
    relabelled = relabelled.replace("Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:",
                                    reviewer_label)
    assert relabelled.count("THE DISPUTED TREATMENT:") == 2 and "Relied Upon" not in relabelled
    assert _notice_items(relabelled) == NOTICE_ITEMS
    layout = parse_layout(normalize_text(relabelled))
    assert all(it.claims_administrator is not None and it.reviewer is not None for it in layout.items)


def test_a_notice_determination_the_patterns_miss_shifts_no_other_onto_the_wrong_item():
    """When fewer determinations up front are read than there are items, each item takes the one whose
    request shares its words, else the one its own rationale concludes with, or none: never its neighbour's
    by position (here the neighbour's is "overturned")."""
    text = (LAYOUTS / "dwc_2013_notice.txt").read_text(encoding="utf-8")
    garbled = re.sub(r"1\. MAXIMUS Federal Services, Inc\. has determined the request for ProSom is not medically\s+"
                     r"necessary and appropriate\.", "1. As to ProSom, the reviewer could not support it.", text)
    assert "As to ProSom" in garbled
    assert [(it.request, it.decision) for it in parse_layout(normalize_text(garbled)).items] == [
        ("ProSom", "upheld"), ("cognitive behavioral therapy (36 sessions)", "overturned")]
    # without a conclusion of its own, none
    silent = garbled.replace("The request for ProSom is not medically\nnecessary and appropriate.", "")
    assert silent != garbled
    assert [(it.request, it.decision) for it in parse_layout(normalize_text(silent)).items] == [
        ("ProSom", None), ("cognitive behavioral therapy (36 sessions)", "overturned")]


def test_a_notice_item_heading_may_be_a_bare_numbered_request_before_its_fields():
    """A dwc_2013_notice item headed by its numbered request with no colon ("1. ProSom") is found
    when no other heading form is, and only where an item field follows it; its decision is the
    numbered determination's up front."""
    text = _notice_headed_by_numbered_requests(colon="")
    layout = parse_layout(text)
    assert [(it.request, it.decision) for it in layout.items] == [
        ("ProSom", "upheld"), ("Cognitive behavioral therapy (36 sessions)", "overturned")]
    assert all(it.reviewer is not None and it.rationale is not None for it in layout.items)
    # a numbered line that no field follows is no heading
    assert parse_layout(text.replace("1. ProSom", "1. ProSom\n\nThe patient was seen.")).items[0].request != "ProSom"


def test_a_notice_item_heading_may_ask_its_request_as_a_question():
    """"1. Is the request for ProSom medically necessary and appropriate?": the request is what it asks about."""
    text = _notice_headed_by_numbered_requests(colon="")
    text = text.replace("1. ProSom", "1. Is the request for ProSom medically necessary and appropriate?").replace(
        "2. Cognitive behavioral therapy (36 sessions)",
        "2. Is the request for cognitive behavioral therapy (36 sessions), medically necessary?")
    assert [(it.request, it.decision) for it in parse_layout(text).items] == [
        ("ProSom", "upheld"), ("cognitive behavioral therapy (36 sessions)", "overturned")]


def test_a_notice_item_heading_may_be_the_numbered_request_alone():
    """A dwc_2013_notice item headed by its numbered request and a colon ("1. ProSom:") takes its
    decision from the numbered determination up front."""
    layout = parse_layout(_notice_headed_by_numbered_requests(colon=":"))
    assert [(it.request, it.decision) for it in layout.items] == [
        ("ProSom", "upheld"), ("Cognitive behavioral therapy (36 sessions)", "overturned")]


def test_a_documents_list_after_the_case_summary_ends_it():
    """The list after the summary, run by extraction into its heading's paragraph, ends it (front matter)."""
    text = normalize_text((LETTERS.parent / "written" / "weir/letters/w352_08.txt").read_text(encoding="utf-8"))
    summary = parse_layout(text).summary
    at = re.search(r"(?i)documents reviewed for", text).start()
    assert summary is not None and summary.start < at and summary.end <= at
    assert len(text[summary.start:summary.end]) > 800  # the clinical account stays the summary


@pytest.mark.parametrize("letter, lead", [
    ("sound/letters/w178_07.txt", r"documents reviewed for"),
    ("lode/letters/w470_02.txt", r"based his/her decision on a review of the following documents"),
])
def test_a_documents_list_under_a_first_summary_heading_is_front_matter(letter, lead):
    """"Expert Reviewer Case Summary:", a list of the documents reviewed, then "Case Summary:": the list is front
    matter (SPEC section 2) and the summary begins at the second heading; without a second heading the first one
    starts it."""
    text = normalize_text((LETTERS.parent / "written" / letter).read_text(encoding="utf-8"))
    summary = parse_layout(text).summary
    at = re.search(r"(?i)" + lead, text).start()
    assert summary is not None and summary.start > at
    assert text[summary.start:].startswith("Case Summary:")
    assert len(text[summary.start:summary.end]) > 800
    alone = text.replace("\nCase Summary:", "\nThe account:", 1)
    assert parse_layout(alone).summary.start < at
