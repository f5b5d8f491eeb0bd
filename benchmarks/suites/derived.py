"""Numbers derived from a session's minimum times and ceilings, filled into each benchmark's
``extra_info`` when the JSON is written (``conftest.pytest_benchmark_update_json``):

- ``gflops = flops / t_min / 1e9`` and ``gbps = bytes / t_min / 1e9`` where not set;
- the roofline bound ``bound_s = max(flops / P, bytes / B)``: P the session's compute ceiling
  of the dtype, B its memory ceiling at the benchmark's ``n`` (its largest one of the dtype
  for a benchmark without ``n``, e.g. a dense layer, whose arrays are smaller); ``bound_by``
  says which term is larger (``"memory"`` or ``"compute"``), ``x_ceiling = t_min / bound_s``
  and ``fraction_of_peak = bound_s / t_min`` (of the roofline);
- ``ceiling_wrong``: True when ``t_min < bound_s`` (beyond round-off: a GEMM of the suite is a
  kernel of the compute ceiling, and meets it): a candidate beat a ceiling, so the ceiling was
  measured too low, and nothing is judged against it;
- ``ratio_to_bound = t_min / t_min(bound)``, where the bound is the benchmark with
  ``extra_info["role"] == "bound"`` and the same ``extra_info["bound_key"]`` (the dense
  backward pass against its two bare products).

Ceilings are :meth:`optbench.benchmarks.ceilings.Ceiling.record` dicts (rates in bytes/s and
FLOP/s). :func:`best_candidates` gives, per ceiling, the best rate a candidate reached. The
minimum is used throughout: interference from other processes only ever adds time.
"""

from __future__ import annotations

STATISTIC = "min"


def ceiling_index(ceilings: list[dict]) -> tuple[dict, dict]:
    """``({(n, dtype): bytes/s}, {dtype: FLOP/s})`` of the ceilings' records."""
    memory, compute = {}, {}
    for c in ceilings:
        if c["kind"] == "memory":
            memory[(c["n"], c["dtype"])] = max(memory.get((c["n"], c["dtype"]), 0.0), c["rate"])
        elif c["kind"] == "compute":
            compute[c["dtype"]] = max(compute.get(c["dtype"], 0.0), c["rate"])
    return memory, compute


def bandwidth_for(info: dict, memory: dict) -> float | None:
    """B for a benchmark: at its ``n``, else the largest measured for its dtype."""
    dtype, n = info.get("dtype"), info.get("n")
    if n is not None:
        return memory.get((n, dtype))
    rates = [rate for (_, dt), rate in memory.items() if dt == dtype]
    return max(rates) if rates else None


def roofline_bound(info: dict, memory: dict, compute: dict) -> tuple[float, str] | None:
    """``(bound_s, bound_by)`` of one benchmark's ``extra_info``; None without a ceiling."""
    terms = []
    if info.get("flops") and compute.get(info.get("dtype")):
        terms.append((info["flops"] / compute[info["dtype"]], "compute"))
    bandwidth = bandwidth_for(info, memory) if info.get("bytes") else None
    if bandwidth:
        terms.append((info["bytes"] / bandwidth, "memory"))
    return max(terms) if terms else None


def fill_derived(benches: list[dict], ceilings: list[dict] = ()) -> None:
    """Fill rates, the roofline bound and ``ratio_to_bound`` into each ``extra_info``."""
    memory, compute = ceiling_index(list(ceilings))
    for b in benches:
        info, t = b["extra_info"], b["stats"][STATISTIC]
        for amount, rate in (("flops", "gflops"), ("bytes", "gbps")):
            if info.get(amount) is not None and info.get(rate) is None and t > 0:
                info[rate] = info[amount] / t / 1e9
        bound = roofline_bound(info, memory, compute)
        if bound and t > 0:
            info["bound_s"], info["bound_by"] = bound
            info["x_ceiling"] = t / bound[0]
            info["fraction_of_peak"] = bound[0] / t
            info["ceiling_wrong"] = t < bound[0] * (1 - 1e-9)  # (a ceiling's own kernel: equal)
    bounds = {
        b["extra_info"]["bound_key"]: b["stats"][STATISTIC]
        for b in benches
        if b["extra_info"].get("role") == "bound" and b["extra_info"].get("bound_key")
    }
    for b in benches:
        info = b["extra_info"]
        bound = bounds.get(info.get("bound_key"))
        if bound and info.get("ratio_to_bound") is None:
            info["ratio_to_bound"] = b["stats"][STATISTIC] / bound


def best_candidates(benches: list[dict], ceilings: list[dict]) -> list[dict]:
    """Per ceiling, the best rate (bytes/s or FLOP/s) of the benchmarks it bounds, and whose:
    each ceiling's record plus ``best_rate`` and ``best_name`` (None when none is bounded)."""
    out = []
    for c in ceilings:
        best, name = None, None
        for b in benches:
            info, t = b["extra_info"], b["stats"][STATISTIC]
            if info.get("dtype") != c["dtype"] or not t > 0:
                continue
            if c["kind"] == "compute" and info.get("flops"):
                rate = info["flops"] / t
            elif c["kind"] == "memory" and info.get("bytes") and info.get("n") == c["n"]:
                rate = info["bytes"] / t
            else:
                continue
            if best is None or rate > best:
                best, name = rate, b["name"]
        out.append({**c, "best_rate": best, "best_name": name})
    return out
