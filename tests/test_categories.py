"""Treatment categories (nlp/categories.py, configs/kb/treatment_vocabulary.yaml,
configs/lexicons/treatment_categories.yaml; docs/CATEGORIES.md): exact categories for a table of
requests in the DWC vocabulary (each failure named in issue 15 among them), `other` for nonsense,
the precedence rules, the knowledge base's integrity, the trained-fallback hook, and the accuracy
on the development real letters (never the frozen ones)."""
from __future__ import annotations

import re

import pytest

import nlp.categories as cats
from nlp.categories import CATEGORIES, Decision, explain, term_regex, treatment_category
from nlp.config import load_yaml


@pytest.fixture(scope="module")
def has_drug():
    from models.bundle import has_drug

    return has_drug


# (request, category): written from the DWC request vocabulary (CPT/HCPCS families), not copied
# from letters; the first block is the list of failures on unseen letters in issue 15.
CASES = [
    ('EEG', 'diagnostic_testing'),
    ('Electroencephalogram (EEG)', 'diagnostic_testing'),
    ('ECG', 'diagnostic_testing'),
    ('Electrocardiogram', 'diagnostic_testing'),
    ('SSEP of the bilateral lower extremities', 'diagnostic_testing'),
    ('Somatosensory evoked potentials', 'diagnostic_testing'),
    ('Grip strength testing', 'diagnostic_testing'),
    ('Range of motion testing', 'diagnostic_testing'),
    ('ROM and muscle strength testing of the upper extremities', 'diagnostic_testing'),
    ('Psychological testing', 'behavioral_health'),
    ('Chirophysio therapy 2 times a week for 4 weeks', 'chiropractic'),
    ('Chiro-physiotherapy x 6 sessions', 'chiropractic'),
    ('Ultrasound 2 times a week for 3 weeks', 'physical_therapy'),
    ('Therapeutic ultrasound to the right shoulder', 'physical_therapy'),
    ('Electrical stimulation 2x4', 'physical_therapy'),
    ('Electric muscle stimulation, 6 sessions', 'physical_therapy'),
    ('Hygiene supplies', 'dmepos'),
    ('Incontinence supplies, one month', 'dmepos'),
    ('Assistant surgeon', 'surgery'),
    ('Associated surgical service: Assistant Surgeon', 'surgery'),
    ('Pre-operative labs', 'diagnostic_testing'),
    ('Pre-operative laboratory studies: CBC, BMP, PT/INR', 'diagnostic_testing'),
    ('Preoperative chem panel', 'diagnostic_testing'),
    ('Preoperative coagulation studies', 'diagnostic_testing'),
    ('Compounded cream: Flurbiprofen 20%, Baclofen 5%, Lidocaine 4%, 180 grams', 'pharmaceuticals'),
    ('Compounded topical cream (Ketoprofen/Gabapentin/Lidocaine)', 'pharmaceuticals'),
    ('Follow-up visit in 4-6 weeks', 'evaluation_management'),
    ('Office visits x 6', 'evaluation_management'),
    ('Orthopedic consultation', 'evaluation_management'),
    ('Referral to a neurologist', 'evaluation_management'),
    ('Pain management consultation for possible epidural steroid injection', 'evaluation_management'),
    ('Internal medicine consult', 'evaluation_management'),
    ('Second opinion with a spine surgeon', 'evaluation_management'),
    ('Transfer of care to a pain management specialist', 'evaluation_management'),
    ('Monthly medication management visits', 'evaluation_management'),
    ('Pre-operative medical clearance', 'evaluation_management'),
    ('Medical clearance with internist', 'evaluation_management'),
    ('Psychiatric consultation', 'evaluation_management'),
    ('Evaluation with hand surgeon', 'evaluation_management'),
    ('MRI of the lumbar spine without contrast', 'diagnostic_imaging'),
    ('Repeat MRI of the right knee', 'diagnostic_imaging'),
    ('MR arthrogram of the left shoulder', 'diagnostic_imaging'),
    ('CT scan of the head', 'diagnostic_imaging'),
    ('X-rays of the cervical spine, 3 views', 'diagnostic_imaging'),
    ('Flexion/extension x-rays of the lumbar spine', 'diagnostic_imaging'),
    ('Diagnostic ultrasound of the right shoulder', 'diagnostic_imaging'),
    ('Ultrasound of the left wrist', 'diagnostic_imaging'),
    ('Bone scan', 'diagnostic_imaging'),
    ('DEXA scan', 'diagnostic_imaging'),
    ('Venous Doppler of the left leg', 'diagnostic_imaging'),
    ('Upright MRI cervical spine', 'diagnostic_imaging'),
    ('Lumbar myelogram with post-myelogram CT', 'diagnostic_imaging'),
    ('Pre-op chest x-ray', 'diagnostic_imaging'),
    ('PET scan', 'diagnostic_imaging'),
    ('EMG/NCV of the bilateral upper extremities', 'diagnostic_testing'),
    ('Nerve conduction studies of the lower extremities', 'diagnostic_testing'),
    ('Urine drug screen', 'diagnostic_testing'),
    ('Urine toxicology testing, quarterly', 'diagnostic_testing'),
    ('Functional capacity evaluation', 'diagnostic_testing'),
    ('Sleep study', 'diagnostic_testing'),
    ('Polysomnography', 'diagnostic_testing'),
    ('CBC, CMP and UA', 'diagnostic_testing'),
    ('Labs: hepatic and renal function', 'diagnostic_testing'),
    ('Pre-op EKG', 'diagnostic_testing'),
    ('Pulmonary function test', 'diagnostic_testing'),
    ('Genetic testing for opioid metabolism', 'diagnostic_testing'),
    ('Pharmacogenomic testing', 'diagnostic_testing'),
    ('Neuropsychological evaluation', 'behavioral_health'),
    ('MMPI-2', 'behavioral_health'),
    ('Videonystagmography (VNG)', 'diagnostic_testing'),
    ('Audiogram', 'diagnostic_testing'),
    ('Computerized range of motion and strength testing', 'diagnostic_testing'),
    ('Quantitative sensory testing', 'diagnostic_testing'),
    ('Vitamin D level', 'diagnostic_testing'),
    ('Holter monitor', 'diagnostic_testing'),
    ('Lumbar epidural steroid injection at L4-5', 'injections'),
    ('Right L5-S1 transforaminal ESI under fluoroscopy', 'injections'),
    ('Bilateral L3-L5 medial branch blocks', 'injections'),
    ('Radiofrequency ablation of the left L4-S1 facets', 'injections'),
    ('Trigger point injections x 4', 'injections'),
    ('Cortisone injection to the right knee', 'injections'),
    ('Synvisc-One injection, left knee', 'injections'),
    ('Platelet-rich plasma injection, right elbow', 'injections'),
    ('Greater occipital nerve block', 'injections'),
    ('Stellate ganglion block', 'injections'),
    ('Ultrasound-guided subacromial injection', 'injections'),
    ('Toradol 60 mg IM injection', 'injections'),
    ('Sacroiliac joint injection', 'injections'),
    ('Right shoulder arthroscopy with subacromial decompression', 'surgery'),
    ('L4-5 posterior lumbar interbody fusion', 'surgery'),
    ('Left total knee arthroplasty', 'surgery'),
    ('Carpal tunnel release, right', 'surgery'),
    ('Anterior cervical discectomy and fusion C5-6', 'surgery'),
    ('Removal of hardware, left ankle', 'surgery'),
    ('Inpatient stay x 2 days', 'other'),
    ('Percutaneous lysis of adhesions', 'surgery'),
    ('Spinal cord stimulator trial', 'surgery'),
    ('Permanent spinal cord stimulator implantation', 'surgery'),
    ('Intrathecal pump implant', 'surgery'),
    ('Kyphoplasty T12', 'surgery'),
    ('Manipulation under anesthesia, left shoulder', 'surgery'),
    ('Surgical assistant', 'surgery'),
    ('Knee replacement', 'surgery'),
    ('Physical therapy 2x6 lumbar spine', 'physical_therapy'),
    ('Post-operative physical therapy 3x4', 'physical_therapy'),
    ('Occupational therapy for the right hand, 8 visits', 'physical_therapy'),
    ('Aquatic therapy 12 sessions', 'physical_therapy'),
    ('Massage therapy x 6', 'physical_therapy'),
    ('Myofascial release 2 times a week for 3 weeks', 'physical_therapy'),
    ('Infrared therapy', 'physical_therapy'),
    ('Iontophoresis', 'physical_therapy'),
    ('Mechanical traction, 6 sessions', 'physical_therapy'),
    ('Low level laser therapy x 8', 'physical_therapy'),
    ('Home exercise program instruction', 'physical_therapy'),
    ('Physical therapy evaluation', 'physical_therapy'),
    ('Vestibular rehabilitation', 'physical_therapy'),
    ('PT 2 x 4 weeks', 'physical_therapy'),
    ('Interferential current therapy 2x3', 'physical_therapy'),
    ('Paraffin bath treatments x 6', 'physical_therapy'),
    ('Chiropractic treatment 2 times a week for 6 weeks', 'chiropractic'),
    ('Chiropractic evaluation', 'chiropractic'),
    ('Chiropractic manipulation with electrical stimulation', 'chiropractic'),
    ('Spinal manipulation x 6', 'chiropractic'),
    ('Osteopathic manipulative treatment', 'chiropractic'),
    ('Acupuncture 1x6', 'acupuncture'),
    ('Electroacupuncture with infrared, 8 sessions', 'acupuncture'),
    ('Dry needling x 6', 'acupuncture'),
    ('TENS unit', 'dmepos'),
    ('TENS unit purchase and supplies', 'dmepos'),
    ('Home H-wave device, 30 day trial', 'dmepos'),
    ('Interferential unit rental', 'dmepos'),
    ('Electrical stimulation unit for home use', 'dmepos'),
    ('Lumbar brace', 'dmepos'),
    ('LSO brace', 'dmepos'),
    ('Right knee hinged brace', 'dmepos'),
    ('Wrist splint', 'dmepos'),
    ('Cold therapy unit, 14 day rental', 'dmepos'),
    ('Game Ready cold compression unit', 'dmepos'),
    ('Post-operative cold therapy unit', 'dmepos'),
    ('Cryotherapy', 'dmepos'),
    ('Hot/cold pack', 'dmepos'),
    ('Heating pad', 'dmepos'),
    ('Home cervical traction unit', 'dmepos'),
    ('Front-wheeled walker', 'dmepos'),
    ('Power wheelchair', 'dmepos'),
    ('Hospital bed', 'dmepos'),
    ('Orthopedic mattress', 'dmepos'),
    ('Shower chair', 'dmepos'),
    ('Raised toilet seat', 'dmepos'),
    ('Bilateral hearing aids', 'dmepos'),
    # a DMEPOS item whose name carries a dental, prescription or pack-count word (spent written sets)
    ('Dental night guard', 'dmepos'),
    ('Custom hard acrylic maxillary occlusal guard', 'dmepos'),
    ('Prescription eyeglasses with prism lenses', 'dmepos'),
    ('Wound care supplies (foam dressings #60, gauze #60)', 'dmepos'),
    ('Dental implants for teeth #3 and #14', 'surgery'),
    ('Bone graft at site #30', 'surgery'),
    ('Dental cleaning', 'other'),
    ('Botulinum toxin 100 units with EMG guidance', 'injections'),
    ('24-hour ambulatory blood pressure monitoring', 'diagnostic_testing'),
    ('Allergy patch testing', 'diagnostic_testing'),
    ('Pulmonary rehabilitation 2 times a week for 6 weeks', 'programs'),
    ('Home health nursing visits for wound care and dressings', 'home_health'),
    ('Norco 10/325 #60 and #30', 'pharmaceuticals'),
    # a drug given by injection as a medication, under the skin or on a schedule of doses; an injection
    # procedure on a schedule is still an injection
    ('Lovenox 40mg subcutaneous injection daily x 14 days', 'pharmaceuticals'),
    ('Vivitrol 380mg IM injection monthly x 6', 'pharmaceuticals'),
    ('Trigger point injections weekly x 4', 'injections'),
    ('Prolonged exposure therapy, 10 sessions', 'behavioral_health'),
    ('Cognitive processing therapy (12 sessions)', 'behavioral_health'),
    ('Vehicle modification: hand controls and a wheelchair ramp', 'other'),
    ('Van modification (lowered floor conversion with side-entry ramp)', 'other'),
    ('Home modifications (entry ramp, door widening, roll-in shower)', 'other'),
    ('Microprocessor-controlled knee (C-Leg), right', 'dmepos'),
    ('Replacement myoelectric hand (i-limb)', 'dmepos'),
    ('Transtibial prosthetic socket with silicone gel liners', 'dmepos'),
    ('Repeat comprehensive audiometric evaluation', 'diagnostic_testing'),
    # no DWC category for these, as independent writers label them (8 items of 8, six writers)
    ('Extracorporeal shockwave therapy, 3 sessions, left heel', 'other'),
    ('Hyperbaric oxygen therapy, 20 sessions', 'other'),
    ('Ergonomic evaluation of workstation', 'other'),
    # laser operations on scars, not the low-level laser of physical therapy; silicone scar sheets
    ('Fractional CO2 laser resurfacing, face, 3 treatments', 'surgery'),
    ('Pulsed dye laser treatments to the face and neck x 6', 'surgery'),
    ('Low level laser therapy x 6', 'physical_therapy'),
    ('Silicone gel sheets for the right dorsal hand scar', 'dmepos'),
    ('Custom foot orthotics', 'dmepos'),
    ('CPAP machine', 'dmepos'),
    ('Compression stockings', 'dmepos'),
    ('Shoulder sling', 'dmepos'),
    ('Cervical collar', 'dmepos'),
    ('Ergonomic chair', 'dmepos'),
    ('Replacement TENS pads', 'dmepos'),
    ('Bone growth stimulator', 'dmepos'),
    ('Reacher/grabber', 'dmepos'),
    ('Post-surgical knee brace', 'dmepos'),
    ('Continuous passive motion machine', 'dmepos'),
    ('Norco 10/325mg #90', 'pharmaceuticals'),
    ('Tramadol ER 150mg, 30 tablets', 'pharmaceuticals'),
    ('Lidoderm 5% patch #30', 'pharmaceuticals'),
    ('Terocin lotion', 'pharmaceuticals'),
    ('Omeprazole 20 mg', 'pharmaceuticals'),
    ('Flector patch', 'pharmaceuticals'),
    ('Topical analgesic cream', 'pharmaceuticals'),
    ('Medrox ointment 120g', 'pharmaceuticals'),
    ('Capsaicin 0.025% cream', 'pharmaceuticals'),
    ('Theramine #120', 'pharmaceuticals'),
    ('Cyclobenzaprine 7.5 mg, one month supply', 'pharmaceuticals'),
    ('Retrospective request for Ultram 50mg #60 (DOS 3/2/2015)', 'pharmaceuticals'),
    ('Opioid medication', 'pharmaceuticals'),
    ('Ketamine 10% compound', 'pharmaceuticals'),
    ('Cognitive behavioral therapy, 6 sessions', 'behavioral_health'),
    ('Individual psychotherapy x 12', 'behavioral_health'),
    ('Psychological evaluation', 'behavioral_health'),
    ('Biofeedback 6 sessions', 'behavioral_health'),
    ('Group psychotherapy weekly for 8 weeks', 'behavioral_health'),
    ('Psychiatric treatment', 'behavioral_health'),
    ('Hypnotherapy/relaxation training', 'behavioral_health'),
    ('Partial hospitalization program', 'behavioral_health'),
    ('Functional restoration program, 160 hours', 'programs'),
    ('Functional restoration program evaluation', 'programs'),
    ('Work conditioning 12 sessions', 'programs'),
    ('Work hardening program', 'programs'),
    ('Gym membership, 6 months', 'programs'),
    ('Weight loss program', 'programs'),
    ('Outpatient opioid detoxification', 'programs'),
    ('HELP interdisciplinary program', 'programs'),
    ('Pool membership for 3 months', 'programs'),
    ('Home health aide 4 hours a day', 'home_health'),
    ('Home health physical therapy', 'home_health'),
    ('Skilled nursing visits for wound care', 'home_health'),
    ('Homemaker services 8 hours per week', 'home_health'),
    ('In-home caregiver assistance', 'home_health'),
    ('Transportation to and from medical appointments', 'other'),
    ('Interpreter services', 'other'),
    ('Skilled nursing facility stay', 'other'),
    ('One week trial of Acute Rehabilitation Unit', 'other'),
    ('CPT 97110 therapeutic exercise', 'physical_therapy'),
    ('CPT 64483', 'injections'),
    ('CPT 72148', 'diagnostic_imaging'),
    ('99214', 'evaluation_management'),
    ('E0730', 'dmepos'),
    ('L0637 lumbar orthosis', 'dmepos'),
    # a stimulator's conductive garment is its equipment; a self-management program is a program
    ('Conductive garment, lumbar', 'dmepos'),
    ('Self-management program, 6 sessions', 'programs'),
]


