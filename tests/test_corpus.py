"""Corpus build: dataset features, determinism, leak-free splits, DocBin round trip."""
from __future__ import annotations

import hashlib
import json

import pytest

from training.corpus import SPLITS, build_corpus, compare_to_real, format_table, label_mix


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    stats = build_corpus(n=400, seed=11, out=out)
    return out, stats


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_outputs_and_classlabels(built):
    from datasets import load_from_disk

    out, stats = built
    dd = load_from_disk(str(out / "hf"))
    assert list(dd) == SPLITS
    assert sum(len(dd[s]) for s in SPLITS) == 400
    f = dd["train"].features
    assert f["layout"].names == ["dwc_2014", "dwc_2013_notice", "dwc_2015"]
    item = f["items"].feature
    assert item["decision"].names == ["upheld", "overturned"]
    assert "guideline_criteria_met" in item["rationale"].names
    assert len(item["treatment_category"].names) == 14
    assert f["entities"].feature["label"].names == ["DRUG", "SESSION_COUNT", "GUIDELINE"]
    row = dd["train"][0]
    for e in row["entities"]:
        assert row["text"][e["start"]:e["end"]] == e["text"]
    for s in SPLITS:
        assert (out / "parquet" / f"{s}.parquet").exists()
    card = (out / "README.md").read_text()
    assert "Split design" in card and "test_unseen" in card and "Seed: 11" in card
    assert stats["splits"]["test_unseen"]["letters"] == 20


def test_same_seed_same_bytes(built, tmp_path):
    out, _ = built
    out2 = tmp_path / "again"
    build_corpus(n=400, seed=11, out=out2)
    for s in SPLITS:
        assert _sha(out / "parquet" / f"{s}.parquet") == _sha(out2 / "parquet" / f"{s}.parquet")
    assert _sha(out / "spacy" / "train.spacy") == _sha(out2 / "spacy" / "train.spacy")


def test_no_leakage(built):
    import pyarrow.parquet as pq

    out, _ = built
    ho = json.loads((out / "holdout.json").read_text())
    assert ho["share_drug_names"] >= 0.15 and ho["share_treatments"] >= 0.10 and ho["templates"]
    held_t, held_tpl = set(ho["treatments"]), set(ho["templates"])
    held_n = {n.lower() for n in ho["drug_names"]}
    held_g = set(ho["drugs"])
    for s in ("train", "validation", "test"):
        rows = pq.read_table(out / "parquet" / f"{s}.parquet").to_pylist()
        for r in rows:
            assert not held_tpl & set(r["template_ids"])
            for it in r["items"]:
                assert it["treatment_id"] not in held_t
            for e in r["entities"]:
                if e["label"] == 0:  # DRUG
                    assert e["text"].lower() not in held_n and e["drug_generic"] not in held_g
    rows = pq.read_table(out / "parquet" / "test_unseen.parquet").to_pylist()
    for r in rows:
        drugs = {e["drug_generic"] for e in r["entities"] if e["label"] == 0}
        assert (held_tpl & set(r["template_ids"])) or any(i["treatment_id"] in held_t for i in r["items"]) or (drugs & held_g)
    texts = {s: {r["text"] for r in pq.read_table(out / "parquet" / f"{s}.parquet", columns=["text"]).to_pylist()} for s in SPLITS}
    for a in SPLITS:
        for b in SPLITS:
            if a < b:
                assert not texts[a] & texts[b]


def test_docbin_round_trip(built):
    """DocBins hold the normalized text with every gold entity mapped onto it, token-aligned."""
    import pyarrow.parquet as pq
    import spacy
    from spacy.tokens import DocBin

    from nlp.textnorm import normalize_text

    out, stats = built
    assert all(v["not_token_aligned"] == 0 for v in stats["spacy"].values())
    nlp = spacy.blank("en")
    for s, name in (("train", "train"), ("validation", "dev"), ("test", "test"), ("test_unseen", "test_unseen")):
        docs = list(DocBin().from_disk(out / "spacy" / f"{name}.spacy").get_docs(nlp.vocab))
        rows = pq.read_table(out / "parquet" / f"{s}.parquet", columns=["text", "entities"]).to_pylist()
        assert len(docs) == len(rows) == stats["spacy"][s]["letters"]
        for d, r in zip(docs, rows):
            assert d.text == normalize_text(r["text"])
            assert len(d.ents) == len(r["entities"])
            got = [(e.label_, " ".join(e.text.split())) for e in d.ents]
            want = [(["DRUG", "SESSION_COUNT", "GUIDELINE"][e["label"]], " ".join(e["text"].split()))
                    for e in sorted(r["entities"], key=lambda e: e["start"])]
            assert got == want


def test_compare_to_real(built, tmp_path):
    out, _ = built
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.txt").write_text("MRI of the lumbar spine: Upheld\nClaims Administrator guideline: Decision based on MTUS "
                                "Low Back Complaints 2004, Section(s): Special Studies.\nMAXIMUS guideline: Decision based on "
                                "MTUS Low Back Complaints 2004.\nDecision rationale: The request is not medically necessary.\n")
    rows = compare_to_real(out, real, max_generated=100)
    m = {r["metric"]: r for r in rows}
    assert m["items_per_letter"]["real"] == 1 and m["overturn_rate"]["real"] == 0
    assert m["category:diagnostic_imaging"]["real"] == 1.0
    assert "| metric |" in format_table(rows)


