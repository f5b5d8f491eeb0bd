"""The timing section: pytest-benchmark JSON of ``optbench bench`` -> DataFrame, table, figure.

Input contract (docs/contracts.md §5): ``<out>/bench/bench-<UTC time>.json`` as written by
pytest-benchmark, each benchmark's ``extra_info`` carrying ``kind``, ``shape``, ``dtype``,
``runs`` (R, or None without a run axis), ``flops`` or ``bytes``, and, filled in by
``benchmarks/suites/conftest.py`` from the session's minimum times, ``gflops`` or ``gbps``,
``fraction_of_peak`` and ``ratio_to_bound``. :func:`load_bench` gives one row per benchmark:

=====================  ==========================================================
column                 meaning
=====================  ==========================================================
suite, name            ``bench_dense``, ``test_dense[2d-float32-64x784x256-dense_backward]``
kind, role             ``dense_backward``; ``peak`` / ``bound`` / missing
variant                ``extra_info["optimizer"]`` or ``["variant"]`` (e.g. ``adam``), or ""
shape, dtype, runs     ``"64x784x256"`` (or ``n``), ``"float32"``, R (NaN without a run axis)
time_min, time_median  seconds per call (min, median over ``rounds``)
flops, bytes           work of one call
gflops, gbps           achieved rate, from ``time_min``
fraction_of_peak       rate / best rate of the ``peak`` benchmarks (same dtype, unit)
ratio_to_bound         ``time_min`` / ``time_min`` of the matching ``bound`` benchmark
=====================  ==========================================================

``df.attrs``: ``path`` (the JSON), ``datetime``, ``blas`` (library and version),
``blas_threads``, ``threads_pinned``, ``timer`` (``perf_counter``, or ``thread_time`` for
``optbench bench --clock cpu``). Numbers in the report come from here, never by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INFO_COLUMNS = (
    "kind", "role", "dtype", "runs", "flops", "bytes", "gflops", "gbps",
    "fraction_of_peak", "ratio_to_bound", "run_steps_per_s",
)  # fmt: skip
KIND_ORDER = ("dense_backward", "two_product_bound", "dense_forward", "gemm")
DTYPE_COLORS = {"float32": "#4477AA", "float64": "#EE6677"}


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
        blas=", ".join(f"{lib.get('internal_api')} {lib.get('version')}" for lib in libs),
        blas_threads=machine.get("blas_threads"),
        threads_pinned=machine.get("threads_pinned"),
        timer=(data.get("benchmarks") or [{}])[0].get("options", {}).get("timer"),
    )
    return df


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
    return row


def timing_table(df: pd.DataFrame) -> pd.DataFrame:
    """The display table: kind, shape, dtype, R, times (ms), rate, % of peak, x bound."""
    sweep = df["run_steps_per_s"].astype(float) / 1e6
    rate = df["gflops"].astype(float).where(df["gflops"].notna(), df["gbps"].astype(float))
    rate = rate.where(rate.notna(), sweep)
    unit = np.where(df["gflops"].notna(), "GFLOP/s", np.where(df["gbps"].notna(), "GB/s", ""))
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
            "% of peak": 100 * df["fraction_of_peak"].astype(float),
            "x bound": df["ratio_to_bound"].astype(float),
        }
    )
    table["_size"] = df["shape"].map(_shape_key)
    order = ["benchmark", "_size", "dtype", "R"]
    return table.sort_values(order, kind="stable", ignore_index=True).drop(columns="_size")


def _shape_key(shape) -> tuple:
    """``"64x784x256"`` -> ``(64, 784, 256)`` for sorting; unparsable shapes sort last."""
    try:
        return tuple(int(p) for p in str(shape).split("x"))
    except ValueError:
        return (float("inf"),)


def format_table(df: pd.DataFrame | None) -> str:
    """:func:`timing_table` as text, headed by the BLAS library and thread count."""
    if df is None:
        return "No benchmark results."
    head = (
        f"BLAS: {df.attrs.get('blas') or 'unknown'}; threads: {df.attrs.get('blas_threads')}"
        f"{' (pinned)' if df.attrs.get('threads_pinned') else ''}; "
        f"timer: {df.attrs.get('timer')}; times are per call; rates and ratios use the minimum"
    )
    body = timing_table(df).to_string(index=False, float_format=_fmt, na_rep="")
    above = (df["fraction_of_peak"].astype(float) > 1.0) & (df["role"] != "peak")
    note = (
        f"\nNote: {int(above.sum())} rate(s) exceed the measured peak, so the machine was busier "
        "while the peak was measured; rerun on a quieter machine, or with --threads 1 --clock cpu."
    )
    return f"{head}\n{body}{note if above.any() else ''}"


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def plot_fraction_of_peak(df: pd.DataFrame) -> Figure:
    """Bar chart of the fraction of measured peak per shape (and R), one panel per kind."""
    from optbench.reports.drawing import new_figure

    data = df[df["fraction_of_peak"].notna()].copy()
    if data.empty:
        raise ValueError("df: no benchmark has a fraction_of_peak (was a peak benchmark run?)")
    data["label"] = data["variant"].map(lambda v: f"{v} " if v else "") + data["shape"].astype(str)
    data["label"] += np.where(
        data["runs"].notna(), " R=" + data["runs"].map(lambda r: f"{r:.0f}"), ""
    )
    seen = list(dict.fromkeys(data["kind"]))
    kinds = [k for k in KIND_ORDER if k in seen] + [k for k in seen if k not in KIND_ORDER]
    dtypes = sorted(data["dtype"].dropna().unique())
    heights = [0.9 + 0.28 * data.loc[data["kind"] == k, "label"].nunique() for k in kinds]
    fig = new_figure((7.0, sum(heights)), layout="tight")
    axes = fig.subplots(
        len(kinds), 1, squeeze=False, sharex=True, gridspec_kw={"height_ratios": heights}
    )
    width = 0.8 / max(len(dtypes), 1)
    for ax, kind in zip(axes[:, 0], kinds, strict=True):
        rows = data[data["kind"] == kind]
        labels = list(dict.fromkeys(rows["label"]))
        y = {label: i for i, label in enumerate(labels)}
        for j, dtype in enumerate(dtypes):
            sub = rows[rows["dtype"] == dtype]
            pos = [y[label] + (j - (len(dtypes) - 1) / 2) * width for label in sub["label"]]
            color = DTYPE_COLORS.get(dtype, "#777777")
            ax.barh(pos, sub["fraction_of_peak"], height=width, color=color, label=dtype)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.axvline(1.0, color="#333333", lw=0.8, ls="--")
        ax.set_title(kind.replace("_", " "), fontsize=10, loc="left")
    axes[0, 0].set_xlim(0, max(1.05, 1.05 * float(data["fraction_of_peak"].max())))
    axes[-1, 0].set_xlabel("fraction of measured peak (square GEMM FLOP/s, or peak bandwidth)")
    axes[0, 0].legend(loc="lower right", fontsize=8)
    return fig


def compare_bench(previous: str | Path, current: str | Path) -> pd.DataFrame:
    """Minimum times of the benchmarks two runs share: name, old, new (s), change_pct."""
    old, new = load_bench(previous), load_bench(current)
    if old is None or new is None:
        return pd.DataFrame(columns=["name", "old_min", "new_min", "change_pct"])
    keys = ["suite", "name"]
    both = old[[*keys, "time_min"]].merge(new[[*keys, "time_min"]], on=keys, suffixes=("_a", "_b"))
    table = pd.DataFrame(
        {
            "name": both["suite"] + "::" + both["name"],
            "old_min": both["time_min_a"],
            "new_min": both["time_min_b"],
            "change_pct": 100 * (both["time_min_b"] / both["time_min_a"] - 1),
        }
    )
    return table.sort_values("change_pct", ascending=False, ignore_index=True)
