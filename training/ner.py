"""NER training: corpus → DocBins → `spacy train configs/ner.cfg` → the assembled pipeline.

The assembled pipeline is: imr_sections → tok2vec → drug_ruler → imr_package_tier_drugs → ner →
imr_citation_trimmer → entity_ruler → imr_guideline_initials → imr_society_guidelines →
imr_article_citations → imr_citation_extender → imr_citation_documents → imr_drug_name_suffixes →
imr_drug_combinations → imr_count_shaper → imr_entity_filter → imr_request_quantity → imr_count_echoes →
imr_entity_normalizer → imr_count_roles.
Drug names of the lexicon are set first and the statistical model labels around them (it keeps
preset entities); citation and count patterns run after the model with `overwrite_ents=False`,
so the model decides those boundaries (it learned the long citation spans) and the patterns only
add what it missed; the count grammar then sets where each count starts and ends. docs/NER.md gives the measurements behind this order.
"""
from __future__ import annotations

import functools
import json
import logging
import random
import re
from pathlib import Path

from nlp.config import configs_dir

log = logging.getLogger(__name__)

DEFAULT_CONFIG = configs_dir() / "ner.cfg"
SPLIT_FILES = {"train": "train.spacy", "validation": "dev.spacy", "test": "test.spacy", "test_unseen": "test_unseen.spacy"}


def letter_entities(row: dict) -> tuple[str, list[tuple[int, int, str]]]:
    """Normalized text of a corpus letter and its gold entity spans mapped onto it."""
    from nlp.textnorm import map_span, normalize_with_offsets

    text, offsets = normalize_with_offsets(row["text"])
    spans = []
    for e in row["entities"]:
        mapped = map_span(offsets, e["start"], e["end"])
        spans.append((mapped[0], mapped[1], e["label"]) if mapped else None)  # None: lost in normalization
    return text, spans


_SENTENCE_END = re.compile(r"(?<=[.:;!?])\s+|\n+")


def _sentences_with(doc, spans) -> list:
    """The sentence-like stretches of `doc` (split at . : ; ! ? and line breaks) that overlap `spans`."""
    out, start = [], 0
    bounds = [m.start() for m in _SENTENCE_END.finditer(doc.text)] + [len(doc.text)]
    for end in bounds:
        if any(sp.start_char < end and sp.end_char > start for sp in spans):
            sent = doc.char_span(start, end, alignment_mode="expand")
            if sent is not None and len(sent):
                out.append(sent)
        start = end
    return out


def _add_rows(db, nlp, rows, repeat: int = 1, trust: str = "all") -> tuple[int, int, int]:
    """Add each row's normalized text with its entity spans to `db` (`repeat` times);
    returns (letters, entities, entities not on token boundaries).

    `trust="drugs"` (silver entities of real letters): only DRUG spans are taken as annotated;
    the sentences holding another silver entity are marked *missing* (no loss either way), the
    rest of the letter is outside. The drug lexicon anchors silver DRUGs, while the boundaries of
    silver citations and counts follow the old pipeline's habits, which measurably taught the
    model wrong citation ends (docs/NER.md).
    """
    letters = total = misaligned = 0
    for row in rows:
        text, spans = letter_entities(row)
        doc = nlp.make_doc(text)
        ents = []
        for mapped in spans:
            total += 1
            if mapped is None:
                misaligned += 1
                continue
            s, e, label = mapped
            span = doc.char_span(s, e, label=label, alignment_mode="strict") or \
                doc.char_span(s, e, label=label, alignment_mode="expand")
            if span is None or (ents and span.start < ents[-1].end):
                misaligned += 1
                continue
            if span.text != text[s:e]:
                misaligned += 1
            ents.append(span)
        if trust == "drugs":
            kept = [sp for sp in ents if sp.label_ == "DRUG"]
            kept_tokens = {i for sp in kept for i in range(sp.start, sp.end)}
            # token by token, so that a missing stretch never cuts through a kept DRUG
            missing = [doc[i:i + 1] for sent in _sentences_with(doc, [sp for sp in ents if sp.label_ != "DRUG"])
                       for i in range(sent.start, sent.end) if i not in kept_tokens]
            doc.set_ents(kept, missing=missing, default="outside")
        else:
            doc.ents = ents
        for _ in range(repeat):
            db.add(doc)
        letters += 1
    return letters, total, misaligned


