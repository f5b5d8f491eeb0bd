"""Everything the report computes from the store, in one place and once.

:func:`analyze` takes the frames of ``optbench.reports.load_results`` (docs/contracts.md §3) and
returns an :class:`Analysis`: the tuned settings (:data:`optbench.reports.tables.TUNING_RULE`), the
per-problem summary, the paired objective matrices, ranks, normalized scores and their bootstrap
intervals (:mod:`optbench.reports.ranking`), and the tuned runs' curves, paths and targets with a
``method`` column. Drawing and writing happen elsewhere (:mod:`optbench.reports.build`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optbench.reports import ranking as rk
from optbench.reports.landscape import condition_table
from optbench.reports.style import objective_kinds, problem_order
from optbench.reports.tables import divergence_table, setting_table, summary_table, tune, tuned_runs


@dataclass
class Analysis:
    runs: pd.DataFrame  # every run, as loaded
    kinds: pd.Series  # problem -> "suboptimality" | "loss"
    tuned: pd.DataFrame  # (problem, method) -> tuned setting
    at_tuned: pd.DataFrame  # the runs at their tuned setting, with method and objective
    settings: pd.DataFrame  # (problem, method, setting) -> median objective, divergences
    summary: pd.DataFrame  # (problem, method) -> statistics at the tuned setting
    divergence: pd.DataFrame  # problem x method diverged fraction over the whole grid
    medians: pd.DataFrame  # problem x method median final objective (floored)
    ranks: pd.DataFrame  # problem x method rank
    scores: pd.DataFrame  # problem x method normalized score
    ranking: pd.DataFrame  # method -> mean rank / score with bootstrap intervals
    winners: pd.DataFrame  # problem -> winner vs runner-up, paired statistics
    curves: pd.DataFrame  # tuned runs' curves, with method
    paths: pd.DataFrame  # tuned runs' 2-D paths, with method
    targets: pd.DataFrame  # tuned runs' target hits, with method
    condition: pd.DataFrame  # noise-free quadratics: kappa and fitted rate per method
    budget: float  # the largest step budget of a run with known f* (the ECDF's x range)


def _tuned_rows(frame: pd.DataFrame | None, at_tuned: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` that belong to tuned runs, with their ``method``."""
    if frame is None or frame.empty:
        return pd.DataFrame(columns=[*(frame.columns if frame is not None else []), "method"])
    methods = at_tuned[["run_id", "method"]]
    return frame.merge(methods, on="run_id", how="inner")


def _in_order(frame: pd.DataFrame | None, order: list[str]) -> pd.DataFrame | None:
    """``frame`` stably sorted by problem in ``order`` (frames without problems unchanged)."""
    if frame is None or "problem" not in frame.columns or frame.empty:
        return frame
    rank = frame["problem"].map({p: i for i, p in enumerate(order)}).fillna(len(order))
    out = frame.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    return out


def analyze(frames: dict[str, pd.DataFrame], n_boot: int = 2000, seed: int = 0) -> Analysis:
    """Compute every table of the report from ``frames`` (needs at least one run)."""
    if frames["runs"].empty:
        raise ValueError("frames['runs'] is empty: there is nothing to analyze yet")
    order = problem_order(frames["runs"])
    frames = {name: _in_order(frame, order) for name, frame in frames.items()}
    runs = frames["runs"]
    tuned = tune(runs)
    at_tuned = tuned_runs(runs, tuned)
    matrices = rk.objective_matrices(at_tuned)
    curves = _tuned_rows(frames.get("curves"), at_tuned)
    f0 = rk.initial_objective(curves, at_tuned)
    medians = rk.median_table(matrices)
    return Analysis(
        runs=runs,
        kinds=objective_kinds(runs),
        tuned=tuned,
        at_tuned=at_tuned,
        settings=setting_table(runs),
        summary=summary_table(runs, frames.get("targets")),
        divergence=divergence_table(runs),
        medians=medians,
        ranks=rk.ranks(medians),
        scores=rk.scores(medians, f0),
        ranking=rk.ranking_table(matrices, f0, n_boot=n_boot, seed=seed),
        winners=rk.problem_winners(matrices, n_boot=n_boot, seed=seed),
        curves=curves,
        paths=_tuned_rows(frames.get("paths"), at_tuned),
        targets=_tuned_rows(frames.get("targets"), at_tuned),
        condition=condition_table(curves, runs) if len(curves) else pd.DataFrame(),
        budget=float(runs.loc[runs["f_star"].notna(), "steps"].max()),
    )
