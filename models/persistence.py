"""Saving and loading the classifier artifacts (docs/CLASSIFIER.md "Artifacts").

A model directory holds one joblib file per artifact and `model_card.json`:

    {"format": "imr-classifier/1", "created": ..., "library_versions": {...},
     "artifacts": {"decision_read": {"file": "decision_read.joblib", "sha256": "..."}, ...},
     "features": {...}, "labels": {...}, "training_data": {...}, "metrics": {...}, "settings": {...}}

`load_artifacts` reads the card, checks that every listed file exists and that its SHA-256
matches the card BEFORE any file is unpickled; a mismatch raises `ArtifactIntegrityError`
(joblib files run code when loaded, so a changed file is never opened).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import os
import platform
from pathlib import Path

import joblib

log = logging.getLogger(__name__)
CARD = "model_card.json"
CARD_FORMAT = "imr-classifier/1"


class ModelLoadError(Exception):
    """A model directory cannot be loaded (base class)."""


class ModelCardError(ModelLoadError):
    """model_card.json is missing, unreadable or not a classifier card."""


class ArtifactMissingError(ModelLoadError):
    """A file listed in the model card is not in the directory."""


class BundleIntegrityError(ModelLoadError):
    """A bundle's files do not hash to the manifest digest it must have (the bundled default)."""


class ArtifactIntegrityError(ModelLoadError):
    """A file's SHA-256 differs from the one recorded in the model card (refused unopened)."""


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def library_versions() -> dict:
    import numpy
    import scipy
    import sklearn

    out = {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
           "numpy": numpy.__version__, "scipy": scipy.__version__, "joblib": joblib.__version__}
    try:
        import spacy

        out["spacy"] = spacy.__version__
    except Exception:  # pragma: no cover
        pass
    return out


def save_artifacts(out_dir: str | Path, artifacts: dict, card: dict | None = None, compress: int = 3,
                   data: dict | None = None) -> dict:
    """Write each `artifacts[name]` to `<name>.joblib`, each `data[name]` (JSON-able) to
    `<name>.json`, and a card with their hashes; returns the card.

    `card` supplies the other card fields (features, labels, training_data, metrics, settings)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name, obj in artifacts.items():
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bad artifact name {name!r}")
        path = out / f"{name}.joblib"
        tmp = path.with_suffix(".joblib.tmp")
        joblib.dump(obj, tmp, compress=compress)
        os.replace(tmp, path)
        entries[name] = {"file": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size}
    for name, obj in (data or {}).items():
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bad artifact name {name!r}")
        path = out / f"{name}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(obj, indent=1, default=str), encoding="utf-8")
        os.replace(tmp, path)
        entries[name] = {"file": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size, "kind": "json"}
    full = {"format": CARD_FORMAT,
            "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
            "library_versions": library_versions(), **(card or {}), "artifacts": entries}
    tmp = out / (CARD + ".tmp")
    tmp.write_text(json.dumps(full, indent=2, sort_keys=False, default=str), encoding="utf-8")
    os.replace(tmp, out / CARD)
    return full


def read_card(model_dir: str | Path) -> dict:
    path = Path(model_dir) / CARD
    if not path.is_file():
        raise ModelCardError(f"no {CARD} in {model_dir}")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelCardError(f"{CARD} in {model_dir} is unreadable: {type(exc).__name__}") from exc
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT or not isinstance(card.get("artifacts"), dict):
        raise ModelCardError(f"{path} is not an {CARD_FORMAT} model card")
    return card


def verify_artifacts(model_dir: str | Path, card: dict | None = None) -> dict:
    """Check every artifact's presence and SHA-256 against the card; returns the card."""
    model_dir = Path(model_dir)
    card = card or read_card(model_dir)
    for name, entry in card["artifacts"].items():
        fname = entry.get("file") if isinstance(entry, dict) else None
        if not fname or Path(fname).name != fname:
            raise ModelCardError(f"artifact {name!r} has a bad file name in the card")
        path = model_dir / fname
        if not path.is_file():
            raise ArtifactMissingError(f"artifact {name!r}: {fname} is missing from {model_dir}")
        digest = sha256_file(path)
        if digest != entry.get("sha256"):
            raise ArtifactIntegrityError(
                f"artifact {name!r}: {fname} has SHA-256 {digest[:16]}..., the model card says "
                f"{str(entry.get('sha256'))[:16]}...; refusing to load a changed file")
    return card


