"""Drawing helpers shared by the report's figures: panel grids, the method legend, median +
IQR bands over seeds, and saving a figure as PNG and SVG (the only function here that writes).

A diverged run counts as ``+inf`` from its last record on (docs/contracts.md §3: diverged runs
keep their curve up to the divergence step), so a median line ends where half the seeds
diverged, and an upper quartile of ``+inf`` leaves the band open to the top.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from optbench.reports.style import line_style, tex_safe

_HUGE = 1e300  # stands in for +inf inside np.nanquantile; quantiles >= _HUGE / 4 are inf


def save_figure(fig, directory: Path, name: str) -> list[Path]:
    """Write ``fig`` as ``<directory>/<name>.png`` (150 dpi) and ``.svg``; close it.

    The PNG is reduced to an adaptive 256-colour palette (:func:`quantize_png`): line plots and
    contour fills lose nothing visible, and the self-contained HTML page that embeds it gets
    about 2.5x lighter (a phone downloads ~2 MB, not ~5 MB, for the default matrix).
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{name}.png", directory / f"{name}.svg"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    plt.close(fig)
    quantize_png(paths[0])
    return paths


def quantize_png(path: Path, colors: int = 256) -> None:
    """Rewrite the PNG at ``path`` with an adaptive palette of ``colors`` colours."""
    from PIL import Image

    with Image.open(path) as image:
        palette_image = image.convert("RGB").quantize(colors)
    palette_image.save(path)


def band(curves: pd.DataFrame, value: str, x: str = "step") -> pd.DataFrame:
    """Median and IQR over runs of ``value`` at each ``x``, per (problem, method).

    Runs are aligned on ``x``; after a diverged run's last record its value is ``+inf``.
    Returns columns ``problem, method, x, median, q25, q75``.
    """
    out = []
    for (problem, method), rows in curves.groupby(["problem", "method"], sort=False):
        wide = rows.pivot_table(index=x, columns="run_id", values=value, aggfunc="first")
        diverged = rows.groupby("run_id")["status"].first().eq("diverged")
        wide = wide.ffill()
        for run_id in diverged[diverged].index.intersection(wide.columns):
            last = rows.loc[rows["run_id"] == run_id, x].max()
            wide.loc[wide.index > last, run_id] = np.inf
        values = np.nan_to_num(wide.to_numpy(float), nan=np.nan, posinf=_HUGE)
        q = np.nanquantile(values, [0.5, 0.25, 0.75], axis=1)
        q = np.where(q >= _HUGE / 4, np.inf, q)
        out.append(
            pd.DataFrame(
                {
                    "problem": problem,
                    "method": method,
                    x: wide.index,
                    "median": q[0],
                    "q25": q[1],
                    "q75": q[2],
                }
            )
        )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def grid(n: int, ncols: int = 3, size=(4.3, 3.3)):
    """A constrained-layout figure with ``n`` visible panels of ``size`` inches, ``ncols``
    per row; returns ``(fig, axes)``."""
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size[0] * ncols, size[1] * nrows),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def legend(fig, methods, colors, extra=()):
    """One legend below the panels: a line per method in its color, then ``extra`` handles."""
    handles = [
        plt.Line2D([], [], color=colors[m], ls=line_style(m), lw=2, label=tex_safe(m))
        for m in methods
    ]
    fig.legend(
        handles=[*handles, *extra],
        loc="outside lower center",
        ncol=min(len(handles) + len(extra), 7),
        frameon=False,
    )


def draw_band(ax, frame, x, color, ls="-"):
    """Median line and IQR band of a :func:`band` frame; an X where the median diverged."""
    finite = np.isfinite(frame["median"])
    ax.plot(frame[x][finite], frame["median"][finite], color=color, ls=ls, lw=1.8)
    ax.fill_between(
        frame[x], frame["q25"], frame["q75"].replace(np.inf, np.nan), color=color, alpha=0.2, lw=0
    )
    if not finite.all() and finite.any():
        last = frame[finite].iloc[-1]
        ax.plot(last[x], last["median"], marker="X", ms=9, color=color, mec="black", mew=0.6)
