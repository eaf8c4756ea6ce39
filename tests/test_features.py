"""Item features (models/features.py): exact values, the forecast leakage guarantee, and the
scikit-learn transformer contract."""
from __future__ import annotations

import pickle
import random
import re
import string

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from models.examples import FORECAST_KEYS, REVIEW_KEYS, item_examples
from models.features import ItemFeatures, StructuredFeatures, load_config

from conftest import REAL


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def real_examples():
    from nlp.reading import iter_documents
    from models.bundle import load_parser
    from nlp.textnorm import normalize_text

    # development letters only: none of configs/real/frozen_cases.json (test_fixture_letters_are_not_frozen)
    names = ["CM16-0221706", "CM16-0235869", "CM16-0228949", "CM16-0233794", "CM17-0001749",
             "CM16-0239190", "CM16-0248233", "CM17-0010420", "CM17-0015957"]
    docs = list(iter_documents([str(REAL / f"{n}.pdf") for n in names]))
    recs = list(load_parser(ner=False).process(docs))
    return {r["id"]: item_examples(r, normalize_text(d.text)) for d, r in zip(docs, recs)}


def test_fixture_letters_are_not_frozen(real_examples):
    from training.real_protocol import load_frozen

    assert real_examples and not set(real_examples) & load_frozen()


@pytest.fixture(scope="module")
def all_real(real_examples):
    return [ex for exs in real_examples.values() for ex in exs]


def _ent(label, text, start, norm, section="item", item=1):
    return {"label": label, "text": text, "start": start, "end": start + len(text), "section": section,
            "item": item, "norm": norm}


def hand_example(**over) -> dict:
    """A hand-built example with entities, independent of the NER and the layout parser."""
    ex = {
        "id": "hand-1", "index": 1,
        "request": "Klonopin 1mg #30 and 12 sessions", "original_request": "",
        "summary": "The injured worker remains off work on temporary total disability. He completed 6 sessions.",
        "claims_guideline": "Decision based on MTUS Chronic Pain Treatment Guidelines.",
        "reviewer_guideline": "Decision based on MTUS Chronic Pain Treatment Guidelines Benzodiazepines Page(s): 24.",
        "rationale": "Guidelines recommend 10 sessions. Therefore, the request is not medically necessary.",
        "treatment_category": "pharmaceuticals",
        "request_entities": [
            _ent("DRUG", "Klonopin", 10, {"generic": "clonazepam", "drug_class": "benzodiazepine"}),
            _ent("SESSION_COUNT", "12 sessions", 30, {"min": 12, "max": 12, "unit": "session", "over": None, "role": "requested"}),
        ],
        "summary_entities": [
            _ent("SESSION_COUNT", "6 sessions", 5, {"min": 6, "max": 6, "unit": "session", "over": None, "role": "completed"},
                 section="summary", item=None),
            _ent("DRUG", "Norco", 50, {"generic": "hydrocodone/acetaminophen", "drug_class": "opioid"}, section="summary", item=None),
        ],
        "claims_entities": [],
        "claims_citations": [{"text": "MTUS Chronic Pain Treatment Guidelines", "source": "MTUS", "document": "chronic_pain",
                              "topic": None, "pages": []}],
        "reviewer_entities": [],
        "rationale_entities": [
            _ent("SESSION_COUNT", "10 sessions", 300, {"min": 10, "max": 10, "unit": "session", "over": None, "role": "recommended"}),
        ],
        "reviewer_citations": [{"text": "MTUS Chronic Pain Treatment Guidelines Benzodiazepines Page(s): 24", "source": "MTUS",
                                "document": "chronic_pain", "topic": "benzodiazepines", "pages": [24]}],
        "reviewer_specialties": ["Psychiatry", "Occupational Medicine"],
        "age": 50, "sex": "male", "years_since_injury": 3.0, "format": "dwc_2014",
    }
    ex.update(over)
    return ex


def _sf(mode: str):
    from models.features import project

    sf = StructuredFeatures(load_config()["features"]).fit(None)
    return lambda ex: sf.features(project([ex], mode)[0])


