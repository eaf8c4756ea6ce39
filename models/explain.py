"""Explanations of linear models: each feature's contribution to the logit.

For a pipeline whose last step is linear (`coef_`, `intercept_`; e.g. `PlattLogistic`), the
logit of an example is intercept + sum_i coef_i * x_i. `explain` keeps the `top` terms by
absolute contribution and puts the rest in `other`, so intercept + sum(terms) + other = logit
exactly. Feature names are made readable: a TF-IDF term of the request+summary text becomes
`request+summary: "objective findings"`.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse


def _text_label(pipeline) -> str:
    """The joined field names of the pipeline's `FieldsText` step ("request+summary")."""
    def walk(est):
        if hasattr(est, "fields") and hasattr(est, "mode"):
            return "+".join(est.fields)
        for _, sub in list(getattr(est, "steps", [])) + list(getattr(est, "transformer_list", [])):
            found = walk(sub)
            if found:
                return found
        return None
    return walk(pipeline) or "text"


def readable(name: str, text_label: str = "text") -> str:
    """A feature name as a user reads it: `request+summary: "objective findings"`."""
    name = str(name)
    if name.endswith("generated_forecast_logit"):
        return "generated-letter forecast (logit)"
    return f'{text_label}: "{name.split("__", 1)[1] if name.startswith("text__") else name}"'


def is_linear(pipeline) -> bool:
    last = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else None
    return last is not None and hasattr(last, "coef_") and getattr(last, "coef_").shape[0] == 1


def explain(pipeline, examples: list, top: int = 5) -> tuple[np.ndarray, list[dict]]:
    """(P(positive class) per example, one explanation dict per example) for a linear pipeline."""
    head = pipeline[:-1]
    clf = pipeline.steps[-1][1]
    M = sparse.csr_matrix(head.transform(examples))
    label = _text_label(pipeline)
    names = [readable(n, label) for n in head.get_feature_names_out()]
    coef = np.asarray(clf.coef_).ravel()
    intercept = float(np.asarray(clf.intercept_).ravel()[0])
    C = M.multiply(coef[None, :]).tocsr()
    logits = np.asarray(C.sum(axis=1)).ravel() + intercept
    out = []
    for i in range(M.shape[0]):
        row = C.getrow(i)
        order = np.argsort(-np.abs(row.data))[:top]
        terms = [{"feature": names[row.indices[j]], "contribution": round(float(row.data[j]), 4)} for j in order]
        shown = float(sum(row.data[j] for j in order))
        out.append({"intercept": round(intercept, 4), "logit": round(float(logits[i]), 4),
                    "other": round(float(logits[i] - intercept - shown), 4), "terms": terms})
    return 1.0 / (1.0 + np.exp(-logits)), out