def gold_rows(letters_dir: str | Path, gold_dir: str | Path) -> tuple[list[dict], dict]:
    """Hand-annotated real letters (SPEC §5 gold: entities in reading order, text without offsets)
    as training rows: the letter's normalized text (`training.ner_evaluate.gold_letters`, read as
    `imr parse` reads it) with each gold entity found in order (white space between its words may
    differ: wrapped lines). Returns (rows, counts); an entity not found is left out and counted
    (`entities_not_found`: check it is 0 before training on the rows). Frozen letters and clean
    written sets are refused."""
    from training.ner_evaluate import gold_letters
    from training.real_protocol import check_not_clean, check_not_frozen

    ids = [g.stem for g in sorted(Path(gold_dir).glob("*.json"))]
    check_not_frozen(ids, "NER training")
    check_not_clean([gold_dir, letters_dir], "NER training")
    rows, found, lost = [], 0, 0
    for case, (text, entities) in zip(ids, gold_letters(letters_dir, gold_dir)):
        spans, pos = [], 0
        for e in entities:
            words = (e.get("text") or "").split()
            if not words:
                lost += 1
                continue
            rx = re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)")
            m = rx.search(text, pos) or re.compile(rx.pattern, re.I).search(text, pos)
            if m is None:  # out of order in the gold file: anywhere that overlaps nothing taken
                m = next((x for x in rx.finditer(text) if not any(x.start() < b and a < x.end() for a, b, _ in spans)), None)
            if m is None:
                lost += 1
                continue
            spans.append((m.start(), m.end(), e["label"]))
            pos = m.end()
            found += 1
        spans.sort()
        rows.append({"id": case, "text": text, "gold": True,
                     "entities": [{"start": a, "end": b, "label": lab} for a, b, lab in spans]})
    return rows, {"letters": len(rows), "entities_found": found, "entities_not_found": lost}


_CHUNK = 400  # letters per worker task


@functools.lru_cache(maxsize=1)
def _blank():
    """One blank pipeline per process, so its tokenizer cache stays primed across chunks."""
    from nlp.ner.tokenizer import blank_pipeline

    return blank_pipeline()


def _docbin_chunk(_model_dir, rows: list, repeat: int = 1, trust: str = "all") -> tuple[bytes, tuple[int, int, int]]:
    """Batch-engine task (`nlp.parallel.run_local`): a serialized DocBin of `rows` and `_add_rows`'
    counts."""
    from spacy.tokens import DocBin

    db = DocBin(store_user_data=False)
    counts = _add_rows(db, _blank(), rows, repeat=repeat, trust=trust)
    return db.to_bytes(), counts


def _docbin(rows, jobs: int, repeat: int = 1, trust: str = "all"):
    """(DocBin, counts) of `rows`, tokenized in `jobs` worker processes in chunks and merged in
    input order: the same documents as one process's `_add_rows`."""
    from spacy.tokens import DocBin

    from nlp.parallel import iter_batches, run_local

    task = functools.partial(_docbin_chunk, repeat=repeat, trust=trust)
    db, totals = DocBin(store_user_data=False), [0, 0, 0]
    for data, counts in run_local(iter_batches(rows, _CHUNK), None, jobs, task=task):
        db.merge(DocBin(store_user_data=False).from_bytes(data))
        totals = [a + b for a, b in zip(totals, counts)]
    return db, tuple(totals)


