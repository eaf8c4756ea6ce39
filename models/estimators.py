"""Estimators for the item classifier (docs/CLASSIFIER.md).

- decision: `ItemFeatures(mode)` → calibrated `LogisticRegression(class_weight="balanced")`
  (`CalibratedClassifierCV`, sigmoid); or `kind="hgb"`: a `HistGradientBoostingClassifier` on the
  same features (dense), calibrated the same way, for the comparison the training run reports.
- rationale: `ItemFeatures(mode)` → multinomial `LogisticRegression` for the primary label (in
  read mode without the structured features of `models.rationale.exclude_read_features`), and a
  multi-label head (`OneVsRestClassifier` of logistic regressions) for `rationale_labels`.
- baselines: `DummyClassifier(most_frequent)`, and TF-IDF + `LogisticRegression` on the joined
  text fields the mode allows (the whole item text in read mode).

All hyper-parameters come from configs/classifier.yaml (`models`); every fit takes `sample_weight`.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np
import sklearn
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from models.features import (DERIVED, TEXT_FIELDS, ItemFeatures, allowed_keys, derive, load_config, project,
                             validate_examples)


class JoinedText(TransformerMixin, BaseEstimator):
    """Examples → one string each: every text field `mode` allows, joined (baseline input)."""

    def __init__(self, mode: str = "read"):
        self.mode = mode

    def fit(self, X, y=None):
        allowed_keys(self.mode)
        return self

    def transform(self, X):
        X = project(validate_examples(X, self.mode), self.mode)
        fields = [f for f in TEXT_FIELDS if f in allowed_keys(self.mode)]
        return ["\n".join(str(ex.get(f) or "") for f in fields) for ex in X]

    def get_feature_names_out(self, input_features=None):
        return np.asarray(["text"], dtype=object)


class Densify(TransformerMixin, BaseEstimator):
    """Sparse → dense float32 (for HistGradientBoosting)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X.toarray().astype(np.float32) if hasattr(X, "toarray") else np.asarray(X, dtype=np.float32)


