"""`imr corpus` end to end (real subprocesses)."""
import json
import shutil

import pytest

from datasets import load_from_disk

from conftest import LETTERS, REAL, ROOT
from test_cli import imr


@pytest.fixture(scope="module")
def real_dataset(tmp_path_factory):
    """`imr corpus from-letters` on two published development PDFs (no frozen letter) and one shared letter."""
    tmp_path = tmp_path_factory.mktemp("real")
    src = tmp_path / "in"
    src.mkdir()
    for name in ("CM16-0221706.pdf", "CM16-0239190.pdf"):
        shutil.copy(REAL / name, src / name)
    shutil.copy(LETTERS / "001_37e0e7a9dfbd6631.txt", src)
    res = imr("corpus", "from-letters", src, "--out", tmp_path / "real")
    assert res.returncode == 0, res.stderr
    return tmp_path / "real", res.stdout


def test_corpus_from_letters_uses_hand_labels_where_they_exist(real_dataset):
    out, stdout = real_dataset
    assert json.loads(stdout) == {"letters": 3, "skipped": 0, "items": 5, "hand_labeled_items": 2,
                                  "overturned": 1}
    ds = load_from_disk(str(out / "hf"))["real"]
    rows = {r["id"]: r for r in ds}
    dec = ds.features["items"].feature["decision"].int2str
    rat = ds.features["items"].feature["rationale"].int2str
    therapy = rows["CM16-0239190"]["items"][0]  # partly authorized: the remaining IMR eligible portion
    assert (therapy["request"], dec(therapy["decision"]), json.loads(therapy["facts"])["labels"]) == (
        "Occupational therapy for six sessions", "upheld", "hand")
    shared = rows["001_37e0e7a9dfbd6631"]["items"]
    assert [(dec(i["decision"]), rat(i["rationale"]), json.loads(i["facts"])["labels"]) for i in shared] == [
        ("upheld", "exceeds_guideline_quantity", "weak"),
        ("overturned", "guideline_criteria_met", "weak"),
        ("upheld", "not_recommended", "weak")]
    assert (out / "parquet" / "real.parquet").is_file()


def test_corpus_build_small(tmp_path):
    res = imr("corpus", "build", "--n", "40", "--seed", "3", "--out", tmp_path / "c")
    assert res.returncode == 0, res.stderr
    dsd = load_from_disk(str(tmp_path / "c" / "hf"))
    assert set(dsd) == {"train", "validation", "test", "test_unseen"}
    assert sum(len(d) for d in dsd.values()) == 40
    assert (tmp_path / "c" / "README.md").is_file() and (tmp_path / "c" / "spacy" / "train.spacy").is_file()
    # the dataset card's `configs:` keeps the four splits apart for `load_dataset` of the folder
    from datasets import load_dataset

    loaded = load_dataset(str(tmp_path / "c"))
    assert {s: len(d) for s, d in loaded.items()} == {s: len(d) for s, d in dsd.items()}
    res = imr("corpus", "build", "--n", "40", "--seed", "3", "--out", tmp_path / "d", "--no-docbins")
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "d" / "spacy").exists()
    same = load_from_disk(str(tmp_path / "d" / "hf"))
    assert [r["text"] for r in same["train"]] == [r["text"] for r in dsd["train"]]
    assert "not built" in (tmp_path / "d" / "README.md").read_text()
    # generated vs real: the letters through the same parser, the labels beside the hand labels
    real = tmp_path / "real"
    real.mkdir()
    shutil.copy(REAL / "CM16-0221706.pdf", real)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"decision": "upheld", "rationale": "insufficient_documentation",
                                  "treatment_category": "pharmaceuticals"}) + "\n")
    res = imr("corpus", "compare", "--corpus", tmp_path / "c", "--real", real, "--labels", labels)
    assert res.returncode == 0, res.stderr
    assert "| letters | 40 | 1 |" in res.stdout and "| items_per_letter |" in res.stdout
    assert "| rationale:insufficient_documentation |" in res.stdout
    assert "| treatment_category:pharmaceuticals |" in res.stdout and res.stdout.rstrip().endswith("|")
    res = imr("corpus", "compare", "--corpus", tmp_path / "c", "--real", real, "--labels", "")
    assert res.returncode == 0 and "rationale:" not in res.stdout


