"""Figures of the report: each function takes DataFrames and returns a matplotlib Figure.

Inputs are the frames of ``optbench.reports.load_results`` (docs/contracts.md §3) plus the ``tuned``
table of :func:`optbench.reports.tables.tune`. Nothing here reads files or saves (see
:func:`optbench.reports.drawing.save_figure`). Colors come from
:func:`optbench.reports.style.palette`, the same in every figure. Bands are the interquartile range
over seeds; lines the median. A run that diverged counts as ``+inf`` from its divergence step on, so
a median line ends where half the seeds diverged.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from optbench.reports.drawing import band, draw_band, grid, legend, log_panel_title, new_figure
from optbench.reports.style import (
    FLOOR,
    line_style,
    markers,
    method_order,
    objective_label,
    palette,
    tex_safe,
)


def plot_convergence(curves: pd.DataFrame, kinds: pd.Series) -> Figure:
    """Objective (log scale, floored at FLOOR) vs step, one panel per problem.

    ``curves``: the tuned runs' curves with ``method``; ``kinds``: problem -> objective kind.
    """
    frame = curves.assign(
        value=np.where(
            curves["problem"].map(kinds) == "suboptimality", curves["subopt"], curves["loss"]
        )
    )
    frame["value"] = frame["value"].clip(lower=FLOOR)
    stats = band(frame, "value")
    methods = method_order(frame["method"])
    colors, marks = palette(methods), markers(methods)
    problems = list(dict.fromkeys(frame["problem"]))
    fig, axes = grid(len(problems))
    for ax, problem in zip(axes, problems, strict=False):
        for method in methods:
            rows = stats[(stats["problem"] == problem) & (stats["method"] == method)]
            if len(rows):
                draw_band(ax, rows, "step", colors[method], line_style(method), marks[method])
        ax.set(yscale="log", xlabel="step")
        log_panel_title(ax, tex_safe(problem))
        ax.set_ylabel(objective_label(kinds[problem]))
        ax.grid(True, which="major", alpha=0.3)
    marker = Line2D(
        [], [], ls="", marker="X", color="grey", mec="black", label="median diverged here"
    )
    legend(fig, methods, colors, [marker], marks)
    fig.suptitle("Convergence at tuned settings (median over seeds, band = IQR)")
    return fig


def plot_lr_sensitivity(settings: pd.DataFrame, kinds: pd.Series) -> Figure:
    """Median final objective vs lr per method, one panel per problem.

    ``settings``: :func:`optbench.reports.tables.setting_table`. With other hyperparameters in the
    grid, each lr shows its best setting of them. Filled marker: no seed diverged; hollow: some did;
    ``x`` on the top edge: the median over seeds diverged (the setting is kept, not dropped).
    """
    methods = method_order(settings["method"])
    colors = palette(methods)
    best = settings.sort_values("median").groupby(["problem", "method", "lr"]).head(1)
    problems = list(dict.fromkeys(settings["problem"]))
    fig, axes = grid(len(problems))
    for ax, problem in zip(axes, problems, strict=False):
        for i, method in enumerate(methods):
            rows = best[(best["problem"] == problem) & (best["method"] == method)]
            strip_y = 0.895 + 0.095 * (i + 0.5) / len(methods)  # one row per method
            _draw_sensitivity(
                ax, rows.sort_values("lr"), colors[method], strip_y, line_style(method)
            )
        ax.set(xscale="log", yscale="log", xlabel="learning rate lr")
        log_panel_title(ax, tex_safe(problem))
        ax.set_ylabel("final " + objective_label(kinds[problem]))
        ax.grid(True, alpha=0.3)
        _diverged_strip(ax, best.loc[best["problem"] == problem, "median"])
        _lr_limits(ax, best[best["problem"] == problem])
    extra = [
        Line2D([], [], ls="", marker="o", color="grey", label="no seed diverged"),
        Line2D([], [], ls="", marker="o", mfc="white", color="grey", label="some seeds diverged"),
        Line2D([], [], ls="", marker="x", color="grey", mew=2, label="median diverged (top)"),
    ]
    legend(fig, methods, colors, extra)
    fig.suptitle(
        "Learning-rate sensitivity: median final objective over seeds "
        "(best other hyperparameters at each lr)"
    )
    return fig


def _draw_sensitivity(ax, rows: pd.DataFrame, color, strip_y: float, ls: str = "-") -> None:
    """One method's median-vs-lr line: filled / hollow markers for no / some diverged seeds,
    and an ``x`` at height ``strip_y`` (axes fraction) for each lr whose median diverged.
    Empty marker sets are not drawn at all (most methods have no hollow or x marker)."""
    ok = np.isfinite(rows["median"]).to_numpy()
    some = ok & (rows["diverged"] > 0).to_numpy()
    lr, y = rows["lr"].to_numpy(float), rows["median"].clip(lower=FLOOR).to_numpy(float)
    ax.plot(lr[ok], y[ok], color=color, ls=ls, lw=1.5)
    if (ok & ~some).any():
        ax.scatter(lr[ok & ~some], y[ok & ~some], color=color, s=22, zorder=3)
    if some.any():
        ax.scatter(lr[some], y[some], facecolor="white", edgecolor=color, s=28, lw=1.5, zorder=3)
    if (~ok).any():
        ax.scatter(
            lr[~ok], np.full((~ok).sum(), strip_y), transform=ax.get_xaxis_transform(),
            marker="x", color=color, s=36, lw=1.8, zorder=4, clip_on=False,
        )  # fmt: skip


def _lr_limits(ax, rows: pd.DataFrame) -> None:
    """The lr axis of a panel without a finite median (every setting diverged), whose only
    marks sit in the strip, outside the data limits: the range of the lr tried, a factor 2
    wider each side (matplotlib's own limits would include 0, which a log axis cannot show)."""
    lr = rows["lr"].to_numpy(float)
    lr = lr[np.isfinite(lr) & (lr > 0)]
    if lr.size and not np.isfinite(rows["median"].to_numpy(float)).any():
        ax.set_xlim(lr.min() / 2, lr.max() * 2)


def _diverged_strip(ax, medians: pd.Series) -> None:
    """Leave the top 11% of a log y-axis to the diverged markers, above a dashed line."""
    finite = medians[np.isfinite(medians)].clip(lower=FLOOR)
    if finite.empty:
        ax.set_ylim(FLOOR, 1.0)
        finite = pd.Series([FLOOR, 1.0])
    lo, hi = np.log10(finite.min()) - 0.3, np.log10(finite.max()) + 0.3
    ax.set_ylim(10**lo, 10 ** (hi + 0.11 * (hi - lo) / 0.89))
    ax.axhline(10**hi, color="0.5", lw=0.8, ls="--")
    ax.text(
        1.01,
        0.945,
        "diverged",
        rotation=90,
        transform=ax.transAxes,
        ha="left",
        va="center",
        fontsize=7,
        color="0.3",
    )


def _ecdf(ax, steps: np.ndarray, budget: float, color, ls: str = "-", marker=None) -> None:
    """Fraction of (problem, target, seed) triples reached by step s; misses never count, so
    the curve ends below 1 at the budget when some target was missed."""
    if steps.size == 0:
        return
    reached = np.sort(steps[np.isfinite(steps)])
    y = np.arange(1, reached.size + 1) / steps.size
    ax.step(
        np.r_[0, reached, budget],
        np.r_[0, y, y[-1] if y.size else 0],
        where="post",
        color=color,
        ls=ls,
        lw=1.8,
        **({"marker": marker, "markevery": 0.15, "ms": 4.5} if marker else {}),
    )


def plot_ecdf(targets: pd.DataFrame, budget: float) -> Figure:
    """COCO-style fixed-target ECDF of the first step reaching each target, per method.

    ``targets``: the tuned runs' rows of the ``targets`` table, with ``method``; ``budget``:
    the largest step budget (the x-axis ends there). The first panel pools every problem, target
    and seed; then one panel for each of the easiest, a middle and the hardest target.
    """
    methods = method_order(targets["method"])
    colors, marks = palette(methods), markers(methods)
    values = sorted(targets["target"].unique(), reverse=True)
    shown = [values[i] for i in sorted({0, len(values) // 2, len(values) - 1})]
    fig, axes = grid(1 + len(shown), ncols=4, size=(3.9, 3.3))
    subsets = [("all targets pooled", targets)] + [
        (f"target f - f* <= {t:.0e}", targets[targets["target"] == t]) for t in shown
    ]
    for i, (ax, (title, rows)) in enumerate(zip(axes, subsets, strict=False)):
        for method in methods:
            steps = rows.loc[rows["method"] == method, "step"].to_numpy(float)
            _ecdf(ax, steps, budget, colors[method], line_style(method), marks[method])
        ax.set_xscale("symlog", linthresh=1.0, linscale=0.25)
        ax.set(xlim=(0, budget * 1.05), ylim=(0, 1.02), xlabel="step (symlog)", title=title)
        ax.set_ylabel("fraction of runs x targets reached" if i == 0 else "")
        ax.grid(True, alpha=0.3)
    legend(fig, methods, colors, marks=marks)
    fig.suptitle(
        f"Fixed-target ECDF of steps to reach f - f* <= target, over "
        f"{targets['problem'].nunique()} problem(s) and {targets['seed'].nunique()} seed(s)\n"
        "targets (pooled): " + ", ".join(f"{t:.0e}" for t in values)
    )
    return fig


def plot_mlp(curves: pd.DataFrame) -> Figure:
    """Train/test loss (log) and accuracy vs epoch per method; one row per MLP problem."""
    methods = method_order(curves["method"])
    colors, marks = palette(methods), markers(methods)
    problems = list(dict.fromkeys(curves["problem"]))
    panels = [
        ("train_loss", "training loss"),
        ("test_loss", "test loss"),
        ("train_acc", "training accuracy"),
        ("test_acc", "test accuracy"),
    ]
    fig, axes = grid(4 * len(problems), ncols=4, size=(3.6, 3.0))
    for i, problem in enumerate(problems):
        rows = curves[curves["problem"] == problem]
        for j, (column, name) in enumerate(panels):
            ax = axes[4 * i + j]
            stats = band(rows.dropna(subset=[column]), column, x="epoch")
            for method in methods:
                part = stats[stats["method"] == method] if len(stats) else stats
                if len(part):
                    draw_band(ax, part, "epoch", colors[method], line_style(method), marks[method])
            unit = "cross-entropy (nats)" if "loss" in column else "accuracy (fraction correct)"
            title = name if len(problems) == 1 else f"{tex_safe(problem)}\n{name}"
            ax.set(xlabel="epoch", ylabel=unit)
            if "loss" in column:
                ax.set_yscale("log")
                log_panel_title(ax, title)
            else:
                ax.set_title(title)
            ax.grid(True, alpha=0.3)
    legend(fig, methods, colors, marks=marks)
    name = tex_safe(problems[0]) if len(problems) == 1 else "MLP"
    fig.suptitle(f"{name} at tuned settings (median over seeds, band = IQR)")
    return fig


def plot_score_heatmap(score: pd.DataFrame) -> Figure:
    """Heatmap of the normalized score (a problem x method table), problems as rows, with the
    mean over problems as the last row."""
    import seaborn as sns  # here: the other figures do without its import

    table = score[method_order(score.columns)].copy()
    table.loc["mean over problems"] = table.mean(axis=0)
    table.index = [textwrap.shorten(tex_safe(p), 48, placeholder="...") for p in table.index]
    table.columns = [textwrap.shorten(tex_safe(m), 36, placeholder="...") for m in table.columns]
    longest = max(len(str(m)) for m in table.columns)
    slanted = longest > 10  # a user's class name, a reference, a name@hash
    extra = 0.065 * longest if slanted else 0.0  # height for the slanted labels
    # at least 3 inches high: with one problem, a two-line title, the colour bar's label and
    # the axis label leave the cells no room (constrained layout then gives up)
    size = (3.6 + 0.95 * table.shape[1], max(3.0, 1.4 + 0.36 * table.shape[0] + extra))
    fig = new_figure(size)
    ax = fig.subplots()
    sns.heatmap(
        table,
        vmin=0,
        vmax=1,
        cmap="viridis",
        annot=True,
        fmt=".2f",
        ax=ax,
        linewidths=0.5,
        cbar_kws={"label": "normalized score (1 = best on the problem)"},
    )
    ax.axhline(table.shape[0] - 1, color="white", lw=3)
    ax.set(xlabel="optimizer", ylabel="")
    ax.tick_params(axis="y", rotation=0)
    if slanted:
        for label in ax.get_xticklabels():
            label.set(rotation=35, ha="right", rotation_mode="anchor")
    ax.set_title("Normalized score: fraction of the best\noptimizer's log10-progress from f0")
    return fig


def plot_profiles(ratios: pd.DataFrame, tau_max: float = 4.0) -> Figure:
    """Dolan–Moré performance profiles ``rho(tau)`` (log ``tau``), one panel per target level.

    ``ratios``: :func:`optbench.reports.profiles.ratios`, ``(target, problem) x method``
    ratios (``+inf``: not solved), the problems no method solves already left out. A dotted
    line marks ``tau_max``, where AlgoPerf's score stops integrating.
    """
    methods = method_order(ratios.columns)
    colors, marks = palette(methods), markers(methods)
    levels = list(dict.fromkeys(ratios.index.get_level_values("target")))
    finite = ratios.to_numpy(float)[np.isfinite(ratios.to_numpy(float))]
    upper = max(2.0 * tau_max, 1.5 * float(finite.max()) if finite.size else 1.0)
    fig, axes = grid(len(levels), ncols=4, size=(3.6, 3.0))
    for i, (ax, level) in enumerate(zip(axes, levels, strict=False)):
        part = ratios.xs(level, level="target")
        for method in methods:
            r = part[method].to_numpy(float)
            tau = np.unique(np.r_[1.0, r[np.isfinite(r)], upper])
            y = (r[:, None] <= tau[None, :]).mean(axis=0)
            ax.step(tau, y, where="post", color=colors[method], ls=line_style(method), lw=1.8,
                    **({"marker": marks[method], "ms": 4} if marks[method] else {}))  # fmt: skip
        ax.axvline(tau_max, color="0.4", ls=":", lw=1)
        ax.set(xscale="log", xlim=(1.0, upper), ylim=(-0.02, 1.02), xlabel="tau (ratio to the "
               "fastest)", title=f"f - f* <= {level:.0e} ({len(part)} problems)")  # fmt: skip
        ax.set_ylabel("fraction of problems, r <= tau" if i % 4 == 0 else "")
        ax.grid(True, which="major", alpha=0.3)
    extra = [Line2D([], [], color="0.4", ls=":", label=f"tau = {tau_max:g} (AlgoPerf's limit)")]
    legend(fig, methods, colors, extra, marks)
    fig.suptitle("Performance profiles on steps to target (median over seeds, tuned settings)")
    return fig
