"""Numbers derived from a session's minimum times, filled into each benchmark's ``extra_info``
when the JSON is written (``conftest.pytest_benchmark_update_json``):

- ``gflops = flops / t_min / 1e9`` (or ``gbps = bytes / t_min / 1e9``) when not set;
- ``fraction_of_peak = rate / peak``, with ``peak`` the best rate, in the same unit and dtype,
  among the benchmarks whose ``extra_info["role"] == "peak"`` (square GEMM for FLOP/s);
- ``ratio_to_bound = t_min / t_min(bound)``, where the bound is the benchmark with
  ``extra_info["role"] == "bound"`` and the same ``extra_info["bound_key"]``.

The minimum is used throughout: interference from other processes only ever adds time.
"""

from __future__ import annotations

STATISTIC = "min"


def fill_derived(benches: list[dict]) -> None:
    """Fill rate, ``fraction_of_peak`` and ``ratio_to_bound`` into each ``extra_info``."""
    for b in benches:
        info, t = b["extra_info"], b["stats"][STATISTIC]
        for amount, rate in (("flops", "gflops"), ("bytes", "gbps")):
            if info.get(amount) is not None and info.get(rate) is None and t > 0:
                info[rate] = info[amount] / t / 1e9
    peaks: dict[tuple[str, str], float] = {}
    bounds: dict[str, float] = {}
    for b in benches:
        info = b["extra_info"]
        if info.get("role") == "peak":
            for rate in ("gflops", "gbps"):
                if info.get(rate) is not None:
                    key = (rate, info.get("dtype"))
                    peaks[key] = max(peaks.get(key, 0.0), info[rate])
        if info.get("role") == "bound" and info.get("bound_key"):
            bounds[info["bound_key"]] = b["stats"][STATISTIC]
    for b in benches:
        info = b["extra_info"]
        for rate in ("gflops", "gbps"):
            peak = peaks.get((rate, info.get("dtype")))
            if info.get(rate) is not None and peak and info.get("fraction_of_peak") is None:
                info["fraction_of_peak"] = info[rate] / peak
        bound = bounds.get(info.get("bound_key"))
        if bound and info.get("ratio_to_bound") is None:
            info["ratio_to_bound"] = b["stats"][STATISTIC] / bound