def test_real_letters_join_ner_training_docbins(real_dataset, tmp_path):
    """`imr train ner --real DATASET`: each real letter enters the training DocBin `repeat` times
    with its silver entities on token boundaries; the other splits stay generated only."""
    from spacy.tokens import DocBin

    from nlp.ner.tokenizer import blank_pipeline
    from training.dataset_io import decoded_rows
    from training.ner import build_docbins

    res = imr("corpus", "build", "--n", "20", "--seed", "1", "--out", tmp_path / "c")
    assert res.returncode == 0, res.stderr
    out, _ = real_dataset
    n_train = load_from_disk(str(tmp_path / "c" / "hf"))["train"].num_rows
    real_rows = list(decoded_rows(load_from_disk(str(out / "hf"))["real"]))
    nlp = blank_pipeline()
    for trust in ("all", "drugs"):
        stats = build_docbins(tmp_path / "c" / "hf", tmp_path / trust, real=[out], real_repeat=2, real_trust=trust)
        assert stats["real:real"]["letters"] == 3 and stats["real:real"]["not_token_aligned"] == 0
        train = list(DocBin().from_disk(tmp_path / trust / "train.spacy").get_docs(nlp.vocab))
        dev = list(DocBin().from_disk(tmp_path / trust / "dev.spacy").get_docs(nlp.vocab))
        assert len(train) == n_train + 2 * 3
        assert all(d.text not in {r["text"] for r in real_rows} for d in dev)
        for doc, row in zip(train[n_train::2], real_rows):
            assert doc.text == row["text"]
            silver = [(e["start"], e["end"], e["label"]) for e in row["entities"]]
            ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            missing = [t for t in doc if t.ent_iob_ == ""]
            if trust == "all":
                assert ents == silver and not missing
            else:  # silver DRUGs kept; every other silver entity lies in a stretch marked missing
                assert ents == [x for x in silver if x[2] == "DRUG"]
                others = [x for x in silver if x[2] != "DRUG"]
                assert others and missing
                for s, e, _ in others:
                    span = doc.char_span(s, e, alignment_mode="expand")
                    assert all(t.ent_iob_ == "" for t in span)


def test_evaluate_ner_against_silver_of_the_same_pipeline(real_dataset, tmp_path):
    """The pipeline that wrote a real dataset's silver entities reproduces them exactly; its
    statistical model alone does not (the table says how far it departs)."""
    out, _ = real_dataset
    res = imr("evaluate", "ner", "--splits", "--real", out, "--out", tmp_path / "ner.json")
    assert res.returncode == 0, res.stderr
    results = json.loads((tmp_path / "ner.json").read_text())
    real = results["real_silver:real"]
    assert real["combined"]["strict"]["micro"]["f1"] == 1.0
    assert real["model_only"]["strict"]["micro"]["f1"] < 1.0
    assert "| real_silver:real | model_only |" in res.stdout


def test_evaluate_ner_on_gold_letters_prints_spans_and_normalization(tmp_path):
    """`imr evaluate ner --letters --gold`: the F1 table and the normalization table (count roles
    included) on stdout, the same figures in --out."""
    gold = ROOT / "training" / "real_ner_gold" / "develop"
    res = imr("evaluate", "ner", "--splits", "--letters", REAL, "--gold", gold, "--out", tmp_path / "ner.json")
    assert res.returncode == 0, res.stderr
    letters = json.loads((tmp_path / "ner.json").read_text())["letters"]
    norm = letters["combined"]["normalization"]
    assert 0 < norm["count_role_accuracy"] <= 1 and norm["drug_generic_accuracy"] == 1.0
    row = (f"| letters | {norm['drug_generic_accuracy']} | {norm['drug_class_accuracy']} | {norm['guideline_accuracy']} "
           f"| {norm['count_accuracy']} | {norm['count_role_accuracy']} |")
    assert row in res.stdout.splitlines()
    assert f"| letters | combined | {letters['combined']['strict']['DRUG']['f1']} |" in res.stdout


