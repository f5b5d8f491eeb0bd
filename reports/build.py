"""``build_report(out_dir)``: the results store -> tables, figures, report.html and report.md.

Reads ``<out>/optbench.sqlite`` only through :mod:`optbench.reports.load` (docs/contracts.md
§3-4) and writes, under ``<out>``::

    report.html          one self-contained page (images as data URIs, inline CSS, no network)
    report.md            the same tables, with links to the figures
    figures/<name>.png   150 dpi (and figures/<name>.svg with ``svg=True``)
    tables/<name>.csv    full precision; tables/<name>.md the formatted version

The benchmark-timing section (docs/contracts.md §5) is included when
``optbench.reports.timing.load_bench(out)`` finds a pytest-benchmark run.

The report shows the runs of the latest invocation's matrix, or every run
(:mod:`optbench.reports.selection`). The tuning is computed once
(:func:`optbench.reports.analysis.report_tuning`), before the curves, paths and targets are read,
so that only the tuned runs' rows are loaded: the report shows no other. The figures
(:mod:`optbench.reports.figures`) are drawn by a :class:`~optbench.reports.workers.Renderer`, on
``jobs`` cores, while the tables are written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import pandas as pd

from optbench.benchmarks.schema import CHILD_TABLES
from optbench.reports.analysis import Analysis, analyze, report_tuning
from optbench.reports.figures import FIGURES, adapted, jobs
from optbench.reports.provenance import failures_section, used_plugins
from optbench.reports.render import Section, markdown_table, render_html, render_markdown
from optbench.reports.sections import (
    empty_summary_section,
    matrix_section,
    metadata_section,
    method_section,
    problems_section,
    ranking_section,
    summary_section,
    timing_section,
)
from optbench.reports.selection import (
    Selection,
    distinct_problems,
    everything,
    relabel,
    select_runs,
)
from optbench.reports.selection import notice as selection_notice
from optbench.reports.workers import Job, Renderer

TITLE = "optbench: gradient-descent optimizers compared"
Progress = Callable[[int, int, str, float], None]


def build_report(
    out_dir: str | Path,
    *,
    jobs: int = 1,
    svg: bool = False,
    progress: Progress | None = None,
    renderer: Renderer | None = None,
    all_runs: bool = False,
    invocation: str | None = None,
    notice: Callable[[str], None] | None = None,
) -> Path:
    """Write the report of the store in ``out_dir``; return the path of ``report.html``.

    The report shows the runs of the latest invocation's matrix (``invocation``: of that
    invocation's; ``all_runs``: every run of the store), :mod:`optbench.reports.selection`;
    ``notice(sentence)`` is called when it leaves runs of the store out.
    ``jobs``: processes that draw the figures (1: this one), or an already started
    ``renderer`` (:class:`~optbench.reports.workers.Renderer`); ``svg``: also write each
    figure as SVG; ``progress(done, total, name, seconds)`` is called as each figure is saved.
    Raises as :func:`optbench.reports.load_results`, before anything is written (and
    :class:`~optbench.reports.selection.UnknownInvocation`). With ``jobs > 1``, call it under
    ``if __name__ == "__main__":`` in a script (the workers are new processes, which import
    the script's main module).
    """
    from optbench.reports.load import open_results
    from optbench.reports.timing import load_bench

    out = Path(out_dir)
    own = Renderer(jobs) if renderer is None else None  # its workers import while we read
    with own or nullcontext(renderer) as renderer:
        with open_results(out) as store:
            selection = select_runs(
                store.table("runs"), store.table("invocations"), store.planned(),
                store.table("failures"), all_runs=all_runs, invocation=invocation,
            )  # fmt: skip
            labels = pd.Series(distinct_problems(selection.runs).to_numpy(),
                               index=selection.runs["run_id"].to_numpy())  # fmt: skip
            runs = relabel(selection.runs, labels)
            runs.attrs["partial"] = selection.partial
            tuning = None if runs.empty else report_tuning(runs)
            tuned = [] if tuning is None else tuning.at_tuned["run_id"]
            frames = {"runs": runs, "invocations": selection.invocations,
                      "plugins": store.table("plugins")}  # fmt: skip
            for name in CHILD_TABLES:
                frames[name] = relabel(store.table(name, run_ids=tuned), labels)
        if notice is not None and (text := selection_notice(selection)):
            notice(text)
        return write_report(
            frames, out, bench=load_bench(out), tuning=tuning, renderer=renderer, svg=svg,
            progress=progress, selection=selection,
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
    selection: Selection | None = None,
) -> Path:
    """Write the report of ``frames`` (tables of §3) into ``out_dir``.

    ``bench``: the frame of ``optbench.reports.timing.load_bench``, or None; ``landscape``:
    computes 2-D contour backgrounds (default: the problems' own,
    :func:`optbench.reports.landscape.problem_landscape`); ``tuning``: :func:`report_tuning` of
    ``frames["runs"]``, if already known; ``renderer``: draws the figures (default: this
    process), while the tables are computed and written; ``selection``: which runs of the
    store ``frames["runs"]`` holds (default: all of them, partial as its attrs say).
    """
    out = Path(out_dir)
    runs = frames["runs"]
    invocations = frames.get("invocations", pd.DataFrame())
    selection = selection or everything(runs, invocations)
    analysis = None if runs.empty else analyze(frames, n_boot=n_boot, tuning=tuning)
    absent: dict[str, str] = {}

    def drawable():
        for name, job in jobs(analysis, bench, landscape):
            if isinstance(job, Job):
                yield job
            else:
                absent[name] = job or "not applicable to this matrix (no data)"

    renderer = renderer or Renderer()
    renderer.start(drawable(), out / "figures", svg=svg, progress=progress)
    figures = [
        (section, f"{figure.title}: {absent[figure.name]}." if figure.name in absent
         else adapted(figure, analysis)) for figure, section in FIGURES
    ]  # fmt: skip
    sections = _result_sections(analysis, selection, figures)
    if bench is not None:
        sections.append(timing_section(bench, figures))
    used = used_plugins(runs, frames.get("plugins"))
    sections += [matrix_section(selection), metadata_section(selection, runs, used)]
    _save_tables(sections, out)
    _save_raw_tables(analysis, out)
    renderer.finish()  # the HTML embeds the figures
    _remove_stale(out, {f.name for s in sections for f in s.figures}, svg)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"Generated {now} from {runs.attrs.get('store', '?')}"
    subtitle += " — PARTIAL RESULTS" if selection.partial else ""
    html_path = out / "report.html"
    html_path.write_text(render_html(TITLE, subtitle, sections, out), encoding="utf-8")
    markdown = render_markdown(TITLE, subtitle, sections, svg=svg)
    (out / "report.md").write_text(markdown, encoding="utf-8")
    return html_path


def _result_sections(a: Analysis | None, selection: Selection, figures) -> list[Section]:
    """Summary, method, ranking (two methods or more), per-problem tables, failed batches and
    the figure sections."""
    failures = failures_section(selection.failures, several=selection.everything)
    if a is None:
        return [empty_summary_section(selection), *([failures] if failures else [])]
    sections = [summary_section(a, selection), method_section(a)]
    if a.ranked:
        sections.append(ranking_section(a, figures))
    sections.append(problems_section(a))
    if failures:
        sections.append(failures)
    return sections + _figure_sections(figures)


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
    """Every display table as ``tables/<name>.md`` (and ``<name>_display.csv``); those of a
    previous report that this one has not are removed."""
    directory = out / "tables"
    directory.mkdir(parents=True, exist_ok=True)
    written = set()
    for table in (t for s in sections for t in s.tables):
        text = f"# {table.title}\n\n{markdown_table(table.frame)}\n"
        (directory / f"{table.name}.md").write_text(text, encoding="utf-8")
        table.frame.to_csv(directory / f"{table.name}_display.csv", index=False)
        written.add(table.name)
    for path in directory.glob("*_display.csv"):
        name = path.name.removesuffix("_display.csv")
        if name not in written and _DISPLAY_NAME.fullmatch(name):
            path.unlink()
            (directory / f"{name}.md").unlink(missing_ok=True)


_DISPLAY_NAME = re.compile(r"problem_\d+|ranking|winners|profile_scores|divergence|failures|"
                           r"plugins|invocations|timing|budget")  # fmt: skip


_RAW_TABLES = ("summary", "ranking", "winners", "settings", "tuned", "divergence", "medians",
               "ranks", "scores", "condition", "edges", "profiles", "profile_scores",
               "tuning_budget", "best_of_k")  # fmt: skip
_RANKING_TABLES = ("ranking", "winners", "medians", "ranks", "scores", "profiles",
                   "profile_scores")  # fmt: skip


def _save_raw_tables(a: Analysis | None, out: Path) -> None:
    """Full-precision CSVs of the computed tables (the ranking's only when there is one)."""
    directory = out / "tables"
    names = [] if a is None else [n for n in _RAW_TABLES if a.ranked or n not in _RANKING_TABLES]
    for name in names:
        frame = getattr(a, name)
        index = not isinstance(frame.index, pd.RangeIndex)
        frame.to_csv(directory / f"{name}.csv", index=index)
    for name in set(_RAW_TABLES) - set(names):  # a previous report's, of another matrix
        (directory / f"{name}.csv").unlink(missing_ok=True)


def _remove_stale(out: Path, drawn: set[str], svg: bool) -> None:
    """Remove the figures a previous report drew that this one does not show (a figure of
    another matrix next to this report would be read as this one's)."""
    for figure, _ in FIGURES:
        for ext in ("png", "svg"):
            if figure.name not in drawn or (ext == "svg" and not svg):
                (out / "figures" / f"{figure.name}.{ext}").unlink(missing_ok=True)
