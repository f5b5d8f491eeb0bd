"""Drawing helpers shared by the report's figures: panel grids, the method legend, median +
IQR bands over seeds, and saving a figure as PNG (and SVG on request; the only function here
that writes).

Figures are plain :class:`matplotlib.figure.Figure` objects with their own Agg canvas
(:func:`new_figure`), never pyplot's: drawing them switches no backend and registers nothing
with pyplot, so a notebook that imports the report keeps its own backend.

A diverged run counts as ``+inf`` from its last record on (docs/contracts.md §3: diverged runs
keep their curve up to the divergence step), so a median line ends where half the seeds
diverged, and an upper quartile of ``+inf`` leaves the band open to the top.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import LogFormatter, NullLocator

from optbench.reports.style import line_style, tex_safe

_HUGE = 1e300  # stands in for +inf inside the quantiles; quantiles >= _HUGE / 4 are inf
DPI = 150  # of the PNG files


def save_figure(fig: Figure, directory: Path, name: str, svg: bool = False) -> list[Path]:
    """Write ``fig`` as ``<directory>/<name>.png`` (150 dpi), and as ``.svg`` if ``svg``.

    The pixels are those of ``fig.savefig(path, dpi=150, bbox_inches="tight")``, for less
    work: the figure is laid out once and its layout engine then switched off, so each file
    costs one draw (``savefig`` lays out again for every file and draws twice, a first pass to
    settle the layout and find the tight bounding box); and the minor ticks that carry no
    label are drawn as one marker line per axis (:func:`_unlabelled_minor_ticks_off`). The PNG
    is reduced to an adaptive 256-colour palette (median cut): line plots and contour fills
    lose nothing visible, and the self-contained HTML page that embeds it gets about 2.5x
    lighter (a phone downloads ~2 MB, not ~5 MB, for the default matrix).
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    directory.mkdir(parents=True, exist_ok=True)
    fig.set_dpi(DPI)
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    set_aside = _unlabelled_minor_ticks_off(fig)
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine("none")
    _minor_ticks_as_markers(set_aside)
    bbox = fig.get_tightbbox(canvas.get_renderer()).padded(mpl.rcParams["savefig.pad_inches"])
    paths = [directory / f"{name}.png"]
    _rendered(fig, bbox).convert("RGB").quantize(256).save(paths[0])
    if svg:
        paths.append(directory / f"{name}.svg")
        fig.savefig(paths[1], format="svg", bbox_inches=bbox)
    return paths


def _rendered(fig: Figure, bbox):
    """The RGBA pixels of ``fig`` cropped (or extended) to ``bbox``, at :data:`DPI`: raw
    pixels when their size is the one matplotlib gives the cropped canvas, else through an
    uncompressed PNG."""
    from PIL import Image

    raw = io.BytesIO()
    fig.savefig(raw, format="raw", dpi=DPI, bbox_inches=bbox)
    size = (int(bbox.width * DPI), int(bbox.height * DPI))
    if len(raw.getbuffer()) == 4 * size[0] * size[1]:
        return Image.frombuffer("RGBA", size, raw.getvalue(), "raw", "RGBA", 0, 1)
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=DPI, bbox_inches=bbox, pil_kwargs={"compress_level": 0})
    return Image.open(png)


def _unlabelled_minor_ticks_off(fig: Figure) -> list:
    """Switch off the minor ticks of the log axes whose minor ticks carry no label.

    matplotlib's log formatter labels only the decades once the view crosses more decades than
    its ``minor_thresholds[0]`` (1): such minor ticks take no room in the layout, yet they are
    most of its cost (a tick is five artists; a log axis over seven decades has 56 minor
    ticks). Returns the ``(axis, locator)`` pairs set aside, for :func:`_minor_ticks_as_markers`.
    """
    set_aside = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            locator, formatter = axis.get_minor_locator(), axis.get_minor_formatter()
            if (
                axis.get_scale() == "log"
                and isinstance(formatter, LogFormatter)
                and not isinstance(locator, NullLocator)
                and _decades_crossed(axis) > getattr(formatter, "minor_thresholds", (1,))[0]
            ):
                axis.set_minor_locator(NullLocator())
                set_aside.append((axis, locator))
    return set_aside


