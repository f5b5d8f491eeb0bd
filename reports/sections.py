"""The report's sections, in reading order: summary, method, ranking, per-problem tables,
(figure sections, assembled in :mod:`optbench.reports.build`), timing, the exact matrix, run
metadata.

Each function returns a :class:`optbench.reports.render.Section` of plain strings and display
tables; escaping is the renderer's job.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

from optbench.reports.analysis import Analysis
from optbench.reports.render import Figure, Section, Table
from optbench.reports.style import FLOOR
from optbench.reports.summary import (
    fmt,
    problem_display,
    problem_sentences,
    ranking_display,
    summary_sentences,
    winners_display,
)
from optbench.reports.tables import TUNING_RULE


def summary_section(a: Analysis, partial: bool) -> Section:
    return Section(
        "summary",
        "Summary",
        summary_sentences(a.ranking, a.runs, partial),
        bullets=problem_sentences(a.winners, a.summary),
        css_class="partial" if partial else "",
    )


def method_section() -> Section:
    return Section(
        "method",
        "How the optimizers are compared",
        [
            "Tuning rule. " + TUNING_RULE,
            f"Objective values below {FLOOR:.0e} count as {FLOOR:.0e} in ranks, scores and "
            "log-scale figures (float64 resolution of the objectives).",
            "Rank: per problem, optimizers are ranked by the median final objective over seeds "
            "(1 = best, ties share the mean rank); the overall rank is the mean over problems.",
            "Normalized score: on each problem, score = clip(log10(f0 / f) / log10(f0 / f_best), "
            "0, 1), where f is the optimizer's median final objective, f_best the best optimizer's "
            "and f0 the median initial objective: the fraction of the best optimizer's progress, "
            "in orders of magnitude. 1 = best; 0 = no progress or diverged.",
            "Confidence: every optimizer sees the same seeds (initial points, minibatches, "
            "gradient noise), so comparisons are paired. Intervals are 95% percentile intervals "
            "of a paired bootstrap over seeds (2000 resamples, the same seed draw for all "
            "optimizers, tuned settings held fixed); P(best) is the fraction of resamples in "
            "which the optimizer has the highest mean score. Per problem, the winner is compared "
            "with the runner-up by an exact two-sided sign test over paired seeds.",
            "Caveats. The tuned setting is chosen and evaluated on the same seeds, so tuned "
            "numbers are slightly optimistic, and the intervals, which hold the tuning fixed, "
            "leave out that selection. With few seeds (under about 10) percentile bootstrap "
            "intervals are too narrow; the sign test stays exact but cannot reach small p. On "
            "deterministic problems (same start, no noise) every seed gives the same run, so "
            "there is no sampling error to report and differences are exact.",
        ],
    )


def ranking_section(a: Analysis, figures) -> Section:
    section = Section(
        "ranking",
        "Overall ranking",
        tables=[
            Table("ranking", "Ranking across problems (best first)", ranking_display(a.ranking)),
            Table(
                "winners",
                "Winner per problem against the runner-up (factor = runner-up / winner median)",
                winners_display(a.winners),
            ),
        ],
    )
    section.figures += [f for where, f in figures if where == "ranking" and isinstance(f, Figure)]
    return section


def problems_section(a: Analysis) -> Section:
    section = Section(
        "problems",
        "Per problem: tuned settings and statistics over seeds",
        [
            "Each optimizer at its tuned setting. IQR = interquartile range over seeds. A "
            "column '≤ t' reads 'fraction of seeds whose suboptimality fell to t or below within "
            "the budget · median first step among those seeds'. "
            "'diverged (whole grid)' counts every setting and seed of the optimizer on the "
            "problem. µs / step is the median over the grid of one run's wall time per step "
            "(batched runs share the cost).",
        ],
    )
    for i, problem in enumerate(pd.unique(a.runs["problem"])):
        rows = a.summary[a.summary["problem"] == problem]
        section.tables.append(Table(f"problem_{i + 1:02d}", str(problem), problem_display(rows)))
    return section


def timing_section(bench: pd.DataFrame, figures) -> Section:
    from optbench.reports import timing

    display = timing.timing_table(bench).map(lambda v: fmt(v) if isinstance(v, float) else str(v))
    blas = bench.attrs.get("blas") or "unknown"
    return Section(
        "timing",
        "Timing of the dense backward pass (optbench bench)",
        [
            f"pytest-benchmark run {bench.attrs.get('datetime', '?')}; BLAS: {blas}; threads: "
            f"{bench.attrs.get('blas_threads', '?')}. Rates use each benchmark's minimum time.",
        ],
        tables=[Table("timing", "Benchmarks", display)],
        figures=[f for where, f in figures if where == "timing" and isinstance(f, Figure)],
    )


def matrix_section(invocations: pd.DataFrame) -> Section:
    section = Section(
        "matrix",
        "The exact matrix",
        [
            "The matrix file of each `optbench run` invocation, verbatim, newest first; rerun it "
            "with `optbench run --config <file>` to reproduce these results.",
        ],
    )
    if invocations.empty:
        section.paragraphs.append("The store records no invocation.")
    for _, row in invocations.sort_values("started", ascending=False).iterrows():
        section.blocks.append(
            (
                f"invocation {row['invocation_id']} ({row['started']})",
                str(row.get("matrix_toml", "")),
            )
        )
    return section


def _package_versions() -> str:
    names = ("numpy", "pandas", "matplotlib", "seaborn")
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def metadata_section(invocations: pd.DataFrame, runs: pd.DataFrame) -> Section:
    columns = [c for c in invocations.columns if c != "matrix_toml"]
    display = invocations[columns].T.reset_index() if len(invocations) else pd.DataFrame()
    if len(display):
        display.columns = ["field", *[f"invocation {i + 1}" for i in range(len(invocations))]]
        display = display.map(lambda v: "–" if pd.isna(v) else str(v))
    store = runs.attrs.get("store", "?")
    partial = bool(runs.attrs.get("partial", False))
    return Section(
        "metadata",
        "Run metadata",
        [
            f"Store: {store}; partial: {'yes' if partial else 'no'}; {len(runs)} runs recorded.",
            f"Report built with Python {platform.python_version()} on {platform.node()} "
            f"({platform.machine()}); {_package_versions()}.",
        ],
        tables=[Table("invocations", "Invocations (versions, machine, dates)", display)]
        if len(display)
        else [],
    )