def build_docbins(corpus_dir: str | Path, out_dir: str | Path, limit: dict | None = None, seed: int = 0,
                  real: list[str | Path] = (), real_repeat: int = 1, real_trust: str = "drugs",
                  jobs: int | None = None, gold: list[tuple[str | Path, str | Path]] = (), gold_repeat: int = 4,
                  real_exclude: set[str] | frozenset = frozenset()) -> dict:
    """Write one DocBin per split, tokenized with the IMR tokenizer, from normalized letter text.

    `real`: datasets built by `imr corpus from-letters` (silver entities of real letters), added
    to the training DocBin `real_repeat` times each, so the model also learns the wording and
    page furniture of real letters (self-training on the current pipeline's output);
    `real_trust` says which silver entities count (see `_add_rows`). `jobs` worker processes
    (None: one per core) tokenize the generated letters.

    `gold`: (letters directory, gold directory) pairs of hand-annotated real letters
    (`gold_rows`), added to the training DocBin `gold_repeat` times each with every entity
    trusted. A letter that has gold is never also added as silver; `real_exclude` names further
    letters (ids) left out of the silver sets, e.g. letters whose gold is held back for testing.
    """
    from datasets import load_from_disk

    from nlp.parallel import default_jobs
    from training.dataset_io import dataset_dir, decoded_rows

    jobs = default_jobs() if jobs is None else jobs
    dsd = load_from_disk(str(corpus_dir))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = {}
    for split, fname in SPLIT_FILES.items():
        if split not in dsd:
            continue
        ds = dsd[split]
        n = len(ds) if not limit or split not in limit else min(limit[split], len(ds))
        if n < len(ds):
            ds = ds.select(sorted(random.Random(seed).sample(range(len(ds)), n)))
        db, (_, total, misaligned) = _docbin(decoded_rows(ds), jobs)
        stats[split] = {"letters": n, "entities": total, "not_token_aligned": misaligned}
        if split == "train":
            gold_ids = set()
            for letters_dir, gold_dir in gold:
                rows, counts = gold_rows(letters_dir, gold_dir)
                gold_ids.update(r["id"] for r in rows)
                gold_db, (k, t, m) = _docbin(rows, 1, repeat=gold_repeat, trust="all")
                db.merge(gold_db)
                stats[f"gold:{Path(gold_dir).name}"] = {**counts, "repeat": gold_repeat, "entities": t, "not_token_aligned": m}
            skip = gold_ids | set(real_exclude)
            for path in real:
                real_ds = load_from_disk(str(dataset_dir(path)))["real"]
                if skip:
                    keep = [i for i, case in enumerate(real_ds["id"]) if case not in skip]
                    stats[f"real:{Path(path).name}:excluded"] = len(real_ds) - len(keep)
                    real_ds = real_ds.select(keep)
                real_db, (k, t, m) = _docbin(decoded_rows(real_ds), 1, repeat=real_repeat, trust=real_trust)
                db.merge(real_db)
                stats[f"real:{Path(path).name}"] = {"letters": k, "repeat": real_repeat, "trust": real_trust,
                                                    "entities": t, "not_token_aligned": m}
        db.to_disk(out_dir / fname)
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=1))
    return stats


def train(corpus_spacy_dir: str | Path, output: str | Path, config: str | Path = DEFAULT_CONFIG,
          max_steps: int | None = None, seed: int = 0, eval_frequency: int | None = None) -> Path:
    """`spacy train` with the project config; returns the best model's directory."""
    from spacy.cli.train import train as spacy_train

    import nlp.ner.tokenizer  # noqa: F401  (registers imr.Tokenizer.v1)
    from nlp.ner.ops import use_configured_ops

    use_configured_ops()
    corpus_spacy_dir = Path(corpus_spacy_dir)
    overrides = {"paths.train": str(corpus_spacy_dir / "train.spacy"),
                 "paths.dev": str(corpus_spacy_dir / "dev.spacy"), "system.seed": seed}
    if max_steps is not None:
        overrides["training.max_steps"] = max_steps
        if eval_frequency is None and max_steps < 500:
            eval_frequency = max_steps  # so that a short run still evaluates and saves model-best
    if eval_frequency is not None:
        overrides["training.eval_frequency"] = eval_frequency
    spacy_train(Path(config), Path(output), overrides=overrides, use_gpu=-1)
    return Path(output) / "model-best"


PIPELINE_NAME = "imr_ner"  # `spacy package` makes it en_imr_ner


def pipeline_meta() -> dict:
    """The meta.json fields an assembled pipeline carries (`spacy package` reads them): its
    version is the package's, and it requires the package, whose factories it names."""
    from nlp.record import imr_version

    version = imr_version()
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
        requirement = f"imr-nlp>={version},<{major}.{minor + 1}.0"
    except ValueError:
        requirement = f"imr-nlp=={version}"
    return {"name": PIPELINE_NAME, "version": version, "license": "MIT", "author": "The imr-nlp authors",
            "email": "", "url": "",
            "description": "imr-nlp's spaCy pipeline for California workers' compensation IMR determination "
                           "letters: DRUG, GUIDELINE and SESSION_COUNT entities with their section, item and "
                           "normalized value (the components come with the imr-nlp package).",
            "requirements": [requirement]}


