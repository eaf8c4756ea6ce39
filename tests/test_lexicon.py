"""Drug lexicon (configs/lexicons/drugs.yaml, nlp/lexicon.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlp.lexicon import DRUGS_PATH, LEXICON_DIR, DrugLexicon, get_lexicon

SPEC_CLASSES = {
    "opioid", "benzodiazepine", "sedative_hypnotic", "muscle_relaxant", "nsaid", "antidepressant",
    "anticonvulsant", "topical_analgesic", "compounded", "proton_pump_inhibitor", "other",
}
RAW = yaml.safe_load(Path(DRUGS_PATH).read_text())


@pytest.fixture(scope="module")
def lex() -> DrugLexicon:
    return get_lexicon()


def test_format_matches_contract():
    assert set(RAW) >= {"classes", "drugs"}
    for name, c in RAW["classes"].items():
        assert c["stance"].strip(), name
        assert "guideline" in c
        if c["guideline"] is not None:
            assert set(c["guideline"]) == {"source", "document", "topic", "pages"}
            assert c["guideline"]["source"] in {"MTUS", "ACOEM", "ODG", "OTHER"}
    for d in RAW["drugs"]:
        assert d["generic"] == d["generic"].lower()
        assert d["class"] in RAW["classes"]
        assert d["source"] in {"package", "supplement"}
        assert isinstance(d["names"], list) and d["names"]
        assert set(d.get("brands", [])) <= set(d["names"])
        for s in d.get("strengths", []):
            assert isinstance(s, str) and s


def test_size():
    names = {n.lower() for d in RAW["drugs"] for n in d["names"]}
    generics = {d["generic"] for d in RAW["drugs"]}
    classes = {d["class"] for d in RAW["drugs"]}
    assert len(names) >= 250
    assert len(generics) >= 100
    assert classes >= SPEC_CLASSES
    assert any(d["source"] == "supplement" for d in RAW["drugs"])
    assert any(d["source"] == "package" for d in RAW["drugs"])
    assert sum(1 for d in RAW["drugs"] if d.get("strengths")) >= 60


def test_cached(lex):
    assert get_lexicon() is lex


@pytest.mark.parametrize(
    "text,want",
    [
        ("Prosom", ("estazolam", "benzodiazepine")),
        ("KLONOPIN", ("clonazepam", "benzodiazepine")),
        ("Klonopin 1mg tablets", ("clonazepam", "benzodiazepine")),
        ("cyclobenzaprine HCL", ("cyclobenzaprine", "muscle_relaxant")),
        ("Oxycodone HCL ER", ("oxycodone", "opioid")),
        ("Oxycodone HCL ER 20mg #60", ("oxycodone", "opioid")),
        ("hydrocodone/APAP", ("hydrocodone/acetaminophen", "opioid")),
        ("APAP/hydrocodone", ("hydrocodone/acetaminophen", "opioid")),
        ("Hydrocodone-acetaminophen", ("hydrocodone/acetaminophen", "opioid")),
        ("Norco 5/325mg oral tablet", ("hydrocodone/acetaminophen", "opioid")),
        ("Percocet", ("oxycodone/acetaminophen", "opioid")),
        ("Vicodin", ("hydrocodone/acetaminophen", "opioid")),
        ("tramadol/APAP", ("tramadol/acetaminophen", "opioid")),
        ("Trezix", ("acetaminophen/caffeine/dihydrocodeine", "opioid")),
        ("Soma", ("carisoprodol", "muscle_relaxant")),
        ("Fexmid", ("cyclobenzaprine", "muscle_relaxant")),
        ("Flexeril 10mg", ("cyclobenzaprine", "muscle_relaxant")),
        ("Orphenadrine Citrate ER 100mg tabs", ("orphenadrine", "muscle_relaxant")),
        ("Terocin", ("methyl salicylate/capsaicin/menthol/lidocaine", "topical_analgesic")),
        ("Theramine", ("theramine", "other")),  # a medical food: its own name is its generic
        ("Butalbital/APAP/caffeine", ("butalbital/acetaminophen/caffeine", "other")),
        ("butalbital", ("butalbital/acetaminophen/caffeine", "other")),  # sold in combination only
        ("Synvisc-One", ("hylan g-f 20", "other")),
        ("Medrox", ("methyl salicylate/menthol/capsaicin", "topical_analgesic")),
        ("Lidoderm", ("lidocaine", "topical_analgesic")),
        ("Lidocaine 5% patch", ("lidocaine", "topical_analgesic")),
        ("Voltaren gel", ("diclofenac", "topical_analgesic")),
        ("Mobisyl", ("trolamine salicylate", "topical_analgesic")),
        ("Duexis", ("ibuprofen/famotidine", "nsaid")),
        ("Aggrenox", ("aspirin/dipyridamole", "other")),
        ("Motrin 600mg #40", ("ibuprofen", "nsaid")),
        ("Anaprox DS", ("naproxen", "nsaid")),
        ("Celecoxib 200mg #90", ("celecoxib", "nsaid")),
        ("Ketaprofen", ("ketoprofen", "nsaid")),  # misspelling in a real letter
        ("Ketoprofen 20% in cream base 240g", ("ketoprofen", "compounded")),
        ("Cyclobenzaprine 5% in cream base 240g", ("cyclobenzaprine", "compounded")),
        ("Flurbiprofen 10%/Dextromethorphan 5%/Lidocaine 5%", ("flurbiprofen/dextromethorphan/lidocaine", "compounded")),
        ("flurbiprofen/cyclobenzaprine/lidocaine cream", ("flurbiprofen/cyclobenzaprine/lidocaine", "compounded")),
        ("Cyclobenzaprine 3%-Gabapentin 6%", ("cyclobenzaprine/gabapentin", "compounded")),
        ("Deprizine", ("ranitidine", "compounded")),
        ("Fanatrex", ("gabapentin", "compounded")),
        ("Synapryn", ("tramadol", "compounded")),
        ("Tabradol", ("cyclobenzaprine", "compounded")),
        ("Ketophene", ("ketoprofen", "compounded")),
        ("Dicopanol", ("diphenhydramine", "compounded")),
        ("gabapentin", ("gabapentin", "anticonvulsant")),
        ("tramadol", ("tramadol", "opioid")),
        ("Prilosec 20mg #90", ("omeprazole", "proton_pump_inhibitor")),
        ("Pantoprazole sodium 20mg #60", ("pantoprazole", "proton_pump_inhibitor")),
        ("Bupropion HCL 150mg #90", ("bupropion", "antidepressant")),
        ("Venlafaxine HCL ER 37.5mg #90", ("venlafaxine", "antidepressant")),
        ("Ambien", ("zolpidem", "sedative_hypnotic")),
        ("Belsomra", ("suvorexant", "sedative_hypnotic")),
        ("BuSpar", ("buspirone", "other")),
        ("Post-op Colace 100mg #60", ("docusate", "other")),
        ("Viagra 50mg", ("sildenafil", "other")),
        ("Prosom 2mg, #30 with 2 refills", ("estazolam", "benzodiazepine")),
        ("Klonopn", ("clonazepam", "benzodiazepine")),
        ("XANAX®", ("alprazolam", "benzodiazepine")),
        ("fentanyl patch", ("fentanyl", "opioid")),
        # seed drugs of session 16 (written letters named them)
        ("0.5% bupivacaine", ("bupivacaine", "other")),
        ("Marcaine", ("bupivacaine", "other")),
        ("Cytotec 200mcg", ("misoprostol", "other")),
        ("Fetzima", ("levomilnacipran", "antidepressant")),
        ("hydroxyzine pamoate 25mg", ("hydroxyzine", "other")),
        # seed drugs of session 22 (written letters named them; the package dictionary lacks the brands)
        ("Imdur 30 mg", ("isosorbide mononitrate", "other")),
        ("Symbicort", ("budesonide/formoterol", "other")),
        ("Advair Diskus", ("fluticasone/salmeterol", "other")),
        ("TGHot", ("tramadol/gabapentin/menthol/camphor/capsaicin", "compounded")),
        # session 23: a botulinum toxin product's own generic, a steroid's ester, combinations
        ("Botox 200 units", ("onabotulinumtoxina", "other")),
        ("Dysport", ("abobotulinumtoxina", "other")),
        ("botulinum toxin", ("botulinum toxin", "other")),
        ("testosterone cypionate 200mg/mL", ("testosterone", "other")),
        ("Vicoprofen 7.5/200mg", ("hydrocodone/ibuprofen", "opioid")),
        ("Senokot-S", ("sennosides/docusate", "other")),
        ("Lotrel", ("amlodipine/benazepril", "other")),
        ("Truvada", ("emtricitabine/tenofovir", "other")),
        ("Pred Forte 1%", ("prednisolone", "other")),
        ("Combigan", ("brimonidine/timolol", "other")),
        ("clobetasol propionate 0.05% cream", ("clobetasol", "other")),
    ],
)
def test_lookup(lex, text, want):
    assert lex.lookup(text) == want


@pytest.mark.parametrize(
    "text",
    ["benzodiazepines", "opioids", "NSAIDs", "anxiolytics", "muscle relaxants", "physical therapy", "MRI",
     "the patient", "2mg", "#30", "", "   ", "ears and nose"],
)
def test_lookup_rejects(lex, text):
    assert lex.lookup(text) is None


def test_versed_is_midazolam_to_the_lexicon(lex):
    """Versed is midazolam's brand (independent writers annotate it); "well versed in" is told apart in
    context by the NER's entity filter (DRUG_LAY_USES), tested in test_ner_span_rules.py."""
    assert lex.lookup("Versed") == ("midazolam", "benzodiazepine")


