"""The text normalizer: extraction artifacts out, sentences and headings kept."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import LAYOUTS, LETTERS
from nlp.textnorm import normalize_text


def test_interleaved_blank_lines_are_unwrapped():
    raw = (LETTERS / "002_9c890e9297bcac86.txt").read_text(encoding="utf-8")
    text = normalize_text(raw)
    assert ("The expert reviewer is Board Certified in Internal Medicine and Pulmonary Diseases and is "
            "licensed to practice in California.") in text
    assert "\nCLINICAL CASE SUMMARY\n" in text
    assert "\nProsom 2mg, #30 with 2 refills: Upheld\n" in text


def test_every_line_double_spaced_with_trailing_spaces_on_wraps_is_unwrapped():
    """Some extracts put an empty line after every line and keep the wrapped lines' trailing
    space, with no space-only paragraph lines: the wraps are joined, paragraphs kept."""
    raw = ("Biofeedback x 6 sessions: Upheld\n\nClaims Administrator guideline: Decision based on MTUS \n\n"
           "Biofeedback Page(s): 24-25.\n\nDecision rationale: The guidelines describe an initial trial of 3-4 \n\n"
           "psychotherapy visits over 2 \n\nweeks, with a total of up to 6-10 visits over 5-6 weeks only with \n\n"
           "evidence of objective functional improvement.\n\nCognitive behavioral therapy 12 sessions was the "
           "original request. Cognitive behavioral therapy \n\n4 sessions was authorized.\n")
    text = normalize_text(raw)
    assert text == ("Biofeedback x 6 sessions: Upheld\n\nClaims Administrator guideline: Decision based on MTUS "
                    "Biofeedback Page(s): 24-25.\n\nDecision rationale: The guidelines describe an initial trial of "
                    "3-4 psychotherapy visits over 2 weeks, with a total of up to 6-10 visits over 5-6 weeks only with "
                    "evidence of objective functional improvement.\n\nCognitive behavioral therapy 12 sessions was "
                    "the original request. Cognitive behavioral therapy 4 sessions was authorized.")
    assert normalize_text(text) == text
    # without the trailing spaces an empty line still separates paragraphs
    assert "2\n\nweeks" in normalize_text(raw.replace(" \n", "\n"))


def test_every_line_followed_by_a_space_only_line_is_unwrapped():
    """Some extracts have no empty line at all: one space-only line after every line, two or more
    between paragraphs. The single ones are interleaved (wraps joined), the runs break paragraphs."""
    raw = ("The determination on each disputed item is as follows: \n \n \n"
           "1. MAXIMUS Federal Services, Inc. has determined the request for physical therapy three times a \n \n"
           "week for four weeks to the neck is not medically necessary and appropriate. \n \n \n"
           "2. MAXIMUS Federal Services, Inc. has determined the request for compounded cream (Flurbiprofen \n \n"
           "20%) 180gm is not medically necessary and appropriate. \n \n \n"
           "The records do not describe objective functional gains from the last course that would \n \n"
           "support more supervised care, and the request exceeds what the guidelines \n \n"
           "support for this condition.\n")
    text = normalize_text(raw)
    assert text == ("The determination on each disputed item is as follows:\n\n"
                    "1. MAXIMUS Federal Services, Inc. has determined the request for physical therapy three times a "
                    "week for four weeks to the neck is not medically necessary and appropriate.\n\n"
                    "2. MAXIMUS Federal Services, Inc. has determined the request for compounded cream (Flurbiprofen "
                    "20%) 180gm is not medically necessary and appropriate.\n\n"
                    "The records do not describe objective functional gains from the last course that would "
                    "support more supervised care, and the request exceeds what the guidelines support for this "
                    "condition.")
    assert normalize_text(text) == text
    # fewer than three wraps across single space-only lines: each space-only line still breaks
    assert "three times a\n\nweek" in normalize_text(raw.split("2. MAXIMUS")[0])


def test_decision_word_on_next_line_is_joined():
    raw = (LETTERS / "001_37e0e7a9dfbd6631.txt").read_text(encoding="utf-8")
    assert "\nMONTHLY MEDICATION MANAGEMENT (IN MONTHS) QUANTITY: 6.00: Overturned\n" in normalize_text(raw)


def test_page_break_mid_sentence_and_page_numbers():
    raw = ("Decision rationale: There was also lack of a clear \nPage 2 of 3\f"
           "Page 3 of 3\nrationale for additional therapy. The request is not\nmedically necessary.\n")
    assert normalize_text(raw) == ("Decision rationale: There was also lack of a clear rationale for additional "
                                   "therapy. The request is not medically necessary.")


def test_a_page_line_in_mid_text_is_dropped_and_the_item_heading_after_it_kept():
    raw = ("The request is not medically necessary. \n\nPage 4 of 5 \n3. Follow-up visits, 6 visits is not medically "
           "necessary and appropriate. \n\nClaims Administrator guideline: Decision based on ACOEM.\n")
    assert normalize_text(raw) == ("The request is not medically necessary.\n\n3. Follow-up visits, 6 visits is not "
                                   "medically necessary and appropriate.\n\nClaims Administrator guideline: Decision "
                                   "based on ACOEM.")


def test_a_running_footer_in_mid_sentence_goes_with_the_blank_lines_around_it():
    """A footer (case number and page, a confidentiality line) set off by blank lines inside a
    sentence: the sentence goes on as one paragraph; after a sentence's end the paragraph break stays."""
    footer = "\n\n \nIMR Case No. CM15-0158870   -   Page 3 of 3 \nThis letter contains confidential medical " \
             "information. Do not disclose. \n \n\n"
    raw = "He relied on the MTUS, pages 56-57 and " + footer + "the ODG Pain Chapter. \n\n \nRationale: No. \n"
    assert normalize_text(raw) == "He relied on the MTUS, pages 56-57 and the ODG Pain Chapter.\n\nRationale: No."
    raw = "He relied on the MTUS, pages 56-57. " + footer + "The ODG agrees. \n"
    assert normalize_text(raw) == "He relied on the MTUS, pages 56-57.\n\nThe ODG agrees."


