"""The roofline's two ceilings, measured in the session they bound: memory bandwidth and FLOP/s.

**Memory ceiling** of n elements of a dtype: the best rate of the STREAM kernels (McCalpin)

=========  ==================  ==========================  =====================
kernel     in place            into a third array          arrays moved (in/out)
=========  ==================  ==========================  =====================
copy       --                  ``c = a``                   -- / 3
scale      ``a = s a``         ``c = s a``                 2 / 3
add        ``a = a + b``       ``c = a + b``               3 / 4
triad      ``a = a + s b``     ``c = a + s b``             3 / 4
=========  ==================  ==========================  =====================

each run whole (one NumPy call, one thread) and in the optimizers' cache-sized blocks
(``optbench.optimizers._blocks.BLOCK_ELEMENTS``, threads sharing one iterator of blocks, as
``_blocks.run_split`` runs a step) on 1 thread and on all threads; triad needs ``s b`` in a
scratch array, so it runs in blocks only, its scratch one block per thread (in cache).

Bytes counted: every array read, every array written, and, for a kernel into a third array,
that array once more: an ordinary store (NumPy's ufunc loops use no streaming stores) first
reads the cache line it writes (write-allocate), so ``c = a + b`` moves 4 arrays and
``a = a + b`` moves 3. The steps a ceiling bounds update in place, where the line written was
read anyway, so their bytes (parameter and state read and written, gradient read) are what
the memory really moves, as for the kernels. Counting write-allocate raises the rates of the
kernels into a third array; on the development machine they stay below the in-place ones.

**Compute ceiling** of a dtype: the best FLOP/s (``2 m k n`` per product) of a few square and
skinny products ``(m, k) @ (k, n)`` (:data:`GEMMS`) into a preallocated array, on all threads
(BLAS threads raised to every core for the measurement, whatever a session pinned) and on 1.

Kernels are timed round by round, interleaved (a busy spell of the machine hits all of them
alike), each call on its own and, after a kernel's first round, as many calls per round as its
best time fits in ``Ceiling.share`` (50 ms): a kernel's best rate counts, since other
processes only ever add time. A :class:`Ceiling` keeps every kernel's best rate, so that
more rounds can be added later (``sample``) and the ceiling is their maximum. Nothing here
imports torch or JAX: the suites of ``optbench bench`` and the comparison scripts of
``benchmarks/compare`` use these same functions, so that every candidate is placed against the
same ceiling.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optbench.optimizers import _blocks

SCALAR = -1.0  # keeps repeated in-place kernels bounded (STREAM uses 3; any value times alike)
#: ``(m, k, n)`` of the compute ceiling's products: square, then skinny (tall, long inner, wide).
GEMMS = ((256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
         (8192, 512, 512), (512, 8192, 512), (512, 512, 8192))  # fmt: skip
QUICK_GEMMS = ((512, 512, 512), (1024, 1024, 1024), (4096, 512, 512))
MAX_CALLS = 50


def all_threads() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Stream:
    """A STREAM kernel: ``name``, ``in_place``, arrays it reads and writes (the module's table)."""

    name: str
    in_place: bool
    reads: int
    writes: int

    @property
    def arrays_moved(self) -> int:
        """Reads + writes, + the write-allocate read of an output that is not an input."""
        return self.reads + self.writes + (0 if self.in_place else self.writes)

    def bytes(self, n: int, itemsize: int) -> int:
        return self.arrays_moved * n * itemsize


STREAMS = (
    Stream("copy", False, 1, 1),
    Stream("scale", True, 1, 1),
    Stream("scale", False, 1, 1),
    Stream("add", True, 2, 1),
    Stream("add", False, 2, 1),
    Stream("triad", True, 2, 1),
    Stream("triad", False, 2, 1),
)


def _ops(kernel: Stream, a, b, c, s):
    """``op(block, scratch)`` computing the kernel on ``a[block]`` etc."""
    out = a if kernel.in_place else c
    match kernel.name:
        case "copy":
            return lambda k, u: np.copyto(out[k], a[k])
        case "scale":
            return lambda k, u: np.multiply(a[k], s, out=out[k])
        case "add":
            return lambda k, u: np.add(a[k], b[k], out=out[k])
        case "triad":

            def triad(k, u):
                u = u[: out[k].size]
                np.multiply(b[k], s, out=u)
                np.add(a[k], u, out=out[k])

            return triad
    raise ValueError(f"unknown kernel {kernel.name!r}")


def blocked(op, n: int, threads: int, scratch: list[np.ndarray]) -> None:
    """``op(block, scratch)`` over blocks of ``BLOCK_ELEMENTS`` by ``threads`` threads sharing
    one iterator of blocks (``_blocks.run_split``'s scheme, with the thread count given)."""
    chunk = _blocks.BLOCK_ELEMENTS
    shared = iter([slice(i, min(i + chunk, n)) for i in range(0, n, chunk)])

    def task(worker):
        for block in shared:
            op(block, scratch[worker])

    if threads == 1:
        task(0)
        return
    futures = [_blocks._worker_pool(threads - 1).submit(task, w) for w in range(1, threads)]
    try:
        task(0)
    finally:
        for f in futures:
            f.result()


@dataclass
class Ceiling:
    """A ceiling: ``kind`` (``"memory"``, bytes/s; ``"compute"``, FLOP/s), its ``dtype`` and
    (memory) ``n``; ``kernels`` maps each kernel's label to its best rate so far. ``rate`` is
    their maximum, ``kernel`` the label that reached it."""

    kind: str
    dtype: str
    n: int | None
    runs: list = field(default_factory=list, repr=False)  # (label, work, run[, setup])
    kernels: dict[str, float] = field(default_factory=dict)
    samples: int = 0
    context: Callable = field(default=contextlib.nullcontext, repr=False)  # around each round
    share: float = 0.05  # seconds of calls per kernel and round (0: one call)
    calls: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def rate(self) -> float:
        return max(self.kernels.values(), default=0.0)

    @property
    def kernel(self) -> str:
        return max(self.kernels, key=self.kernels.get) if self.kernels else ""

    def sample(self, rounds: int = 1, timer: Callable[[], float] = time.perf_counter) -> None:
        """Time every kernel ``calls`` times per round, interleaved; keep each kernel's best.

        A kernel is called once in its first round, then as often as its best time so far
        fits in ``share`` seconds (at most :data:`MAX_CALLS`): a short kernel is timed often
        enough to meet a quiet moment of a busy machine. Each call is timed on its own."""
        for _ in range(rounds):
            with self.context():
                for label, work, run, *setup in self.runs:
                    for prepare in setup:
                        prepare()
                    for _ in range(self.calls.get(label, 1)):
                        start = timer()
                        run()
                        elapsed = timer() - start
                        if elapsed > 0:
                            best = max(self.kernels.get(label, 0.0), work / elapsed)
                            self.kernels[label] = best
                    if self.kernels.get(label):
                        fit = self.share * self.kernels[label] / work
                        self.calls[label] = int(min(MAX_CALLS, max(1, fit)))
            self.samples += 1

    def measure(self, repeats: int = 5, budget: float = 0.0, timer=time.perf_counter) -> Ceiling:
        """At least ``repeats`` rounds, more until ``budget`` seconds have passed."""
        start = time.perf_counter()
        self.sample(repeats, timer)
        while time.perf_counter() - start < budget:
            self.sample(1, timer)
        return self

    def record(self) -> dict:
        """JSON-able: kind, dtype, n, rate, kernel, kernels, samples."""
        keys = ("kind", "dtype", "n", "rate", "kernel", "kernels", "samples")
        return {k: getattr(self, k) for k in keys}


def memory_ceiling(n: int, dtype: str, threads: int | None = None, seed: int = 0) -> Ceiling:
    """The memory ceiling of ``n`` elements of ``dtype``, not yet measured (``.measure()``).

    Kernels are labelled ``"add in place, blocks, 2 threads"``, ``"copy, whole"``, ...;
    ``threads``: the "all threads" count (default: every core of the process)."""
    threads = threads or all_threads()
    rng = np.random.default_rng(seed)
    a, b, c = (rng.standard_normal(n).astype(dtype) for _ in range(3))
    s = np.asarray(SCALAR, dtype=dtype)[()]
    chunk = min(_blocks.BLOCK_ELEMENTS, n)
    scratch = [np.empty(chunk, dtype) for _ in range(threads)]
    ceiling = Ceiling("memory", str(np.dtype(dtype)), n)
    whole = slice(None)
    for kernel in STREAMS:
        op = _ops(kernel, a, b, c, s)
        work = kernel.bytes(n, a.itemsize)
        label = f"{kernel.name}{' in place' if kernel.in_place else ''}"
        if kernel.name != "triad":
            ceiling.runs.append((f"{label}, whole", work, lambda op=op: op(whole, None)))
        for t in sorted({1, threads}):
            run = lambda op=op, t=t: blocked(op, n, t, scratch)  # noqa: E731
            ceiling.runs.append((f"{label}, blocks, {t} thread{'s' * (t > 1)}", work, run))
    return ceiling


def compute_ceiling(dtype: str, gemms=GEMMS, threads: int | None = None, seed: int = 0):
    """The compute ceiling of ``dtype`` (``.measure()`` it), from ``gemms`` ``(m, k, n)`` on
    all ``threads`` BLAS threads (default every core) and on 1 (a machine that another
    process keeps busy can stall a multi-threaded product at a barrier, and the ceiling is the
    best of its kernels), labelled ``"gemm 512x512x512, 2 threads"``."""
    threads = threads or all_threads()
    rng = np.random.default_rng(seed)
    ceiling = Ceiling("compute", str(np.dtype(dtype)), None, context=lambda: _blas(threads))
    for m, k, n in gemms:
        A = rng.standard_normal((m, k)).astype(dtype)
        B = rng.standard_normal((k, n)).astype(dtype)
        C = np.empty((m, n), dtype)
        run = lambda A=A, B=B, C=C: np.matmul(A, B, out=C)  # noqa: E731
        for t in sorted({threads, 1}, reverse=True):
            label = f"gemm {m}x{k}x{n}, {t} thread{'s' * (t > 1)}"
            ceiling.runs.append((label, 2 * m * k * n, run, lambda t=t: _set_blas_threads(t)))
    return ceiling


def _blas(threads: int):
    """Every BLAS library at ``threads`` threads, restored on exit."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads, user_api="blas")


def _set_blas_threads(threads: int) -> None:
    """Set the BLAS threads inside a :func:`_blas` block (a cheap call, outside the timer)."""
    from threadpoolctl import ThreadpoolController

    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController().select(user_api="blas")
    for lib in _CONTROLLER.lib_controllers:
        lib.set_num_threads(threads)


_CONTROLLER = None


def beats(rate: float | None, ceiling: float | None, tolerance: float = 0.0) -> bool:
    """Whether a candidate's ``rate`` is above its ``ceiling``: then the ceiling is wrong."""
    if rate is None or ceiling is None or not (rate == rate and ceiling == ceiling):
        return False
    return ceiling > 0 and rate > ceiling * (1 + tolerance)


def x_ceiling(seconds: float, work: float, rate: float) -> float:
    """``seconds`` over the ceiling's bound ``work / rate`` (bytes and bytes/s, or FLOPs and
    FLOP/s): at least 1, unless the ceiling is wrong."""
    return seconds * rate / work
