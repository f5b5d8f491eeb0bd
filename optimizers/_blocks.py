"""Cache-sized blocks and worker threads for memory-bound updates.

An update is a dozen elementwise passes. Done over whole arrays, each pass streams every
array through main memory again; done block by block, all passes run while a block's
arrays sit in the L2 cache, so main memory sees each array once per step. Elementwise
IEEE arithmetic does not depend on where a block starts, so the result is bit-identical.

Layout: a C-contiguous parameter is viewed as ``(rows, N)``, with ``rows = R`` when some
hyperparameter is an ``(R,)`` array (else ``rows = 1``). Long rows are cut into column blocks
of ``chunk`` elements (the run's coefficients are then scalars); short rows are grouped into
row blocks of ``chunk // N`` rows (coefficients are ``(k, 1)`` columns). Arrays that are not
C-contiguous are updated whole, with coefficients shaped ``(R, 1, ..., 1)``.

NumPy releases the GIL inside ufunc loops, so large parameters are split between threads.
"""

from __future__ import annotations

import contextvars
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

#: Elements per block (512 KiB of float32, 1 MiB of float64 per array). A step is a dozen
#: ufunc calls per block, each costing ~1 us of NumPy overhead: blocks that fit L2 (1 MiB per
#: core here) pay that overhead too often, and blocks of 2^17 to 2^18 elements, served from L3,
#: used the least CPU time for Adam and Momentum at 1e7 parameters on the 2-core development
#: machine (AMD EPYC, 32 MiB L3).
BLOCK_ELEMENTS = 1 << 17
#: Parameters with fewer elements than this are updated in the calling thread only.
PARALLEL_MIN = 1 << 19

_threads = min(2, os.cpu_count() or 1)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def set_num_threads(n: int) -> None:
    """Threads used for one parameter's update (default ``min(2, cpu_count)``)."""
    global _threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    _threads = n


def get_num_threads() -> int:
    """Threads used for one parameter's update."""
    return _threads


def chunk_elements(dtype: np.dtype) -> int:
    """Elements of ``dtype`` per block (the same for both dtypes: the per-call overhead is
    per element count, and the bandwidth of both is the same)."""
    return BLOCK_ELEMENTS


@dataclass(frozen=True)
class Block:
    """One piece of a parameter: ``index`` into the ``(rows, N)`` view, ``sel`` into ``(R,)``
    coefficients (None when there are no per-run coefficients), ``shape`` of the piece."""

    index: tuple
    sel: object
    shape: tuple


def plan(size: int, rows: int, per_run: bool, chunk: int) -> list[Block]:
    """The blocks covering a ``(rows, size // rows)`` view, at most ``chunk`` elements each."""
    n = size // rows if rows else 0
    if n >= chunk or rows == 1:
        return [
            Block(
                (r, slice(j, min(j + chunk, n))),
                (r, Ellipsis) if per_run else None,
                (min(j + chunk, n) - j,),
            )
            for r in range(rows)
            for j in range(0, max(n, 1), chunk)
        ]
    k = max(1, chunk // max(n, 1))
    return [
        Block(
            (slice(r, min(r + k, rows)),),
            (slice(r, min(r + k, rows)), None) if per_run else None,
            (min(r + k, rows) - r, n),
        )
        for r in range(0, rows, k)
    ]


def run_split(task, items: list, size: int) -> None:
    """``task(iterator, worker)`` over ``items``, in several threads when ``size`` is large.

    The threads share one iterator (``next`` on a list iterator is atomic under the GIL), so a
    thread that another process slows down takes fewer blocks instead of holding up the step.
    """
    workers = _threads if size >= PARALLEL_MIN and len(items) > 1 else 1
    shared = iter(items)
    if workers == 1:
        task(shared, 0)
        return
    pool = _worker_pool(workers - 1)
    # each worker runs in a copy of the caller's context, so np.errstate applies there too
    futures = [
        pool.submit(contextvars.copy_context().run, task, shared, w) for w in range(1, workers)
    ]
    try:
        task(shared, 0)
    finally:  # never return while a worker still writes
        for f in futures:
            f.result()


def _worker_pool(n: int) -> ThreadPoolExecutor:
    """The shared pool, with at least ``n`` workers (created once, grown on demand)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < n:
            if _pool is not None:  # its threads end once their queued work is done
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="optbench")
        return _pool
