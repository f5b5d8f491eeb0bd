"""Dolan–Moré performance profiles on steps to target, and AlgoPerf's score of a profile.

Input: the tuned runs (``at_tuned`` of :class:`optbench.reports.tables.Tuning`, with ``method``
and ``objective_kind``) and their rows of the ``targets`` table (docs/contracts.md §3)::

    run_id problem           method seed target step
    3f2a   rosenbrock(dim=2) adam   0    1e-08  412
    91c0   rosenbrock(dim=2) sgd    0    1e-08  NaN      <- never reached: +inf

Rules (:data:`PROFILE_RULE`, :data:`SCORE_RULE`, printed in the report), for each target level
``L`` separately, over the problems with a known ``f*``:

- cost ``t[p, m]`` = median over the tuned runs' seeds of the first step with
  ``f - f* <= L``, a seed that never reaches it (or diverges first) counting ``+inf``
  (:func:`optbench.reports.tables.quantile`: ``median([10, inf, inf]) = inf``);
- ratio ``r[p, m] = t[p, m] / min_m' t[p, m']`` (``0 / 0 = 1``); a problem that no method
  solves (every ``t`` infinite) is left out of level ``L``;
- profile ``rho_m(tau) = #{p : r[p, m] <= tau} / n_L``, ``n_L`` the problems left in, a step
  function of ``tau >= 1`` (Dolan and Moré, "Benchmarking optimization software with
  performance profiles", Math. Programming 91, 2002);
- AlgoPerf's score (Dahl et al., "Benchmarking Neural Network Training Algorithms", 2023,
  arXiv:2306.07179, the benchmark score of its scoring section, as stated in
  mlcommons/algorithmic-efficiency's documentation: "B = 1/(r_max - 1) integral from 1 to
  r_max of rho(tau) d tau", with ``r_max = 4``)::

      B_m = 1 / (tau_max - 1) * integral_1^tau_max rho_m(tau) d tau,   tau_max = 4

  computed exactly: ``rho_m`` is a mean of indicators ``1[r <= tau]``, each of which
  integrates to ``max(0, tau_max - r)``, so ``B_m = mean_p max(0, tau_max - r[p, m]) / 3``
  (0 for ``r >= 4`` or ``+inf``, 1 for the fastest on every problem);
- the headline *profile score* of a method is the mean of ``B_m`` over the target levels that
  have at least one problem left in.

A method that did not run on a problem counts as not solving it (``+inf``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optbench.reports.style import method_order
from optbench.reports.tables import quantile

TAU_MAX = 4.0
"""AlgoPerf's upper limit of the integral (and of its profile plots), ``r_max``."""

PROFILE_RULE = (
    "Performance profiles (Dolan and Moré, 2002), one per target level L, over the problems "
    "with a known f*: the cost t of an optimizer on a problem is the median over seeds, at the "
    "tuned setting, of the first step with f - f* <= L (a seed that never reaches it counts as "
    "+inf); the ratio r = t / (the smallest t of any optimizer on that problem); the profile "
    "rho(tau) is the fraction of problems with r <= tau. A problem that no optimizer solves at "
    "level L is left out of that level."
)
SCORE_RULE = (
    "Profile score: AlgoPerf's benchmark score (Dahl et al., 2023), the integral of rho(tau) "
    "from tau = 1 to tau_max = 4 divided by tau_max - 1 = 3, computed exactly: the mean over "
    "problems of max(0, 4 - r) / 3 (1 = fastest on every problem; 0 = never within a factor 4 "
    "of the fastest). The profile score of an optimizer is the mean of its scores over the "
    "target levels that have a problem left in."
)


