"""``build_report(out_dir)``: the results store -> tables, figures, report.html and report.md.

Reads ``<out>/optbench.sqlite`` only through :mod:`optbench.reports.load` (docs/contracts.md
§3-4) and writes, under ``<out>``::

    report.html          one self-contained page (images as data URIs, inline CSS, no network)
    report.md            the same tables, with links to the figures
    figures/<name>.png   150 dpi (and figures/<name>.svg with ``svg=True``)
    tables/<name>.csv    full precision; tables/<name>.md the formatted version

The benchmark-timing section (docs/contracts.md §5) is included when
``optbench.reports.timing.load_bench(out)`` finds a pytest-benchmark run.

The tuning is computed once (:func:`optbench.reports.analysis.report_tuning`), before the curves,
paths and targets are read, so that only the tuned runs' rows are loaded: the report shows no
other. The figures (:mod:`optbench.reports.figures`) are drawn by a
:class:`~optbench.reports.workers.Renderer`, on ``jobs`` cores, while the tables are written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import pandas as pd

from optbench.benchmarks.schema import CHILD_TABLES
from optbench.reports.analysis import Analysis, analyze, report_tuning
from optbench.reports.figures import FIGURES, jobs
from optbench.reports.render import Section, markdown_table, render_html, render_markdown
from optbench.reports.sections import (
    matrix_section,
    metadata_section,
    method_section,
    problems_section,
    ranking_section,
    summary_section,
    timing_section,
)
from optbench.reports.workers import Renderer

TITLE = "optbench: gradient-descent optimizers compared"
Progress = Callable[[int, int, str, float], None]


def build_report(
    out_dir: str | Path,
    *,
    jobs: int = 1,
    svg: bool = False,
    progress: Progress | None = None,
    renderer: Renderer | None = None,
) -> Path:
    """Write the report of the store in ``out_dir``; return the path of ``report.html``.

    ``jobs``: processes that draw the figures (1: this one), or an already started
    ``renderer`` (:class:`~optbench.reports.workers.Renderer`); ``svg``: also write each
    figure as SVG; ``progress(done, total, name, seconds)`` is called as each figure is saved.
    Raises as :func:`optbench.reports.load_results`, before anything is written. With
    ``jobs > 1``, call it under ``if __name__ == "__main__":`` in a script (the workers are
    new processes, which import the script's main module).
    """
    from optbench.reports.load import open_results
    from optbench.reports.timing import load_bench

    out = Path(out_dir)
    own = Renderer(jobs) if renderer is None else None  # its workers import while we read
    with own or nullcontext(renderer) as renderer:
        with open_results(out) as store:
            runs = store.table("runs")
            tuning = None if runs.empty else report_tuning(runs)
            tuned = [] if tuning is None else tuning.at_tuned["run_id"]
            frames = {"runs": runs, "invocations": store.table("invocations")}
            frames.update({name: store.table(name, run_ids=tuned) for name in CHILD_TABLES})
        return write_report(
            frames, out, bench=load_bench(out), tuning=tuning, renderer=renderer, svg=svg,
            progress=progress,
        )  # fmt: skip


def write_report(
    frames: dict[str, pd.DataFrame],
    out_dir: Path,
    bench=None,
    landscape=None,
    n_boot: int = 2000,
    *,
    tuning=None,
    renderer: Renderer | None = None,
    svg: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write the report of ``frames`` (tables of §3) into ``out_dir``.

    ``bench``: the frame of ``optbench.reports.timing.load_bench``, or None; ``landscape``:
    computes 2-D contour backgrounds (default: the problems' own,
    :func:`optbench.reports.landscape.problem_landscape`); ``tuning``: :func:`report_tuning` of
    ``frames["runs"]``, if already known; ``renderer``: draws the figures (default: this
    process), while the tables are computed and written.
    """
    out = Path(out_dir)
    runs = frames["runs"]
    partial = bool(runs.attrs.get("partial", False))
    invocations = frames.get("invocations", pd.DataFrame())
    analysis = None if runs.empty else analyze(frames, n_boot=n_boot, tuning=tuning)
    absent: set[str] = set()

    def drawable():
        for name, job in jobs(analysis, bench, landscape):
            if job is None:
                absent.add(name)
            else:
                yield job

    renderer = renderer or Renderer()
    renderer.start(drawable(), out / "figures", svg=svg, progress=progress)
    figures = [
        (section, f"{figure.title}: not applicable to this matrix (no data)."
         if figure.name in absent else figure) for figure, section in FIGURES
    ]  # fmt: skip
    sections = _result_sections(analysis, partial, figures)
    if bench is not None:
        sections.append(timing_section(bench, figures))
    sections += [matrix_section(invocations), metadata_section(invocations, runs)]
    _save_tables(sections, out)
    if analysis is not None:
        _save_raw_tables(analysis, out)
    renderer.finish()  # the HTML embeds the figures
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"Generated {now} from {runs.attrs.get('store', '?')}"
    subtitle += " — PARTIAL RESULTS" if partial else ""
    html_path = out / "report.html"
    html_path.write_text(render_html(TITLE, subtitle, sections, out), encoding="utf-8")
    markdown = render_markdown(TITLE, subtitle, sections, svg=svg)
    (out / "report.md").write_text(markdown, encoding="utf-8")
    return html_path


def _result_sections(a: Analysis | None, partial: bool, figures) -> list[Section]:
    """Summary, method, ranking, per-problem tables and the figure sections."""
    if a is None:
        why = " (the matrix is still running, or stopped before its first batch)" if partial else ""
        return [
            Section(
                "summary", "Summary", [f"The store holds no runs yet{why}."], css_class="partial"
            )
        ]
    return [
        summary_section(a, partial),
        method_section(),
        ranking_section(a, figures),
        problems_section(a),
        *_figure_sections(figures),
    ]


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
            if isinstance(item, str):
                section.paragraphs.append(item)
            else:
                section.figures.append(item)
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