class CalibratedDecision(ClassifierMixin, BaseEstimator):
    """A classifier calibrated with `CalibratedClassifierCV` when every class has enough
    examples for `cv` stratified folds; otherwise (tiny data) the classifier alone."""

    def __init__(self, estimator=None, method: str = "sigmoid", cv: int = 3, random_state: int = 0):
        self.estimator = estimator
        self.method = method
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        y = np.asarray(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        folds = int(min(self.cv, counts.min())) if len(counts) > 1 else 0
        if folds >= 2:
            cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            self.model_ = CalibratedClassifierCV(clone(self.estimator), method=self.method, cv=cv)
        elif len(counts) > 1:
            self.model_ = clone(self.estimator)
        else:
            self.model_ = DummyClassifier(strategy="most_frequent")
        self.model_.fit(X, y, sample_weight=sample_weight)
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class FieldsText(TransformerMixin, BaseEstimator):
    """Examples → one string each: the named `fields` joined (fields `mode` allows, or derived
    from them: `item_summary`, the summary sentences that concern the item, by the `features`
    settings `settings`, None: configs/classifier.yaml's at fit time).

    The real-first forecast reads the request, the letter's whole case summary, the item's
    treatment category and its summary sentences this way."""

    def __init__(self, fields=("request", "summary"), mode: str = "forecast", settings=None):
        self.fields = fields
        self.mode = mode
        self.settings = settings

    def fit(self, X, y=None):
        bad = [f for f in self.fields if f not in allowed_keys(self.mode) and f not in DERIVED]
        if bad:
            raise ValueError(f"fields {bad} are not allowed in {self.mode} mode")
        # a derived field is computed with the settings of fit time, whatever the config says later
        self.settings_ = (copy.deepcopy(self.settings if self.settings is not None else load_config()["features"])
                          if set(self.fields) & set(DERIVED) else None)
        return self

    def transform(self, X):
        X = validate_examples(X, self.mode)
        if set(self.fields) & set(DERIVED):
            check_is_fitted(self, "settings_")
            X = derive(project(X, self.mode), self.settings_)
        return [" \n ".join(str(ex.get(f) or "") for f in self.fields) for ex in X]

    def get_feature_names_out(self, input_features=None):
        return np.asarray(["+".join(self.fields)], dtype=object)


class PlattLogistic(ClassifierMixin, BaseEstimator):
    """A logistic regression recalibrated by one sigmoid fitted on its out-of-fold scores.

    p = sigmoid(a * (w.x + b) + c) is still one linear model (`coef_` = a*w, `intercept_` =
    a*b + c), so every feature's contribution to the calibrated logit is exact
    (models.explain). The out-of-fold folds are grouped by letter when `groups` is given: the
    items of a letter share their case summary, and a fold that saw a letter's other items
    would make the scores look surer than they are. With fewer than two examples of a class
    per fold the sigmoid is the identity (a=1, c=0). The slope is kept >= `min_slope`: on a few
    letters the out-of-fold scores can rank backwards by chance, and a negative slope would turn
    the model's ranking upside down; then the probabilities fall back to the base rate, the
    ranking kept. `positive` names the class whose logit is
    modelled (`classes_[1]`); default: the last of the sorted labels, as scikit-learn does."""

    def __init__(self, C: float = 1.0, class_weight="balanced", cv: int = 5, max_iter: int = 3000,
                 random_state: int = 0, positive=None, min_slope: float = 1e-3):
        self.positive = positive
        self.min_slope = min_slope
        self.C = C
        self.class_weight = class_weight
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state

    def _lr(self):
        return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)

    def fit(self, X, y, sample_weight=None, groups=None):
        from sklearn.model_selection import GroupKFold

        y = np.asarray(y)
        classes = list(np.unique(y))
        if len(classes) != 2 or (self.positive is not None and self.positive not in classes):
            raise ValueError(f"PlattLogistic needs two classes (positive {self.positive!r}), got {classes}")
        if self.positive is not None:
            classes = [c for c in classes if c != self.positive] + [self.positive]
        self.classes_ = np.asarray(classes)
        yb = (y == self.classes_[1]).astype(int)
        lr = self._lr().fit(X, yb, sample_weight=sample_weight)
        self.raw_coef_, self.raw_intercept_ = lr.coef_.copy(), lr.intercept_.copy()
        self.n_features_in_ = lr.n_features_in_
        a, c = 1.0, 0.0
        folds = int(min(self.cv, np.bincount(yb).min(), len(set(groups)) if groups is not None else self.cv))
        if folds >= 2:
            split = (GroupKFold(folds).split(X, yb, groups) if groups is not None else
                     StratifiedKFold(folds, shuffle=True, random_state=self.random_state).split(X, yb))
            z = np.zeros(len(yb))
            for tr, te in split:
                if len(set(yb[tr])) < 2:
                    continue
                sw = None if sample_weight is None else np.asarray(sample_weight)[tr]
                z[te] = self._lr().fit(X[tr], yb[tr], sample_weight=sw).decision_function(X[te])
            a, c = self._sigmoid(z, yb)
        self._set(a, c)
        return self

    def _sigmoid(self, z, yb) -> tuple[float, float]:
        cal = LogisticRegression(C=1e4, max_iter=1000).fit(np.asarray(z, dtype=float)[:, None], yb)
        a, c = float(cal.coef_[0, 0]), float(cal.intercept_[0])
        if a < self.min_slope:  # no out-of-fold signal: the base rate, the ranking kept
            rate = float(np.clip(np.mean(yb), 1e-3, 1 - 1e-3))
            a = self.min_slope
            c = float(np.log(rate / (1 - rate))) - a * float(np.mean(z))
        return a, c

    def _set(self, a: float, c: float) -> None:
        self.platt_ = (a, c)
        self.coef_ = a * self.raw_coef_
        self.intercept_ = a * self.raw_intercept_ + c

    def recalibrate(self, z, y) -> "PlattLogistic":
        """Refit the sigmoid on raw scores `z` scored out of fold elsewhere (e.g. the outer
        letter-grouped CV of training.real_first) with their labels `y`."""
        check_is_fitted(self, "raw_coef_")
        self._set(*self._sigmoid(z, (np.asarray(y) == self.classes_[1]).astype(int)))
        return self

    def decision_function(self, X):
        check_is_fitted(self, "coef_")
        return np.asarray(X @ self.coef_.T).ravel() + self.intercept_[0]

    def predict_proba(self, X):
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.c_[1 - p, p]

    def predict(self, X):
        return self.classes_[(self.decision_function(X) >= 0).astype(int)]


