"""The timing section: pytest-benchmark JSON of ``optbench bench`` -> DataFrame, table, figure.

Input contract (docs/contracts.md §5): ``<out>/bench/bench-<UTC time>.json`` as written by
pytest-benchmark, each benchmark's ``extra_info`` carrying ``kind``, ``shape``, ``dtype``,
``runs`` (R, or None without a run axis), ``flops`` and/or ``bytes``, and, filled in by
``benchmarks/suites/conftest.py`` from the session's minimum times and ceilings, ``gflops``,
``gbps``, ``bound_s`` (the roofline bound, ``max(flops / P, bytes / B)``), ``bound_by``,
``x_ceiling``, ``fraction_of_peak`` and ``ratio_to_bound``; the JSON's ``optbench.ceilings``
lists the session's ceilings (``optbench.benchmarks.ceilings``) with the best rate a candidate
reached under each. :func:`load_bench` gives one row per benchmark:

=====================  ==========================================================
column                 meaning
=====================  ==========================================================
suite, name            ``bench_dense``, ``test_dense[2d-float32-64x784x256-dense_backward]``
kind, role             ``dense_backward``; ``bound`` or missing
variant                ``extra_info["optimizer"]`` or ``["variant"]`` (e.g. ``adam``), or ""
shape, dtype, runs     ``"64x784x256"`` (or ``n``), ``"float32"``, R (NaN without a run axis)
time_min, time_median  seconds per call (min, median over ``rounds``)
flops, bytes           work of one call
gflops, gbps           achieved rate, from ``time_min``
bound_s, bound_by      the roofline bound (s) of the session's ceilings, and which one
x_ceiling              ``time_min / bound_s`` (>= 1 unless the ceiling is wrong)
ceiling_wrong          ``time_min < bound_s``: a candidate beat its ceiling
fraction_of_peak       ``bound_s / time_min``, the fraction of the roofline attained
ratio_to_bound         ``time_min`` / ``time_min`` of the matching ``bound`` benchmark
=====================  ==========================================================

``df.attrs``: ``path`` (the JSON), ``datetime``, ``blas`` (library, version and kernel
architecture), ``blas_threads``, ``threads_pinned``, ``timer`` (``perf_counter``, or
``thread_time`` for ``optbench bench --clock cpu``), ``cpu`` (model, vector extensions, cores),
``ceilings`` (the newest run's list). Numbers in the report come from here, never by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

INFO_COLUMNS = (
    "kind", "role", "dtype", "runs", "n", "flops", "bytes", "gflops", "gbps", "bound_s",
    "bound_by", "ratio_to_bound", "run_steps_per_s",
)  # fmt: skip


def find_bench_json(path: str | Path) -> Path | None:
    """``path`` if a file, else the newest ``bench-*.json`` in ``path/bench/`` or ``path``."""
    path = Path(path)
    if path.is_file():
        return path
    for directory in (path / "bench", path):
        candidates = sorted(directory.glob("bench-*.json"))
        if candidates:
            return candidates[-1]
    return None


def load_bench(out_dir: str | Path) -> pd.DataFrame | None:
    """One row per benchmark: from a JSON file, or for a directory the newest result of every
    benchmark over all its runs (``optbench bench --suites optimizers`` after a full run keeps
    the dense cases); None if there is none. Attributes describe the newest run."""
    path = find_bench_json(out_dir)
    if path is None:
        return None
    paths = [path] if Path(out_dir).is_file() else sorted(path.parent.glob("bench-*.json"))
    latest: dict[str, dict] = {}
    for each in paths:  # oldest first: a newer result of the same benchmark replaces it
        for bench in json.loads(each.read_text()).get("benchmarks", []):
            latest.pop(bench["fullname"], None)
            latest[bench["fullname"]] = _row(bench)
    if not latest:
        return None
    data = json.loads(path.read_text())
    df = pd.DataFrame(list(latest.values()))
    machine = data.get("machine_info", {})
    libs = machine.get("blas") or []
    df.attrs.update(
        path=str(path),
        datetime=data.get("datetime"),
        blas=", ".join(_blas(lib) for lib in libs),
        cpu=machine.get("optbench_cpu"),
        ceilings=(data.get("optbench") or {}).get("ceilings") or [],
        blas_threads=machine.get("blas_threads"),
        threads_pinned=machine.get("threads_pinned"),
        timer=(data.get("benchmarks") or [{}])[0].get("options", {}).get("timer"),
    )
    return df


def _blas(lib: dict) -> str:
    """``"openblas 0.3.31 (SapphireRapids kernel)"``."""
    arch = lib.get("architecture")
    return f"{lib.get('internal_api')} {lib.get('version')}" + (f" ({arch} kernel)" if arch else "")


def describe_cpu(cpu: dict | None) -> str:
    """``"Intel(R) Xeon(R) Processor, 2 cores (2 logical); AVX2, AVX-512F, ..."``."""
    if not cpu:
        return "CPU not recorded"
    extensions = ", ".join(cpu.get("vector_extensions") or []) or "no vector extension listed"
    return (
        f"{cpu.get('model') or 'unknown CPU'}, {cpu.get('cores')} cores "
        f"({cpu.get('logical_cpus')} logical); {extensions}"
    )


def _row(bench: dict) -> dict:
    info, stats = bench.get("extra_info", {}), bench["stats"]
    shape = info.get("shape", info.get("n"))
    row = {
        "suite": bench["fullname"].split("::")[0].rsplit("/", 1)[-1].removesuffix(".py"),
        "name": bench["name"],
        "shape": "x".join(map(str, shape)) if isinstance(shape, list | tuple) else shape,
        "time_min": stats["min"],
        "time_median": stats["median"],
        "rounds": stats["rounds"],
    }
    for key in INFO_COLUMNS:
        row[key] = info.get(key)
    row["kind"] = row["kind"] or bench["name"].split("[")[0].removeprefix("test_")
    row["variant"] = str(info.get("optimizer") or info.get("variant") or "")
    row["runs"] = np.nan if row["runs"] is None else row["runs"]
    t, bound = row["time_min"], row["bound_s"]
    for amount, rate in (("flops", "gflops"), ("bytes", "gbps")):
        if row[amount] and t > 0:
            row[rate] = row[amount] / t / 1e9  # from this time (an edited JSON, too)
    has_bound = bound is not None and bound > 0 and t > 0
    row["x_ceiling"] = t / bound if has_bound else np.nan
    row["fraction_of_peak"] = bound / t if has_bound else np.nan
    row["ceiling_wrong"] = bool(has_bound and t < bound)
    return row


def timing_table(df: pd.DataFrame) -> pd.DataFrame:
    """The display table: kind, shape, dtype, R, times (ms), rate, x ceiling (and what bounds
    it), x bound. The rate is in GB/s where memory bounds the kernel, else in GFLOP/s."""
    sweep = df["run_steps_per_s"].astype(float) / 1e6
    gflops, gbps = df["gflops"].astype(float), df["gbps"].astype(float)
    by_memory = (df["bound_by"] == "memory") | gflops.isna()
    rate = gbps.where(by_memory & gbps.notna(), gflops)
    rate = rate.where(rate.notna(), sweep)
    unit = np.where(by_memory & gbps.notna(), "GB/s", np.where(gflops.notna(), "GFLOP/s", ""))
    unit = np.where((unit == "") & sweep.notna(), "M run-steps/s", unit)
    table = pd.DataFrame(
        {
            "benchmark": df["kind"] + df["variant"].map(lambda v: f" [{v}]" if v else ""),
            "shape": df["shape"],
            "dtype": df["dtype"],
            "R": df["runs"].map(lambda r: "-" if pd.isna(r) else str(int(r))),
            "min (ms)": df["time_min"] * 1e3,
            "median (ms)": df["time_median"] * 1e3,
            "rate": rate,
            "unit": unit,
            "x ceiling": df["x_ceiling"].astype(float),
            "bound by": df["bound_by"].fillna("").astype(str),
            "x bound": df["ratio_to_bound"].astype(float),
        }
    )
    table["_size"] = df["shape"].map(_shape_key)
    order = ["benchmark", "_size", "dtype", "R"]
    return table.sort_values(order, kind="stable", ignore_index=True).drop(columns="_size")


def ceilings_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per ceiling of the newest run: what it is, its rate, the kernel that set it, and
    the best rate any candidate reached under it (and which)."""
    rows = []
    for c in df.attrs.get("ceilings") or []:
        scale, unit = (1e9, "GB/s") if c["kind"] == "memory" else (1e9, "GFLOP/s")
        best = c.get("best_rate")
        rows.append(
            {
                "ceiling": c["kind"],
                "dtype": c["dtype"],
                "n": "-" if c.get("n") is None else f"{c['n']:.0e}",
                "rate": c["rate"] / scale,
                "unit": unit,
                "set by": c.get("kernel", ""),
                "rounds": c.get("samples"),
                "best candidate": np.nan if best is None else best / scale,
                "candidate": c.get("best_name") or "",
            }
        )
    columns = ["ceiling", "dtype", "n", "rate", "unit", "set by", "rounds", "best candidate"]
    return pd.DataFrame(rows, columns=[*columns, "candidate"])


