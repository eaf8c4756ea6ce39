"""Assemble the default letter parser from what is installed and bundled."""
from __future__ import annotations

import logging
from pathlib import Path

from nlp.config import default_model_dir
from nlp.pipeline import LetterParser

log = logging.getLogger(__name__)


DEFAULT_MODEL_DIR = default_model_dir()  # package data of `models` (a checkout's models/default)
# The bundled default's manifest digest (every file of ner/ and classifier/). A default whose
# files hash otherwise is refused; after retraining it, pin the new digest printed by
# `python -m models.persistence models/default` (tests/test_model_trust.py checks the pin).
DEFAULT_BUNDLE_DIGEST = "273b9512b1d3669077d63a72edee9bdc3ac565479a8895e443cf48551ae4d41c"
_NOTICED: set = set()


def check_bundle(model: str | Path | None = None) -> None:
    """Trust on purpose: the default bundle must hash to the pinned digest (`BundleIntegrityError`
    otherwise); any other bundle is the caller's explicit choice, with a one-line notice that its
    pickled models run code when loaded."""
    if model is None or Path(model).resolve() == DEFAULT_MODEL_DIR.resolve():
        from models.persistence import verify_bundle

        verify_bundle(DEFAULT_MODEL_DIR, DEFAULT_BUNDLE_DIGEST)
        return
    key = str(Path(model).resolve())
    if key not in _NOTICED:
        _NOTICED.add(key)
        log.warning("loading models from %s on your explicit choice: pickled models run code when loaded; "
                    "use only bundles you trust", model)


def ner_dir(model: str | Path | None = None) -> Path | None:
    """The spaCy pipeline inside a model bundle (`DIR/ner`), or `model` itself if it is one."""
    root = Path(model) if model else DEFAULT_MODEL_DIR
    for cand in (root / "ner", root):
        if (cand / "config.cfg").is_file():
            return cand
    if model:
        raise FileNotFoundError(f"no spaCy pipeline in {root} (expected {root}/ner/config.cfg)")
    return None


def has_drug(text: str) -> bool:
    """Does `text` name a drug of the lexicon? (for treatment categories)"""
    from nlp.lexicon import get_lexicon

    return get_lexicon().find_any(text)


def load_parser(model: str | Path | None = None, ner: bool = True) -> LetterParser:
    """A `LetterParser`; with `ner`, the NER pipeline of `model` (default: the bundled one)."""
    spacy_ner = None
    if ner:
        check_bundle(model)
        path = ner_dir(model)
        if path is not None:
            from nlp.ner.runtime import SpacyNER

            spacy_ner = SpacyNER(path)
        else:
            log.warning("no bundled NER pipeline found; records will have no entities")
    return LetterParser(ner=spacy_ner, has_drug=has_drug)


def classifier_dir(model: str | Path | None = None) -> Path | None:
    """The classifier inside a model bundle (`DIR/classifier`), or `model` itself if it is one."""
    root = Path(model) if model else DEFAULT_MODEL_DIR
    for cand in (root / "classifier", root):
        if (cand / "model_card.json").is_file():
            return cand
    return None


def load_scorer(model_dir: str | Path | None = None):
    """The object `imr score` runs: `.process(docs: Iterable[RawDocument]) -> Iterator[dict]`,
    one SPEC §4 record per document, in order, never raising; each item gets
    `item["prediction"]` when the bundle has a classifier.

    Batch workers call it once per process and model directory (`imr.batch` caches it), so
    loading may be slow but `process` does not reload anything.
    """
    from models.persistence import ModelCardError
    from models.predict import ItemPredictor

    parser = load_parser(model_dir)
    path = classifier_dir(model_dir)
    if path is None:  # never a silent run without predictions
        raise ModelCardError(f"no classifier in {model_dir or DEFAULT_MODEL_DIR} "
                             "(expected classifier/model_card.json); `imr parse` reads letters without one")
    parser.predictor = ItemPredictor.load(path)
    return parser


def model_digests(model: str | Path | None = None, ner: bool = True, classifier: bool = True) -> dict:
    """The fingerprints a record's `provenance.models` carries: {"ner": sha256, "classifier":
    sha256}, each `manifest_digest(tree_manifest(dir))` (`models.persistence`: one SHA-256 over
    the sorted `path sha256` lines of every file of that model directory; the NER one is the
    `fingerprint` of `GET /api/health`). Only the models a run uses, and only those found. Hashes
    about 5 MB for the bundled default: call it once per run."""
    from models.persistence import manifest_digest, tree_manifest

    out = {}
    if ner and (path := ner_dir(model)) is not None:
        out["ner"] = manifest_digest(tree_manifest(path))
    if classifier and (path := classifier_dir(model)) is not None:
        out["classifier"] = manifest_digest(tree_manifest(path))
    return out
