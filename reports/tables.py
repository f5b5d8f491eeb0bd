"""Per problem and optimizer: the tuned setting and its statistics over seeds.

Input: the ``runs`` and ``targets`` frames of ``optbench.reports.load_results``
(docs/contracts.md §3)::

    run_id optimizer convention setting  lr   problem        seed status    final_subopt ...
    3f2a   sgd       torch      lr=0.1   0.1  quadratic(...) 0    finished  3.2e-09
    91c0   sgd       torch      lr=1     1.0  quadratic(...) 0    diverged  NaN

The tuning rule (:data:`TUNING_RULE`, printed in the report) is the harness's
(:mod:`optbench.benchmarks.tuning`): for each problem and method, among its settings, the one
with the smallest median over seeds of the final objective (medians below 1e-14 equal), then
fewer diverged seeds, fewer steps to the smallest target, the smaller lr. With held-out tuning
(runs of role "tune" in the frame) the rule sees only the tuning runs, and the tuned runs are
the evaluation runs (role "eval") at the chosen settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optbench.benchmarks import tuning as rule
from optbench.reports.style import add_method, final_objective, objective_kinds

TUNING_RULE = rule.TUNING_RULE + (
    " Every other table and figure shows each optimizer at this setting, unless it says otherwise."
)
HELD_OUT_RULE = (
    "The rule is applied to the tuning seeds alone; the tuned setting is then run on the "
    "held-out evaluation seeds, and every table and figure of results shows those."
)

GROUP = ["problem", "method"]
quantile = rule.quantile


@dataclass(frozen=True)
class Tuning:
    """The tuning of a ``runs`` frame by :data:`TUNING_RULE`, computed once per report.

    ``grid``: every run, with ``method``, ``objective`` (final; ``+inf`` if diverged),
    ``objective_kind`` and ``is_diverged``; ``searched``: the runs the rule chose from (the
    tuning runs with held-out tuning, else ``grid`` but a search's defaults); ``settings``:
    :func:`setting_table` of those; ``tuned``: :func:`tune`; ``reported``: the runs results
    are shown of (the evaluation runs with held-out tuning, else ``grid``); ``at_tuned``: those
    at the tuned settings (:func:`tuned_runs`); ``held_out``: whether the frame has tuning runs.
    """

    grid: pd.DataFrame
    settings: pd.DataFrame
    tuned: pd.DataFrame
    at_tuned: pd.DataFrame
    searched: pd.DataFrame
    reported: pd.DataFrame
    held_out: bool

    @classmethod
    def of(cls, runs: pd.DataFrame) -> Tuning:
        grid = _annotated(runs)
        tune = roles(grid) == "tune"
        held_out = bool(tune.any())
        trial = grid["trial"] if "trial" in grid.columns else pd.Series(np.nan, grid.index)
        defaults = trial == 0  # a search's zero budget: evaluated, never a candidate
        searched = grid[tune] if held_out else grid[~defaults]
        settings = _settings(searched)
        tuned = _tuned(settings)
        reported = grid[~tune] if held_out else grid
        return cls(grid, settings, tuned, _at(reported, tuned), searched, reported, held_out)


def roles(runs: pd.DataFrame) -> pd.Series:
    """Each run's role, "tune" or "eval" (a store of an older schema: "eval")."""
    if "role" not in runs.columns:
        return pd.Series("eval", index=runs.index)
    return runs["role"].fillna("eval").astype(str)


def _annotated(runs: pd.DataFrame) -> pd.DataFrame:
    frame = add_method(runs)
    frame["objective"] = final_objective(frame)
    frame["objective_kind"] = frame["problem"].map(objective_kinds(frame))
    frame["is_diverged"] = frame["status"] == "diverged"
    return frame


def setting_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (problem, method, setting): ``lr``, ``hparams`` (the full JSON, so a tuned
    setting can be reproduced), ``seeds``, ``diverged`` (count), ``median`` final objective
    over seeds and ``time`` (median steps to the smallest target) and, for a search, ``trial``
    (:func:`optbench.benchmarks.tuning.setting_table`)."""
    return _settings(_annotated(runs))


def _settings(grid: pd.DataFrame) -> pd.DataFrame:
    return rule.setting_table(grid, GROUP)


def tune(runs: pd.DataFrame) -> pd.DataFrame:
    """The tuned setting of each (problem, method) by :data:`TUNING_RULE`.

    Returns one row per (problem, method) with ``setting``, ``lr``, ``median`` (the tuning
    objective), ``diverged`` (seeds) and ``seeds``.
    """
    return _tuned(setting_table(runs))


def _tuned(settings: pd.DataFrame) -> pd.DataFrame:
    return rule.choose(settings, GROUP)


def tuned_runs(runs: pd.DataFrame, tuned: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``runs`` at the tuned settings, with ``method``, ``objective`` (final) and
    ``objective_kind`` added."""
    return _at(_annotated(runs), tuned)


def _at(grid: pd.DataFrame, tuned: pd.DataFrame) -> pd.DataFrame:
    keys = tuned[[*GROUP, "setting"]]
    return grid.merge(keys, on=[*GROUP, "setting"], how="inner")


def _spread(values: pd.Series) -> pd.Series:
    return pd.Series(
        {
            "median": quantile(values, 0.5),
            "q25": quantile(values, 0.25),
            "q75": quantile(values, 0.75),
        }
    )


def summary_table(
    runs: pd.DataFrame, targets: pd.DataFrame | None = None, tuning: Tuning | None = None
) -> pd.DataFrame:
    """One row per (problem, method) at the tuned setting (``tuning``: that of ``runs``, if
    already computed).

    Columns: ``objective`` (its kind), ``setting``, ``lr``, ``seeds``; ``median``, ``q25``,
    ``q75`` of the final objective over seeds (IQR = q75 - q25); ``final_loss`` (median);
    for the MLP ``test_loss`` and ``test_acc`` (medians); ``diverged_grid`` (fraction of all
    runs of the method on the problem, every setting and seed, that diverged), ``grid_runs``;
    ``us_per_step`` (median over the whole grid of ``time_per_step``, microseconds: the cost of
    a step does not depend on the hyperparameters); and for each target ``t`` of the problem,
    ``success@t`` (fraction of seeds at the tuned setting that reached ``subopt <= t``) and
    ``steps@t`` (median first step over the seeds that reached it).
    """
    tuning = Tuning.of(runs) if tuning is None else tuning
    tuned, at_tuned, grid = tuning.tuned, tuning.at_tuned, tuning.searched
    spread = at_tuned.groupby(GROUP, sort=False)["objective"].apply(_spread).unstack()
    medians = at_tuned.groupby(GROUP, sort=False).agg(
        final_loss=("final_loss", "median"),
        test_loss=("final_test_loss", "median"),
        test_acc=("final_test_acc", "median"),
    )
    whole = grid.groupby(GROUP, sort=False).agg(
        diverged_grid=("is_diverged", "mean"),
        grid_runs=("run_id", "size"),
        us_per_step=("time_per_step", "median"),
    )
    whole["us_per_step"] *= 1e6
    table = tuned[[*GROUP, "setting", "lr", "seeds"]].set_index(GROUP)
    table = table.join(spread).join(medians).join(whole)
    table.insert(0, "objective", table.index.get_level_values("problem").map(objective_kinds(runs)))
    if targets is not None and len(targets):
        table = table.join(target_table(at_tuned, targets))
    return table.reset_index()


def target_table(at_tuned: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """``success@t`` and ``steps@t`` per (problem, method) for each target ``t``, from the
    ``targets`` rows of the runs in ``at_tuned`` (which carries ``method``). The success rate
    counts every tuned run, so a run without a row for ``t`` counts as not reaching it."""
    hits = targets[["run_id", "target", "step"]].merge(
        at_tuned[["run_id", *GROUP]], on="run_id", how="inner"
    )
    if hits.empty:
        return pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=GROUP))
    hits = hits.assign(reached=hits["step"].notna())
    stats = hits.groupby([*GROUP, "target"]).agg(
        success=("reached", "sum"), steps=("step", "median")
    )
    runs_per_group = at_tuned.groupby(GROUP).size()  # a run with no target row never reached it
    stats["success"] /= runs_per_group.reindex(stats.index.droplevel("target")).to_numpy()
    wide = stats.unstack("target").sort_index(axis=1, level="target", ascending=False)
    wide.columns = [f"{name}@{target:.0e}" for name, target in wide.columns]
    order = sorted(wide.columns, key=lambda c: (-float(c.split("@")[1]), c))
    return wide[order]


def divergence_table(runs: pd.DataFrame, tuning: Tuning | None = None) -> pd.DataFrame:
    """Diverged fraction of all runs per (problem, method) over the whole grid, as a
    problem x method table."""
    grid = (Tuning.of(runs) if tuning is None else tuning).searched
    rate = grid["is_diverged"].groupby([grid["problem"], grid["method"]]).mean()
    return rate.unstack("method")