class PriorLogit(TransformerMixin, BaseEstimator):
    """One column: the logit of a fitted decision model's P(overturned) (the generated-corpus
    forecast, stacked as a prior under a real-letter model), times `scale`."""

    def __init__(self, model=None, scale: float = 1.0):
        self.model = model
        self.scale = scale

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        classes = list(self.model.classes_)
        p = np.clip(self.model.predict_proba(X)[:, classes.index("overturned")], 1e-4, 1 - 1e-4)
        return sparse.csr_matrix((np.log(p / (1 - p)) * self.scale)[:, None])

    def get_feature_names_out(self, input_features=None):
        return np.asarray(["generated_forecast_logit"], dtype=object)


class MultiLabelHead(ClassifierMixin, BaseEstimator):
    """One-vs-rest logistic regressions over a 0/1 label matrix, with sample weights.

    `predict_proba` returns an (n, n_labels) matrix; a label constant in training predicts
    its constant."""

    def __init__(self, C: float = 1.0, max_iter: int = 2000, class_weight="balanced", threshold: float = 0.5):
        self.C = C
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.threshold = threshold

    def fit(self, X, Y, sample_weight=None):
        Y = np.asarray(Y, dtype=int)
        base = LogisticRegression(C=self.C, max_iter=self.max_iter, class_weight=self.class_weight)
        with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            base.set_fit_request(sample_weight=True)
            self.ovr_ = OneVsRestClassifier(base)
            if sample_weight is None:
                sample_weight = np.ones(len(Y))
            self.ovr_.fit(X, Y, sample_weight=sample_weight)
        self.n_labels_ = Y.shape[1]
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "ovr_")
        return np.asarray(self.ovr_.predict_proba(X))

    def predict(self, X):
        return (self.predict_proba(X) >= self.threshold).astype(int)


def make_features(mode: str, cfg: dict | None = None, text: bool = True) -> ItemFeatures:
    """The item features of `mode` (`features` settings); `text=False`: structured features only."""
    cfg = cfg or load_config()
    return ItemFeatures(mode=mode, settings=cfg["features"], text=text)


def assemble(features, clf) -> Pipeline:
    """Features → classifier, with the step names every model of this module has (`features`,
    `clf`: `fit_pipeline`, models.predict and models.explain read them). training.classifier
    fits the features once per mode and joins each fitted head to them this way."""
    return Pipeline([("features", features), ("clf", clf)])


def make_decision_head(cfg: dict | None = None, C: float | None = None, kind: str | None = None,
                       seed: int | None = None) -> CalibratedDecision:
    """The decision classifier (`models.decision`; `kind="hgb"`: `models.hgb`), calibrated."""
    cfg = cfg or load_config()
    m = cfg["models"]["decision"]
    kind = kind or m["kind"]
    seed = cfg["seed"] if seed is None else seed
    cal = m["calibration"]
    if kind == "logistic":
        base = LogisticRegression(C=C or m["C_grid"][0], class_weight="balanced", max_iter=m["max_iter"])
    elif kind == "hgb":
        h = cfg["models"]["hgb"]
        base = HistGradientBoostingClassifier(max_iter=h["max_iter"], learning_rate=h["learning_rate"],
                                              max_leaf_nodes=h["max_leaf_nodes"], class_weight="balanced",
                                              random_state=seed)
    else:
        raise ValueError(f"unknown decision model kind {kind!r}")
    return CalibratedDecision(base, method=cal["method"], cv=cal["cv"], random_state=seed)


def make_decision_model(mode: str, cfg: dict | None = None, C: float | None = None,
                        kind: str | None = None, seed: int | None = None, text: bool = True) -> Pipeline:
    """Features → calibrated binary classifier (classes upheld / overturned). HGB reads the
    structured features (dense); `text=False` gives the logistic model the same features (the
    like-for-like pair of training.classifier.compare_hgb)."""
    cfg = cfg or load_config()
    kind = kind or cfg["models"]["decision"]["kind"]
    clf = make_decision_head(cfg, C=C, kind=kind, seed=seed)
    if kind == "hgb":
        return Pipeline([("features", make_features(mode, cfg, text=False)), ("dense", Densify()), ("clf", clf)])
    return assemble(make_features(mode, cfg, text=text), clf)