def _decades_crossed(axis) -> int:
    """How many powers of the base lie in the view (the log formatter's ``numticks``)."""
    lo, hi = sorted(axis.get_view_interval())
    if not 0 < lo < hi < np.inf:
        return 0
    base = getattr(axis.get_transform(), "base", 10.0)
    lmin, lmax = math.log(lo, base), math.log(hi, base)
    return math.floor(lmax) - math.floor(math.nextafter(lmin, -math.inf))


def _minor_ticks_as_markers(set_aside: list) -> None:
    """Once the layout is fixed, draw the minor ticks set aside as one marker line per axis,
    at the positions, and with the marker, size, width and colour, of matplotlib's own (the
    pixels are the same). An axis that labels them after all, or draws minor grid lines, gets
    its own ticks back."""
    for axis, locator in set_aside:
        axis.set_minor_locator(locator)
        locs = _in_view(axis, axis.get_minorticklocs())
        (tick,) = axis.get_minor_ticks(1)
        mark = tick.tick1line
        if any(axis.get_minor_formatter().format_ticks(locs)) or tick.gridline.get_visible():
            continue
        axis.set_minor_locator(NullLocator())
        if not mark.get_visible() or not len(locs):
            continue
        zeros = np.zeros(len(locs))
        xy = (locs, zeros) if axis is axis.axes.xaxis else (zeros, locs)
        axis.axes.add_artist(
            Line2D(
                *xy, transform=mark.get_transform(), linestyle="none", marker=mark.get_marker(),
                markersize=mark.get_markersize(), markeredgewidth=mark.get_markeredgewidth(),
                markeredgecolor=mark.get_markeredgecolor(), zorder=axis.get_zorder(),
                clip_on=False,
            )
        )  # fmt: skip


def _in_view(axis, locs: np.ndarray) -> np.ndarray:
    """The ``locs`` matplotlib draws: inside the view interval, to a relative 1e-10 in the
    axis's scale."""
    transform = axis.get_transform()
    lo, hi = sorted(transform.transform(np.asarray(axis.get_view_interval(), float)))
    at = transform.transform(np.asarray(locs, float))
    slack = 1e-10 * (hi - lo)
    return np.asarray(locs)[(at >= lo - slack) & (at <= hi + slack)]


def band(curves: pd.DataFrame, value: str, x: str = "step") -> pd.DataFrame:
    """Median and IQR over runs of ``value`` at each ``x``, per (problem, method).

    Runs are aligned on ``x`` (the union of their recorded ``x``); a run without a value at
    some ``x`` carries its last one forward, and after a diverged run's last record its value
    is ``+inf``. Runs with no value at all are left out. Returns columns ``problem, method,
    x, median, q25, q75``.
    """
    out = []
    for (problem, method), rows in curves.groupby(["problem", "method"], sort=False):
        wide, steps = _aligned(rows, value, x)
        q = _row_quantiles(np.nan_to_num(wide, nan=np.nan, posinf=_HUGE), [0.5, 0.25, 0.75])
        q = np.where(q >= _HUGE / 4, np.inf, q)
        out.append(
            pd.DataFrame(
                {"problem": problem, "method": method, x: steps,
                 "median": q[0], "q25": q[1], "q75": q[2]}
            )
        )  # fmt: skip
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _row_quantiles(values: np.ndarray, q: list[float]) -> np.ndarray:
    """``np.nanquantile(values, q, axis=1)``, with the rows that hold no NaN (nearly all) done
    in one vectorized ``np.quantile``: the same interpolation, so the same numbers, without
    nanquantile's Python loop over rows."""
    out = np.empty((len(q), values.shape[0]))
    missing = np.isnan(values).any(axis=1)
    if (~missing).any():
        out[:, ~missing] = np.quantile(values[~missing], q, axis=1)
    if missing.any():
        with warnings.catch_warnings():  # a row of NaN only: NaN, as nanquantile gives
            warnings.simplefilter("ignore", RuntimeWarning)
            out[:, missing] = np.nanquantile(values[missing], q, axis=1)
    return out