@pytest.mark.parametrize("request_text,category", CASES)
def test_category_table(request_text, category, has_drug):
    assert treatment_category(request_text, has_drug) == category


def test_table_covers_every_category():
    assert {c for _, c in CASES} == set(CATEGORIES)


@pytest.mark.parametrize("request_text", ["", "   ", "xyzzy", "Qwerty plover", "Unknown", "Request", "The patient",
                                          "12345678", "n/a", "???", "Zzyzx frobnicate"])
def test_nonsense_is_other(request_text, has_drug):
    d = explain(request_text, has_drug, fallback=False)
    assert d == Decision("other", "none")


# (winner, request, why): pairs of requests that carry words of two families
PRECEDENCE = [
    ("pharmaceuticals", "Compounded cream with ketoprofen 10%, for use after the MRI", "a dose/compound beats imaging words"),
    ("injections", "Toradol 60 mg IM injection", "an injection beats a drug dose"),
    ("injections", "Right L5 transforaminal ESI under fluoroscopic guidance", "an injection beats imaging guidance"),
    ("diagnostic_testing", "Pre-operative labs: CBC, PT/INR", "pre-op labs are labs, not surgery; PT/INR is not PT"),
    ("evaluation_management", "Pre-operative medical clearance", "clearance is a visit"),
    ("diagnostic_imaging", "Pre-operative chest x-ray", "a pre-op x-ray is imaging"),
    ("diagnostic_testing", "Pre-operative EKG", "a pre-op EKG is a test"),
    ("evaluation_management", "Medication management visits", "medication management is a visit"),
    ("physical_therapy", "Physical therapy evaluation", "a PT evaluation is therapy"),
    ("chiropractic", "Chiropractic evaluation", "SPEC: chiropractic evaluations -> chiropractic"),
    ("diagnostic_testing", "Functional capacity evaluation", "an FCE is a test"),
    ("programs", "Functional restoration program evaluation", "the program, not a visit"),
    ("evaluation_management", "Consult with hip replacement specialist to evaluate for total hip arthroplasty",
     "a consultation, not the surgery"),
    ("surgery", "Assistant surgeon", "an assistant surgeon is surgery, not a surgeon's consultation"),
    ("surgery", "Percutaneous epidural lysis of adhesions", "adhesiolysis is surgery, not an epidural injection"),
    ("injections", "Injection of neurolytic substance, lumbar spine", "a neurolytic injection is an injection"),
    ("dmepos", "Electrical stimulation unit, 30 day rental", "a stimulation device is equipment"),
    ("physical_therapy", "Electrical stimulation 2 times a week for 3 weeks", "in-clinic e-stim is therapy"),
    ("dmepos", "TENS unit", "SPEC: TENS -> dmepos"),
    ("physical_therapy", "Ultrasound 2x3 to the lumbar spine", "an ultrasound course is a modality"),
    ("diagnostic_imaging", "Ultrasound of the right shoulder", "an ultrasound of a body part is imaging"),
    ("surgery", "Spinal cord stimulator trial", "a stimulator implant is surgery, not a device"),
    ("dmepos", "Bone growth stimulator", "an external stimulator is equipment"),
    ("surgery", "Laparoscopic sleeve gastrectomy", "a named operation beats an equipment word"),
    ("dmepos", "Compression sleeve, right elbow", "equipment"),
    ("dmepos", "Post-surgical knee brace", "equipment beats the word 'surgical'"),
    ("dmepos", "Replacement TENS pads", "equipment beats the word 'replacement'"),
    ("diagnostic_imaging", "MRI of the shoulder after rotator cuff repair", "imaging beats surgery words"),
    ("home_health", "Home health physical therapy", "home health care beats therapy"),
    ("diagnostic_testing", "Urine drug screen", "a drug test is a test, not a drug"),
    ("programs", "Outpatient opioid detoxification", "a detox program, not a drug"),
    ("behavioral_health", "Psychological evaluation for spinal cord stimulator", "the evaluation, not the implant"),
    ("behavioral_health", "Psychological testing", "a psychologist's service, as independent writers label it"),
    ("other", "Transportation to physical therapy appointments", "transport is no treatment category"),
    ("other", "One week trial of acute rehabilitation unit", "a facility stay, not equipment ('unit')"),
    ("other", "Retrospective inpatient hospital stay, 3 days", "a stay on its own is no operation"),
    ("surgery", "Right total knee arthroplasty with 3-day inpatient stay", "the operation named with its stay decides"),
    ("surgery", "Inpatient stay for lumbar surgery, 2 days", "a stay for a named surgery is the surgery's"),
    ("physical_therapy", "CPT 97035 ultrasound", "a stated code decides"),
    ("pharmaceuticals", "Vitamin D 50000 IU", "a dose is not a CPT code"),
    ("dmepos", "Gloves 100 ct", "'ct' as a count is no CT scan"),
    ("diagnostic_imaging", "DOS Oct 2015: MRI of the knee", "a month is no test (OCT)"),
    ("injections", "Epidural steroid injection treatment to the lumbar spine", "a body part is no specialist"),
    ("evaluation_management", "Spine surgery consultation", "a consultation about surgery"),
    ("evaluation_management", "Medical marijuana evaluation", "a visit for a recommendation, not the drug"),
    ("pharmaceuticals", "Compounded CBD 2%, menthol 10% cream 120gm", "a cannabis product is a medication"),
    ("injections", "Botox 400 units to the bilateral lower extremities", "botulinum toxin is given only by injection"),
    ("dmepos", "Hydrophilic intermittent catheters, 14 French, #180 per month", "supplies, their pack count no drug's"),
    ("surgery", "Inflatable penile prosthesis", "an implant placed by an operation, not equipment"),
]


