"""thinc's CPU backend for the NER and the BLAS threads of a scoring process, from
configs/ner/ops.yaml.

A thinc model keeps the ops that were current when it was built, so `use_configured_ops` runs
before a pipeline is loaded or trained. Both settings are process-wide (the project's only
thinc models are the NER's)."""
from __future__ import annotations

from nlp.config import load_yaml

_applied: dict = {}


def use_configured_ops(scoring: bool = False) -> bool:
    """Make `NumpyOps(use_blis=...)` current; with `scoring`, also cap the BLAS threads.
    Returns whether BLIS is used."""
    cfg = load_yaml("ner/ops.yaml")
    use_blis = bool(cfg["use_blis"])
    if _applied.get("use_blis") is not use_blis:
        from thinc.api import NumpyOps, set_current_ops

        set_current_ops(NumpyOps(use_blis=use_blis))
        _applied["use_blis"] = use_blis
    threads = cfg["scoring_blas_threads"]
    if scoring and threads and _applied.get("threads") != threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=int(threads), user_api="blas")  # stays in effect (not a `with`)
        _applied["threads"] = threads
    return use_blis
