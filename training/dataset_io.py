"""Find a corpus's DatasetDict and read its rows with ClassLabel ints turned back into names."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator


def dataset_dir(corpus: str | Path) -> Path:
    """The DatasetDict directory: `corpus` itself or its `hf/` subdirectory (a corpus build)."""
    p = Path(corpus)
    if not (p / "dataset_dict.json").is_file() and (p / "hf" / "dataset_dict.json").is_file():
        return p / "hf"
    return p


def _decoder(feature) -> Any:
    """A function that maps a stored value of `feature` to its plain Python form (names for labels)."""
    from datasets import ClassLabel, LargeList, List, Sequence

    if isinstance(feature, ClassLabel):
        return lambda v: None if v is None or v < 0 else feature.int2str(v)
    if isinstance(feature, (List, LargeList, Sequence)):
        inner = _decoder(feature.feature)
        if isinstance(feature.feature, dict):  # rows of structs: a list of dicts, or (old Sequence) a dict of lists
            subs = {k: _decoder(f) for k, f in feature.feature.items()}

            def decode_structs(v):
                if isinstance(v, dict):
                    return {k: [subs[k](x) for x in xs] if k in subs else xs for k, xs in v.items()}
                return [inner(x) for x in v] if v is not None else v
            return decode_structs
        return lambda v: [inner(x) for x in v] if v is not None else v
    if isinstance(feature, dict):
        subs = {k: _decoder(f) for k, f in feature.items()}
        return lambda v: {k: subs[k](x) if k in subs else x for k, x in v.items()} if v is not None else v
    return lambda v: v


def decoded_rows(ds) -> Iterator[dict]:
    """Rows of a `datasets.Dataset`, label names instead of ClassLabel ints."""
    decode = _decoder(dict(ds.features))
    for row in ds:
        yield decode(row)