def test_a_page_break_and_the_case_number_inside_an_item_heading_go_and_the_heading_stays_whole():
    """"Left L5-S1 transforaminal epidural steroid" / "Page 4 of 5" / the case number again / "injection under
    fluoroscopic guidance:  Overturned": one heading; after a running footer that repeats on every page, or after
    a sentence's end, the break stays."""
    top = "Case Number: CM15-0087412\n\nCLINICAL CASE SUMMARY\n\nThe worker was seen.\n\n"
    raw = top + ("The request is upheld. \n\n \n\nLeft L5-S1 transforaminal epidural steroid \n\n \n\nPage 4 of 5 \n\n \n\n"
                 "CM15-0087412 \n\n \n\ninjection under fluoroscopic guidance:  Overturned \n\n \n\nClaims Administrator "
                 "guideline: Decision based on MTUS.\n")
    assert normalize_text(raw).endswith("The request is upheld.\n\nLeft L5-S1 transforaminal epidural steroid injection "
                                        "under fluoroscopic guidance: Overturned\n\nClaims Administrator guideline: "
                                        "Decision based on MTUS.")
    footer = "Confidential - Protected Health Information"
    raw = top + (f"It is not needed \n\n{footer} \nPage 1 of 5 \nCM15-0087412 \nAnd more. \n\n{footer} \nPage 2 of 5 \n"
                 "CM15-0087412 \n \nFollow-up visits x 4: Upheld \n")
    assert normalize_text(raw).endswith("\n\nFollow-up visits x 4: Upheld")