@pytest.mark.parametrize("category,request_text,why", PRECEDENCE)
def test_precedence(category, request_text, why, has_drug):
    assert treatment_category(request_text, has_drug) == category, why


def test_explain_names_the_rule(has_drug):
    assert explain("Pre-op labs: CBC", has_drug) == Decision("diagnostic_testing", "kb", "laboratory")
    assert explain("Norco", has_drug) == Decision("pharmaceuticals", "kb", "drug_lexicon")
    assert explain("E0730", has_drug) == Decision("dmepos", "code", "HCPCS E0730")
    # without the drug lexicon a bare brand name is not known, a dose still is
    assert treatment_category("Norco", None, fallback=False) == "other"
    assert treatment_category("Norco 10/325 #90", None) == "pharmaceuticals"


def test_prefixes_are_stripped():
    assert cats.clean_request("Associated surgical service: Retrospective request for: UA") == "UA"
    assert treatment_category("Associated surgical service: Hip pad") == "dmepos"
    assert treatment_category("Associated surgical services: Medical clearance") == "evaluation_management"


# ----------------------------------------------------------------------------- the knowledge base
def test_term_regex_whole_words_plurals_and_spellings():
    rx = re.compile(term_regex("x-ray"), re.I)
    for s in ("X-ray of the knee", "xrays", "X ray", "chest x-rays"):
        assert rx.search(s), s
    assert not re.search(term_regex("brace"), "bracelet", re.I)
    assert re.search(term_regex("brace"), "Wrist braces #2", re.I)
    assert re.search(term_regex("crutch"), "crutches", re.I)
    assert not re.search(term_regex("TENS"), "tension headache", re.I)
    assert re.search(term_regex("PT/INR"), "PT / INR", re.I)
    assert re.search(term_regex("physical therapy"), "physical-therapy", re.I)


