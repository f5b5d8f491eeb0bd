"""The tuning rule: which setting of an optimizer counts as tuned on a problem.

One rule, shared by the harness, which runs the tuned setting on the held-out evaluation seeds
(:mod:`optbench.benchmarks.harness`), and by the report, which shows it
(:mod:`optbench.reports.tables`). Like :mod:`optbench.benchmarks.schema`, it is a contract
between the two, so it imports nothing of either.

Per run, the *objective* is the final suboptimality ``f - f*`` where ``f*`` is known, else (the
MLP) the final exact training loss; a diverged run counts as ``+inf``. Per setting, over its
seeds::

    median      = max(Q_0.5(objective), FLOOR)     (Q keeps +inf: see quantile)
    diverged    = #{seeds that diverged}
    time        = Q_0.5(steps to the smallest target), a seed that never reaches it: +inf

and the tuned setting is the first in the order (median, diverged, time, lr, setting label).
Objectives below ``FLOOR`` are equal at float64 precision (the noise-free quadratics reach
``f - f* ~ 1e-32``), so among settings that all converge the fastest one is tuned, not the
one whose rounding error happened to be smallest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FLOOR = 1e-14
"""Objectives below this are equal (in tuning, ranks, scores and log-scale plots)."""

TUNING_RULE = (
    "For each problem and optimizer, the tuned setting is the one with the smallest median "
    "over seeds of the final objective: the final suboptimality f - f* where f* is known, else "
    "(MLP) the final exact training loss over the whole training set; a diverged run counts as "
    "+inf, and medians below 1e-14 count as equal (float64 noise). Ties go to fewer diverged "
    "seeds, then to the fewest median steps to the smallest target, then to the smaller "
    "learning rate."
)


def quantile(values, q: float) -> float:
    """Linear-interpolation quantile of ``values`` ignoring NaN, with ``+inf`` kept as such.

    ``h = (n - 1) q``; ``Q = v[floor h] + (h - floor h) (v[ceil h] - v[floor h])``, which is
    ``inf`` whenever ``v[ceil h]`` is (and ``v[floor h]`` when the weight is zero). NumPy's
    ``quantile`` would return NaN for ``Q([inf, inf], 0.5)``.
    """
    v = np.sort(np.asarray(values, dtype=float))
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan")
    h = (v.size - 1) * q
    lo, hi = int(np.floor(h)), int(np.ceil(h))
    weight = h - lo
    if weight == 0.0 or v[lo] == v[hi]:
        return float(v[lo])
    if np.isinf(v[hi]):
        return float("inf")
    return float(v[lo] + weight * (v[hi] - v[lo]))


def objective_kinds(runs: pd.DataFrame) -> pd.Series:
    """``problem -> "suboptimality" | "loss"``: suboptimality when every run knows ``f_star``."""
    known = runs.groupby("problem")["f_star"].apply(lambda s: bool(np.isfinite(s).all()))
    return known.map({True: "suboptimality", False: "loss"}).rename("objective")


def final_objective(runs: pd.DataFrame) -> pd.Series:
    """Final objective of each run (``final_subopt`` or ``final_loss``); ``+inf`` if diverged."""
    kind = runs["problem"].map(objective_kinds(runs))
    value = np.where(kind == "suboptimality", runs["final_subopt"], runs["final_loss"])
    value = np.where(runs["status"] == "diverged", np.inf, value.astype(float))
    return pd.Series(value, index=runs.index, name="objective")


def setting_table(grid: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per (``keys``, setting) of ``grid``, with ``lr``, ``hparams``, ``seeds``,
    ``diverged``, ``median`` (unfloored) and ``time`` (module docstring).

    ``grid``: runs with ``setting``, ``lr``, ``hparams``, ``seed``, ``objective`` and
    ``is_diverged``; ``steps_to_target`` (NaN: never reached) is optional.
    """
    grid = grid.assign(
        _time=grid["steps_to_target"].astype(float).fillna(np.inf)
        if "steps_to_target" in grid.columns
        else np.inf
    )
    grouped = grid.groupby([*keys, "setting"], sort=False, dropna=False)
    table = grouped.agg(
        lr=("lr", "first"),
        hparams=("hparams", "first"),
        seeds=("seed", "nunique"),
        diverged=("is_diverged", "sum"),
        median=("objective", lambda s: quantile(s, 0.5)),
        time=("_time", lambda s: quantile(s, 0.5)),
        **({"trial": ("trial", "first")} if "trial" in grid.columns else {}),
    )
    return table.reset_index()


def choose(settings: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The tuned row of each ``keys`` group of a :func:`setting_table` (module docstring)."""
    order = settings.assign(_floored=settings["median"].clip(lower=FLOOR))
    order = order.sort_values(
        [*keys, "_floored", "diverged", "time", "lr", "setting"], kind="stable", na_position="last"
    )
    return order.groupby(keys, sort=False).head(1).drop(columns="_floored").reset_index(drop=True)


def best_of_first(settings: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """For a search, the tuned setting among its first k trials, for every k: one row per
    (``keys``, ``k``) with the :func:`choose` row of trials ``1..k`` (``settings`` needs a
    ``trial`` column, 1-based)."""
    rows = []
    for _, group in settings.dropna(subset=["trial"]).groupby(keys, sort=False):
        group = group.sort_values("trial")
        for k in range(1, int(group["trial"].max()) + 1):
            first = group[group["trial"] <= k]
            if len(first):
                rows.append(choose(first, keys).assign(k=k))
    if not rows:
        return pd.DataFrame(columns=[*settings.columns, "k"])
    return pd.concat(rows, ignore_index=True)