def test_a_running_header_naming_the_letter_above_the_page_number_ends_no_item_heading():
    """"Final Determination Letter for IMR Case Number CM15-0154418" over "Page 3 of 5" is page
    furniture: the item heading after it starts its own paragraph (an item was lost to it)."""
    raw = ("The request is not medically necessary. \n\nFinal Determination Letter for IMR Case Number CM15-0154418 "
           "\nPage 3 of 5 \n\n2. Neurontin 600mg #90 is not medically necessary and appropriate. \n")
    assert normalize_text(raw) == ("The request is not medically necessary.\n\n2. Neurontin 600mg #90 is not "
                                   "medically necessary and appropriate.")


def test_running_header_removed_and_hyphenation_joined():
    page = "CM13-0001234 IMR Final Determination\nThe applicant under-\nwent treat-\nment for pain and"
    raw = page + "\f" + "CM13-0001234 IMR Final Determination\ndepression.\n"
    assert normalize_text(raw) == "The applicant underwent treatment for pain and depression."


def test_a_sentence_two_page_breaks_cut_at_the_same_words_is_no_running_header():
    """Two items' fields, each cut by a page break after the same words, repeat at the page edges as
    a running header would; they are prose and stay."""
    cut = ("Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer: The Expert \f"
           "Reviewer based his/her decision on the MTUS Chronic Pain Medical Treatment \n")
    raw = ("Item one is upheld.\n" + cut + "Guidelines Opioids Page(s): 76-80.\n\nItem two is upheld.\n" + cut
           + "Guidelines Weaning Page(s): 124.\n")
    text = normalize_text(raw)
    assert text.count("The Expert Reviewer based his/her decision on the MTUS Chronic Pain Medical Treatment "
                      "Guidelines") == 2


def test_field_labels_and_headings_keep_their_lines():
    raw = ("IMR ISSUES, DECISIONS AND RATIONALES\nThe Final Determination was based on decisions for the "
           "disputed items/services set forth below:\nMRI of the left knee: Upheld\nClaims Administrator "
           "guideline: Decision based on MTUS\nKnee Complaints, Section(s):\nSpecial Studies.\n")
    assert normalize_text(raw).split("\n\n") == [
        "IMR ISSUES, DECISIONS AND RATIONALES",
        "The Final Determination was based on decisions for the disputed items/services set forth below:",
        "MRI of the left knee: Upheld",
        "Claims Administrator guideline: Decision based on MTUS Knee Complaints, Section(s): Special Studies.",
    ]


@pytest.mark.parametrize("raw, paragraphs", [
    # a numbered item heading and other writers' field labels keep their lines
    ("IMR Issues and Rationale:\n1) Regarding the request for Soma 350mg #60:\nSection of the Medical Treatment "
     "Utilization Schedule (MTUS) cited by the Claims Administrator:\nThe Claims Administrator based its\n"
     "decision on the MTUS.\n2) Regarding the request for a TENS unit:\nRationale Used by Claims "
     "Administrator/URO: The Claims Administrator based\nits decision on the MTUS.\n",
     ["IMR Issues and Rationale:",
      "1) Regarding the request for Soma 350mg #60:",
      "Section of the Medical Treatment Utilization Schedule (MTUS) cited by the Claims Administrator: The Claims "
      "Administrator based its decision on the MTUS.",
      "2) Regarding the request for a TENS unit:",
      "Rationale Used by Claims Administrator/URO: The Claims Administrator based its decision on the MTUS."]),
    # an item heading ending with its colon ends its paragraph before an unlabelled field; a wrapped
    # determination's "(DOS:" does not
    ("1) Regarding the request for an off-the-shelf medial unloader brace for the left knee: \n"
     "The Claims Administrator based its decision on the MTUS/ACOEM Practice Guidelines, Knee \n"
     "Complaints, page 340. \n1. Retrospective request for Flurbiprofen 20% cream (DOS: \n"
     "11/18/2014) is not medically necessary and appropriate.\n",
     ["1) Regarding the request for an off-the-shelf medial unloader brace for the left knee:",
      "The Claims Administrator based its decision on the MTUS/ACOEM Practice Guidelines, Knee Complaints, page 340.",
      "1. Retrospective request for Flurbiprofen 20% cream (DOS: 11/18/2014) is not medically necessary and "
      "appropriate."]),
])
def test_item_headings_and_field_labels_keep_their_lines(raw, paragraphs):
    assert normalize_text(raw).split("\n\n") == paragraphs