def test_knowledge_base_is_consistent():
    vocab = load_yaml(cats.VOCABULARY)["families"]
    rules = load_yaml(cats.PRECEDENCE)["rules"]
    used = set()
    for r in rules:
        used.update(x for x in [r.get("family"), *(r.get("with") or []), *(r.get("unless") or [])] if x)
    assert used == set(vocab), "every family is used by a precedence rule, and every rule's family exists"
    for name, fam in vocab.items():
        assert fam.get("category") is None or fam["category"] in CATEGORIES, name
        assert fam.get("what"), name
        for p in fam.get("patterns") or []:
            re.compile(p)
    kb = cats._kb()
    assert len(kb.rules) == len(rules)
    # every category but "other" is reachable from a family, and the CPT table is well-formed
    assert {f.get("category") for f in vocab.values()} - {None} == set(CATEGORIES)
    for c in load_yaml(cats.VOCABULARY)["codes"]["cpt"]:
        assert c["from"] <= c["to"] and c["category"] in CATEGORIES


def test_vocabulary_terms_decide_their_own_family(has_drug):
    """Each term of a family, alone as a request, gets the family's category: no term is
    shadowed by an earlier rule, so the vocabulary and the precedence order agree."""
    vocab = load_yaml(cats.VOCABULARY)["families"]
    wrong = [(name, term, treatment_category(str(term), has_drug, fallback=False))
             for name, fam in vocab.items() if fam.get("category") is not None
             for term in fam.get("terms") or []
             if treatment_category(str(term), has_drug, fallback=False) != fam["category"]]
    assert wrong == []