def wrong_ceilings(df: pd.DataFrame) -> list[str]:
    """Sentences naming each candidate that beat its ceiling, by how much."""
    rows = df[df["ceiling_wrong"].astype(bool)]
    return [
        f"{r['suite']}::{r['name']} ran at {1 / r['x_ceiling']:.2f}x its {r['bound_by']} "
        f"ceiling ({r['dtype']})"
        for _, r in rows.iterrows()
    ]


def describe(df: pd.DataFrame) -> list[str]:
    """The sentences heading the timing table: machine, BLAS, timer, and any wrong ceiling."""
    pinned = " (pinned)" if df.attrs.get("threads_pinned") else ""
    lines = [
        f"CPU: {describe_cpu(df.attrs.get('cpu'))}.",
        f"BLAS: {df.attrs.get('blas') or 'unknown'}; threads: {df.attrs.get('blas_threads')}"
        f"{pinned}; timer: {df.attrs.get('timer')}; times are per call; rates and ratios use "
        "the minimum. x ceiling = time / roofline bound max(FLOPs / compute ceiling, bytes / "
        "memory ceiling), both ceilings measured in the same session.",
    ]
    wrong = wrong_ceilings(df)
    if wrong:
        lines.append(
            f"CEILING WRONG: {len(wrong)} candidate(s) beat their ceiling, so it was measured "
            f"too low and nothing is judged against it (--compare-fail uses their times alone): "
            + "; ".join(wrong)
            + "."
        )
    return lines


