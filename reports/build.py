"""``build_report(out_dir)``: the results store -> tables, figures, report.html and report.md.

Reads ``<out>/optbench.sqlite`` only through ``optbench.reports.load_results``
(docs/contracts.md §3-4) and writes, under ``<out>``::

    report.html          one self-contained page (images as data URIs, inline CSS, no network)
    report.md            the same tables, with links to the figures
    figures/<name>.png   150 dpi, and figures/<name>.svg
    tables/<name>.csv    full precision; tables/<name>.md the formatted version

The benchmark-timing section (docs/contracts.md §5) is included when
``optbench.reports.timing.load_bench(out)`` finds a pytest-benchmark run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from optbench.reports import drawing, plots
from optbench.reports.analysis import Analysis, analyze
from optbench.reports.landscape import plot_condition, plot_trajectories, problem_landscape
from optbench.reports.render import Figure, Section, markdown_table, render_html, render_markdown
from optbench.reports.sections import (
    matrix_section,
    metadata_section,
    method_section,
    problems_section,
    ranking_section,
    summary_section,
    timing_section,
)
from optbench.reports.style import FLOOR
from optbench.reports.tables import TUNING_RULE

TITLE = "optbench: gradient-descent optimizers compared"


def build_report(out_dir: str | Path) -> Path:
    """Write the report of the store in ``out_dir``; return the path of ``report.html``."""
    from optbench.reports.load import load_tables
    from optbench.reports.timing import load_bench

    out = Path(out_dir)
    frames = load_tables(out)
    return write_report(frames, out, bench=load_bench(out))


def write_report(
    frames: dict[str, pd.DataFrame],
    out_dir: Path,
    bench=None,
    landscape=problem_landscape,
    n_boot: int = 2000,
) -> Path:
    """Write the report of ``frames`` (tables of §3) into ``out_dir``; ``bench`` is the frame
    of ``optbench.reports.timing.load_bench`` or None; ``landscape`` computes 2-D contour
    backgrounds."""
    out = Path(out_dir)
    runs = frames["runs"]
    partial = bool(runs.attrs.get("partial", False))
    invocations = frames.get("invocations", pd.DataFrame())
    analysis = None if runs.empty else analyze(frames, n_boot=n_boot)
    sections = _result_sections(analysis, partial, out, landscape)
    if bench is not None:
        sections.append(timing_section(bench, out))
    sections += [matrix_section(invocations), metadata_section(invocations, runs)]
    _save_tables(sections, out)
    if analysis is not None:
        _save_raw_tables(analysis, out)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"Generated {now} from {runs.attrs.get('store', '?')}"
    subtitle += " — PARTIAL RESULTS" if partial else ""
    html_path = out / "report.html"
    html_path.write_text(render_html(TITLE, subtitle, sections, out), encoding="utf-8")
    (out / "report.md").write_text(render_markdown(TITLE, subtitle, sections), encoding="utf-8")
    return html_path


def _result_sections(a: Analysis | None, partial: bool, out: Path, landscape) -> list[Section]:
    """Summary, method, ranking, per-problem tables and the figure sections (figures saved)."""
    if a is None:
        why = " (the matrix is still running, or stopped before its first batch)" if partial else ""
        return [
            Section(
                "summary", "Summary", [f"The store holds no runs yet{why}."], css_class="partial"
            )
        ]
    figures = _save_figures(a, out, landscape)
    return [
        summary_section(a, partial),
        method_section(),
        ranking_section(a, figures),
        problems_section(a),
        *_figure_sections(figures),
    ]


SHORT_RULE = "median over seeds of the final suboptimality f - f* (diverged = +inf)"
FIGURES = (
    (Figure("score_heatmap", "Normalized score per optimizer and problem",
            "1 = the best optimizer on that problem; 0 = no progress from the start, or "
            "diverged. The last row is the mean over problems."), "ranking"),
    (Figure("convergence", "Convergence at tuned settings",
            "Objective (log scale) vs step; line = median over seeds, band = interquartile "
            f"range; X = the median run diverged there. Values below {FLOOR:.0e} drawn at "
            f"{FLOOR:.0e}."), "curves"),
    (Figure("lr_sensitivity", "Learning-rate sensitivity",
            "Median final objective over seeds vs lr, over the whole grid. Hollow markers: some "
            "seeds diverged; x in the top strip: the median diverged (kept, not dropped). "
            f"Values below {FLOOR:.0e} drawn at {FLOOR:.0e}."), "curves"),
    (Figure("ecdf", "Fixed-target ECDF (COCO style)",
            "Fraction of (problem, target, seed) triples whose suboptimality reached the target "
            "by a given step, at tuned settings; targets never reached keep the curve below 1."),
     "curves"),
    (Figure("trajectories", "Trajectories on the 2-D problems",
            "Every optimizer at its tuned setting from the same start (one seed), over the "
            "contours of the exact objective (log-spaced levels). " + TUNING_RULE), "geometry"),
    (Figure("condition", "Linear rate vs condition number (noise-free quadratics)",
            "1 - rho, rho the fitted per-step contraction of |x - x*| at tuned settings, against "
            "the worst-case theory of gradient descent with lr = 2/(L + mu) and heavy ball with "
            "Polyak's tuning. The rate is fitted on the later half of each run; within a finite "
            "budget it can beat the worst case when the slowest eigen-directions carry little "
            "of the initial error. Marker shape = quadratic family (dimension, spectrum); lines "
            "join one family only."), "geometry"),
    (Figure("mlp", "MLP: loss and accuracy per epoch",
            "Training and test cross-entropy (log scale) and accuracy per epoch at tuned "
            "settings (tuned on the final training loss); median over seeds, band = IQR."), "mlp"),
)  # fmt: skip
"""Every figure of the report, in order, with the section it belongs to."""


def _builders(a: Analysis, landscape) -> dict[str, Callable[[], object] | None]:
    """``name -> () -> Figure``, or None where the matrix has no data for that figure."""
    mlp = a.curves[a.curves["problem"].isin(a.runs.loc[a.runs["problem_name"] == "mlp", "problem"])]
    return {
        "score_heatmap": lambda: plots.plot_score_heatmap(a.scores),
        "convergence": lambda: plots.plot_convergence(a.curves, a.kinds),
        "lr_sensitivity": lambda: plots.plot_lr_sensitivity(a.settings, a.kinds),
        "ecdf": (lambda: plots.plot_ecdf(a.targets, a.budget)) if len(a.targets) else None,
        "trajectories": (lambda: plot_trajectories(a.paths, a.runs, SHORT_RULE, landscape))
        if len(a.paths) else None,
        "condition": (lambda: plot_condition(a.condition)) if len(a.condition) else None,
        "mlp": (lambda: plots.plot_mlp(mlp)) if len(mlp) else None,
    }  # fmt: skip


def _save_figures(a: Analysis, out: Path, landscape) -> list[tuple[str, Figure | str]]:
    """Draw and save each figure; ``(section, Figure)`` or ``(section, reason it is absent)``."""
    builders = _builders(a, landscape)
    saved = []
    for figure, section in FIGURES:
        build = builders[figure.name]
        if build is None:
            saved.append((section, f"{figure.title}: not applicable to this matrix (no data)."))
            continue
        drawing.save_figure(build(), out / "figures", figure.name)
        saved.append((section, figure))
    return saved


_FIGURE_SECTIONS = {
    "curves": ("curves", "Convergence, sensitivity and fixed-target view"),
    "geometry": ("geometry", "Trajectories and conditioning"),
    "mlp": ("mlp", "MLP training"),
}


def _figure_sections(figures) -> list[Section]:
    sections = []
    for key, (anchor, title) in _FIGURE_SECTIONS.items():
        section = Section(anchor, title)
        for where, item in figures:
            if where != key:
                continue
            if isinstance(item, Figure):
                section.figures.append(item)
            else:
                section.paragraphs.append(item)
        sections.append(section)
    return sections


def _save_tables(sections: list[Section], out: Path) -> None:
    """Every display table as ``tables/<name>.md``."""
    directory = out / "tables"
    directory.mkdir(parents=True, exist_ok=True)
    for table in (t for s in sections for t in s.tables):
        text = f"# {table.title}\n\n{markdown_table(table.frame)}\n"
        (directory / f"{table.name}.md").write_text(text, encoding="utf-8")
        table.frame.to_csv(directory / f"{table.name}_display.csv", index=False)


def _save_raw_tables(a: Analysis, out: Path) -> None:
    """Full-precision CSVs of the computed tables."""
    directory = out / "tables"
    raw = {
        "summary": a.summary,
        "ranking": a.ranking,
        "winners": a.winners,
        "settings": a.settings,
        "tuned": a.tuned,
        "divergence": a.divergence,
        "medians": a.medians,
        "ranks": a.ranks,
        "scores": a.scores,
        "condition": a.condition,
    }
    for name, frame in raw.items():
        index = not isinstance(frame.index, pd.RangeIndex)
        frame.to_csv(directory / f"{name}.csv", index=index)