# ----------------------------------------------------------------------------- trained fallback hook
def test_fallback_decides_only_when_kb_does_not(monkeypatch, has_drug):
    from training.category_model import model_json, train_fallback

    pairs = [("zorbitrex", "pharmaceuticals"), ("zorbitrex tablets", "pharmaceuticals"), ("zorbiquin", "pharmaceuticals"),
             ("plonkometry", "diagnostic_testing"), ("plonkometry study", "diagnostic_testing"), ("plonkogram", "diagnostic_testing")]
    model = train_fallback(pairs, ngram=(2, 4), buckets=2 ** 12, C=100.0, threshold=0.5)
    again = cats.FallbackModel(model_json(model))  # the JSON form round-trips
    assert again.proba("zorbitrexin") == pytest.approx(model.proba("zorbitrexin"))
    monkeypatch.setattr(cats, "fallback_model", lambda: model)
    d = explain("Zorbitrexin", has_drug)
    assert d.source == "fallback" and d.category == "pharmaceuticals" and d.score >= 0.5
    assert explain("MRI of the knee", has_drug).source == "kb"  # the KB still decides first
    model.threshold = 1.01  # not confident -> other
    assert explain("Zorbitrexin", has_drug) == Decision("other", "none")
    assert explain("Zorbitrexin", has_drug, fallback=False) == Decision("other", "none")


# ----------------------------------------------------------------------------- real letters (development only)
# measured 2026-12 on the 118 development items (43 letters): 117 correct (0.992); the margin
# allows two more errors before the test fails.
DEV_ACCURACY_FLOOR = 0.97


def test_accuracy_on_development_real_letters():
    from training.category_model import evaluate_dev, real_items
    from training.real_protocol import load_frozen

    items = real_items("dev")
    assert items and not ({it["case"] for it in items} & load_frozen())
    assert all(it["request"] for it in items), "every development item is found by the parser"
    res = evaluate_dev(items=items)
    assert res["items"] >= 110
    assert res["accuracy"] >= DEV_ACCURACY_FLOOR, res["errors"]