def _shape_key(shape) -> tuple:
    """``"64x784x256"`` -> ``(64, 784, 256)`` for sorting; unparsable shapes sort last."""
    try:
        return tuple(int(p) for p in str(shape).split("x"))
    except ValueError:
        return (float("inf"),)


def format_table(df: pd.DataFrame | None) -> str:
    """:func:`timing_table` as text, headed by :func:`describe`, then :func:`ceilings_table`."""
    if df is None:
        return "No benchmark results."
    head = describe(df)
    body = timing_table(df).to_string(index=False, float_format=_fmt, na_rep="")
    text = "\n".join(head[:2]) + "\n" + body
    ceilings = ceilings_table(df)
    if len(ceilings):
        text += "\n\nCeilings of this session:\n" + ceilings.to_string(
            index=False, float_format=_fmt, na_rep=""
        )
    return text + "".join(f"\n{line}" for line in head[2:])


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def compare_bench(previous: str | Path, current: str | Path) -> pd.DataFrame:
    """The benchmarks two runs share: name, old and new minimum time (s), their change (%),
    the old and new ``x_ceiling``, and the change the gate judges (``judged_pct``, on
    ``judged``): where both runs have a ceiling that no candidate beat, the smaller of the
    changes of the time and of ``x_ceiling`` (a slowdown must show in the time, and not be
    the machine's: a busy machine slows its ceilings too), else the change of the time, saying
    why (the ceiling is wrong, or missing)."""
    old, new = load_bench(previous), load_bench(current)
    columns = ["name", "old_min", "new_min", "change_pct", "old_x", "new_x", "judged",
               "judged_pct"]  # fmt: skip
    if old is None or new is None:
        return pd.DataFrame(columns=columns)
    keys, cols = ["suite", "name"], ["time_min", "x_ceiling", "ceiling_wrong"]
    both = old[[*keys, *cols]].merge(new[[*keys, *cols]], on=keys, suffixes=("_a", "_b"))
    change = 100 * (both["time_min_b"] / both["time_min_a"] - 1)
    x_change = 100 * (both["x_ceiling_b"] / both["x_ceiling_a"] - 1)
    wrong = both["ceiling_wrong_a"].astype(bool) | both["ceiling_wrong_b"].astype(bool)
    on_x = x_change.notna() & ~wrong
    table = pd.DataFrame(
        {
            "name": both["suite"] + "::" + both["name"],
            "old_min": both["time_min_a"],
            "new_min": both["time_min_b"],
            "change_pct": change,
            "old_x": both["x_ceiling_a"],
            "new_x": both["x_ceiling_b"],
            "judged": np.where(on_x, "time and x ceiling",
                               np.where(wrong, "time (ceiling wrong)", "time (no ceiling)")),
            "judged_pct": np.where(on_x, np.fmin(change, x_change), change),
        }
    )  # fmt: skip
    table.attrs["cpus"] = (old.attrs.get("cpu"), new.attrs.get("cpu"))
    return table.sort_values("judged_pct", ascending=False, ignore_index=True)


def different_cpus(old: dict | None, new: dict | None) -> str | None:
    """A warning when two runs' CPUs differ (model, vector extensions or cores), else None."""
    if not old or not new:
        return None
    keys = ("model", "vector_extensions", "cores")
    if all(old.get(k) == new.get(k) for k in keys):
        return None
    return (
        f"the two runs come from different CPUs ({describe_cpu(old)} against "
        f"{describe_cpu(new)}): their times are not comparable"
    )
