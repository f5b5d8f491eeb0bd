"""Figures about the geometry of the problems: 2-D trajectories and the condition number.

- :func:`plot_trajectories` draws every method's path (the ``paths`` table, tuned settings, one
  seed shared by all methods, hence one start) over the contour plot of each 2-D problem. The
  background is computed, not read: :func:`problem_landscape` evaluates the problem's exact loss
  on a grid through ``optbench.problems.REGISTRY[problem_name](**problem_config).evaluate``.
- :func:`plot_condition` compares the measured linear rate on the noise-free quadratics
  (:func:`optbench.reports.conditioning.condition_table`) with theory at condition number
  ``k``: the optimal ``1 - rho`` of gradient descent ``2/(k + 1)``, of heavy ball (Polyak)
  ``2/(sqrt k + 1)`` and of Nesterov ``2/sqrt(3k + 1)``, each measured point labelled with its
  fraction of its method's optimum, and hollow when its budget was too short to show the
  asymptotic rate.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from optbench.reports.conditioning import optimal_gap
from optbench.reports.drawing import grid, legend, log_panel_title, new_figure
from optbench.reports.style import line_style, method_order, palette, tex_safe

Landscape = Callable[[str, str], tuple[Callable[[np.ndarray], np.ndarray], np.ndarray | None]]


def problem_landscape(problem_name: str, problem_config: str):
    """``(f, x_star)``: ``f(X)`` the exact loss at points ``X: (R, 2)``; ``x_star`` or None.
    ``(None, None)`` when optbench cannot build the problem from its record (not one of its
    own, or arguments this version does not take): the paths are then drawn without
    contours. A user's problem is never imported here (the report only reads the store)."""
    from optbench.problems import REGISTRY

    try:
        problem = REGISTRY[problem_name](**json.loads(problem_config))
    except (KeyError, TypeError, ValueError):
        return None, None

    def f(points: np.ndarray) -> np.ndarray:
        return np.asarray(problem.evaluate([np.ascontiguousarray(points)])["loss"], float)

    return f, problem.x_star


def _bounds(points: np.ndarray, x_star) -> tuple[np.ndarray, np.ndarray]:
    """Plot box: every finite iterate, the start and ``x_star``, padded by 12%; if some path
    flies off (span > 20x that of start and minimizer), the box is cut to its 2-98% quantiles."""
    finite = points[np.isfinite(points).all(axis=1)]
    anchor = finite[:1] if x_star is None else np.vstack([finite[:1], np.asarray(x_star)[:2]])
    lo, hi = finite.min(axis=0), finite.max(axis=0)
    core = np.ptp(anchor, axis=0).max() + 1.0
    if np.max(hi - lo) > 20 * core:
        lo, hi = np.quantile(finite, 0.02, axis=0), np.quantile(finite, 0.98, axis=0)
    lo, hi = np.minimum(lo, anchor.min(axis=0)), np.maximum(hi, anchor.max(axis=0))
    pad = max(0.12 * float(np.max(hi - lo)), 0.1)
    return lo - pad, hi + pad


def _contour(ax, f, lo, hi, n: int = 160):
    xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    gx, gy = np.meshgrid(xs, ys)
    values = f(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    shifted = values - np.nanmin(values) + 1e-3 * (np.nanmax(values) - np.nanmin(values) + 1e-12)
    norm = LogNorm(vmin=np.nanmin(shifted), vmax=np.nanmax(shifted))
    levels = np.geomspace(norm.vmin, norm.vmax, 18)
    ax.contourf(gx, gy, shifted, levels=levels, norm=norm, cmap="Greys_r", alpha=0.35)
    ax.contour(gx, gy, shifted, levels=levels, norm=norm, colors="0.45", linewidths=0.5)


def _start_text(rows: pd.DataFrame) -> str:
    start = rows.sort_values("step").iloc[0]
    return f"{start['x0']:.3g}, {start['x1']:.3g}"


def _draw_paths(ax, rows: pd.DataFrame, f, x_star, colors: dict[str, str]) -> None:
    """Contours of ``f`` under every method's path in ``rows`` (one seed), the start and x*."""
    lo, hi = _bounds(rows.sort_values("step")[["x0", "x1"]].to_numpy(float), x_star)
    if f is not None:
        _contour(ax, f, lo, hi)
    for method in method_order(rows["method"]):  # fixed draw order: adam on top
        part = rows[rows["method"] == method].sort_values("step")
        ax.plot(part["x0"], part["x1"], marker="o", ls=line_style(method), color=colors[method],
                lw=1.3, ms=2.0, alpha=0.9)  # fmt: skip
    start = rows.sort_values("step").iloc[0]
    ax.plot(start["x0"], start["x1"], "o", ms=8, mfc="white", mec="black")
    if x_star is not None:
        ax.plot(*np.asarray(x_star)[:2], "*", ms=14, color="gold", mec="black")
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel="$x_0$", ylabel="$x_1$")


