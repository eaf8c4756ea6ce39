"""thinc's CPU backend for the NER, from configs/ner/ops.yaml.

A thinc model keeps the ops that were current when it was built, so this runs before a pipeline
is loaded or trained. It sets the process's current ops (the project's only thinc models are
the NER's)."""
from __future__ import annotations

from nlp.config import load_yaml

_applied: bool | None = None


def use_configured_ops() -> bool:
    """Make `NumpyOps(use_blis=...)` current; returns whether BLIS is used."""
    global _applied
    use_blis = bool(load_yaml("ner/ops.yaml").get("use_blis", True))
    if _applied is not use_blis:
        from thinc.api import NumpyOps, set_current_ops

        set_current_ops(NumpyOps(use_blis=use_blis))
        _applied = use_blis
    return use_blis
