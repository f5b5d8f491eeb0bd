"""Optimizer steps against the session's memory ceiling.

An optimizer step is memory-bound: with ``s`` state arrays it must read the parameter, the
gradient and the state, and write the parameter and the state back, all in place,

    bytes(step) = (3 + 2 s) * n * itemsize        (SGD 3, Momentum/Nesterov/AdaGrad/RMSProp 5,
                                                    Adam 7 arrays of n elements)

so its bound is ``bytes(step) / B``, with B the memory ceiling of n elements of the dtype
(:mod:`optbench.benchmarks.ceilings`: the best of the STREAM kernels, in place and into a third
array, whole and in the steps' blocks on 1 and on all threads), measured in the same session
right before the first step of that size and again at its end (the ``ceilings`` fixture). The
FLOPs of a step (:data:`FLOPS_PER_ELEMENT`, the rule's arithmetic as written, a square root or
a division counting one) place it on the roofline. ``conftest.py`` fills in ``gbps``,
``bound_s = bytes / B``, ``x_ceiling = t_min / bound_s`` (at least 1 unless the ceiling is wrong)
and ``fraction_of_peak = 1 / x_ceiling``, from the minimum over rounds (interference from other
processes only adds time).

Steps of at least ``optbench.optimizers._blocks.PARALLEL_MIN`` elements run in
``optbench.optimizers.get_num_threads()`` threads (``--optbench-threads N`` sets it; a CPU-time
timer forces 1). Run: ``optbench bench --suites optimizers`` (``--quick`` for 1e5 and 1e6
parameters only).
"""

from __future__ import annotations

import numpy as np
import pytest

from optbench import optimizers
from optbench.optimizers import REGISTRY
from optbench.optimizers._blocks import PARALLEL_MIN

SIZES = (
    pytest.param(100_000, id="1e5", marks=pytest.mark.quick),
    pytest.param(1_000_000, id="1e6", marks=pytest.mark.quick),
    pytest.param(10_000_000, id="1e7"),
)
#: FLOPs per parameter element of one step at the defaults (torch convention), as written.
FLOPS_PER_ELEMENT = {
    "sgd": 2, "momentum": 4, "nesterov": 6, "adagrad": 7, "rmsprop": 9, "adam": 13,
    "adamw": 14, "nadam": 16, "radam": 15, "adamax": 10, "adadelta": 16, "lion": 11,
}  # fmt: skip


@pytest.fixture(autouse=True)
def optimizer_threads(request):
    """Threads of the optimizer steps: ``--optbench-threads N`` if given, and 1 when the timer
    is a thread's CPU clock (it would not count the other threads' work); else the default."""
    config = request.config
    wanted = config.getoption("optbench_threads", default=None)
    if "thread_time" in str(config.getoption("benchmark_timer", default="")):
        wanted = 1
    before = optimizers.get_num_threads()
    if wanted is not None:
        optimizers.set_num_threads(wanted)
    yield optimizers.get_num_threads()
    optimizers.set_num_threads(before)


def arrays(n: int, dtype: str, k: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(dtype) for _ in range(k)]


def step_bytes(opt) -> int:
    """Bytes a step must move: parameter and state read and written, gradient read."""
    return sum((3 + 2 * len(st)) * p.nbytes for p, st in zip(opt.params, opt.state, strict=True))


@pytest.mark.parametrize("name", sorted(REGISTRY))
@pytest.mark.parametrize("n", SIZES)
def test_step(timed, benchmark, n, bench_dtype, name, optimizer_threads, ceilings):
    """One steady-state step of ``name`` (torch defaults, lr=1e-4) on n parameters."""
    ceilings.memory(n, bench_dtype)  # measured before the first step of this size
    w, g = arrays(n, bench_dtype, 2)
    opt = REGISTRY[name]([w], lr=1e-4)
    opt.step([g])
    timed(opt.step, setup=lambda: ([g],))
    assert np.all(np.isfinite(w))
    benchmark.extra_info.update(
        kind="optimizer_step",
        optimizer=name,
        n=n,
        shape=[n],
        dtype=bench_dtype,
        runs=None,
        bytes=step_bytes(opt),
        flops=FLOPS_PER_ELEMENT.get(name, 0) * n or None,
        threads=optimizer_threads if n >= PARALLEL_MIN else 1,
    )
