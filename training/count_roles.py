"""Train the count role model (nlp/ner/count_roles.py) on hand-annotated letters.

Each gold SESSION_COUNT the pipeline also finds (same section, item and text, in reading order)
is an example: the features the component computes on the pipeline's output (its cue-word role
among them), the gold role as label. A logistic regression (scikit-learn) is fitted and saved as
plain weights in the pipeline's `imr_count_roles/count_role_model.json`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

from nlp.config import REPO_ROOT, load_yaml

CONFIG = "ner/count_roles.yaml"


def _sets(entries, root: Path) -> list[tuple[Path, Path]]:
    return [((root / s["letters"]).resolve(), (root / s["gold"]).resolve()) for s in entries or ()]


def held_back_sets(config: dict | None = None, root: Path = REPO_ROOT) -> list[tuple[Path, Path]]:
    """(letters, gold) directories the model is measured on and never trained on."""
    return _sets((load_yaml(CONFIG) if config is None else config).get("held_back"), root)


def training_sets(config: dict | None = None, root: Path = REPO_ROOT) -> list[tuple[Path, Path]]:
    """(letters, gold) directories of the config; refuses a set that is also held back."""
    cfg = load_yaml(CONFIG) if config is None else config
    held = {gold for _, gold in held_back_sets(cfg, root)}
    sets = _sets(cfg["sets"], root)
    for _, gold in sets:
        if gold in held:
            raise ValueError(f"count roles: {gold.name} is a held-back test set, never trained on")
    return sets


def role_examples(pipe, letters_dir: str | Path, gold_dir: str | Path) -> tuple[list[dict], list[str | None]]:
    """(features, gold role) of each gold count of the letters that `pipe` (its count role model
    off: the rules' roles) finds too. Frozen letters and clean written sets are refused."""
    from nlp.ner.count_roles import CountRoleClassifier
    from nlp.ner.scoring import strict_key
    from training.ner_evaluate import gold_letters
    from training.real_protocol import check_not_clean, check_not_frozen

    check_not_frozen([g.stem for g in Path(gold_dir).glob("*.json")], "count role training")
    check_not_clean([gold_dir, letters_dir], "count role training")
    features, labels = [], []
    extractor = CountRoleClassifier()
    disabled = [n for n in pipe.pipe_names if n == "imr_count_roles"]
    with pipe.select_pipes(disable=disabled):
        for text, entities in gold_letters(letters_dir, gold_dir):
            doc = pipe(text)
            found = defaultdict(list)
            for ent, feats in extractor.features(doc):
                found[strict_key({"section": ent._.section, "item": ent._.item, "label": ent.label_,
                                  "text": ent.text})].append(feats)
            for e in entities:
                if e["label"] != "SESSION_COUNT":
                    continue
                match = found.get(strict_key(e))
                if match:
                    features.append(match.pop(0))
                    labels.append((e.get("norm") or {}).get("role"))
    return features, labels


def _examples_per_set(pipe, sets: list[tuple[Path, Path]]) -> list[tuple[Path, list[dict], list]]:
    return [(gold, *role_examples(pipe, letters, gold)) for letters, gold in sets]


def evaluate_count_roles(pipeline_dir: str | Path, config: dict | None = None, root: Path = REPO_ROOT) -> list[dict]:
    """Role accuracy of the cue-word rules and of the model, per set: each training set scored by a
    model fitted on the other training sets (leave one set out), each held-back set by the
    model fitted on all of them (`held_back`). Rows: set, counts, rules, model, how ("left out" / "held back")."""
    from nlp.ner.count_roles import NO_ROLE
    from nlp.ner.runtime import load_pipeline

    cfg = load_yaml(CONFIG) if config is None else config
    pipe = load_pipeline(str(pipeline_dir))
    C = float(cfg.get("C", 1.0))
    train = _examples_per_set(pipe, training_sets(cfg, root))
    held = _examples_per_set(pipe, held_back_sets(cfg, root))

    def name(gold: Path) -> str:
        return gold.relative_to(root).as_posix() if gold.is_relative_to(root) else str(gold)

    def score(model, feats, labels) -> tuple[float, float]:
        rules = sum(f"rule={NO_ROLE if y is None else y}" in f for f, y in zip(feats, labels))
        fitted = sum(model.predict(f) == y for f, y in zip(feats, labels))
        return rules / len(labels), fitted / len(labels)

    rows = []
    for k, (gold, feats, labels) in enumerate(train):
        others = [x for j, x in enumerate(train) if j != k]
        model = fit_role_model([f for _, fs, _ in others for f in fs], [y for _, _, ys in others for y in ys], C=C)
        if labels:
            rows.append({"set": name(gold), "counts": len(labels), **dict(zip(("rules", "model"), score(model, feats, labels))),
                         "how": "left out"})
    model = fit_role_model([f for _, fs, _ in train for f in fs], [y for _, _, ys in train for y in ys], C=C)
    for gold, feats, labels in held:
        if labels:
            rows.append({"set": name(gold), "counts": len(labels), **dict(zip(("rules", "model"), score(model, feats, labels))),
                         "how": "held back"})
    return rows


def fit_role_model(features: list[dict], labels: list[str | None], C: float = 1.0, meta: dict | None = None):
    """A `LinearRoleModel` fitted by scikit-learn's logistic regression."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    from nlp.ner.count_roles import NO_ROLE, LinearRoleModel

    y = [NO_ROLE if r is None else str(r) for r in labels]
    if len(set(y)) < 2:
        raise ValueError("count roles: the examples need at least two roles")
    vec = DictVectorizer()
    X = vec.fit_transform(features)
    clf = LogisticRegression(C=C, max_iter=5000).fit(X, y)
    classes = [str(c) for c in clf.classes_]
    coef, intercept = clf.coef_, clf.intercept_
    if len(classes) == 2:  # one row: the second class's score against 0 for the first
        weights = {name: [0.0, round(float(coef[0, j]), 6)] for name, j in vec.vocabulary_.items() if coef[0, j]}
        return LinearRoleModel(classes, [0.0, float(intercept[0])], weights, meta)
    weights = {name: [round(float(coef[k, j]), 6) for k in range(len(classes))]
               for name, j in vec.vocabulary_.items() if coef[:, j].any()}
    return LinearRoleModel(classes, [float(b) for b in intercept], weights, meta)


def train_count_roles(pipeline_dir: str | Path, out_dir: str | Path | None = None, config: dict | None = None,
                      root: Path = REPO_ROOT) -> dict:
    """Fit the count role model on the config's sets with the pipeline at `pipeline_dir` and write
    its weights into the pipeline at `out_dir` (default: in place; a copy of `pipeline_dir`
    otherwise). Only the weights file is written (atomically): the pipeline is not saved again.
    The pipeline must have the `imr_count_roles` component (assembled since it exists). Returns
    the training summary (examples per set, roles)."""
    import json
    import os
    from collections import Counter

    from nlp.ner.count_roles import MODEL_FILE
    from nlp.ner.runtime import load_pipeline

    cfg = load_yaml(CONFIG) if config is None else config
    pipe = load_pipeline(str(pipeline_dir))
    if "imr_count_roles" not in pipe.pipe_names:
        raise ValueError(f"{pipeline_dir} has no imr_count_roles component: reassemble it first "
                         "(imr train ner --reassemble PIPELINE)")
    features, labels, per_set = [], [], {}
    for letters, gold in training_sets(cfg, root):
        f, y = role_examples(pipe, letters, gold)
        features += f
        labels += y
        per_set[str(gold.relative_to(root)) if gold.is_relative_to(root) else str(gold)] = len(y)
    roles = Counter("null" if r is None else r for r in labels)
    meta = {"C": float(cfg.get("C", 1.0)), "examples": len(labels), "sets": per_set, "roles": dict(sorted(roles.items()))}
    model = fit_role_model(features, labels, C=meta["C"], meta=meta)
    out = Path(out_dir or pipeline_dir)
    if out.resolve() != Path(pipeline_dir).resolve():
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(pipeline_dir, out)
    target = out / "imr_count_roles" / MODEL_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=target.parent, delete=False, suffix=".tmp") as fh:
        fh.write(json.dumps(model.to_dict(), indent=0, sort_keys=True))
    os.replace(fh.name, target)
    return meta