def make_real_forecast_model(cfg: dict | None = None, prior=None, seed: int | None = None,
                             calibrate: bool = True) -> Pipeline:
    """The real-first forecast (`models.forecast` settings): TF-IDF over the request and the
    letter's whole case summary → `PlattLogistic`; with `prior` (a fitted generated-corpus
    forecast pipeline) its logit is one more column, weighed on the real letters. Without
    `calibrate` the sigmoid is left for `PlattLogistic.recalibrate` (scores of an outer CV)."""
    cfg = cfg or load_config()
    f = cfg["models"]["forecast"]
    t = f["tfidf"]
    text = Pipeline([("fields", FieldsText(tuple(f["fields"]), settings=cfg["features"])),
                     ("tfidf", TfidfVectorizer(ngram_range=tuple(t["ngram_range"]), min_df=t["min_df"],
                                               sublinear_tf=t["sublinear_tf"], dtype=np.float64))])
    features = text if prior is None else FeatureUnion([("text", text), ("prior", PriorLogit(prior, f["prior_scale"]))])
    seed = cfg["seed"] if seed is None else seed
    clf = PlattLogistic(C=f["C"], cv=f["calibration_folds"] if calibrate else 0, max_iter=f["max_iter"], random_state=seed,
                        positive="overturned")
    return Pipeline([("features", features), ("clf", clf)])


def make_peer_model(cfg: dict | None = None) -> Pipeline:
    """The naive peer of shared/tools/real_peer.py: TF-IDF (1-2-grams, min_df 2, sublinear) +
    balanced logistic regression (C=1) over the request and the whole case summary."""
    cfg = cfg or load_config()
    b = cfg["models"]["peer"]
    return Pipeline([("fields", FieldsText(("request", "summary"))),
                     ("tfidf", TfidfVectorizer(ngram_range=tuple(b["ngram_range"]), min_df=b["min_df"], sublinear_tf=True)),
                     ("clf", LogisticRegression(max_iter=b["max_iter"], class_weight="balanced", C=b["C"]))])


def excluded_columns(names, prefixes) -> np.ndarray:
    """Indices of the feature `names` (a fitted ItemFeatures' `get_feature_names_out()`) that
    are structured features starting with one of `prefixes` ("requested_bin=" matches
    "structured__requested_bin=physical_therapy|<=12")."""
    heads = tuple("structured__" + str(p) for p in prefixes or ())
    return np.asarray([i for i, n in enumerate(names) if heads and str(n).startswith(heads)], dtype=np.int64)


class ColumnSubsetClassifier(ClassifierMixin, BaseEstimator):
    """`estimator` fitted on the feature matrix without the columns `drop` (indices), so one
    head can leave out features the other heads of the same fitted features read. `coef_` /
    `intercept_` (linear estimators) are full width, zero on the dropped columns."""

    def __init__(self, estimator=None, drop=(), n_features: int | None = None):
        self.estimator = estimator
        self.drop = drop
        self.n_features = n_features

    def _keep(self, n: int) -> np.ndarray:
        if self.n_features is not None and n != self.n_features:
            raise ValueError(f"expected {self.n_features} feature columns, got {n}")
        keep = np.ones(n, dtype=bool)
        keep[np.asarray(self.drop, dtype=np.int64)] = False
        return np.flatnonzero(keep)

    def fit(self, X, y, sample_weight=None):
        self.keep_ = self._keep(X.shape[1])
        self.n_features_in_ = X.shape[1]
        self.estimator_ = clone(self.estimator).fit(X[:, self.keep_], y, sample_weight=sample_weight)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "keep_")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} feature columns, got {X.shape[1]}")
        return self.estimator_.predict_proba(X[:, self.keep_])

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    @property
    def coef_(self):
        check_is_fitted(self, "keep_")
        sub = np.asarray(self.estimator_.coef_)
        out = np.zeros((sub.shape[0], self.n_features_in_), dtype=sub.dtype)
        out[:, self.keep_] = sub
        return out

    @property
    def intercept_(self):
        check_is_fitted(self, "keep_")
        return self.estimator_.intercept_


