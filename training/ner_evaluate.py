"""`imr evaluate ner`: entity P/R/F (strict, lenient) and normalization accuracy for the
ruler alone, the model alone and the combined pipeline, plus the peer drug tagger baseline."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from nlp.layout import parse_layout
from nlp.ner.runtime import entity_dicts, load_pipeline
from nlp.ner.scoring import EntityScore
from nlp.textnorm import normalize_text

VARIANTS = {"combined": [], "model_only": ["drug_ruler", "imr_package_tier_drugs", "entity_ruler", "imr_guideline_initials",
                                          "imr_citation_extender", "imr_request_quantity"],
            "ruler_only": ["ner", "tok2vec"]}


def gold_letters(letters_dir: str | Path, gold_dir: str | Path) -> Iterable[tuple[str, list[dict]]]:
    """(normalized text, gold entities) of the hand-annotated letters: `<id>.txt`, else `<id>.pdf`."""
    from nlp.reading import iter_documents

    for g in sorted(Path(gold_dir).glob("*.json")):
        txt = Path(letters_dir) / f"{g.stem}.txt"
        if txt.is_file():
            raw = txt.read_text(encoding="utf-8")
        else:  # a published letter: its PDF, read as `imr parse` reads it
            raw = next(iter_documents([str(Path(letters_dir) / f"{g.stem}.pdf")])).text
        yield normalize_text(raw), json.loads(g.read_text(encoding="utf-8"))["entities"]


def corpus_letters(corpus_dir: str | Path, split: str, limit: int | None = None):
    """(normalized text, gold entities) of a corpus split; gold sections come from the corpus."""
    from datasets import load_from_disk

    from training.dataset_io import decoded_rows

    ds = load_from_disk(str(corpus_dir))[split]
    if limit is not None and limit < len(ds):
        ds = ds.select(range(limit))
    for row in decoded_rows(ds):
        gold = [{"label": e["label"], "text": e["text"], "section": e["section"],
                 "item": e["item"] if e["section"] == "item" else None, "norm": json.loads(e["norm"] or "{}")}
                for e in row["entities"]]
        yield normalize_text(row["text"]), gold


def real_letters(dataset: str | Path):
    """(normalized text, silver entities) of a dataset built by `imr corpus from-letters`: the
    reference is the pipeline that built it, so scores say how far another pipeline departs from
    that one on real letters, not how right either is."""
    from datasets import load_from_disk

    from training.dataset_io import dataset_dir, decoded_rows

    for row in decoded_rows(load_from_disk(str(dataset_dir(dataset)))["real"]):
        silver = [{"label": e["label"], "text": e["text"], "section": e["section"],
                   "item": e["item"] if e["section"] == "item" else None, "norm": json.loads(e["norm"] or "{}")}
                  for e in row["entities"]]
        yield row["text"], silver


def _peer_drugs(text: str, layout) -> list[dict]:
    """DRUG entities from the drug-named-entity-recognition package's dictionary tagger."""
    import re

    from drug_named_entity_recognition import find_drugs

    toks = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    words = [re.sub(r"^\W+|\W+$", "", t[0]) for t in toks]
    out = []
    for info, i, j in find_drugs(words, is_ignore_case=True):
        start = toks[i][1] + toks[i][0].find(words[i]) if words[i] else toks[i][1]
        end = toks[j - 1][1] + toks[j - 1][0].find(words[j - 1]) + len(words[j - 1])
        section, item = layout.locate(start)
        out.append({"label": "DRUG", "text": text[start:end], "start": start, "end": end,
                    "section": section, "item": item,
                    "norm": {"generic": info.get("name", "").lower(), "drug_class": None}})
    return out


def evaluate(pipeline_dir: str | Path, letters: list[tuple[str, list[dict]]], variants=VARIANTS,
             peer: bool = True) -> dict:
    from nlp.lexicon import get_lexicon

    nlp = load_pipeline(str(pipeline_dir))
    lexicon = get_lexicon()
    out = {}
    texts = [t for t, _ in letters]
    for name, disabled in variants.items():
        disabled = [d for d in disabled if d in nlp.pipe_names]
        if name != "combined" and not disabled:
            continue  # that variant is the combined pipeline itself
        score = EntityScore()
        unknown = 0
        with nlp.select_pipes(disable=disabled):
            for doc, (_, gold) in zip(nlp.pipe(texts, batch_size=16), letters):
                score.add(entity_dicts(doc), gold)
                unknown += sum(e.label_ == "DRUG" and e.text not in lexicon for e in doc.ents)
        out[name] = score.summary()
        # DRUG guesses the lexicon does not know: on real letters nearly all are false positives
        out[name]["drugs_not_in_lexicon"] = unknown
    if peer:
        score = EntityScore(labels=("DRUG",))
        for text, gold in letters:
            score.add(_peer_drugs(text, parse_layout(text)), [g for g in gold if g["label"] == "DRUG"])
        out["peer_drug_tagger"] = score.summary()
    return out


def heldout_drug_recall(pipeline_dir: str | Path, letters: list[tuple[str, list[dict]]], names: set[str],
                        variants=VARIANTS) -> dict:
    """Recall on gold DRUG mentions whose name is in `names` (drug names held out of training)."""
    nlp = load_pipeline(str(pipeline_dir))
    names = {n.lower() for n in names}
    texts = [t for t, _ in letters]
    out = {}
    for name, disabled in variants.items():
        disabled = [d for d in disabled if d in nlp.pipe_names]
        if name != "combined" and not disabled:
            continue
        found = total = 0
        with nlp.select_pipes(disable=disabled):
            for doc, (_, gold) in zip(nlp.pipe(texts, batch_size=16), letters):
                pred = {(e._.section, e._.item, e.text.lower()) for e in doc.ents if e.label_ == "DRUG"}
                for g in gold:
                    if g["label"] == "DRUG" and " ".join(g["text"].split()).lower() in names:
                        total += 1
                        found += (g["section"], g["item"], " ".join(g["text"].split()).lower()) in pred
        out[name] = {"held_out_mentions": total, "found": found, "recall": round(found / total, 4) if total else None}
    return out