# ----------------------------------------------------------------------------- exact values
def test_hand_built_entities_read_mode():
    f = _sf("read")(hand_example())
    assert f["drug_generic=clonazepam"] == 1.0 and f["drug_class=benzodiazepine"] == 1.0
    assert f["has_drug"] == 1.0
    assert f["summary_drug_class=opioid"] == 1.0
    # requested 12 (request entity), recommended 10 (rationale entity), completed 6 (summary)
    assert f["requested_count"] == pytest.approx(np.log1p(12) / np.log1p(60))
    assert f["requested_unit=session"] == 1.0
    assert f["recommended_count"] == pytest.approx(np.log1p(10) / np.log1p(60))
    assert f["completed_count"] == pytest.approx(np.log1p(6) / np.log1p(60))
    assert f["requested_to_recommended"] == pytest.approx(1.2 / 5.0)
    assert f["exceeds_recommended"] == 1.0 and f["total_exceeds_recommended"] == 1.0
    assert f["claims_source=MTUS"] == 1.0 and f["claims_document=chronic_pain"] == 1.0
    assert f["reviewer_topic=benzodiazepines"] == 1.0
    assert f["same_document_both_sides"] == 1.0
    assert f["work_status=off_work"] == 1.0
    assert f["conclusion_negative"] == 1.0 and f["conclusion_positive"] == 0.0
    assert f["age"] == pytest.approx(0.5)
    assert f["years_since_injury"] == pytest.approx(np.log1p(3) / np.log1p(40))
    assert f["specialty=psychiatry"] == 1.0 and f["n_specialties"] == 0.5
    assert f["category=pharmaceuticals"] == 1.0


def test_rationale_rule_cues_are_kept_as_fitted(monkeypatch):
    """Read mode: one feature per rationale label whose weak-rule cue the rationale matches; a
    fitted (and pickled) transformer keeps the patterns of its fit, whatever the lexicon says later."""
    import pickle

    import models.features as features
    from models.features import project

    ex = dict(hand_example(), rationale="The request exceeds the recommended initial trial. It is not medically necessary.")
    sf = pickle.loads(pickle.dumps(StructuredFeatures(load_config()["features"]).fit(None)))
    monkeypatch.setattr(features, "rule_patterns", lambda: {"not_recommended": ["initial trial"]})
    f = sf.features(project([ex], "read")[0])
    assert f["rationale_rule=exceeds_guideline_quantity"] == 1.0
    assert "rationale_rule=not_recommended" not in f
    refit = StructuredFeatures(load_config()["features"]).fit(None).features(project([ex], "read")[0])
    assert [k for k in refit if k.startswith("rationale_rule=")] == ["rationale_rule=not_recommended"]
    # forecast mode never sees the rationale
    assert not [k for k in sf.features(project([ex], "forecast")[0]) if k.startswith("rationale_rule=")]


def test_rationale_rule_positions_follow_the_case_specific_part_and_the_conclusion():
    """The weak rules' cues by where they stand: in the case-specific part (after the guideline
    quotes), first there, and in the conclusion sentence."""
    from models.features import derive, project

    settings = load_config()["features"]
    assert settings["rationale_rule_positions"]
    ex = dict(hand_example(), rationale=(
        "Guidelines state that this drug is not recommended for long-term use. In this case, there is no "
        "documentation of the frequency. The patient has had prior use without objective functional improvement. "
        "Therefore, given the lack of functional improvement, the request is not medically necessary."))
    f = StructuredFeatures(settings).fit(None).features(derive(project([ex], "read"), settings)[0])
    positions = sorted(k for k in f if k.startswith(("rationale_rule_case=", "rationale_rule_first=",
                                                    "rationale_rule_conclusion=")))
    assert positions == ["rationale_rule_case=insufficient_documentation",
                         "rationale_rule_case=no_functional_improvement",
                         "rationale_rule_conclusion=no_functional_improvement",
                         "rationale_rule_first=insufficient_documentation"]
    assert f["rationale_rule=not_recommended"] == 1.0  # the whole rationale still names the quote