def _aligned(rows: pd.DataFrame, value: str, x: str) -> tuple[np.ndarray, np.ndarray]:
    """``(wide, steps)``: ``wide[i, r]`` is run r's ``value`` at ``steps[i]`` (see :func:`band`)."""
    runs, run = np.unique(rows["run_id"].to_numpy(), return_inverse=True)
    xs, values = rows[x].to_numpy(), rows[value].to_numpy(float)
    steps, step = np.unique(xs, return_inverse=True)
    wide = np.full((steps.size, runs.size), np.nan)
    present = np.flatnonzero(~np.isnan(values))[::-1]  # reversed: the first value of a cell wins
    wide[step[present], run[present]] = values[present]
    last_seen = np.where(np.isnan(wide), 0, np.arange(steps.size)[:, None])
    np.maximum.accumulate(last_seen, axis=0, out=last_seen)  # forward fill along x
    wide = wide[last_seen, np.arange(runs.size)]
    _, first_row = np.unique(run, return_index=True)
    diverged = rows["status"].to_numpy()[first_row] == "diverged"
    last = np.full(runs.size, -np.inf)
    np.maximum.at(last, run, xs.astype(float))
    wide[(steps[:, None] > last) & diverged] = np.inf
    has_value = np.bincount(run[present], minlength=runs.size) > 0
    return wide[:, has_value], steps


def new_figure(figsize, layout: str = "constrained") -> Figure:
    """A figure with its own Agg canvas: drawn exactly as pyplot's Agg figures are, with no
    pyplot state and no backend switched."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def log_panel_title(ax, text: str) -> None:
    """Title an axes whose y axis is logarithmic, at the place matplotlib's automatic
    placement finds for it: y = 1, since such a panel has no x decorations on top and no
    offset text (a log formatter has no offset). Stated, not searched for, it spares
    matplotlib a y-axis tick pass each time the axes is laid out or drawn. A title wider
    than a panel (a long problem label) is broken after a comma (:func:`wrap_title`)."""
    ax.set_title(wrap_title(text), y=1.0)


def wrap_title(text: str, width: int = 44) -> str:
    """``text`` on two lines, broken after its last ", " within ``width`` characters, when it
    is longer than that (three panels a row leave about 44 characters of 10 pt each)."""
    if len(text) <= width or ", " not in text[:width]:
        return text
    cut = text.rindex(", ", 0, width) + 1
    return text[:cut] + "\n" + text[cut:].lstrip()


def grid(n: int, ncols: int = 3, size=(4.3, 3.3)):
    """A constrained-layout figure with ``n`` visible panels of ``size`` inches, ``ncols``
    per row; returns ``(fig, axes)``."""
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig = new_figure((size[0] * ncols, size[1] * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def legend(fig, methods, colors, extra=(), marks=None):
    """One legend below the panels: a line per method in its color (and marker, ``marks``),
    then ``extra`` handles."""
    marks = marks or {}
    handles = [
        Line2D([], [], color=colors[m], ls=line_style(m), lw=2, label=tex_safe(m),
               marker=marks.get(m), ms=6)
        for m in methods
    ]  # fmt: skip
    fig.legend(
        handles=[*handles, *extra],
        loc="outside lower center",
        ncol=min(len(handles) + len(extra), 7),
        frameon=False,
    )


def draw_band(ax, frame, x, color, ls="-", marker=None):
    """Median line and IQR band of a :func:`band` frame; an X where the median diverged.
    ``marker``: drawn on the line at a few evenly spaced points (many methods)."""
    finite = np.isfinite(frame["median"])
    marked = {"marker": marker, "markevery": 0.12, "ms": 4.5} if marker else {}
    ax.plot(frame[x][finite], frame["median"][finite], color=color, ls=ls, lw=1.8, **marked)
    ax.fill_between(
        frame[x], frame["q25"], frame["q75"].replace(np.inf, np.nan), color=color, alpha=0.2, lw=0
    )
    if not finite.all() and finite.any():
        last = frame[finite].iloc[-1]
        ax.plot(last[x], last["median"], marker="X", ms=9, color=color, mec="black", mew=0.6)
