"""Ranks, normalized scores, the paired bootstrap and the sign test of reports.ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optbench.reports.ranking import (
    median_table,
    problem_winners,
    rank_array,
    ranking_table,
    score_array,
    sign_test,
)

INF = float("inf")


def matrix(rows: dict[str, list[float]]) -> pd.DataFrame:
    """method -> objective per seed (columns = seeds 0..n-1)."""
    return pd.DataFrame(rows).T


def test_ranks_average_ties_and_leave_missing_out():
    ranks = rank_array(np.array([3.0, 1.0, 3.0, np.nan, INF]))
    np.testing.assert_array_equal(ranks[[0, 1, 2, 4]], [2.5, 1.0, 2.5, 4.0])
    assert np.isnan(ranks[3])
    np.testing.assert_array_equal(rank_array(np.array([INF, INF, 1.0])), [2.5, 2.5, 1.0])


def test_ranks_work_on_a_batch_of_problems():
    values = np.array([[[1.0, 2.0], [5.0, 4.0]], [[2.0, 2.0], [0.0, 1.0]]])  # (B, P, M)
    expected = np.array([[[1, 2], [2, 1]], [[1.5, 1.5], [1, 2]]])
    np.testing.assert_array_equal(rank_array(values), expected)


def test_scores_are_the_fraction_of_the_best_log_progress():
    # f0 = 1e2; best reaches 1e-4 (6 decades), the second 1e-1 (3 decades), the third diverged
    scores = score_array(np.array([[1e-4, 1e-1, INF, 1e3]]), np.array([1e2]))
    np.testing.assert_allclose(scores, [[1.0, 0.5, 0.0, 0.0]])


def test_scores_when_nobody_improves_on_the_start():
    scores = score_array(np.array([[2.0, 3.0, 2.0]]), np.array([1.0]))
    np.testing.assert_array_equal(scores, [[1.0, 0.0, 1.0]])


def test_scores_when_everybody_diverged_are_zero():
    np.testing.assert_array_equal(score_array(np.array([[INF, INF]]), np.array([1.0])), [[0, 0]])


@pytest.mark.parametrize(
    ("wins", "losses", "p"),
    [
        (5, 0, 2 / 32),
        (0, 5, 2 / 32),
        (3, 3, 1.0),
        (8, 2, 2 * (1 + 10 + 45) / 1024),
        (0, 0, 1.0),
        (1, 0, 1.0),
    ],
)
def test_sign_test_by_hand(wins, losses, p):
    assert sign_test(wins, losses) == pytest.approx(p)


def test_a_method_better_on_every_seed_and_problem_ranks_first_with_certainty():
    matrices = {
        "p": matrix({"a": [1e-6, 1e-5, 1e-4, 1e-6], "b": [1e-3, 1e-2, 1e-1, 1e-3]}),
        "q": matrix({"a": [1e-2, 1e-2, 2e-2, 1e-2], "b": [1e-1, 2e-1, 3e-1, 1e-1]}),
    }
    f0 = pd.Series({"p": 1.0, "q": 1.0})
    table = ranking_table(matrices, f0, n_boot=300).set_index("method")
    assert table.loc["a", ["mean_rank", "rank_lo", "rank_hi"]].tolist() == [1.0, 1.0, 1.0]
    assert table.loc["a", ["mean_score", "score_lo", "score_hi"]].tolist() == [1.0, 1.0, 1.0]
    assert table.loc["a", "p_best"] == 1.0 and table.loc["b", "p_best"] == 0.0
    assert table.loc["a", "wins"] == 2 and table.loc["b", "problems"] == 2
    medians = median_table(matrices)
    assert medians.loc["p", "a"] == pytest.approx(np.median([1e-6, 1e-5, 1e-4, 1e-6]))


def test_alternating_winners_give_overlapping_intervals():
    rng = np.random.default_rng(0)
    noise = rng.lognormal(0.0, 1.0, size=(2, 9))
    matrices = {"p": matrix({"a": list(1e-3 * noise[0]), "b": list(1e-3 * noise[1])})}
    table = ranking_table(matrices, pd.Series({"p": 1.0}), n_boot=400).set_index("method")
    assert 0.0 < table.loc["a", "p_best"] < 1.0
    assert table.loc["a", "rank_lo"] == 1.0 and table.loc["a", "rank_hi"] == 2.0


def test_bootstrap_is_paired_over_seeds():
    # huge seed-to-seed variation shared by both methods; a is 0.9 x b on every seed
    seed_effect = 10.0 ** np.array([-6.0, -3.0, 0.0, 2.0, -1.0, -4.0])
    matrices = {"p": matrix({"a": list(0.9 * seed_effect), "b": list(seed_effect)})}
    winners = problem_winners(matrices, n_boot=500)
    row = winners.iloc[0]
    assert (row["winner"], row["runner_up"]) == ("a", "b")
    # paired resampling keeps the ratio of medians at exactly 1/0.9 in every resample
    assert row["factor_lo"] == pytest.approx(1 / 0.9) and row["factor_hi"] == pytest.approx(1 / 0.9)
    assert (row["better"], row["paired"]) == (6, 6)
    assert row["p"] == pytest.approx(2 / 64)
    table = ranking_table(matrices, pd.Series({"p": 10.0}), n_boot=300).set_index("method")
    assert table.loc["a", "p_best"] == 1.0


def test_winner_comparison_counts_diverged_seeds_as_losses():
    matrices = {"p": matrix({"a": [1e-3, 1e-3, 1e-3], "b": [1e-4, INF, INF]})}
    row = problem_winners(matrices, n_boot=100).iloc[0]
    assert row["winner"] == "a" and row["runner_up"] == "b"
    assert (row["better"], row["paired"]) == (2, 3)
    assert row["factor"] == INF


def test_missing_seeds_of_a_partial_store_are_ignored_not_paired():
    matrices = {"p": matrix({"a": [1e-3, np.nan, 1e-3], "b": [np.nan, 1e-2, np.nan]})}
    medians = median_table(matrices)
    assert medians.loc["p", "a"] == 1e-3 and medians.loc["p", "b"] == 1e-2
    row = problem_winners(matrices, n_boot=50).iloc[0]
    assert row["paired"] == 0 and row["p"] == 1.0 and np.isnan(row["factor_lo"])


def test_winner_reports_ties_and_seed_independent_results():
    matrices = {
        "floor": matrix({"a": [1e-14] * 3, "b": [1e-14] * 3, "c": [1.0] * 3}),
        "exact": matrix({"a": [2e-3] * 3, "b": [5e-3] * 3}),
        "noisy": matrix({"a": [1e-3, 2e-3, 3e-3], "b": [5e-3, 4e-3, 6e-3]}),
    }
    rows = problem_winners(matrices, n_boot=50).set_index("problem")
    assert rows.loc["floor", "tied"] == "a, b"
    assert rows.loc["exact", "seed_independent"] and rows.loc["exact", "tied"] == ""
    assert not rows.loc["noisy", "seed_independent"]
    assert rows.loc["exact", "factor"] == pytest.approx(2.5)