def test_hand_built_entities_forecast_mode_sees_no_review_side():
    f = _sf("forecast")(hand_example())
    assert f["drug_class=benzodiazepine"] == 1.0
    # the recommended count is in the rationale: not visible before the review
    assert "recommended_count" not in f and f["recommended_count_missing"] == 1.0
    assert "exceeds_recommended" not in f
    assert not any(k.startswith(("reviewer_", "conclusion_", "rationale_", "same_document")) for k in f)
    assert f["completed_count"] == pytest.approx(np.log1p(6) / np.log1p(60))


def test_item_summary_allowance_and_bins_without_entities():
    ex = hand_example(
        request="Physical therapy 12 sessions for the lumbar spine", treatment_category="physical_therapy",
        summary=("CLINICAL CASE SUMMARY\n\nThe expert reviewer developed the following clinical case summary based on "
                 "a review of the case file, including all medical records:\n\nThe patient has completed 6 sessions of "
                 "physical therapy to date. There was no documentation of functional improvement with prior physical "
                 "therapy. He takes Norco. There is no indication of red flags."),
        request_entities=[], summary_entities=[], rationale_entities=[], n_items=1)
    from models.features import derive, item_summary_sentences, project

    sents = item_summary_sentences(ex, load_config()["features"])
    assert sents == ["The patient has completed 6 sessions of physical therapy to date.",
                     "There was no documentation of functional improvement with prior physical therapy."]
    assert derive(project([ex], "forecast"), load_config()["features"])[0]["item_summary"] == " ".join(sents)
    f = _sf("forecast")(ex)
    assert f["item_summary_n"] == pytest.approx(0.4)
    assert f["item_summary=fi_negative"] == 1.0 and "item_summary=fi_positive" not in f
    assert f["item_summary=completed"] == 1.0
    assert f["completed_count"] == pytest.approx(np.log1p(6) / np.log1p(60))  # read from the sentence
    # MTUS physical medicine: trial 6, max 10 (configs/classifier.yaml guideline_allowances)
    assert f["allowance_known"] == 1.0 and f["requested_gt_trial"] == 1.0 and f["requested_gt_max"] == 1.0
    assert f["total_gt_max"] == 1.0 and f["requested_to_allowance"] == pytest.approx(1.2 / 5)
    assert f["requested_bin=physical_therapy|<=12"] == 1.0 and f["total_bin=physical_therapy|<=18"] == 1.0
    assert f["single_item_letter"] == 1.0
    assert f["summary_cue=criteria_gap"] == 1.0 and f["summary_cue=criteria_gap|physical_therapy"] == 1.0
    assert f["summary_cue=criteria_gap|single_item"] == 1.0


def test_fields_text_joins_the_item_summary_sentences_with_the_settings_of_fit_time():
    """The forecast's text (configs/classifier.yaml models.forecast.fields) may name the derived
    `item_summary`: the summary sentences that share a content word with the request."""
    import copy

    from models.estimators import FieldsText

    ex = hand_example(
        request="Physical therapy 12 sessions for the lumbar spine", treatment_category="physical_therapy",
        summary="He completed 6 sessions of physical therapy. He takes Norco. The lumbar spine is tender.",
        request_entities=[], summary_entities=[], rationale_entities=[], n_items=1, letter_categories=[])
    settings = copy.deepcopy(load_config()["features"])
    text = FieldsText(("request", "item_summary"), settings=settings).fit([ex])
    assert text.transform([ex]) == ["Physical therapy 12 sessions for the lumbar spine \n "
                                    "He completed 6 sessions of physical therapy. The lumbar spine is tender."]
    settings["item_summary"]["stop_words"] += ["lumbar", "spine"]  # a later config changes new fits only
    assert text.transform([ex])[0].endswith("He completed 6 sessions of physical therapy. The lumbar spine is tender.")
    assert FieldsText(("request", "item_summary"), settings=settings).fit([ex]).transform([ex])[0].endswith(
        "lumbar spine \n He completed 6 sessions of physical therapy.")
    assert FieldsText(("request",)).fit([ex]).settings_ is None
    with pytest.raises(ValueError, match="not allowed in forecast mode"):
        FieldsText(("request", "rationale")).fit([ex])


