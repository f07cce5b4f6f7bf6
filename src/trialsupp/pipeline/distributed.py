"""Scale-out of independent work items (replicate seeds, render-matrix sets) on Dask.

``map_replicates(fn, items)`` runs ``fn(item)`` for every item on a ``dask.distributed``
cluster and returns the results in the order of ``items``: a local cluster of ``jobs``
worker processes (one thread each, one BLAS thread each) by default, or the scheduler
at ``scheduler`` (``tcp://host:8786``) for a real cluster. ``scheduler="inline"`` runs in
this process (the reference path of the tests). Each item's result depends only on the
item (e.g. the seed), so the results are the same wherever and in whatever order they run.
"""
from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Sequence

INLINE = "inline"
BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _add_paths(paths: Sequence[str]) -> None:
    """On a worker: the importable folders of the client (a project's ``src/``, a worktree)."""
    for p in reversed(paths):
        if p and p not in sys.path:
            sys.path.insert(0, p)
    for var in BLAS_VARS:
        os.environ.setdefault(var, "1")
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)    # workers already use every core: BLAS threads would fight
    except ImportError:
        pass


@contextmanager
def client(scheduler: str | None = None, jobs: int | None = None):
    """A connected ``distributed.Client``: to ``scheduler``, else to a new local cluster of
    ``jobs`` processes (closed on exit). Workers get this process's ``sys.path``."""
    from distributed import Client, LocalCluster
    for var in BLAS_VARS:           # inherited by spawned local workers before numpy loads
        os.environ.setdefault(var, "1")
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    env = {"PYTHONPATH": os.pathsep.join(paths), **{v: "1" for v in BLAS_VARS}}
    if scheduler:
        cl = Client(scheduler)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=max(1, jobs or os.cpu_count() or 1), threads_per_worker=1,
                               processes=True, dashboard_address=None, env=env)
        cl = Client(cluster)
    try:
        cl.run(_add_paths, paths)
        yield cl
    finally:
        # a loaded machine's slow worker exits are not the user's concern: no shutdown warnings
        quiet = [logging.getLogger(n) for n in ("distributed", "distributed.nanny")]
        levels = [q.level for q in quiet]
        for q in quiet:
            q.setLevel(logging.ERROR)
        try:
            cl.close()
            if cluster is not None:
                cluster.close()
        finally:
            for q, lv in zip(quiet, levels):
                q.setLevel(lv)


def map_replicates(fn: Callable[[Any], Any], items: Iterable[Any], scheduler: str | None = None,
                   jobs: int | None = None, on_done: Callable[[int, int], None] | None = None,
                   on_result: Callable[[int, Any], None] | None = None) -> list[Any]:
    """``[fn(item) for item in items]`` on Dask (see the module docstring); ``on_done(done,
    total)`` is called as results arrive (progress), ``on_result(index, result)`` with each
    result as it arrives (e.g. to checkpoint a long run)."""
    items = list(items)
    if not items:
        return []
    if scheduler == INLINE:
        out = []
        for i, item in enumerate(items):
            out.append(fn(item))
            if on_result:
                on_result(i, out[-1])
            if on_done:
                on_done(i + 1, len(items))
        return out
    from distributed import as_completed
    with client(scheduler, jobs) as cl:
        # pure=False: two equal items are two tasks; keys stay unique per submission
        futures = cl.map(fn, items, pure=False)
        if on_done or on_result:
            index = {f.key: i for i, f in enumerate(futures)}
            for i, fut in enumerate(as_completed(futures)):
                if on_result:
                    on_result(index[fut.key], fut.result())
                if on_done:
                    on_done(i + 1, len(items))
        return cl.gather(futures)
