"""`imr corpus` end to end (real subprocesses)."""
import json
import shutil

from datasets import load_from_disk

from conftest import LETTERS, REAL
from test_cli import imr


def test_corpus_from_letters_uses_hand_labels_where_they_exist(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("CM16-0221706.pdf", "CM16-0249724.pdf"):
        shutil.copy(REAL / name, src / name)
    shutil.copy(LETTERS / "001_37e0e7a9dfbd6631.txt", src)
    res = imr("corpus", "from-letters", src, "--out", tmp_path / "real")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"letters": 3, "skipped": 0, "items": 7, "hand_labeled_items": 4,
                                      "overturned": 1}
    ds = load_from_disk(str(tmp_path / "real" / "hf"))["real"]
    rows = {r["id"]: r for r in ds}
    dec = ds.features["items"].feature["decision"].int2str
    rat = ds.features["items"].feature["rationale"].int2str
    wheelchair = rows["CM16-0249724"]["items"][0]
    assert (wheelchair["request"], dec(wheelchair["decision"]), json.loads(wheelchair["facts"])["labels"]) == (
        "standard wheelchair for a 2 month rental", "upheld", "hand")
    shared = rows["001_37e0e7a9dfbd6631"]["items"]
    assert [(dec(i["decision"]), rat(i["rationale"]), json.loads(i["facts"])["labels"]) for i in shared] == [
        ("upheld", "exceeds_guideline_quantity", "weak"),
        ("overturned", "guideline_criteria_met", "weak"),
        ("upheld", "not_recommended", "weak")]
    assert (tmp_path / "real" / "parquet" / "real.parquet").is_file()


def test_corpus_build_small(tmp_path):
    res = imr("corpus", "build", "--n", "40", "--seed", "3", "--out", tmp_path / "c")
    assert res.returncode == 0, res.stderr
    dsd = load_from_disk(str(tmp_path / "c" / "hf"))
    assert set(dsd) == {"train", "validation", "test", "test_unseen"}
    assert sum(len(d) for d in dsd.values()) == 40
    assert (tmp_path / "c" / "README.md").is_file()