def test_rationale_case_starts_at_the_first_case_specific_sentence():
    from models.features import compile_cue, derive, project, rationale_case

    settings = load_config()["features"]
    start = compile_cue(settings["rationale_case"]["start"])
    case = ("In this case, there is no documentation of objective functional improvement. As such, the "
            "request is not medically necessary.")
    text = "The MTUS recommends up to 10 visits. ODG notes an initial trial of 6 visits. " + case
    assert rationale_case(text, start) == case
    assert rationale_case("The MTUS recommends up to 10 visits.", start) == ""
    assert rationale_case(None, start) == ""
    # derived from the rationale: read mode only, and never vectorized in forecast mode
    ex = hand_example(rationale=text, n_items=1, letter_categories=[])
    assert derive(project([ex], "read"), settings)[0]["rationale_case"] == case
    assert "rationale_case" not in derive(project([ex], "forecast"), settings)[0]
    other = hand_example(rationale="Guidelines recommend 10 sessions. However, no documentation of the count was given.",
                         n_items=1, letter_categories=[])
    rd = ItemFeatures(mode="read", settings=settings).fit([ex, other, ex])
    assert any(str(n).startswith("tfidf_rationale_case__") for n in rd.get_feature_names_out())
    fc = ItemFeatures(mode="forecast", text_fields=["request", "rationale_case"], settings=settings).fit([ex, other, ex])
    assert not any("rationale" in str(n) for n in fc.get_feature_names_out())


def test_item_summary_criteria_findings():
    # a summary finding that names the request is linked to it; "do not describe" is a gap
    intro = ("CLINICAL CASE SUMMARY\n\nThe expert reviewer developed the following clinical case summary based on "
             "a review of the case file, including all medical records:\n\n")
    gap = hand_example(request="MRI of the lumbar spine", treatment_category="diagnostic_testing", n_items=1,
                       request_entities=[], summary_entities=[], rationale_entities=[],
                       summary=intro + "In relation to MRI of the lumbar spine, the notes do not describe red flag "
                               "conditions. He takes Norco.")
    f = _sf("forecast")(gap)
    assert f["item_summary=finding_gap"] == 1.0
    assert f["item_summary=finding_gap|diagnostic_testing"] == 1.0
    met = dict(gap, summary=intro + "The treating physician documented unequivocal objective findings of nerve "
                                    "compromise when requesting MRI of the lumbar spine.")
    f = _sf("forecast")(met)
    assert "item_summary=finding_gap" not in f and f["item_summary_n"] == pytest.approx(0.2)


def test_entities_win_over_lexicon_fallback():
    # an entity normalized differently from what the lexicon would say is what the feature uses
    ex = hand_example(request="Prosom 2mg", request_entities=[
        _ent("DRUG", "Prosom", 0, {"generic": "estazolam", "drug_class": "benzodiazepine"})])
    assert _sf("read")(ex)["drug_generic=estazolam"] == 1.0
    # without entities the request is read with the drug normalizer
    no_ents = _sf("read")(hand_example(request="Norco 10/325mg #90", request_entities=[]))
    assert no_ents["drug_generic=hydrocodone/acetaminophen"] == 1.0 and no_ents["drug_class=opioid"] == 1.0
    assert "requested_count" not in no_ents  # a pill count is not a session count


def test_real_letter_values(real_examples):
    f = _sf("read")(real_examples["CM16-0221706"][0])  # "Three months coverage of Viagra 50mg"
    assert f["drug_generic=sildenafil"] == 1.0 and f["drug_class=other"] == 1.0
    assert f["claims_cue=no_evidence_cited"] == 1.0 and f["claims_n_citations"] == 0.0
    assert f["reviewer_cue=outside_mtus"] == 1.0 and f["reviewer_source=OTHER"] == 1.0
    assert f["age"] == pytest.approx(0.65) and f["sex=male"] == 1.0
    assert f["specialty=occupational medicine"] == 1.0
    assert f["conclusion_negative"] == 1.0
    g = _sf("read")(real_examples["CM16-0235869"][0])  # "Four sessions of physical therapy two times a week times 2 weeks"
    assert g["category=physical_therapy"] == 1.0 and g["has_drug"] == 0.0
    assert g["requested_count"] == pytest.approx(np.log1p(4) / np.log1p(60))
    assert g["requested_over"] == pytest.approx(np.log1p(2) / np.log1p(60))
    assert g["claims_document=chronic_pain"] == 1.0 and g["claims_topic=physical medicine treatment"] == 1.0
    h = _sf("read")(real_examples["CM16-0233794"][0])  # MRI of the Left shoulder
    assert h["claims_document=acoem_ch9"] == 1.0 and h["reviewer_topic=special studies"] == 1.0
    assert h["work_status=off_work"] == 1.0