PICKLE_LIBRARIES = ("scikit-learn", "numpy")  # whose objects the pickled estimators hold


class LibraryVersionError(ModelLoadError):
    """The model was saved with another major version of a library its pickles hold."""


def library_mismatch(card: dict, installed: dict | None = None) -> str | None:
    """A one-line notice when the card's scikit-learn or numpy major.minor differs from the
    installed one (pickled estimators are only guaranteed within a release), else None. A
    different major version is refused (`LibraryVersionError`): its pickles may not load, or may
    load and predict wrongly."""
    have_all = installed or library_versions()
    notices = []
    for lib in PICKLE_LIBRARIES:
        want = (card.get("library_versions") or {}).get(lib)
        have = have_all.get(lib)
        if not (want and have) or want.split(".")[:2] == have.split(".")[:2]:
            continue
        if want.split(".")[0] != have.split(".")[0]:
            raise LibraryVersionError(f"the model was saved with {lib} {want}, this environment has {have}: a "
                                      f"different major version; install {lib}=={want.split('.')[0]}.* or retrain the model")
        notices.append(f"the model was saved with {lib} {want}, this environment has {have}: predictions may "
                       f"differ; install {lib}=={'.'.join(want.split('.')[:2])}.* or retrain the model")
    return "; ".join(notices) or None


def load_artifacts(model_dir: str | Path, names=None) -> tuple[dict, dict]:
    """(card, {name: object}). Every listed file is read and its SHA-256 checked first; only
    then are the very bytes that were checked unpickled (no window for a swap)."""
    model_dir = Path(model_dir)
    card = verify_artifacts(model_dir)
    notice = library_mismatch(card)
    if notice:
        log.warning(notice)
    wanted = list(card["artifacts"]) if names is None else list(names)
    blobs = {}
    for name in wanted:
        if name not in card["artifacts"]:
            raise ArtifactMissingError(f"artifact {name!r} is not in the model card of {model_dir}")
        entry = card["artifacts"][name]
        data = (model_dir / entry["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            raise ArtifactIntegrityError(f"artifact {name!r}: {entry['file']} changed while loading; refused")
        blobs[name] = data
    objs = {name: json.loads(data) if card["artifacts"][name].get("kind") == "json" else joblib.load(io.BytesIO(data))
            for name, data in blobs.items()}
    return card, objs


def fingerprint(items) -> str:
    """SHA-256 over a canonical JSON dump of `items` (training-data fingerprint)."""
    h = hashlib.sha256()
    for it in items:
        h.update(json.dumps(it, sort_keys=True, default=str).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


# ------------------------------------------------------------------------------ whole bundles
BUNDLE_PARTS = ("ner", "classifier")


def tree_manifest(base: str | Path, prefix: str = "") -> dict:
    """{`prefix` + relative path: SHA-256} of every file below `base` (caches left out)."""
    base = Path(base)
    return {prefix + f.relative_to(base).as_posix(): sha256_file(f)
            for f in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts)}


def bundle_manifest(root: str | Path) -> dict:
    """{relative path: SHA-256} of every file of a bundle's `ner/` and `classifier/` (a spaCy
    pipeline's config and weights are hashed like the classifier's pickles)."""
    root = Path(root)
    out = {}
    for part in BUNDLE_PARTS:
        if (root / part).is_dir():
            out.update(tree_manifest(root / part, f"{part}/"))
    return out


def manifest_digest(manifest: dict) -> str:
    """One SHA-256 over a manifest (sorted `path sha256` lines)."""
    return hashlib.sha256("".join(f"{k} {v}\n" for k, v in sorted(manifest.items())).encode()).hexdigest()


def verify_bundle(root: str | Path, digest: str) -> None:
    """Raise `BundleIntegrityError` unless the bundle's files hash to `digest`."""
    found = manifest_digest(bundle_manifest(root))
    if found != digest:
        raise BundleIntegrityError(f"the model bundle {root} hashes to {found[:16]}..., not the pinned "
                                   f"{digest[:16]}...: a file was changed, added or removed; refusing to load it")


if __name__ == "__main__":  # python -m models.persistence BUNDLE: the digest to pin
    import sys

    from nlp.config import default_model_dir

    print(manifest_digest(bundle_manifest(sys.argv[1] if len(sys.argv) > 1 else default_model_dir())))
