"""The bundled NER pipeline is a self-contained spaCy package (issue 17): its meta.json names it,
a copy of its folder loads from anywhere, a saved pipeline carries the config files its
components read (so it runs with an empty configs folder), and a Doc's extension values go
through spaCy's serialization (DocBin, `nlp.pipe(..., n_process=2)`)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin

from conftest import LETTERS, ROOT
from nlp.layout import LetterLayout, layout_from_dict, layout_to_dict, parse_layout
from nlp.ner.runtime import entity_dicts
from nlp.textnorm import normalize_text

BUNDLED = ROOT / "models" / "default" / "ner"

# Runs in a fresh process: loads PIPELINE, prints the entities of LETTER (normalized) as JSON;
# with a third argument, saves the loaded pipeline there first.
_ENTITIES = """
import json, sys
import spacy
from nlp.ner.runtime import entity_dicts
from nlp.textnorm import normalize_text

nlp = spacy.load(sys.argv[1])
if len(sys.argv) > 3:
    nlp.to_disk(sys.argv[3])
with open(sys.argv[2], encoding="utf-8") as fh:
    doc = nlp(normalize_text(fh.read()))
print(json.dumps({"entities": entity_dicts(doc), "prime_texts": nlp.tokenizer.prime_texts,
                  "meta": {k: nlp.meta.get(k) for k in ("name", "version", "license")}}))
"""


def _entities(pipeline: Path, letter: Path, cwd: Path, configs: Path | None = None, save: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "IMR_CONFIGS"}
    if configs is not None:
        env["IMR_CONFIGS"] = str(configs)
    args = [sys.executable, "-c", _ENTITIES, str(pipeline), str(letter)] + ([str(save)] if save else [])
    res = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _letter() -> Path:
    return sorted(LETTERS.glob("*.txt"))[0]


def test_meta_names_the_package_with_its_version_and_licence():
    from training.ner import PIPELINE_NAME, pipeline_meta

    meta = json.loads((BUNDLED / "meta.json").read_text(encoding="utf-8"))
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M).group(1)
    assert meta["name"] == PIPELINE_NAME == "imr_ner"
    assert meta["version"] == version, "after a version bump, update models/default/ner/meta.json and re-pin"
    assert meta["license"] == "MIT" and meta["author"] and len(meta["description"]) > 40
    assert any(r.startswith("imr-nlp") for r in meta["requirements"])
    # assembling a pipeline (training.ner.assemble) writes the same fields
    assert {k: meta[k] for k in pipeline_meta()} == pipeline_meta()


def test_a_copied_pipeline_and_a_resaved_one_run_anywhere(tmp_path):
    """A copy of the bundled folder loads from an empty folder; a pipeline saved by this code
    carries its config files and gives the same entities with an empty configs folder."""
    letter = tmp_path / "letter.txt"
    shutil.copyfile(_letter(), letter)
    copy, resaved, empty_cwd, empty_configs = (tmp_path / n for n in ("copy", "resaved", "cwd", "configs"))
    shutil.copytree(BUNDLED, copy)
    empty_cwd.mkdir()
    empty_configs.mkdir()

    reference = _entities(BUNDLED, letter, cwd=ROOT, save=resaved)  # the checkout's pipeline, as imr runs it
    assert reference["entities"] and {e["label"] for e in reference["entities"]} <= {"DRUG", "GUIDELINE", "SESSION_COUNT"}
    assert reference["meta"] == {"name": "imr_ner", "version": reference["meta"]["version"], "license": "MIT"}

    copied = _entities(copy, letter, cwd=empty_cwd)
    assert copied["entities"] == reference["entities"]

    for part in ("imr_sections/configs/layouts.yaml", "imr_entity_normalizer/configs/lexicons/drugs.yaml"):
        assert (resaved / part).is_file(), part
    alone = _entities(resaved, letter, cwd=empty_cwd, configs=empty_configs)
    assert alone["entities"] == reference["entities"]
    assert alone["prime_texts"] == reference["prime_texts"]  # the tokenizer saved its priming count


@pytest.fixture(scope="module")
def bundled_nlp():
    import nlp.ner.components  # noqa: F401

    return spacy.load(BUNDLED)


def _texts(n: int = 3) -> list[str]:
    return [normalize_text(p.read_text(encoding="utf-8")) for p in sorted(LETTERS.glob("*.txt"))[:n]]


def _plain(doc: Doc) -> str:
    """What a doc holds for the record, as JSON (a list and a tuple read the same)."""
    return json.dumps({"entities": entity_dicts(doc), "layout": layout_to_dict(doc._.layout),
                       "letter_text": doc._.letter_text})


def test_the_layout_round_trips_as_plain_data():
    text = _texts(1)[0]
    layout = parse_layout(text)
    assert layout.items and layout_from_dict(json.loads(json.dumps(layout_to_dict(layout)))) == layout


def test_docbin_with_user_data_round_trips(bundled_nlp):
    docs = list(bundled_nlp.pipe(_texts()))
    db = DocBin(store_user_data=True)
    for doc in docs:
        db.add(doc)
    back = list(DocBin().from_bytes(db.to_bytes()).get_docs(bundled_nlp.vocab))
    assert [_plain(d) for d in back] == [_plain(d) for d in docs]
    assert all(isinstance(d._.layout, LetterLayout) and d._.layout == o._.layout for d, o in zip(back, docs))
    one = Doc(bundled_nlp.vocab).from_bytes(docs[0].to_bytes())
    assert _plain(one) == _plain(docs[0])


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_pipe_with_two_processes_gives_the_one_process_docs(bundled_nlp):
    texts = _texts()
    single = [_plain(d) for d in bundled_nlp.pipe(texts)]
    assert [_plain(d) for d in bundled_nlp.pipe(texts, n_process=2, batch_size=1)] == single
    docs = []  # Doc inputs carrying a layout already (as nlp.ner.runtime.SpacyNER passes them)
    for text in texts:
        doc = bundled_nlp.make_doc(text)
        doc._.layout = parse_layout(text)
        docs.append(doc)
    assert [_plain(d) for d in bundled_nlp.pipe(docs, n_process=2, batch_size=1)] == single