def plot_trajectories(
    paths: pd.DataFrame,
    runs: pd.DataFrame,
    objective: str,
    landscape: Landscape = problem_landscape,
) -> Figure:
    """Paths of the tuned runs of one seed over each 2-D problem's contours.

    ``paths``: tuned runs' rows of the ``paths`` table with ``method``; ``runs``: the runs table
    (for ``problem_name``, ``problem_config`` and ``problem_ref``: a user's problem, drawn
    without contours); ``objective``: the tuning rule, printed.
    """
    methods = method_order(paths["method"])
    colors = palette(methods)
    problems = list(dict.fromkeys(paths["problem"]))
    fig, axes = grid(len(problems), ncols=2, size=(5.2, 4.6))
    info = runs.drop_duplicates("problem").set_index("problem")
    for ax, problem in zip(axes, problems, strict=False):
        rows = paths[paths["problem"] == problem]
        seeds = rows.groupby("seed")["method"].nunique()
        seed = seeds[seeds == seeds.max()].index.min()
        rows = rows[rows["seed"] == seed].sort_values("step")
        users = "problem_ref" in info.columns and pd.notna(info.at[problem, "problem_ref"])
        name, config = info.at[problem, "problem_name"], info.at[problem, "problem_config"]
        f, x_star = (None, None) if users else landscape(name, config)
        _draw_paths(ax, rows, f, x_star, colors)
        ax.set_title(f"{tex_safe(problem)}\nseed {seed}, start ({_start_text(rows)})", fontsize=9)
    marks = [
        Line2D([], [], ls="", marker="o", ms=8, mfc="white", mec="black", label="start"),
        Line2D([], [], ls="", marker="*", ms=12, color="gold", mec="black", label="a minimizer x*"),
    ]
    legend(fig, methods, colors, marks)
    fig.suptitle(
        "Trajectories at tuned settings (no gradient clipping). Tuned by: " + objective,
        fontsize=10,
        wrap=True,
    )
    return fig


THEORY = (  # (form, line style, label): the optima of optbench.reports.conditioning
    ("gd", "--", r"GD optimum $2/(k+1)$"),
    ("heavy_ball", ":", r"heavy ball optimum $2/(\sqrt{k}+1)$"),
    ("nesterov", "-.", r"Nesterov optimum $2/\sqrt{3k+1}$"),
)


def plot_condition(table: pd.DataFrame) -> Figure:
    """``1 - rho`` vs condition number (log-log), measured per method, with the optimal rates of
    gradient descent, heavy ball and Nesterov. A method with a bound is labelled with its
    measured fraction of it; a hollow marker is a rate that is not asymptotic (the runs did not
    reach the fit's cut within their budget), and the caption says which budgets were short."""
    methods = method_order(table["method"])
    colors = palette(methods)
    fig = new_figure((8.6, 5.2))
    ax = fig.subplots()
    k = np.geomspace(1.0, max(10.0, table["kappa"].max() * 2), 200)
    theory = []
    for form, ls, label in THEORY:
        ax.plot(k, [optimal_gap(form, x) for x in k], color="black", ls=ls, lw=1)
        theory.append(Line2D([], [], color="black", ls=ls, label=label))
    families = sorted(table["family"].unique(), key=lambda f: -table["family"].eq(f).sum())
    markers = dict(zip(families, "os^Dv<>p" * 4, strict=False))
    for (method, family), part in table.groupby(["method", "family"]):
        part = part.sort_values("kappa")
        gap = (1 - part["rho"]).where(lambda g: g > 0)  # rho >= 1: no linear convergence
        ax.plot(part["kappa"], gap, ls=line_style(method), marker=markers[family],
                color=colors[method])  # fmt: skip
        short = ~part.get("asymptotic", pd.Series(True, part.index)).astype(bool)
        ax.plot(part["kappa"][short], gap[short], ls="", marker=markers[family], mfc="white",
                color=colors[method])  # fmt: skip
        for x, y, f in zip(part["kappa"], gap, part.get("fraction", gap * np.nan), strict=True):
            if np.isfinite(f) and np.isfinite(y):
                ax.annotate(f"{f:.0%}", (x, y), xytext=(4, 3), textcoords="offset points",
                            fontsize=7, color=colors[method])  # fmt: skip
    shapes = [Line2D([], [], ls="", marker=markers[f], color="grey", label=tex_safe(f))
              for f in families]  # fmt: skip
    hollow = Line2D([], [], ls="", marker="o", mfc="white", color="grey", label="not asymptotic")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=r"condition number $k = L/\mu$",
        ylabel=r"$1-\rho$  ($\rho$: per-step contraction of $\|x - x^*\|$)",
    )
    ax.grid(True, which="both", alpha=0.3)
    handles = [Line2D([], [], color=colors[m], ls=line_style(m), lw=2, label=tex_safe(m))
               for m in methods]  # fmt: skip
    fig.legend(handles=[*handles, *theory, *shapes, hollow], loc="outside right center",
               frameon=False)  # fmt: skip
    fig.supxlabel(textwrap.fill(tex_safe(condition_caption(table)), 150), fontsize=7, x=0.01,
                  ha="left")  # fmt: skip
    log_panel_title(ax, "Linear convergence rate on noise-free quadratics (higher = faster)")
    return fig


def condition_caption(table: pd.DataFrame) -> str:
    """What the percentages mean, and which points the budget was too short for."""
    text = ("Percent: measured 1 - rho over the method's optimum (tuned lr and momentum). Rate "
            "fitted on the later half of the curve before f - f* < 1e-24 (f_0 - f*).")  # fmt: skip
    if "asymptotic" not in table:
        return text
    short = table[~table["asymptotic"].astype(bool)]
    if short.empty:
        return text
    notes = []
    for _, row in short.sort_values(["kappa", "method"]).iterrows():
        need = row.get("steps_at_bound", np.nan)
        why = (f"even the optimal rate needs {need:,.0f}" if np.isfinite(need)
               and need > row["budget"] else "the runs did not get there")  # fmt: skip
        notes.append(f"{row['method']} at k={row['kappa']:g} ({row['budget']:,} steps; {why})")
    return f"{text} Budget too short for the asymptotic rate: {'; '.join(notes)}."