def test_every_surface_form_resolves(lex):
    forms = lex.surface_forms()
    assert len(forms) == len({f.lower() for f in forms})
    for f in forms:
        assert lex.lookup(f) is not None, f


def test_real_letter_drugs_covered(lex):
    # every drug or product named in the 64 real letters and the 3 gold letters
    names = [
        "Norco", "Trezix", "Tylenol", "Percocet", "OxyContin", "Oxycodone", "Tramadol", "Ultram", "Hydrocodone",
        "Prosom", "ProSom", "Klonopin", "Diazepam", "BuSpar", "Zolpidem", "Soma", "Flexeril", "Cyclobenzaprine",
        "Tizanidine", "Baclofen", "Orphenadrine", "Motrin", "Ibuprofen", "Naproxen", "Naprosyn", "Anaprox",
        "Naprelan", "EC-Naprosyn", "Celecoxib", "Meloxicam", "Mobic", "Nabumetone", "Etodolac", "Ketoprofen",
        "Flurbiprofen", "Diclofenac", "Voltaren", "Aspirin", "Duexis", "Lidoderm", "Lidocaine", "Mobisyl",
        "Capsaicin", "Dextromethorphan", "Amitriptyline", "Gabapentin", "Bupropion", "Wellbutrin", "Venlafaxine",
        "Prilosec", "Pantoprazole", "Pepcid", "Colace", "Ondansetron", "Viagra", "Sildenafil", "Medrol",
        "Prednisone", "Methotrexate", "Hydrochlorothiazide", "Metoprolol", "Propranolol", "Atorvastatin",
        "Amoxicillin", "Cortisone", "Acetaminophen", "Deprizine", "Fanatrex", "Synapryn", "Tabradol", "Ketophene",
        "Dicopanol",
    ]
    missing = [n for n in names if lex.lookup(n) is None]
    assert not missing