def test_associated_services_with_and_without_the_surgery_in_dispute(real_examples):
    fc = _sf("forecast")
    # CM17-0010420: pre- and post-operative items only; the hernia repair itself is not disputed
    items = real_examples["CM17-0010420"]
    assert items[0]["request"] == "Pre-op chest x-ray" and "surgery" not in items[0]["letter_categories"]
    f = fc(items[0])
    assert f["request_cue=associated"] == 1.0 and f["request_cue=associated|surgery_not_in_letter"] == 1.0
    assert "request_cue=associated|surgery_in_letter" not in f
    assert f["summary_cue=surgery_planned"] == 1.0  # "The treatment plan included scheduling laparoscopic ..."
    # CM17-0015957: the knee arthroscopy is item 1; its pre-operative clearance follows it
    items = real_examples["CM17-0015957"]
    assert items[0]["treatment_category"] == "surgery" and len(items) == 3
    g = fc(items[1])  # "Pre-op Clearance"
    assert g["request_cue=associated|surgery_in_letter"] == 1.0
    assert not any(k.startswith("request_cue=associated") for k in fc(items[0]))  # the surgery itself
    # the hand-built example's other items
    h = fc(hand_example(request="Post-op physical therapy 12 sessions", letter_categories=["surgery", "dmepos"]))
    assert h["request_cue=associated|surgery_in_letter"] == 1.0


# ----------------------------------------------------------------------------- leakage
def _scramble(ex: dict, rng: random.Random) -> dict:
    out = dict(ex)
    for k in REVIEW_KEYS:
        out[k] = "".join(rng.choice(string.ascii_letters + " .") for _ in range(rng.randint(5, 400)))
    return out


def test_forecast_features_ignore_review_keys(all_real):
    rng = random.Random(7)
    scrambled = [_scramble(ex, rng) for ex in all_real]
    fc = ItemFeatures(mode="forecast").fit(all_real)
    a, b = fc.transform(all_real), fc.transform(scrambled)
    assert a.shape == b.shape
    assert a.toarray().tobytes() == b.toarray().tobytes()
    # fitting on the scrambled examples gives the same forecast features too
    fc2 = ItemFeatures(mode="forecast").fit(scrambled)
    assert list(fc2.get_feature_names_out()) == list(fc.get_feature_names_out())
    assert fc2.transform(scrambled).toarray().tobytes() == a.toarray().tobytes()
    # ... while read features change
    rd = ItemFeatures(mode="read").fit(all_real)
    assert rd.transform(all_real).toarray().tobytes() != rd.transform(scrambled).toarray().tobytes()
    assert not any(n.startswith(("tfidf_rationale", "tfidf_reviewer")) for n in fc.get_feature_names_out())


def test_forecast_keys_and_review_keys_split():
    assert not set(FORECAST_KEYS) & set(REVIEW_KEYS)
    assert {"rationale", "reviewer_guideline"} <= set(REVIEW_KEYS)


# ----------------------------------------------------------------------------- transformer contract
def test_sklearn_parameter_checks():
    """The checks of sklearn.utils.estimator_checks that apply to a transformer over dicts (the
    others feed numeric arrays, which this transformer rejects by design)."""
    from sklearn.utils.estimator_checks import (
        check_get_params_invariance,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_set_params,
    )

    est = ItemFeatures()
    check_no_attributes_set_in_init("ItemFeatures", est)
    check_parameters_default_constructible("ItemFeatures", est)
    check_get_params_invariance("ItemFeatures", est)
    check_set_params("ItemFeatures", est)


