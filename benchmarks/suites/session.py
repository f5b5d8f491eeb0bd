"""The ceilings of one ``optbench bench`` session (:mod:`optbench.benchmarks.ceilings`).

A ceiling is measured the first time a suite asks for it (``ceilings.memory(n, dtype)`` right
before the first step of that size, ``ceilings.compute(dtype)`` before the first dense case),
and measured again when the JSON is written, for every (n, dtype) and dtype that a benchmark
needs; each kernel keeps its best rate over both. So a ceiling is taken in the same session
as what it bounds, at its start and at its end. The suite's own GEMMs (``bench_gemm``, the
benchmarks of ``kind`` "gemm") are kernels of the compute ceiling too: they are GEMMs, timed
longer than a ceiling round, and a GEMM cannot be a candidate that beats the best GEMM.
"""

from __future__ import annotations

import time

from optbench.benchmarks import ceilings as C

#: (rounds at least, seconds at least) per measurement, by ``quick``.
MEMORY_BUDGET = {False: (5, 1.5), True: (3, 0.3)}
COMPUTE_BUDGET = {False: (5, 1.5), True: (3, 0.3)}
#: The size of the memory ceiling drawn on the roofline when no step was timed.
DEFAULT_N = {False: 10_000_000, True: 1_000_000}


class SessionCeilings:
    """The session's ceilings; ``threads`` "all threads" (1 under a CPU-time clock, with
    ``timer`` that clock), ``quick`` the smaller budget."""

    def __init__(self, quick=False, threads=None, timer=time.perf_counter):
        self.quick, self.threads, self.timer = bool(quick), threads, timer
        self.memory_ceilings: dict[tuple[int, str], C.Ceiling] = {}
        self.compute_ceilings: dict[str, C.Ceiling] = {}

    def memory(self, n: int, dtype: str) -> C.Ceiling:
        key = (int(n), str(dtype))
        if key not in self.memory_ceilings:
            ceiling = C.memory_ceiling(key[0], key[1], threads=self.threads)
            self.memory_ceilings[key] = self._measure(ceiling, MEMORY_BUDGET)
        return self.memory_ceilings[key]

    def compute(self, dtype: str) -> C.Ceiling:
        if dtype not in self.compute_ceilings:
            gemms = C.QUICK_GEMMS if self.quick else C.GEMMS
            ceiling = C.compute_ceiling(dtype, gemms, threads=self.threads)
            self.compute_ceilings[dtype] = self._measure(ceiling, COMPUTE_BUDGET)
        return self.compute_ceilings[dtype]

    def _measure(self, ceiling: C.Ceiling, budget: dict) -> C.Ceiling:
        rounds, seconds = budget[self.quick]
        return ceiling.measure(rounds, seconds, timer=self.timer)

    def finish(self, benches: list[dict]) -> list[dict]:
        """Measure every ceiling the benchmarks need (again, if measured already); records."""
        dtypes = sorted({b["extra_info"].get("dtype") for b in benches} - {None})
        sizes = {(info["n"], info["dtype"]) for info in (b["extra_info"] for b in benches)
                 if info.get("n") and info.get("bytes") and info.get("dtype")}  # fmt: skip
        measured = set(self.memory_ceilings) | set(self.compute_ceilings)
        for dtype in dtypes:
            if not any(dt == dtype for _, dt in sizes):
                sizes.add((DEFAULT_N[self.quick], dtype))
        for n, dtype in sorted(sizes):
            ceiling = self.memory(n, dtype)
            if (n, dtype) in measured:
                self._measure(ceiling, MEMORY_BUDGET)
        for dtype in dtypes:
            ceiling = self.compute(dtype)
            if dtype in measured:
                self._measure(ceiling, COMPUTE_BUDGET)
        for b in benches:  # the suite's GEMMs: kernels of the compute ceiling (docstring)
            info, t = b["extra_info"], b["stats"]["min"]
            ceiling = self.compute_ceilings.get(info.get("dtype"))
            if info.get("kind") == "gemm" and info.get("flops") and t > 0 and ceiling:
                label = f"{b['name']} (the suite's)"
                ceiling.kernels[label] = max(ceiling.kernels.get(label, 0.0), info["flops"] / t)
        return self.records()

    def records(self) -> list[dict]:
        every = [*self.memory_ceilings.values(), *self.compute_ceilings.values()]
        return [c.record() for c in every]
