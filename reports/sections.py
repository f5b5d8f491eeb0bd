"""The report's sections, in reading order: summary, method, ranking (two methods or more),
per-problem tables (failed batches: :mod:`optbench.reports.provenance`; figure sections,
assembled in :mod:`optbench.reports.build`), timing, the exact matrix, run metadata (with the
user's code and data).

Each function returns a :class:`optbench.reports.render.Section` of plain strings and display
tables; escaping is the renderer's job.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

from optbench.reports.analysis import Analysis
from optbench.reports.edges import EDGE_RULE, edge_sentences
from optbench.reports.profiles import PROFILE_RULE, SCORE_RULE
from optbench.reports.provenance import plugin_parts
from optbench.reports.ranking import TIE_RULE
from optbench.reports.render import Figure, Section, Table
from optbench.reports.scope import divergence_display, plural, summary_sentences
from optbench.reports.selection import Selection
from optbench.reports.style import FLOOR
from optbench.reports.summary import (
    fmt,
    problem_display,
    profile_scores_display,
    ranking_display,
    winners_display,
)
from optbench.reports.tables import HELD_OUT_RULE, TUNING_RULE


def summary_section(a: Analysis, selection: Selection) -> Section:
    paragraphs, bullets = summary_sentences(a, selection)
    if not a.all_diverged and len(a.edges):
        at = len(paragraphs) - 1 if bullets else len(paragraphs)  # before "Per problem:"
        paragraphs = [*paragraphs[:at], edges_paragraph(a), *paragraphs[at:]]
    return Section(
        "summary",
        "Summary",
        paragraphs,
        bullets=bullets,
        css_class="partial" if selection.partial else "",
    )


def edges_paragraph(a: Analysis) -> str:
    """The tuned values at an edge of the values tried (:mod:`optbench.reports.edges`)."""
    n = len(a.edges)
    head = (f"Edge of the range tried: {plural(n, 'tuned value')} "
            f"{'lies' if n == 1 else 'lie'} at the smallest or largest value tried, so the "
            "optimum may lie outside the grid or search range ('edge' in the per-problem "
            "tables): ")  # fmt: skip
    return head + " ".join(edge_sentences(a.edges))


def empty_summary_section(selection: Selection) -> Section:
    """The summary when the report has no run to show."""
    whose = " of this matrix" if selection.others else ""
    if selection.planned and selection.failed == selection.planned:
        text = f"The store holds no runs{whose}: every batch raised an error (see Failed batches)."
    elif selection.partial:
        text = (f"The store holds no runs{whose} yet (the matrix is still running, or stopped "
                "before its first batch).")  # fmt: skip
    else:
        text = f"The store holds no runs{whose} yet."
    paragraphs = [text]
    if selection.others:
        paragraphs.append(
            f"The store holds {selection.others} runs of other matrices: `optbench report "
            "--all` includes them."
        )
    css = "partial" if selection.partial else ""
    return Section("summary", "Summary", paragraphs, css_class=css)


_RANK = (
    "Rank: per problem, optimizers are ranked by the median final objective over seeds "
    "(1 = best, ties share the mean rank); the overall rank is the mean over problems."
)
_SCORE = (
    "Normalized score: on each problem, score = clip(log10(f0 / f) / log10(f0 / f_best), "
    "0, 1), where f is the optimizer's median final objective, f_best the best optimizer's "
    "and f0 the median initial objective: the fraction of the best optimizer's progress, "
    "in orders of magnitude. 1 = best; 0 = no progress or diverged."
)
_CONFIDENCE = (
    "Confidence: every optimizer sees the same seeds (initial points, minibatches, "
    "gradient noise), so comparisons are paired. Intervals are 95% percentile intervals "
    "of a paired bootstrap over seeds (2000 resamples, the same seed draw for all "
    "optimizers, tuned settings held fixed); P(best) is the fraction of resamples in "
    "which the optimizer has the highest mean score. Per problem, the optimizer with the "
    "lowest median is compared with the runner-up by the ratio of their medians (with its "
    "paired-bootstrap interval) and an exact two-sided sign test over paired seeds."
)
_SAME_SEEDS = (
    "The tuned setting is chosen and evaluated on the same seeds, so tuned numbers are "
    "slightly optimistic, and the intervals, which hold the tuning fixed, leave out that "
    "selection: give the matrix a tuning = { seeds = [...] } table to keep them apart."
)
_CAVEATS = (
    "With few seeds (under about 10) percentile bootstrap "
    "intervals are too narrow; the sign test stays exact but cannot reach small p. On "
    "deterministic problems (same start, no noise) every seed gives the same run, so "
    "there is no sampling error to report and differences are exact."
)
_ONE_SEED = (
    "Confidence: the matrix has a single seed, so there is no sampling error to estimate: "
    "no confidence intervals, interquartile ranges or tests are given. Add seeds to the "
    "matrix to get them."
)


def method_section(a: Analysis | None = None) -> Section:
    """How the report tunes, ranks and states its confidence: only what applies to ``a`` (no
    ranking with one optimizer or when every run diverged, no intervals with one seed)."""
    ranked = a is None or a.ranked
    seeds = 2 if a is None else a.seeds
    where = "ranks, scores and log-scale figures" if ranked else "log-scale figures"
    held_out = a is not None and a.tuning.held_out
    paragraphs = [
        "Tuning rule. " + TUNING_RULE,
        *([f"Held-out tuning. {HELD_OUT_RULE} {a.seed_roles}"] if held_out else []),
        f"Objective values below {FLOOR:.0e} count as {FLOOR:.0e} in {where} (float64 "
        "resolution of the objectives).",
    ]
    if ranked:
        paragraphs += [_RANK, _SCORE]
        if a is None or len(a.profile_scores):
            paragraphs += [PROFILE_RULE, SCORE_RULE]
        paragraphs.append(TIE_RULE)
    else:
        why = "every run diverged." if a.all_diverged else "the matrix has one optimizer."
        paragraphs.append("No ranking: " + why)
    if a is None or not a.all_diverged:
        paragraphs.append(EDGE_RULE)
    if seeds < 2:
        paragraphs.append(_ONE_SEED)
    elif ranked:
        caveats = _CAVEATS if held_out else f"{_SAME_SEEDS} {_CAVEATS}"
        paragraphs += [_CONFIDENCE, f"Caveats. {caveats}"]
    elif not held_out:
        paragraphs.append(f"Caveat. {_SAME_SEEDS}")
    tables = [] if a is None else [Table("budget", "Tuning budget", budget_display(a))]
    return Section("method", "How the optimizers are compared", paragraphs, tables=tables)


def budget_display(a: Analysis) -> pd.DataFrame:
    """The tuning budget per optimizer, as the report prints it."""
    table = a.tuning_budget
    return pd.DataFrame(
        {
            "optimizer": table["method"],
            "tuned by": table["search"],
            "settings per problem": table["settings"],
            "tuning seeds": table["tuning_seeds"],
            "tuning runs": table["tuning_runs"],
            "seeds held out": table["held_out"].map({True: "yes", False: "no"}),
        }
    )


def ranking_section(a: Analysis, figures) -> Section:
    tables = [
        Table("ranking", "Ranking across problems (best first)",
              ranking_display(a.ranking, a.seeds)),
    ]  # fmt: skip
    if len(a.profile_scores):
        tables.append(
            Table("profile_scores", "Profile score per target level (the AlgoPerf benchmark score)",
                  profile_scores_display(a.profile_scores))
        )  # fmt: skip
    if len(a.winners):
        tables.append(
            Table(
                "winners",
                "Per problem: the lowest median against the runner-up (factor = runner-up / "
                "first median); a win only outside the display precision and the 95% interval",
                winners_display(a.winners, a.seeds),
            )
        )
    section = Section("ranking", "Overall ranking", tables=tables)
    section.figures += [f for where, f in figures if where == "ranking" and isinstance(f, Figure)]
    return section


def problems_section(a: Analysis) -> Section:
    if a.all_diverged:
        return Section(
            "problems",
            "Per problem: where the runs diverged",
            ["Every run diverged, so no setting is tuned: the table counts the runs per problem "
             "and optimizer, the learning rates tried and the steps at which the runs were "
             "stopped (loss non-finite, or above the matrix's divergence bound)."],
            tables=[Table("divergence", "Divergence per problem and optimizer (every run)",
                          divergence_display(a.tuning.grid))],
        )  # fmt: skip
    spread = "IQR = interquartile range over seeds. " if a.seeds > 1 else ""
    section = Section(
        "problems",
        "Per problem: tuned settings and statistics over seeds",
        [
            f"Each optimizer at its tuned setting. {spread}A "
            "column '≤ t' reads 'fraction of seeds whose suboptimality fell to t or below within "
            "the budget · median first step among those seeds'. "
            "'diverged (whole grid)' counts every setting and seed of the optimizer on the "
            "problem. µs / step is the median over the grid of one run's wall time per step "
            "(batched runs share the cost). 'edge' names a tuned value at the smallest or "
            "largest value tried (the optimum may lie outside the range).",
        ],
    )
    if len(a.references):
        section.paragraphs.append(
            "'code' names a user's optimizer by its reference in the matrix and the first 12 "
            "hex digits of its source file's SHA-256 (its source is under Run metadata)."
        )
    for i, problem in enumerate(pd.unique(a.runs["problem"])):
        rows = a.summary[a.summary["problem"] == problem]
        title = str(problem)
        if problem in a.problem_references.index:
            title += f" — {a.problem_references[problem]}"
        display = problem_display(rows, a.seeds, a.references)
        section.tables.append(Table(f"problem_{i + 1:02d}", title, display))
    return section


def timing_section(bench: pd.DataFrame, figures) -> Section:
    from optbench.reports import timing

    def show(frame):
        return frame.map(lambda v: fmt(v) if isinstance(v, float) else str(v))

    ceilings = timing.ceilings_table(bench)  # the ceilings of the run (none in an old JSON)

    return Section(
        "timing",
        "Timing: the roofline of the timed kernels (optbench bench)",
        [f"pytest-benchmark run {bench.attrs.get('datetime', '?')}.", *timing.describe(bench)],
        tables=[Table("timing", "Benchmarks", show(timing.timing_table(bench)))]
        + ([Table("ceilings", "Ceilings", show(ceilings))] if len(ceilings) else []),
        figures=[f for where, f in figures if where == "timing" and isinstance(f, Figure)],
    )


def matrix_section(selection: Selection) -> Section:
    """The matrix of the invocation shown, verbatim (with every run: each invocation's)."""
    invocations = selection.invocations
    if selection.everything:
        text = (
            "The matrix file of each optbench run invocation, verbatim, newest first; "
            "rerun it with the command optbench run --config FILE to reproduce these results."
        )
    else:
        text = (f"The matrix file of invocation {selection.invocation_id}, whose runs this "
                "report shows, verbatim; rerun it with the command optbench run --config FILE to "
                "reproduce these results.")  # fmt: skip
        invocations = invocations[invocations["invocation_id"] == selection.invocation_id]
    section = Section("matrix", "The exact matrix", [text])
    if invocations.empty:
        section.paragraphs.append("The store records no invocation.")
    newest = invocations.sort_values("started", ascending=False)
    for text, group in newest.groupby(newest["matrix_toml"].astype(str), sort=False):
        first = group.iloc[0]  # one block per distinct matrix, named by its newest invocation
        title = f"invocation {first['invocation_id']} ({first['started']})"
        if len(group) > 1:
            title += f" and {len(group) - 1} earlier invocation(s) of the same matrix"
        section.blocks.append((title, text))
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


def metadata_section(selection: Selection, runs: pd.DataFrame, used=None) -> Section:
    """The store, the invocations the shown runs come from, and the user's code and data
    they used (``used``: :func:`optbench.reports.provenance.used_plugins`)."""
    invocations = selection.invocations
    columns = [c for c in invocations.columns if c != "matrix_toml"]
    display = invocations[columns].T.reset_index() if len(invocations) else pd.DataFrame()
    if len(display):
        display.columns = ["field", *[f"invocation {i + 1}" for i in range(len(invocations))]]
        display = display.map(lambda v: "–" if pd.isna(v) else str(v))
    store = runs.attrs.get("store", "?")
    total = len(runs) + selection.others
    shown = f"{plural(len(runs), 'run')} recorded" if not selection.others else (
        f"{len(runs)} of its {total} runs shown")  # fmt: skip
    tables, details = plugin_parts(used if used is not None else pd.DataFrame())
    if len(display):
        title = "Invocations (versions, machine, dates)"
        if not selection.everything and len(invocations) > 1:
            title += ": the one shown and those that computed its runs"
        tables.insert(0, Table("invocations", title, display))
    return Section(
        "metadata",
        "Run metadata",
        [
            f"Store: {store}; partial: {'yes' if selection.partial else 'no'}; {shown}.",
            f"Report built with Python {platform.python_version()} on {platform.node()} "
            f"({platform.machine()}); {_package_versions()}.",
        ],
        tables=tables,
        details=details,
    )