def test_label_mix_generated_beside_hand_labels(built, tmp_path):
    out, stats = built
    labels = tmp_path / "real_items.jsonl"
    labels.write_text("\n".join(json.dumps(x) for x in [
        {"decision": "upheld", "rationale": "not_recommended", "treatment_category": "pharmaceuticals"},
        {"decision": "upheld", "rationale": "not_recommended", "treatment_category": "surgery"},
        {"decision": "overturned", "rationale": "guideline_criteria_met", "treatment_category": "surgery"},
        {"decision": "upheld", "rationale": "no_functional_improvement", "treatment_category": "programs"}]) + "\n")
    m = {r["metric"]: r for r in label_mix(out, labels)}
    train = stats["splits"]["train"]
    assert m["decision:overturned"] == {"metric": "decision:overturned", "real": 0.25,
                                        "generated": round(train["decision"]["overturned"] / train["items"], 3)}
    assert m["rationale:not_recommended"]["real"] == 0.5 and m["treatment_category:surgery"]["real"] == 0.5
    assert m["rationale:insufficient_documentation"]["real"] == 0.0  # generated only
    assert m["rationale:insufficient_documentation"]["generated"] > 0
    for field in ("decision", "rationale", "treatment_category"):
        shares = [r for k, r in m.items() if k.startswith(field + ":")]
        assert abs(sum(r["generated"] for r in shares) - 1) < 0.01 and abs(sum(r["real"] for r in shares) - 1) < 0.01
    with pytest.raises(ValueError, match="no label counts"):
        label_mix(tmp_path, labels)  # not a corpus build


def test_forecast_ceiling_oracle_reads_the_generators_summary_facts(built):
    """The oracle's features come from the generator's records: rule, topic, which summary
    sentences the letter has (by template slot) and the completed count only where stated."""
    from datasets import load_from_disk

    from training.forecast_ceiling import oracle_rows, template_slots

    out, _ = built
    slot_of = template_slots()
    assert slot_of["sfm01"] == "summary_finding_met" and slot_of["sfm06"] == "summary_finding_met"
    ds = load_from_disk(str(out / "hf"))["train"]
    rows = oracle_rows(ds, slot_of)
    singles = [r for r in ds if len(r["items"]) == 1]
    assert [i for i, _, _ in rows] == [str(r["id"]) for r in singles] and rows
    for (_, f, y), r in zip(rows, singles):
        it = r["items"][0]
        assert y == int(it["decision"] in (1, "overturned"))
        assert f[f"rule={it['rule']}"] == 1.0 and f[f"topic={it['topic']}"] == 1.0
        slots = {slot_of[t] for t in r["template_ids"] if slot_of.get(t, "").startswith("summary_")}
        assert {k[len("slot="):] for k in f if k.startswith("slot=") and "|" not in k} == slots
        assert ("completed" in f) == ("summary_prior_count" in slots and bool(it["prior_count"]))


def test_evidence_rates_count_the_deciding_summary_sentences(built):
    from datasets import load_from_disk

    from training.corpus import load_config
    from training.forecast_ceiling import evidence_rates, real_evidence_rates, template_slots

    out, _ = built
    ds = load_from_disk(str(out / "hf"))["train"]
    slots = load_config()["evidence_slots"]
    rates = evidence_rates(ds, template_slots(), slots)
    assert rates and all(0 <= v["stated"] <= v["items"] and v["share"] == round(v["stated"] / v["items"], 3)
                         for v in rates.values())
    for rule in {k.split("|")[0] for k in rates}:  # the decision splits add up to the rule
        parts = [v for k, v in rates.items() if k.startswith(rule + "|")]
        assert sum(v["items"] for v in parts) == rates[rule]["items"]
    real = real_evidence_rates()
    assert real["case_facts"] == 145 and real["yes"] == 0.648 and real["no"] == 0.09


def test_summary_evidence_annotation_aligns_with_the_real_labels():
    import json

    from training.classifier import ROOT

    labels = [json.loads(x) for x in (ROOT / "training/real_labels/real_items.jsonl").read_text().splitlines()]
    ev = [json.loads(x) for x in (ROOT / "training/real_labels/summary_evidence.jsonl").read_text().splitlines()]
    assert [(e["case_number"], e["index"]) for e in ev] == [(x["case_number"], x["index"]) for x in labels]
    for e in ev:
        assert e["kind"] in ("case_fact", "quantity", "guideline_only")
        assert e["in_summary"] in (("yes", "partial", "no") if e["kind"] == "case_fact" else ("yes", "partial", "no", "n/a"))
        assert (e["yes_source"] is not None) == (e["in_summary"] == "yes" and e["kind"] != "guideline_only")
        assert len([w for w in e["quote"].split() if w != "..."]) <= 25 and (e["quote"] == "") == (e["in_summary"] in ("no", "n/a"))
