"""The real-letter protocol: a frozen test subset, letter-grouped folds, bootstrap intervals.

- **Frozen subset.** The shared real letters whose sha256(case number) is in the lowest third
  (`select_frozen`) were set aside before any real-first model was designed. Their case numbers
  are a data file (`configs/real/frozen_cases.json`); nothing trains, tunes or selects a model on
  them (`check_not_frozen` raises), and they are scored once per bundled release.
- **Folds.** `letter_folds` is the rule of `shared/tools/real_peer.py cv`: letters sorted by
  sha256(f"{repeat}:{case}") and dealt round-robin into k folds, so the naive peer's out-of-fold
  scores and ours come from the same folds, and the items of a letter are never on both sides.
- **Intervals.** Bootstrap over letters (a letter's items are resampled together).
- **Clean written sets.** A set of independently written letters registered as a clean test
  (`configs/written_sets.yaml`, `clean`) is refused as training data (`check_not_clean`) until its
  registered scoring has spent it.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from nlp.config import REPO_ROOT, configs_dir, load_yaml

FROZEN_CASES = configs_dir() / "real" / "frozen_cases.json"
# `shared/tools/real_peer.py cv <the non-frozen letters> --out`: the peer's own out-of-fold scores
PEER_FOLDS = configs_dir() / "real" / "peer_dev_folds.jsonl"


WRITTEN_SETS = "written_sets.yaml"
WRITTEN_ROOT = REPO_ROOT / "examples" / "written"


class FrozenLetterError(RuntimeError):
    """A frozen real letter reached training or model selection."""


class CleanSetError(RuntimeError):
    """A written set registered as a clean test reached training."""


def clean_written_sets() -> frozenset:
    """The directories of the written sets that are clean tests (resolved paths)."""
    return frozenset((WRITTEN_ROOT / name).resolve() for name in load_yaml(WRITTEN_SETS).get("clean") or ())


def check_not_clean(dirs, what: str) -> None:
    """Raise `CleanSetError` when any of `dirs` (a set's directory, or one inside it: letters/,
    gold/) is a clean written set (`what` names the use)."""
    clean = clean_written_sets()
    for d in map(Path, dirs):
        d = d.resolve()
        if d in clean or d.parent in clean:
            raise CleanSetError(f"{what}: the written set {d.name if d in clean else d.parent.name} is a clean "
                                "test (configs/written_sets.yaml), never trained on until it is scored")


def _h(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def select_frozen(cases, fraction: float = 1 / 3) -> list[str]:
    """The lowest `fraction` of `cases` by sha256(case) (floor of the count), sorted."""
    cases = sorted(set(cases))
    return sorted(sorted(cases, key=_h)[: int(len(cases) * fraction)])


def load_frozen(path: str | Path = FROZEN_CASES) -> frozenset:
    """The frozen case numbers (empty when the file is absent)."""
    p = Path(path)
    if not p.is_file():
        return frozenset()
    return frozenset(json.loads(p.read_text(encoding="utf-8"))["cases"])


def check_not_frozen(cases, what: str, frozen: frozenset | None = None) -> None:
    """Raise `FrozenLetterError` when any of `cases` is frozen (`what` names the use)."""
    frozen = load_frozen() if frozen is None else frozen
    hit = sorted(set(cases) & set(frozen))
    if hit:
        raise FrozenLetterError(f"{len(hit)} frozen real letter(s) reached {what}: {', '.join(hit[:5])}")


def letter_folds(cases, repeat: int, k: int) -> dict:
    """{case: fold} for one repeat: the rule of shared/tools/real_peer.py."""
    order = sorted(set(cases), key=lambda c: _h(f"{repeat}:{c}"))
    return {c: i % k for i, c in enumerate(order)}


def bootstrap_auc(y, p, groups, n: int = 2000, seed: int = 0, p_other=None) -> dict:
    """ROC-AUC with a 95% interval from `n` resamples of letters; with `p_other`, the paired
    difference p - p_other over the same resamples and the share where it is > 0."""
    from sklearn.metrics import roc_auc_score

    y, p, groups = np.asarray(y, dtype=int), np.asarray(p, dtype=float), np.asarray(groups)
    letters = np.unique(groups)
    rows = {g: np.flatnonzero(groups == g) for g in letters}
    rng = np.random.default_rng(seed)
    aucs, diffs = [], []
    for _ in range(n):
        idx = np.concatenate([rows[g] for g in rng.choice(letters, len(letters))])
        if len(set(y[idx])) < 2:
            continue
        aucs.append(roc_auc_score(y[idx], p[idx]))
        if p_other is not None:
            diffs.append(aucs[-1] - roc_auc_score(y[idx], np.asarray(p_other)[idx]))
    out = {"roc_auc": round(float(roc_auc_score(y, p)), 4),
           "ci95": [round(float(np.percentile(aucs, 2.5)), 4), round(float(np.percentile(aucs, 97.5)), 4)],
           "resamples": len(aucs)}
    if p_other is not None:
        out["diff_ci95"] = [round(float(np.percentile(diffs, 2.5)), 4), round(float(np.percentile(diffs, 97.5)), 4)]
        out["p_better"] = round(float(np.mean(np.asarray(diffs) > 0)), 4)
    return out


def peer_tool_scores(keys, path: str | Path = PEER_FOLDS):
    """(repeats, n) out-of-fold P(overturned) of shared/tools/real_peer.py for the items `keys`
    ((case, index) in order), from its `cv --out` file; None when the file does not hold exactly
    these items (another set of letters)."""
    p = Path(path)
    if not p.is_file():
        return None
    rows = [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    keys = list(keys)
    if {(r["case"], r["index"]) for r in rows} != set(keys):
        return None
    at = {k: i for i, k in enumerate(keys)}
    out = np.zeros((max(r["repeat"] for r in rows) + 1, len(keys)))
    for r in rows:
        out[r["repeat"], at[(r["case"], r["index"])]] = r["p"]
    return out