def test_a_running_case_number_header_in_mid_text_is_dropped_after_its_first_occurrence():
    raw = ("IMR Case Number: CM15-0087412\n\nThe patient improved between the first and the last\n"
           "IMR Case Number: CM15-0087412\nvisit of that course.\n")
    assert normalize_text(raw).split("\n\n") == [
        "IMR Case Number: CM15-0087412",
        "The patient improved between the first and the last visit of that course.",
    ]


def test_crlf_runs_of_spaces_and_redaction_gaps():
    raw = "The injured worker was working at  .  The\r\nrequest   is\r\nnot medically necessary.\r\n"
    assert normalize_text(raw) == "The injured worker was working at . The request is not medically necessary."


def test_empty_and_whitespace():
    assert normalize_text("") == ""
    assert normalize_text(" \n\f\n  \r\n") == ""


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_normalizing_is_idempotent(s):
    once = normalize_text(s)
    assert normalize_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Upheld", "Overturned", "MAXIMUS guideline: x", "CLINICAL CASE SUMMARY",
                                 "the request for PT", "is medically necessary.", "", " ", "\f", "Page 2",
                                 "Section(s):", "treat-", "ment of", "ProSom:"]), max_size=30))
def test_idempotent_on_letter_like_lines(lines):
    once = normalize_text("\n".join(lines))
    assert normalize_text(once) == once


def test_offsets_point_back_into_the_original():
    from nlp.textnorm import map_span, normalize_with_offsets

    raw = (LETTERS / "001_37e0e7a9dfbd6631.txt").read_text(encoding="utf-8")
    text, offsets = normalize_with_offsets(raw)
    assert len(offsets) == len(text)
    start = raw.index("13-20 visits over 13-20")
    end = raw.index("weeks", start) + len("weeks")  # wraps onto the next line in the original
    s, e = map_span(offsets, start, end)
    assert text[s:e] == "13-20 visits over 13-20 weeks"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("ab-. :\n\f\r\t\x00\ufeff") + ["Upheld", "CLINICAL CASE SUMMARY", "\n \n"]),
                max_size=120).map("".join))
def test_every_visible_character_maps_to_itself(s):
    from nlp.textnorm import normalize_with_offsets

    text, offsets = normalize_with_offsets(s)
    assert len(offsets) == len(text)
    assert offsets == sorted(offsets)
    for ch, o in zip(text, offsets):
        if not ch.isspace():
            assert s[o] == ch


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Upheld", "Overturned", "CLINICAL CASE SUMMARY", "the request for PT", "treat-",
                                 "ment of", "is medically necessary.", "", " ", "\f", "\r\n", "Page 2", "ProSom:",
                                 "\x00", "\ufeff", "a  b", "set forth below:"]), max_size=40).map("\n".join))
def test_fast_path_equals_offset_path(s):
    from nlp.textnorm import normalize_with_offsets

    assert normalize_text(s) == normalize_with_offsets(s)[0]


@pytest.mark.parametrize("name", ["dwc_2013_notice.txt", "dwc_2015.txt"])
def test_a_double_spaced_extraction_reads_as_the_letter(name):
    """An extraction that puts a blank line after every line and more between paragraphs gives the
    text of the letter as extracted line by line."""
    text = (LAYOUTS / name).read_text(encoding="utf-8")
    assert normalize_text(text.replace("\n", "\n\n")) == normalize_text(text)