def make_rationale_head(cfg: dict | None = None, C: float | None = None, seed: int | None = None,
                        feature_names=None):
    """Multinomial logistic regression over the primary rationale (`models.rationale`). Given the
    fitted read-mode features' `feature_names`, the structured features of
    `models.rationale.exclude_read_features` are left out (`ColumnSubsetClassifier`)."""
    cfg = cfg or load_config()
    m = cfg["models"]["rationale"]
    lr = LogisticRegression(C=C or m["C_grid"][0], class_weight="balanced", solver=m["solver"],
                            tol=m["tol"], max_iter=m["max_iter"], random_state=cfg["seed"] if seed is None else seed)
    if feature_names is None:
        return lr
    drop = excluded_columns(feature_names, m["exclude_read_features"])
    if not len(drop):
        return lr
    return ColumnSubsetClassifier(lr, drop=tuple(int(i) for i in drop), n_features=len(feature_names))


def make_rationale_model(mode: str, cfg: dict | None = None, C: float | None = None, seed: int | None = None) -> Pipeline:
    """Features → multinomial logistic regression over the primary rationale (all features: the
    read-mode exclusions need the fitted features' names, which `training.classifier.Trainer`
    passes to `make_rationale_head`)."""
    cfg = cfg or load_config()
    return assemble(make_features(mode, cfg), make_rationale_head(cfg, C=C, seed=seed))


def make_multilabel_head(cfg: dict | None = None, C: float | None = None) -> MultiLabelHead:
    """One-vs-rest head over `rationale_labels` (`models.rationale`)."""
    cfg = cfg or load_config()
    m = cfg["models"]["rationale"]
    return MultiLabelHead(C=C or m["C_grid"][0], max_iter=m["max_iter"], threshold=m["multilabel_threshold"])


def make_multilabel_model(mode: str, cfg: dict | None = None, C: float | None = None) -> Pipeline:
    """Features → one-vs-rest head over `rationale_labels` (Y: 0/1 matrix, columns = label set)."""
    cfg = cfg or load_config()
    return assemble(make_features(mode, cfg), make_multilabel_head(cfg, C=C))


def make_baseline(kind: str, mode: str, cfg: dict | None = None, multilabel: bool = False):
    """`majority` (most frequent class) or `text` (TF-IDF + logistic regression on joined text)."""
    cfg = cfg or load_config()
    if kind == "majority":
        clf = _MultiLabelMajority() if multilabel else DummyClassifier(strategy="most_frequent")
        return Pipeline([("text", JoinedText(mode)), ("clf", clf)])
    if kind == "text":
        b = dict(cfg["models"]["baseline_text"])
        vec = TfidfVectorizer(max_features=b["max_features"], ngram_range=tuple(b["ngram_range"]),
                              min_df=b["min_df"], sublinear_tf=True, dtype=np.float32)
        if multilabel:
            clf = MultiLabelHead(C=b["C"], max_iter=b["max_iter"])
        else:
            clf = LogisticRegression(C=b["C"], class_weight="balanced", max_iter=b["max_iter"])
        return Pipeline([("text", JoinedText(mode)), ("tfidf", vec), ("clf", clf)])
    raise ValueError(f"unknown baseline {kind!r}")


class _MultiLabelMajority(ClassifierMixin, BaseEstimator):
    """Multi-label majority: each label on when it is on in most training rows (the primary
    majority label is always on)."""

    def fit(self, X, Y, sample_weight=None):
        Y = np.asarray(Y, dtype=float)
        w = np.ones(len(Y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.rate_ = (Y * w[:, None]).sum(0) / max(w.sum(), 1e-9)
        return self

    def predict_proba(self, X):
        return np.tile(self.rate_, (len(X), 1))

    def predict(self, X):
        p = self.predict_proba(X)
        out = (p >= 0.5).astype(int)
        out[:, int(np.argmax(self.rate_))] = 1
        return out


def fit_pipeline(model: Pipeline, X, y, sample_weight=None) -> Pipeline:
    """Fit a pipeline from this module, passing sample weights to its final step."""
    if sample_weight is None:
        return model.fit(X, y)
    return model.fit(X, y, clf__sample_weight=np.asarray(sample_weight, dtype=float))