def step_costs(at_tuned: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """``(target, problem) x method`` costs ``t``: the median first step over seeds (``+inf``
    counts), for the problems whose objective is the suboptimality."""
    known = at_tuned[at_tuned["objective_kind"] == "suboptimality"]
    if targets is None or targets.empty or known.empty:
        return pd.DataFrame()
    hits = targets[["run_id", "target", "step"]].merge(
        known[["run_id", "problem", "method"]], on="run_id", how="inner"
    )
    levels = hits.groupby("problem")["target"].unique()
    frames = []  # every (tuned run, level of its problem): a run without a row never reached it
    for problem, runs in known.groupby("problem", sort=False):
        if problem not in levels.index:
            continue
        grid = pd.MultiIndex.from_product(
            [runs["run_id"], levels[problem]], names=["run_id", "target"]
        )
        frames.append(grid.to_frame(index=False).merge(runs[["run_id", "problem", "method"]]))
    if not frames:
        return pd.DataFrame()
    full = pd.concat(frames).merge(hits[["run_id", "target", "step"]], how="left")
    full["step"] = full["step"].fillna(np.inf)
    costs = full.groupby(["target", "problem", "method"], sort=False)["step"].agg(
        lambda s: quantile(s, 0.5)
    )
    table = costs.unstack("method")
    table = table[method_order(table.columns)].fillna(np.inf)  # did not run: not solved
    return table.sort_index(level="target", ascending=False, sort_remaining=False)


def ratios(costs: pd.DataFrame) -> pd.DataFrame:
    """Performance ratios ``r = t / min_m t`` of :func:`step_costs` (same index), with the
    problems that no method solves at a level dropped; ``0 / 0 = 1``."""
    if costs.empty:
        return costs
    t = costs.to_numpy(float)
    best = t.min(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(t == best, 1.0, t / best)  # 0/0 and inf/inf never reach the division
    out = pd.DataFrame(r, index=costs.index, columns=costs.columns)
    return out[np.isfinite(best[:, 0])]


def profile(r: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``rho(tau)`` for one method: the fraction of the ratios ``r`` (one per problem) that
    are ``<= tau``, at each ``tau``."""
    r = np.asarray(r, float)
    return (r[:, None] <= np.asarray(tau, float)[None, :]).mean(axis=0)


def algoperf_score(r, tau_max: float = TAU_MAX) -> float:
    """``1/(tau_max - 1) * integral_1^tau_max rho(tau) d tau`` of the ratios ``r`` (each >= 1,
    ``+inf`` allowed), exactly: ``mean(max(0, tau_max - r)) / (tau_max - 1)``."""
    r = np.asarray(r, float)
    if r.size == 0:
        return float("nan")
    return float(np.mean(np.clip(tau_max - np.maximum(r, 1.0), 0.0, None)) / (tau_max - 1.0))


def profile_scores(r: pd.DataFrame, tau_max: float = TAU_MAX) -> pd.DataFrame:
    """``target x method`` AlgoPerf scores of each level's profile (:func:`ratios`), with the
    number of problems left in (``problems``)."""
    if r.empty:
        return pd.DataFrame()
    rows = {}
    for target, part in r.groupby(level="target", sort=False):
        scores = {m: algoperf_score(part[m].to_numpy(float), tau_max) for m in r.columns}
        rows[target] = {**scores, "problems": len(part)}
    table = pd.DataFrame(rows).T
    table.index.name = "target"
    return table


def headline_scores(scores: pd.DataFrame) -> pd.Series:
    """``method -> profile score``: the mean over target levels of :func:`profile_scores`."""
    if scores.empty:
        return pd.Series(dtype=float)
    return scores.drop(columns="problems").mean(axis=0).rename("profile_score")


def profile_table(costs: pd.DataFrame) -> pd.DataFrame:
    """Tidy ``target, problem, method, steps, ratio, included`` (the CSV ``profiles.csv``):
    ``steps`` the cost ``t``, ``ratio`` ``r`` (NaN where the problem is left out of the
    level, ``included`` False)."""
    if costs.empty:
        return pd.DataFrame(columns=["target", "problem", "method", "steps", "ratio", "included"])
    r = ratios(costs).reindex(costs.index)
    tidy = costs.stack().rename("steps").to_frame()
    tidy["ratio"] = r.stack(future_stack=True).reindex(tidy.index)
    tidy = tidy.reset_index()
    tidy["included"] = tidy["ratio"].notna()
    return tidy
