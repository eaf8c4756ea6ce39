"""Run a task over batches in worker processes, results in input order (the executor under
`imr score` and the training runs' letter parsing and DocBin building).

`run_local(batches, model_dir, jobs, task=...)`: `task(model_dir, batch)` per batch; jobs > 1
runs it in joblib/loky worker processes that exit when the run that started them is gone.
Knows nothing of models or records: the task does the work.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from typing import Iterable, Iterator


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def iter_batches(docs: Iterable, size: int) -> Iterator[list]:
    it = iter(docs)
    while batch := list(itertools.islice(it, size)):
        yield batch


def run_local(batches: Iterable[list], model_dir=None, jobs: int = 1, *, task) -> Iterator:
    """The results of each batch, in order: `task(model_dir, batch)` (a module-level function or
    a `functools.partial` of one, so workers can import it). jobs > 1: joblib/loky worker processes; joblib keeps
    2 × jobs batches dispatched (`pre_dispatch`) and dispatches the next as one completes."""
    if jobs <= 1:
        for batch in batches:
            yield task(model_dir, batch)
        return
    from joblib import Parallel, delayed  # noqa: PLC0415

    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator",
                        pre_dispatch=str(2 * jobs), batch_size=1)
    parent = os.getpid()
    yield from parallel(delayed(_in_worker)(parent, task, model_dir, batch) for batch in batches)


_WATCHED: list = []


def _in_worker(parent: int, task, model_dir, batch):
    """Run `task` in a worker process that exits when `parent` (the run) is gone."""
    if not _WATCHED:
        _WATCHED.append(parent)
        threading.Thread(target=_watch_parent, args=(parent,), name="imr-parent-watch", daemon=True).start()
    return task(model_dir, batch)


def _watch_parent(parent: int, every: float = 1.0) -> None:
    """Exit this worker once the run that started it is gone (after kill -9 of the run, loky's
    workers would otherwise live on): the worker is then re-parented."""
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            os._exit(1)