TRAINED_COMPONENTS = ("tok2vec", "ner")


def reassemble(pipeline_dir: str | Path, out_dir: str | Path) -> Path:
    """The trained components of an assembled pipeline (tok2vec and ner) in a pipeline assembled
    anew with the current configs (tokenizer rules, span rules, lexicons): they change without
    retraining. `out_dir` may be `pipeline_dir`; it is replaced only once the new one is saved."""
    import shutil
    import tempfile

    import spacy

    import nlp.ner.components  # noqa: F401
    import nlp.ner.count_roles  # noqa: F401

    # only the trained components are loaded: the rule components' saved settings may be ones the
    # current factories no longer take (a pipeline saved by an earlier version)
    saved = spacy.util.load_config(Path(pipeline_dir) / "config.cfg")["nlp"]["pipeline"]
    pipe = spacy.load(pipeline_dir, exclude=[n for n in saved if n not in TRAINED_COMPONENTS])
    pipe.tokenizer = spacy.util.registry.tokenizers.get("imr.Tokenizer.v1")()(pipe)  # the current rules
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(dir=out_dir.parent if out_dir.parent.is_dir() else None) as tmp:
        pipe.to_disk(Path(tmp) / "trained")
        assemble(Path(tmp) / "trained", Path(tmp) / "assembled")
        carry_count_role_model(pipeline_dir, Path(tmp) / "assembled")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        shutil.move(str(Path(tmp) / "assembled"), str(out_dir))
    return out_dir


def carry_count_role_model(old_pipeline: str | Path, new_pipeline: str | Path) -> bool:
    """The count role model's weights of `old_pipeline` into `new_pipeline` (reassembled with new
    rules: the model reads the rules' roles, so retrain it with `imr train count-roles` once the
    rules changed what they give). Returns whether there was one to carry."""
    import shutil

    from nlp.ner.count_roles import MODEL_FILE

    src = Path(old_pipeline) / "imr_count_roles" / MODEL_FILE
    if not src.is_file():
        return False
    dst = Path(new_pipeline) / "imr_count_roles"
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst / MODEL_FILE)
    return True


