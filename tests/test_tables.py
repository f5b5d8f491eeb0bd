"""The table math of reports.tables on small hand-built runs frames (values derived by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optbench.reports.style import add_method, final_objective, palette
from optbench.reports.tables import divergence_table, quantile, setting_table, summary_table, tune

INF = float("inf")


def make_runs(rows) -> pd.DataFrame:
    """rows: (problem, optimizer, lr, seed, final_subopt or None for diverged)."""
    records = []
    for i, (problem, optimizer, lr, seed, subopt) in enumerate(rows):
        diverged = subopt is None
        records.append({
            "run_id": f"r{i}", "optimizer": optimizer, "convention": "torch",
            "setting": f"lr={lr:g}", "lr": lr, "hparams": f'{{"lr": {lr}}}', "problem": problem,
            "problem_name": "quadratic",
            "seed": seed, "status": "diverged" if diverged else "finished",
            "f_star": 0.0, "final_subopt": np.nan if diverged else subopt,
            "final_loss": np.nan if diverged else subopt, "time_per_step": 2e-6 * (1 + seed),
            "final_test_loss": np.nan, "final_test_acc": np.nan,
        })  # fmt: skip
    return pd.DataFrame(records)


def grid(problem, optimizer, table: dict[float, list]):
    return [(problem, optimizer, lr, s, v) for lr, values in table.items()
            for s, v in enumerate(values)]  # fmt: skip


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 0.25, 1.75),  # h = 0.75: 1 + 0.75 (2 - 1)
        ([1, 2, 3, 4], 0.5, 2.5),
        ([4, 1, 3, 2], 0.75, 3.25),
        ([1, INF], 0.5, INF),  # interpolating towards inf is inf
        ([1, 2, INF], 0.5, 2.0),  # weight 0: the lower value, even next to inf
        ([1, 2, 3, INF], 0.25, 1.75),
        ([1, 2, 3, INF], 0.75, INF),
        ([INF, INF], 0.5, INF),  # numpy.quantile gives NaN here
        ([np.nan, 5.0, 1.0], 0.5, 3.0),  # NaN ignored
    ],
)
def test_quantile_by_hand(values, q, expected):
    assert quantile(values, q) == pytest.approx(expected)


def test_quantile_matches_numpy_on_finite_values():
    rng = np.random.default_rng(3)
    for n in range(1, 12):
        x = rng.standard_normal(n)
        for q in (0.1, 0.25, 0.5, 0.75, 0.9):
            assert quantile(x, q) == pytest.approx(np.quantile(x, q), rel=1e-14, abs=1e-14)


def test_quantile_of_nothing_is_nan():
    assert np.isnan(quantile([np.nan], 0.5))


def test_tune_picks_the_smallest_median_with_diverged_runs_as_inf():
    runs = make_runs(grid("p", "sgd", {
        0.01: [5e-3, 5e-3, 5e-3],     # median 5e-3: the winner
        0.1: [1e-3, 1e-2, 1e-1],      # median 1e-2
        1.0: [1e-9, None, None],      # median inf: best seed, but two of three diverged
    }))  # fmt: skip
    tuned = tune(runs)
    assert len(tuned) == 1
    assert tuned.loc[0, "setting"] == "lr=0.01"
    assert tuned.loc[0, "median"] == pytest.approx(5e-3)


def test_tune_can_pick_a_setting_where_a_minority_of_seeds_diverged():
    runs = make_runs(grid("p", "sgd", {0.1: [1e-3, 1e-3, 1e-3], 1.0: [1e-6, 1e-6, None]}))
    tuned = tune(runs).iloc[0]
    assert (tuned["setting"], tuned["median"], tuned["diverged"]) == ("lr=1", 1e-6, 1)


def test_tune_breaks_ties_by_fewer_divergences_then_smaller_lr():
    runs = make_runs(grid("p", "sgd", {
        0.3: [1e-4, 1e-4, 1e-4],
        0.1: [1e-4, 1e-4, 1e-4],
        0.05: [1e-5, 1e-4, None],   # median 1e-4 too, but one diverged seed
    }))  # fmt: skip
    assert tune(runs).loc[0, "setting"] == "lr=0.1"


def test_tune_uses_the_final_loss_where_f_star_is_unknown():
    runs = make_runs(grid("mlp", "adam", {0.01: [0.5, 0.5], 0.1: [0.2, 0.3]}))
    runs["f_star"] = np.nan
    runs["final_subopt"] = np.nan
    runs["final_loss"] = [0.5, 0.5, 0.2, 0.3]
    assert tune(runs).loc[0, "setting"] == "lr=0.1"
    assert final_objective(runs).tolist() == [0.5, 0.5, 0.2, 0.3]


def test_tuning_is_per_problem_and_optimizer():
    runs = make_runs(
        grid("p", "sgd", {0.1: [1.0, 1.0], 1.0: [0.1, 0.1]})
        + grid("q", "sgd", {0.1: [1.0, 1.0], 1.0: [None, None]})
        + grid("p", "adam", {0.1: [0.01, 0.01], 1.0: [0.5, 0.5]})
    )
    tuned = tune(runs).set_index(["problem", "method"])["setting"]
    assert tuned.to_dict() == {("p", "sgd"): "lr=1", ("q", "sgd"): "lr=0.1",
                               ("p", "adam"): "lr=0.1"}  # fmt: skip


def test_setting_table_counts_diverged_seeds():
    runs = make_runs(grid("p", "sgd", {0.1: [1.0, None, None, 2.0], 1.0: [None] * 4}))
    table = setting_table(runs).set_index("setting")
    assert table.loc["lr=0.1", "diverged"] == 2
    assert table.loc["lr=0.1", "median"] == INF  # [1, 2, inf, inf]: h = 1.5 between 2 and inf
    assert table.loc["lr=1", "seeds"] == 4


def test_summary_statistics_at_the_tuned_setting():
    runs = make_runs(grid("p", "sgd", {
        0.1: [1e-2, 2e-2, 3e-2, 4e-2],     # tuned: median 2.5e-2, q25 1.75e-2, q75 3.25e-2
        1.0: [None, None, 1e-1, None],
        0.01: [1.0, 1.0, 1.0, 1.0],
    }))  # fmt: skip
    row = summary_table(runs).iloc[0]
    assert row["setting"] == "lr=0.1"
    assert row[["median", "q25", "q75"]].tolist() == pytest.approx([2.5e-2, 1.75e-2, 3.25e-2])
    assert row["diverged_grid"] == pytest.approx(3 / 12)  # the whole grid, not the tuned setting
    assert row["grid_runs"] == 12
    assert row["us_per_step"] == pytest.approx(2.0 * 2.5)  # median of 2, 4, 6, 8 microseconds
    assert row["objective"] == "suboptimality"


def test_summary_success_rate_and_median_steps_to_each_target():
    runs = make_runs(grid("p", "sgd", {0.1: [1e-7, 1e-4, 1e-2]}))
    hits = {  # (run, target) -> first step
        ("r0", 1e-1): 3, ("r1", 1e-1): 5, ("r2", 1e-1): 9,
        ("r0", 1e-3): 10, ("r1", 1e-3): 30, ("r2", 1e-3): np.nan,
        ("r0", 1e-6): 50, ("r1", 1e-6): np.nan, ("r2", 1e-6): np.nan,
    }  # fmt: skip
    targets = pd.DataFrame([{"run_id": r, "target": t, "step": s} for (r, t), s in hits.items()])
    row = summary_table(runs, targets).iloc[0]
    assert row["success@1e-01"] == 1.0 and row["steps@1e-01"] == 5.0
    assert row["success@1e-03"] == pytest.approx(2 / 3) and row["steps@1e-03"] == 20.0
    assert row["success@1e-06"] == pytest.approx(1 / 3) and row["steps@1e-06"] == 50.0
    missing = targets[~((targets["run_id"] == "r2") & (targets["target"] == 1e-1))]
    assert summary_table(runs, missing).iloc[0]["success@1e-01"] == pytest.approx(2 / 3)


def test_divergence_table_over_the_whole_grid():
    runs = make_runs(
        grid("p", "sgd", {0.1: [1.0, 1.0], 1.0: [None, None]})
        + grid("p", "adam", {0.1: [1.0, None], 1.0: [1.0, 1.0]})
    )
    table = divergence_table(runs)
    assert table.loc["p", "sgd"] == 0.5
    assert table.loc["p", "adam"] == 0.25


def test_method_names_a_convention_only_when_an_optimizer_has_several():
    runs = make_runs(grid("p", "adam", {0.1: [1.0, 1.0]}) + grid("p", "sgd", {0.1: [1.0]}))
    runs.loc[1, "convention"] = "optax"
    assert add_method(runs)["method"].tolist() == ["adam/torch", "adam/optax", "sgd"]


def test_colors_are_fixed_per_optimizer_whatever_else_is_plotted():
    assert palette(["adam"])["adam"] == palette(["sgd", "momentum", "adam"])["adam"]
    colors = palette(["adam/torch", "adam/optax", "sgd"])
    assert len(set(colors.values())) == 3
    assert colors["adam/torch"] == palette(["adam"])["adam"]


def test_problems_are_ordered_by_kind_then_naturally():
    from optbench.reports.style import problem_order

    runs = pd.DataFrame({"problem": ["mlp(a)", "quadratic(dim=50)", "rosenbrock(dim=10)",
                                     "quadratic(dim=2)", "rosenbrock(dim=2)", "zzz()"],
                         "problem_name": ["mlp", "quadratic", "rosenbrock", "quadratic",
                                          "rosenbrock", "zzz"]})  # fmt: skip
    assert problem_order(runs) == ["rosenbrock(dim=2)", "rosenbrock(dim=10)", "quadratic(dim=2)",
                                   "quadratic(dim=50)", "mlp(a)", "zzz()"]  # fmt: skip