def test_init_does_no_work_and_clone():
    settings = {"text_fields": {"read": ["request"]}}
    est = ItemFeatures(mode="forecast", settings=settings, structured=False)
    assert est.settings is settings and est.mode == "forecast"
    assert not [k for k in vars(est) if k.endswith("_")]
    c = clone(est)
    assert c.get_params()["mode"] == "forecast" and c.get_params()["structured"] is False
    with pytest.raises(NotFittedError):
        est.transform([hand_example()])
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()


def test_input_validation(all_real):
    with pytest.raises(ValueError):
        ItemFeatures(mode="sideways").fit(all_real)
    with pytest.raises(ValueError):
        ItemFeatures().fit([])
    with pytest.raises(TypeError):
        ItemFeatures().fit("a letter")
    with pytest.raises(TypeError):
        ItemFeatures().fit([["not", "a", "dict"]])
    bad = dict(all_real[0])
    del bad["summary"]
    with pytest.raises(ValueError, match="summary"):
        ItemFeatures().fit([bad])
    # forecast mode does not need the review keys at all
    fc_only = {k: all_real[0][k] for k in FORECAST_KEYS}
    assert ItemFeatures(mode="forecast").fit([fc_only, fc_only]).transform([fc_only]).shape[0] == 1
    with pytest.raises(ValueError, match="rationale"):
        ItemFeatures(mode="read").fit([fc_only])


def test_fit_transform_shapes_names_determinism_pickle(all_real):
    est = ItemFeatures(mode="read")
    A = est.fit_transform(all_real)
    B = ItemFeatures(mode="read").fit(all_real).transform(all_real)
    assert (A != B).nnz == 0  # transform vectorizes a shared text once; fit_transform row by row
    assert len({ex["summary"] for ex in all_real}) < len(all_real)
    names = est.get_feature_names_out()
    assert A.shape == (len(all_real), len(names)) == (len(all_real), est.n_features_out_)
    assert len(set(names)) == len(names)
    assert any(n.startswith("tfidf_rationale__") for n in names)
    assert any(n.startswith("structured__") for n in names)
    again = pickle.loads(pickle.dumps(est))
    assert (again.transform(all_real) != A).nnz == 0
    one = est.transform(all_real[:1])
    assert one.shape == (1, len(names))
    # an unseen category or specialty is ignored, not an error
    odd = dict(all_real[0], treatment_category="teleportation", reviewer_specialties=["Astrology"])
    assert est.transform([odd]).shape == (1, len(names))


def test_works_without_and_with_entities(all_real):
    """Entities are optional: with hand-added DRUG entities the features pick them up."""
    plain = ItemFeatures(mode="forecast", text=False).fit(all_real)
    assert not any("drug_class=benzodiazepine" in n for n in plain.get_feature_names_out())
    with_ents = [dict(ex, request_entities=[_ent("DRUG", "x", 0, {"generic": "clonazepam", "drug_class": "benzodiazepine"})])
                 for ex in all_real]
    est = ItemFeatures(mode="forecast", text=False).fit(with_ents)
    names = list(est.get_feature_names_out())
    col = names.index("structured__drug_class=benzodiazepine")
    assert est.transform(with_ents)[:, col].toarray().ravel().tolist() == [1.0] * len(with_ents)


@pytest.mark.parametrize("rationale, conclusion", [
    # the last clause that names necessity decides, not a negated clause before it
    ("Imaging is indicated. The denial of this study is not supported, and the request for MRI of the right knee is "
     "medically necessary.", "the request for mri of the right knee is medically necessary."),
    ("The request is medically necessary; it is not excessive.", "the request is medically necessary"),
    # "certified" of another item or of a later request does not outrank the necessity sentence
    ("Therapy is not medically necessary. Should the surgery later be certified, a new request can be submitted.",
     "therapy is not medically necessary."),
    ("A course after the certified block may be appropriate, but it needs a separate request.",
     "a course after the certified block may be appropriate, but it needs a separate request."),
    # a misspelt conclusion is still one
    ("It exceeds the guideline. The request is not medically neccessary.", "the request is not medically neccessary."),
    ("Nothing is concluded here.", None),
])
def test_the_conclusion_is_the_last_clause_that_names_necessity(rationale, conclusion):
    sentence, clause = StructuredFeatures(load_config()["features"]).fit(None).conclusion(rationale)
    assert clause == conclusion
    assert (sentence is None) == (clause is None) and (clause is None or clause in sentence)