def assemble(trained: str | Path | None, out_dir: str | Path, ruler: bool = True) -> Path:
    """The full pipeline around a trained model (or, with `trained=None`, the ruler alone). The
    count role model comes last, untrained (the rules' roles) until `imr train count-roles`."""
    import spacy

    import nlp.ner.components  # noqa: F401
    import nlp.ner.count_roles  # noqa: F401
    from nlp.ner.patterns import (citation_documents, citation_field_tails, citation_tails, count_echoes,
                                  count_grammar,
                                  drug_analyte_words, drug_class_nouns, drug_class_words, drug_duration_cues,
                                  drug_duration_service_words, drug_duration_window, drug_lab_leads, drug_lay_uses,
                                  drug_name_suffixes,
                                  duration_not_course, guideline_end_abbreviations, guideline_field_labels, guideline_lead_words,
                                  guideline_initials, guideline_measure_words, guideline_person_degrees,
                                  guideline_specialty_leads, guideline_specialty_fields,
                                  guideline_single_words, guideline_stop_words, guideline_unnamed_part,
                                  ordinary_words, society_guidelines, article_citation, drug_label_citation,
                                  request_quantity_not_for, request_quantity_pattern, ruler_patterns,
                                  unknown_drug_endings)
    from nlp.ner.ops import use_configured_ops
    from nlp.ner.tokenizer import blank_pipeline

    use_configured_ops()
    pipe = spacy.load(trained) if trained else blank_pipeline()
    pipe.add_pipe("imr_sections", first=True)
    if ruler:
        patterns = ruler_patterns(pipe.tokenizer)
        has_ner = "ner" in pipe.pipe_names
        drugs = pipe.add_pipe("entity_ruler", name="drug_ruler", before="ner" if has_ner else None,
                              config={"overwrite_ents": False, "phrase_matcher_attr": "LOWER"})
        drugs.add_patterns([p for p in patterns if p["label"] == "DRUG"])
        pipe.add_pipe("imr_package_tier_drugs", after="drug_ruler")
        rest = pipe.add_pipe("entity_ruler", config={"overwrite_ents": False}, **({"after": "ner"} if has_ner else {}))
        rest.add_patterns([p for p in patterns if p["label"] != "DRUG"])
        pipe.add_pipe("imr_guideline_initials", config=guideline_initials(), after="entity_ruler")
        pipe.add_pipe("imr_society_guidelines", config=society_guidelines(), after="imr_guideline_initials")
        pipe.add_pipe("imr_article_citations", config={"pattern": article_citation(), **drug_label_citation()},
                      after="imr_society_guidelines")
        pipe.add_pipe("imr_citation_extender", config={"tails": citation_tails(), "stop_words": guideline_stop_words(),
                                                       "field_tails": citation_field_tails(),
                                                       "field_labels": guideline_field_labels()},
                      after="imr_article_citations")
        pipe.add_pipe("imr_citation_documents", config=citation_documents(), after="imr_citation_extender")
        pipe.add_pipe("imr_drug_name_suffixes", config={"suffix_words": drug_name_suffixes()},
                      after="imr_citation_documents")
        pipe.add_pipe("imr_drug_combinations", after="imr_drug_name_suffixes")
        grammar = count_grammar()
        pipe.add_pipe("imr_count_shaper", config=grammar, after="imr_drug_combinations")
        pipe.add_pipe("imr_request_quantity", config={"pattern": request_quantity_pattern(),
                                                      "counts": grammar["counts"], "not_counts": grammar["not_counts"],
                                                      "not_for": request_quantity_not_for()},
                      after="imr_count_shaper")
        pipe.add_pipe("imr_count_echoes", config=count_echoes(), after="imr_request_quantity")
    if "ner" in pipe.pipe_names:  # right after the model, before the patterns fill gaps
        pipe.add_pipe("imr_citation_trimmer", config={"stop_words": guideline_stop_words(),
                                                      "lead_words": guideline_lead_words(),
                                                      "end_abbreviations": guideline_end_abbreviations(),
                                                      "unnamed_part": guideline_unnamed_part()},
                      after="ner")
    filter_config = {"guideline_single_words": guideline_single_words(),
                     "drug_duration_cues": drug_duration_cues(),
                     "cue_window": drug_duration_window(),
                     "service_words": drug_duration_service_words(),
                     "unknown_drug_endings": unknown_drug_endings(),
                     "lay_uses": drug_lay_uses(),
                     "lab_leads": drug_lab_leads(),
                     "analyte_words": drug_analyte_words(),
                     "class_words": drug_class_words(),
                     "class_nouns": drug_class_nouns(),
                     "not_course": duration_not_course(),
                     "measure_words": guideline_measure_words(),
                     "person_degrees": guideline_person_degrees(),
                     "specialty_leads": guideline_specialty_leads(),
                     "specialty_fields": guideline_specialty_fields()}
    entity_filter = pipe.add_pipe("imr_entity_filter", config=filter_config,
                                  # before the heading quantity, which reads whether a heading names a drug
                                  **({"before": "imr_request_quantity"} if "imr_request_quantity" in pipe.pipe_names
                                     else {}))
    entity_filter.set_ordinary_words(ordinary_words())
    if "imr_citation_trimmer" in pipe.pipe_names and "entity_ruler" in pipe.pipe_names:
        # the model's DRUG guesses, filtered before the patterns run, leave their words to the patterns
        model_drugs = pipe.add_pipe("imr_entity_filter", name="imr_model_drug_filter",
                                    config={**filter_config, "first_pass": True}, after="imr_citation_trimmer")
        model_drugs.set_ordinary_words(ordinary_words())
    pipe.add_pipe("imr_entity_normalizer", last=True)
    pipe.add_pipe("imr_count_roles", last=True)
    pipe.meta.update(pipeline_meta())
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    pipe.to_disk(out_dir)
    return out_dir
