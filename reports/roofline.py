"""The roofline (Williams, Waterman and Patterson, 2009) of an ``optbench bench`` run.

Arithmetic intensity I = FLOPs / bytes (x, log) against attained GFLOP/s (y, log), one panel
per dtype. A kernel's attainable rate is ``min(P, I B)``: P the session's compute ceiling
(horizontal line), B a memory ceiling (the slanted line ``y = I B``; one per measured size n,
since small arrays stream from cache). Every benchmark with both ``flops`` and ``bytes`` is a
point: the dense forward and backward at each shape (and their two-product bound), the GEMMs,
each optimizer step, the MLP training step. A point above its roof says that a ceiling is wrong
(drawn with a red edge; the table says which).

:func:`roofline_points` and :func:`roofline_ceilings` compute the figure's data from the frame
of :func:`optbench.reports.timing.load_bench`; :func:`plot_roofline` draws it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GROUPS = {  # kind -> (legend label, marker)
    "dense_forward": ("dense forward", "o"),
    "dense_backward": ("dense backward", "s"),
    "two_product_bound": ("two-product bound", "D"),
    "gemm": ("square GEMM", "^"),
    "optimizer_step": ("optimizer step", "v"),
    "mlp_train_step": ("MLP training step", "P"),
}
DTYPE_COLORS = {"float32": "#4477AA", "float64": "#EE6677"}


def roofline_points(df: pd.DataFrame) -> pd.DataFrame:
    """One row per kernel with FLOPs and bytes: ``kind``, ``label``, ``dtype``, ``intensity``
    (FLOP/byte), ``gflops`` (from the minimum time), ``ceiling_wrong``."""
    flops, moved = df["flops"].astype(float), df["bytes"].astype(float)
    keep = (flops > 0) & (moved > 0) & (df["time_min"] > 0)
    rows = df[keep]
    label = rows["variant"].map(lambda v: f"{v} " if v else "") + rows["shape"].astype(str)
    return pd.DataFrame(
        {
            "kind": rows["kind"].to_numpy(),
            "label": label.to_numpy(),
            "dtype": rows["dtype"].to_numpy(),
            "intensity": (flops / moved)[keep].to_numpy(),
            "gflops": (flops / df["time_min"] / 1e9)[keep].to_numpy(),
            "ceiling_wrong": rows["ceiling_wrong"].astype(bool).to_numpy(),
        }
    )


def roofline_ceilings(df: pd.DataFrame) -> pd.DataFrame:
    """One row per ceiling of the run: ``kind``, ``dtype``, ``n``, ``rate`` (GB/s for memory,
    GFLOP/s for compute), ``kernel``."""
    rows = [
        {"kind": c["kind"], "dtype": c["dtype"], "n": c.get("n"), "rate": c["rate"] / 1e9,
         "kernel": c.get("kernel", "")}
        for c in df.attrs.get("ceilings") or []
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["kind", "dtype", "n", "rate", "kernel"])


def plot_roofline(df: pd.DataFrame) -> Figure:
    """The roofline: a panel per dtype, the kernels as points under both ceilings."""
    from optbench.reports.drawing import new_figure

    points, ceilings = roofline_points(df), roofline_ceilings(df)
    dtypes = sorted(set(points["dtype"].dropna()) | set(ceilings["dtype"].dropna())) or [""]
    fig = new_figure((5.2 * len(dtypes), 4.4), layout="constrained")
    axes = fig.subplots(1, len(dtypes), squeeze=False)[0]
    for ax, dtype in zip(axes, dtypes, strict=True):
        _panel(ax, points[points["dtype"] == dtype], ceilings[ceilings["dtype"] == dtype])
        ax.set_title(dtype or "no kernel with FLOPs and bytes", fontsize=10, loc="left")
    axes[0].set_ylabel("attained GFLOP/s (minimum time)")
    handles = [h for ax in axes for h in ax.get_legend_handles_labels()[0]]
    labels = [lab for ax in axes for lab in ax.get_legend_handles_labels()[1]]
    unique = dict(zip(labels, handles, strict=True))
    if unique:
        fig.legend(unique.values(), unique.keys(), loc="outside lower center", ncols=4,
                   fontsize=8)  # fmt: skip
    return fig


def _panel(ax, points: pd.DataFrame, ceilings: pd.DataFrame) -> None:
    compute = ceilings.loc[ceilings["kind"] == "compute", "rate"]
    memory = ceilings[ceilings["kind"] == "memory"].sort_values("n")
    peak = float(compute.max()) if len(compute) else None
    lo, hi = _x_range(points, memory, peak)
    x = np.geomspace(lo, hi, 200)
    for i, (_, m) in enumerate(memory.iterrows()):
        y = x * m["rate"] if peak is None else np.minimum(x * m["rate"], peak)
        style = ("-", "--", ":", "-.")[i % 4]
        ax.plot(x, y, color="#444444", lw=1.0, ls=style,
                label=f"memory ceiling, n = {m['n']:.0e}")  # fmt: skip
        top = peak if peak else x[-1] * m["rate"]
        at = top / (1.5 * 3**i) / m["rate"]  # labels staggered down the roofs: P/1.5, P/4.5
        ax.annotate(f"{m['rate']:.3g} GB/s (n={m['n']:.0e})", (at, at * m["rate"]),
                    fontsize=7, color="#444444", ha="right", va="bottom")  # fmt: skip
    if peak is not None:
        ax.axhline(peak, color="#222222", lw=1.4, label="compute ceiling")
        ax.annotate(f"{peak:.3g} GFLOP/s", (hi, peak), fontsize=7, ha="right", va="bottom")
    for kind, rows in points.groupby("kind", sort=False):
        name, marker = GROUPS.get(kind, (kind.replace("_", " "), "x"))
        color = DTYPE_COLORS.get(str(rows["dtype"].iloc[0]), "#777777")
        edges = np.where(rows["ceiling_wrong"], "#CC0000", "black")
        ax.scatter(rows["intensity"], rows["gflops"], marker=marker, s=28, color=color,
                   edgecolors=edges, linewidths=0.6, label=name, zorder=3)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(*_y_range(points, memory, peak, lo))
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.grid(True, which="major", lw=0.3, alpha=0.5)


def _y_range(points, memory, peak, lo) -> tuple[float, float]:
    """From below the slowest point and the memory roofs' start to above every ceiling."""
    ys = list(points["gflops"]) + [lo * r for r in memory["rate"]]
    tops = ys + ([peak] if peak is not None else [])
    if not ys:
        return (0.1, 10.0) if peak is None else (peak / 1e3, peak * 3)
    return min(ys) / 3, max(tops) * 3


def _x_range(points, memory, peak) -> tuple[float, float]:
    """From below the smallest intensity to beyond the points and every ridge point P / B."""
    xs = list(points["intensity"])
    if peak is not None:
        xs += [peak / r for r in memory["rate"] if r > 0]
    if not xs:
        return 0.01, 100.0
    return min(xs) / 3, max(xs) * 3
