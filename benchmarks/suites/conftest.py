"""Shared configuration of the pytest-benchmark suites that ``optbench bench`` runs.

The suites (``benchmarks/suites/bench_*.py``) are never collected by the plain ``pytest`` of
``tests/``; ``optbench bench`` runs them with options of its own (see
:func:`optbench.benchmarks.suites.run`). This file provides:

* the ``quick`` marker (``optbench bench --quick`` runs ``-m quick``);
* the options ``--optbench-shapes "m,n_in,n_out ..."``, ``--optbench-dtype
  float32|float64|both`` and ``--optbench-threads N`` (BLAS threads pinned with threadpoolctl
  for the whole pytest process);
* parametrization of the fixtures ``bench_dtype`` (the selected dtypes) and ``dense_shape``
  (the four default dense shapes plus the user's; the first default and every user shape are
  ``quick``);
* the fixture ``timed(target, setup)``: ``benchmark.pedantic`` with a number of rounds sized
  from one calibration call so that a case takes about ``--benchmark-max-time`` seconds, and at
  least ``--benchmark-min-rounds`` rounds;
* the machine record (BLAS library, its version and thread count, NumPy version) in the JSON's
  ``machine_info``;
* failed tests (a correctness check that did not pass) dropped from the JSON, their node ids
  listed under ``optbench.failed``;
* the session fixture ``ceilings`` (:class:`optbench.benchmarks.suites.session.SessionCeilings`:
  the memory and compute ceilings, measured when first asked for and again at the end), and
  the CPU (model, vector extensions, cores: ``machine_info["optbench_cpu"]``);
* the derived quantities of :mod:`optbench.benchmarks.suites.derived` (rates, the roofline
  bound and ``x_ceiling``, ratio to bound), filled in from the session's minimum times and
  ceilings when the JSON is written, with the ceilings and the best rate any candidate reached
  under ``optbench.ceilings``.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from optbench.benchmarks.suites import DEFAULT_SHAPES, DTYPE_CHOICES, parse_shapes
from optbench.benchmarks.suites.derived import STATISTIC, best_candidates, fill_derived
from optbench.benchmarks.suites.session import SessionCeilings

MAX_ROUNDS = 2000
FAILED: set[str] = set()  # node ids of failed tests, whose timings are not saved
THREAD_LIMIT = pytest.StashKey[object]()
CEILINGS = pytest.StashKey[SessionCeilings]()


def pytest_addoption(parser):
    group = parser.getgroup("optbench", "optbench bench suites")
    group.addoption("--optbench-shapes", default="", help="extra dense shapes 'm,n_in,n_out ...'")
    group.addoption(
        "--optbench-dtype", default="both", choices=tuple(DTYPE_CHOICES), help="dtypes to time"
    )
    group.addoption("--optbench-threads", type=int, default=None, help="pin BLAS threads")
    group.addoption("--optbench-quick", action="store_true", help="short ceiling budgets")


def pytest_configure(config):
    config.addinivalue_line("markers", "quick: cheap case run by `optbench bench --quick`")
    threads = config.getoption("optbench_threads", default=None)
    if threads is not None:
        if threads < 1:
            raise pytest.UsageError(f"--optbench-threads must be >= 1, got {threads}")
        from threadpoolctl import threadpool_limits

        # Kept in the config's stash so that the limit holds for the whole session.
        config.stash[THREAD_LIMIT] = threadpool_limits(limits=threads, user_api="blas")
    quick = config.getoption("optbench_quick", default=False)
    if cpu_clock(config):  # a thread's CPU time counts no other thread: 1-thread ceilings
        config.stash[CEILINGS] = SessionCeilings(quick, threads=1, timer=time.thread_time)
    else:
        config.stash[CEILINGS] = SessionCeilings(quick)


def cpu_clock(config) -> bool:
    return "thread_time" in str(config.getoption("benchmark_timer", default=""))


@pytest.fixture(scope="session")
def ceilings(request) -> SessionCeilings:
    """The session's ceilings: ``ceilings.memory(n, dtype)``, ``ceilings.compute(dtype)``."""
    return request.config.stash[CEILINGS]


def pytest_generate_tests(metafunc):
    config = metafunc.config
    if "bench_dtype" in metafunc.fixturenames:
        dtypes = DTYPE_CHOICES[config.getoption("optbench_dtype", default="both")]
        metafunc.parametrize("bench_dtype", dtypes)
    if "dense_shape" in metafunc.fixturenames:
        user = parse_shapes(config.getoption("optbench_shapes", default="") or "")
        shapes = list(DEFAULT_SHAPES) + [s for s in user if s not in DEFAULT_SHAPES]
        quick = {DEFAULT_SHAPES[0], *user}
        params = [
            pytest.param(s, id="x".join(map(str, s)), marks=pytest.mark.quick if s in quick else ())
            for s in shapes
        ]
        metafunc.parametrize("dense_shape", params)


@pytest.fixture
def timed(benchmark, request):
    """Time ``target(*setup())`` with ``benchmark.pedantic``; return the last result.

    ``setup() -> tuple`` runs before every round, outside the timed region (it may refresh
    inputs that the target mutates in place). Rounds: ``budget / t1`` clamped to
    ``[min_rounds, MAX_ROUNDS]``, where ``t1`` is one calibration call and ``budget`` is
    ``--benchmark-max-time`` (at least ``min_time`` seconds when given, e.g. for the GEMMs).
    """
    config = request.config
    max_time = float(config.getoption("benchmark_max_time"))
    min_rounds = int(config.getoption("benchmark_min_rounds"))

    def run(target, setup=lambda: (), min_time: float = 0.0):
        args = setup()
        start = time.perf_counter()
        target(*args)
        elapsed = max(time.perf_counter() - start, 1e-7)
        budget = max(max_time, min_time)
        rounds = int(min(MAX_ROUNDS, max(min_rounds, math.ceil(budget / elapsed))))
        return benchmark.pedantic(
            target, setup=lambda: (setup(), {}), rounds=rounds, warmup_rounds=1
        )

    return run


def blas_info() -> list[dict]:
    """The BLAS libraries NumPy loaded, with version and current thread count."""
    from threadpoolctl import threadpool_info

    keys = ("internal_api", "version", "num_threads", "threading_layer", "architecture")
    return [
        {k: lib.get(k) for k in ("prefix", *keys)}
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]


def pytest_benchmark_update_machine_info(config, machine_info):
    libs = blas_info()
    machine_info["blas"] = libs
    machine_info["blas_threads"] = libs[0]["num_threads"] if libs else None
    machine_info["threads_pinned"] = config.getoption("optbench_threads", default=None)
    machine_info["numpy_version"] = np.__version__
    from optbench.benchmarks.environment import cpu_info

    machine_info["optbench_cpu"] = cpu_info()


def pytest_runtest_logreport(report):
    if report.failed:
        FAILED.add(report.nodeid)


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Drop benchmarks whose test failed (e.g. their correctness check); fill derived numbers."""
    kept = [b for b in output_json["benchmarks"] if b["fullname"] not in FAILED]
    output_json["benchmarks"] = kept
    records = config.stash[CEILINGS].finish(kept) if config is not None and kept else []
    fill_derived(kept, records)
    output_json["optbench"] = {
        "statistic": STATISTIC,
        "failed": sorted(FAILED),
        "ceilings": best_candidates(kept, records),
    }
