"""The summary's words on what the report covers, and on the matrices a ranking does not fit.

- Scope: which runs are shown (:mod:`optbench.reports.selection`): the latest matrix's, or
  every run with ``--all``; how many planned runs are missing (interrupted, or in a failed
  batch); how many other runs the store holds.
- One optimizer: nothing to rank it against; each problem says what it reached at its tuned
  setting.
- Every run diverged: nothing to tune or rank; each problem says where the runs diverged, and
  :func:`divergence_display` replaces the per-problem tables.

Plain strings and display frames only; the renderers escape them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optbench.reports.selection import Selection, notice
from optbench.reports.style import method_order
from optbench.reports.summary import MISSING, fmt, fmt_steps
from optbench.reports.verdicts import overall_sentence, problem_sentences


def plural(n: int, word: str) -> str:
    """``"1 seed"``, ``"5 seeds"``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def scope_sentences(selection: Selection) -> list[str]:
    """Partial store, failed batches, the runs left out or pooled."""
    sentences = []
    which = "the latest invocation" if selection.latest else "this invocation"
    if selection.everything:
        which = "an invocation"
    if selection.partial:
        sentences.append(
            f"PARTIAL RESULTS: {which} has not finished all its planned runs (interrupted or "
            f"still running): {selection.missing - selection.failed} of {selection.planned} "
            "planned runs are not in the store; the numbers below cover only the finished runs."
        )
    if selection.failed:
        sentences.append(
            f"{plural(selection.failed, 'planned run')} of {selection.planned} are missing "
            "because their batch raised an error (see Failed batches); the numbers below leave "
            "them out."
        )
    left_out = notice(selection)
    if left_out:
        sentences.append(left_out)
    elif selection.everything and len(selection.invocations) > 1:
        sentences.append(
            f"Every run of the store, from {len(selection.invocations)} invocations (`optbench "
            "report --all`): their matrices are pooled, and a problem or optimizer appears once "
            "per distinct configuration."
        )
    return sentences


def summary_sentences(a, selection: Selection) -> tuple[list[str], list[str]]:
    """``(paragraphs, bullets)`` of the summary section of the Analysis ``a``."""
    runs = a.runs
    sentences = scope_sentences(selection)
    problems = plural(runs["problem"].nunique(), "problem")
    seeds = plural(a.seeds, "seed")
    if a.all_diverged:
        sentences.append(
            f"Every run diverged: {plural(len(runs), 'run')} on {problems} with {seeds}, and "
            "each left the divergence bound within the budget, at every setting tried; there "
            "is nothing to tune or rank. The divergence table below says where they diverged; "
            "smaller learning rates are the usual cure."
        )
        return sentences, diverged_sentences(runs)
    if a.ranked:
        sentences.append(overall_sentence(a.ranking, a.seeds))
        bullets = problem_sentences(a.winners, a.summary)
    else:
        sentences.append(
            f"One optimizer, {a.methods[0]}: there is nothing to rank it against, so the report "
            "shows it alone, at its tuned setting on each problem, with its curves and its "
            "learning-rate sensitivity."
        )
        bullets = single_method_sentences(a.summary, a.seeds, pd.unique(runs["problem"]))
    searched = a.tuning.searched
    diverged = int((searched["status"] == "diverged").sum())
    if a.tuning.held_out:
        tuning_seeds = plural(searched["seed"].nunique(), "tuning seed")
        counted = (
            f"{len(searched)} tuning runs on {problems} with {tuning_seeds}, then "
            f"{len(runs) - len(searched)} evaluation runs with {plural(a.seeds, 'held-out seed')}"
        )
    else:
        counted = f"{len(runs)} runs on {problems} with {seeds}"
    sentences.append(
        f"{counted}; {diverged} runs diverged over the whole grid (counted, not dropped: see "
        "the divergence columns and the learning-rate figure)."
        + (" Per problem:" if bullets else "")
    )
    return sentences, bullets


def single_method_sentences(summary: pd.DataFrame, seeds: int, problems) -> list[str]:
    """One sentence per problem (in the order of ``problems``) for a single optimizer: its
    tuned setting, the final objective it reached (median and IQR over seeds), and the hardest
    target every seed reached."""
    sentences = []
    for problem in problems:
        for _, row in summary[summary["problem"] == problem].iterrows():
            sentences.append(_single_method_sentence(row, seeds))
    return sentences


def _single_method_sentence(row, seeds: int) -> str:
    name = "suboptimality" if row["objective"] == "suboptimality" else "training loss"
    head = f"{row['problem']}: {row['method']} at its tuned setting {row['setting']}"
    if np.isinf(row["median"]):
        return f"{row['problem']}: {row['method']} diverged (median over seeds) at every setting."
    if seeds > 1:
        spread = f"median over {seeds} seeds, IQR [{fmt(row['q25'])}, {fmt(row['q75'])}]"
    else:
        spread = "one seed"
    return f"{head} reaches a final {name} of {fmt(row['median'])} ({spread}){_reached(row)}."


def _reached(row) -> str:
    """``"; every seed reached f - f* <= 1e-06 (median 120 steps)"`` for the hardest such
    target, or ""."""
    columns = sorted((c for c in row.index if c.startswith("success@")),
                     key=lambda c: float(c.split("@")[1]))  # fmt: skip
    for column in columns:
        if row[column] == 1.0:
            target = column.split("@")[1]
            return (f"; every seed reached f - f* <= {target} (median "
                    f"{fmt_steps(row[f'steps@{target}'])} steps)")  # fmt: skip
    return ""


def diverged_sentences(runs: pd.DataFrame) -> list[str]:
    """One sentence per problem of a matrix where every run diverged."""
    sentences = []
    for problem, rows in runs.groupby("problem", sort=False):
        step = rows["diverged_step"].median()
        lrs = rows["lr"].dropna()
        tried = "" if lrs.empty else f", for lr from {fmt(lrs.min())} to {fmt(lrs.max())}"
        if not lrs.empty and lrs.min() == lrs.max():
            tried = f", at lr = {fmt(lrs.min())}"
        every = "the only run" if len(rows) == 1 else f"all {len(rows)} runs"
        sentences.append(f"{problem}: {every} diverged{tried}, at step {fmt_steps(step)}"
                         + (" (median)." if len(rows) > 1 else "."))  # fmt: skip
    return sentences


def _lr_range(lrs: pd.Series) -> str:
    if lrs.empty:
        return MISSING
    lo, hi = fmt(lrs.min()), fmt(lrs.max())
    return lo if lo == hi else f"{lo} – {hi}"


def divergence_display(runs: pd.DataFrame) -> pd.DataFrame:
    """Per problem and optimizer (``runs`` with ``method``): runs, how many diverged, the lr
    range tried, and the first and median divergence steps."""
    rows = []
    for (problem, method), part in runs.groupby(["problem", "method"], sort=False):
        diverged = part["status"] == "diverged"
        steps = part.loc[diverged, "diverged_step"]
        lrs = part["lr"].dropna()
        rows.append(
            {
                "problem": problem,
                "optimizer": method,
                "runs": str(len(part)),
                "diverged": str(int(diverged.sum())),
                "lr tried": _lr_range(lrs),
                "first divergence step": fmt_steps(steps.min()),
                "median divergence step": fmt_steps(steps.median()),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    problems = {p: i for i, p in enumerate(pd.unique(runs["problem"]))}
    methods = {m: i for i, m in enumerate(method_order(runs["method"]))}
    order = np.lexsort((table["optimizer"].map(methods), table["problem"].map(problems)))
    return table.iloc[order].reset_index(drop=True)