def test_settings_saved_before_the_conclusion_tiers_read_the_conclusion_as_then():
    """A model saved with the older conclusion settings (one `sentence` cue with "certified", no
    clauses) keeps reading its conclusions the way it was trained."""
    settings = load_config()["features"]
    old = dict(settings, conclusion={"sentence": "medically necessary|medical necessity|certified|certification|upheld|overturned",
                                     "weak_sentence": settings["conclusion"]["weak_sentence"],
                                     "negative": settings["conclusion"]["negative"]})
    sf = StructuredFeatures(old).fit(None)
    assert sf.conclusion("It is not medically necessary. Should the surgery be certified, ask again.")[1] == \
        "should the surgery be certified, ask again."
    assert sf.conclusion("It is not supported, and it is medically necessary.")[1] == \
        "it is not supported, and it is medically necessary."


def test_text_only_and_structured_only(all_real):
    t = ItemFeatures(mode="read", structured=False).fit(all_real)
    assert all(n.startswith("tfidf_") for n in t.get_feature_names_out())
    s = ItemFeatures(mode="read", text=False).fit(all_real)
    assert all(n.startswith("structured__") for n in s.get_feature_names_out())
    with pytest.raises(ValueError):
        ItemFeatures(structured=False, text=False).fit(all_real)


def _all_cue_patterns() -> list[str]:
    s = load_config()["features"]
    pats = [*s["cues"].values(), *s["work_status"].values(), *s["request_cues"].values(),
            *s["summary_cues"].values(), *s["item_summary"]["cues"].values(),
            *(a["pattern"] for a in s["guideline_allowances"]),
            s["conclusion"]["sentence"], s["conclusion"]["certified_sentence"], s["conclusion"]["weak_sentence"],
            s["conclusion"]["negative"]]
    return pats


_CUE_WORDS = sorted({w for p in _all_cue_patterns() for w in re.findall(r"[a-z&]{2,}", p)})


@settings(max_examples=300, deadline=None)
@given(words=st.lists(st.tuples(st.sampled_from(_CUE_WORDS), st.sampled_from(["lower", "upper", "title"]),
                                st.sampled_from([" ", "  ", ", ", ". ", "-", "\n", ""])), max_size=12))
def test_folded_cue_patterns_match_like_ignorecase(words):
    """`compile_cue` on lower-cased text finds exactly what the pattern with IGNORECASE finds in
    the original text (texts built from the patterns' own words in mixed case)."""
    from models.features import compile_cue

    text = "".join(getattr(w, case)() + sep for w, case, sep in words)
    for p in _all_cue_patterns():
        assert bool(compile_cue(p).search(text.lower())) == bool(re.compile(p, re.I).search(text)), (p, text)
    assert compile_cue("Page").flags & re.I and not compile_cue(r"\bnot\b|\S+ day").flags & re.I


def test_an_item_whose_layout_labels_no_field_reads_its_rationale_after_the_heading():
    """A letter that labels no field (or runs its labels together) still has a rationale for the
    read heads: the item's text after its heading and any field the layout found."""
    from models.examples import item_examples

    text = ("1. Lyrica 75mg #60 is medically necessary and appropriate.\n\nMTUS Chronic Pain, page 99.\n\n"
            "Pregabalin is first-line. The request is medically necessary.")
    heading_end = text.index("\n\n")
    record = {"id": "x", "items": [{"index": 1, "request": "Lyrica 75mg #60",
                                    "spans": {"heading": [0, heading_end], "claims_administrator": None, "reviewer": None,
                                              "rationale": None, "item": [0, len(text)]}}]}
    assert item_examples(record, text)[0]["rationale"] == text[heading_end:]
    record["items"][0]["spans"]["rationale"] = [text.index("Pregabalin"), len(text)]
    assert item_examples(record, text)[0]["rationale"] == "Pregabalin is first-line. The request is medically necessary."