def test_train_all_quick_run_end_to_end(tmp_path):
    """`imr train all`: corpus (missing, so built) → NER with real letters' silver entities →
    classifier whose features come from that NER; the bundle then scores a letter."""
    src = tmp_path / "real_in"
    src.mkdir()
    shutil.copy(REAL / "CM16-0221706.pdf", src)
    bundle = tmp_path / "bundle"
    res = imr("train", "all", "--corpus", tmp_path / "data" / "corpus", "--n", "40", "--ner-letters", "20",
              "--ner-max-steps", "10", "--classifier-max-letters", "12", "--no-real-cv", "--real", src,
              "--runs", tmp_path / "runs", "--out", bundle, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "data" / "corpus" / "hf" / "dataset_dict.json").is_file()
    # the corpus step skips the DocBins of every letter: the NER step builds the ones it trains on
    assert not (tmp_path / "data" / "corpus" / "spacy").exists()
    assert (tmp_path / "data" / "ner_docbins" / "train.spacy").is_file()
    real = json.loads((tmp_path / "data" / "ner_docbins" / "stats.json").read_text())["real:real"]
    assert (real["letters"], real["repeat"]) == (1, 4)
    card = json.loads((bundle / "classifier" / "model_card.json").read_text())
    assert set(card["artifacts"]) >= {"decision_read", "decision_forecast", "rationale", "rationale_labels"}
    # the NER step trains its count role model on the hand-annotated letters once assembled
    roles = json.loads((bundle / "ner" / "imr_count_roles" / "count_role_model.json").read_text())
    assert roles["meta"]["examples"] > 500 and set(roles["classes"]) >= {"requested", "completed", "recommended"}
    out = tmp_path / "scored.jsonl"
    res = imr("score", LETTERS / "001_37e0e7a9dfbd6631.txt", "--out", out, "--model", bundle)
    assert res.returncode == 0, res.stderr
    rec = json.loads(out.read_text().splitlines()[0])
    assert len(rec["items"]) == 3
    assert all(it["prediction"]["decision"] in ("upheld", "overturned") for it in rec["items"])


def test_docbins_built_in_worker_processes_equal_one_process(tmp_path, monkeypatch):
    """`build_docbins(jobs=2)` tokenizes chunks of letters in worker processes and merges them in
    order: the same documents, entities and counts as one process."""
    from spacy.tokens import DocBin

    import training.ner
    from nlp.ner.tokenizer import blank_pipeline
    from training.ner import build_docbins

    res = imr("corpus", "build", "--n", "20", "--seed", "2", "--out", tmp_path / "c")
    assert res.returncode == 0, res.stderr
    monkeypatch.setattr(training.ner, "_CHUNK", 3)  # several chunks per split
    stats = {jobs: build_docbins(tmp_path / "c" / "hf", tmp_path / f"j{jobs}", jobs=jobs) for jobs in (1, 2)}
    assert stats[1] == stats[2] and stats[1]["train"]["letters"] > 6
    vocab = blank_pipeline().vocab
    for fname in ("train.spacy", "dev.spacy", "test.spacy"):
        docs = [list(DocBin().from_disk(tmp_path / f"j{jobs}" / fname).get_docs(vocab)) for jobs in (1, 2)]
        assert [d.text for d in docs[0]] == [d.text for d in docs[1]]
        assert [[(e.start, e.end, e.label_) for e in d.ents] for d in docs[0]] == \
               [[(e.start, e.end, e.label_) for e in d.ents] for d in docs[1]]