def test_classes_have_stance_and_guideline(lex):
    for cls in SPEC_CLASSES:
        info = lex.class_info(cls)
        assert info is not None and info["stance"]
    assert lex.class_info("benzodiazepine")["guideline"]["pages"] == [24]


def test_lexicon_is_built_from_seed(tmp_path):
    pytest.importorskip("drug_named_entity_recognition")
    from training.build_drug_lexicon import main

    out, tier = tmp_path / "drugs.yaml", tmp_path / "drugs_package.tsv"
    assert main(["--out", str(out), "--tier-out", str(tier)]) == 0
    assert yaml.safe_load(out.read_text()) == RAW, "drugs.yaml is stale: run training/build_drug_lexicon.py"
    assert tier.read_text() == (LEXICON_DIR / "drugs_package.tsv").read_text(), \
        "drugs_package.tsv is stale: run training/build_drug_lexicon.py"


@pytest.mark.parametrize("text,want", [
    ("Invokana", ("canagliflozin", "other")),         # a brand the seed lacks: the package's generic
    ("glipizide 5 mg", ("glipizide", "other")),
    ("Relpax", ("eletriptan", "other")),
    ("Drisdol 50,000 units", ("ergocalciferol", "other")),
    ("insulin glargine", ("insulin glargine", "other")),  # a two-word name that is its own generic
    ("Norco", ("hydrocodone/acetaminophen", "opioid")),   # the seed's names keep the seed's class
    ("Ultram", ("tramadol", "opioid")),
])
def test_package_tier_lookup(lex, text, want):
    assert lex.lookup(text) == want


@pytest.mark.parametrize("text", ["serotonin", "dopamine", "peppermint", "cocaine", "amino acids", "citrate",
                                  "opioids", "antibiotics", "invokan", "sits", "generics"])
def test_package_tier_leaves_out(lex, text):
    # body chemistry, foods, substances of abuse, groups, salts, blocked brand words; no fuzzy match
    assert lex.lookup(text) is None


def test_package_tier_rules():
    from training.build_drug_lexicon import package_tier

    package = {
        "drug_variant_to_canonical": {
            "glucotrol": ["glipizide"], "glipizide": ["glipizide"], "norco": ["hydrocodone"],
            "twodrug": ["a", "b"], "sits": ["acid x"], "bactericides": ["anti-bacterial agents"],
            "amoxil": ["penicillins"], "insulin glargine": ["insulin glargine"], "sodium chloride": ["saline"],
            "amino acids": ["amino acids"], "abc1": ["glipizide"], "nodrug": ["nodrug"]},
        "drug_canonical_to_data": {g: {"drugbank_id": "DB0"} for g in (
            "glipizide", "hydrocodone", "acid x", "anti-bacterial agents", "penicillins", "insulin glargine",
            "saline", "amino acids")},
    }
    lexicon = {"drugs": [{"names": ["Norco", "hydrocodone/APAP"]}]}
    filters = {"package_tier": {"min_length": 5, "group_endings": ["agents"], "blocked_names": ["sits"]},
               "salt_words": ["citrate"], "release_words": ["er"], "form_words": ["tablet"]}
    assert package_tier(package, lexicon, filters, ["antibiotic"]) == [
        ("glipizide", "glipizide"), ("glucotrol", "glipizide"), ("insulin glargine", "insulin glargine")]


def test_no_tier_for_an_explicit_lexicon_file():
    lex = DrugLexicon.load(DRUGS_PATH)
    assert lex.lookup("Invokana") is None and lex.lookup("Norco") == ("hydrocodone/acetaminophen", "opioid")