def test_a_section_heading_with_a_colon_keeps_its_own_line():
    """"IMR DECISION(S) AND RATIONALE(S):" on the line right before the first numbered statement is
    still a heading of its own, as without the colon."""
    text = (LAYOUTS / "dwc_2015.txt").read_text(encoding="utf-8")
    heading = "IMR DECISION(S) AND RATIONALE(S)"
    assert heading + "\n\n1. " in text
    out = normalize_text(text.replace(heading + "\n\n1. ", heading + ":\n1. "))
    assert heading + ":\n\n1. Physical therapy" in out


def test_a_numbered_line_after_a_heading_in_capitals_with_a_colon_starts_a_paragraph():
    """With no blank lines, "1. ..." under a capitals heading with a colon the layouts do not list
    ("IMR ISSUE(S) AND RATIONALE(S):") starts its own paragraph; a numbered section after a
    citation's "Section(s):" still continues the citation."""
    raw = "The requests were denied.\nIMR ISSUE(S) AND RATIONALE(S):\n1. Lumbar discography at L3-L4\n"
    assert normalize_text(raw).split("\n\n") == [
        "The requests were denied.", "IMR ISSUE(S) AND RATIONALE(S):", "1. Lumbar discography at L3-L4"]
    raw = "MAXIMUS guideline: MTUS Opioid Treatment 2016, Section(s):\n3. Opioids for Chronic Pain\n"
    assert normalize_text(raw) == "MAXIMUS guideline: MTUS Opioid Treatment 2016, Section(s): 3. Opioids for Chronic Pain"


@pytest.mark.parametrize("furniture", [
    "CM13-0047702 Page 4 of 6",  # the case number and page without "Case No."
    "CONFIDENTIAL: contains protected health information",
    "CONFIDENTIAL",
    "=" * 40,  # a rule between items
    "- - - - - - - -",
])
def test_page_furniture_between_an_item_and_the_next_heading_is_dropped(furniture):
    """Page furniture on its own line goes, so that with no blank lines the next item heading does
    not run into it."""
    raw = f"The request is not medically necessary.\n{furniture}\n2. Cold therapy unit is not medically necessary.\n"
    assert normalize_text(raw).split("\n\n") == [
        "The request is not medically necessary.", "2. Cold therapy unit is not medically necessary."]


def test_a_bare_case_number_repeated_as_a_running_header_is_dropped_after_its_first_occurrence():
    raw = ("Case Number:\nCM15-0087412\n\nThe request is not medically necessary.\nCM15-0087412\n"
           "Omeprazole 20mg #60: Upheld\n")
    assert normalize_text(raw).split("\n\n") == [
        "Case Number: CM15-0087412", "The request is not medically necessary.", "Omeprazole 20mg #60: Upheld"]


def test_an_item_headings_decision_set_off_by_blank_lines_joins_its_heading():
    """"Naproxen sodium 550mg #60:", a blank line (or one of spaces), then "Overturned": one heading line,
    as the decision's own line right after it is."""
    raw = "The request is not medically necessary.\n\nNaproxen sodium 550mg #60:\n\n \n\nOverturned\n" \
          "Claims Administrator guideline: MTUS.\n"
    assert normalize_text(raw).split("\n\n") == [
        "The request is not medically necessary.", "Naproxen sodium 550mg #60: Overturned",
        "Claims Administrator guideline: MTUS."]
    # a decision word after a paragraph that ends otherwise stays its own paragraph
    assert normalize_text("It was denied.\n\nUpheld\n").split("\n\n") == ["It was denied.", "Upheld"]


def test_the_list_of_treatments_in_dispute_keeps_its_line_after_a_specialty_line():
    """A credentials block's specialty line ends in no period; the header's "Treatment(s) in Dispute ..."
    label after it starts a line of its own (else the specialties read the treatments)."""
    raw = ("Certification(s)/Specialty: Psychiatry\nTreatment(s) in Dispute Listed on IMR Application: Cognitive "
           "behavioral therapy, six sessions\n")
    assert normalize_text(raw).split("\n\n") == [
        "Certification(s)/Specialty: Psychiatry",
        "Treatment(s) in Dispute Listed on IMR Application: Cognitive behavioral therapy, six sessions"]
