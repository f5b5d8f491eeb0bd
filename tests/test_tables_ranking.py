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


def test_ties_inside_the_display_precision_or_the_interval_are_no_wins():
    matrices = {
        # the case: lower by a factor 1.0045, which reads "1"
        "display": matrix({"a": [8.4e-4, 8.5e-4, 8.49e-4, 8.6e-4, 8.3e-4],
                           "b": [8.53e-4, 8.4e-4, 8.5e-4, 8.7e-4, 8.35e-4]}),
        # a factor 3 in the medians, but b is lower on two seeds: the interval reaches below 1
        "interval": matrix({"a": [1e-3, 1e-3, 1e-3, 1e-3, 1e-3],
                            "b": [3e-3, 1e-4, 3e-3, 1e-4, 3e-3]}),
        # a factor 10 on every seed: a clear win
        "clear": matrix({"a": [1e-3, 2e-3, 3e-3], "b": [1e-2, 2e-2, 3e-2]}),
    }  # fmt: skip
    rows = problem_winners(matrices, n_boot=400).set_index("problem")
    assert rows.loc["display", "tie"] == "display" and rows.loc["display", "tied"] == "a, b"
    assert rows.loc["interval", "tie"] == "interval" and rows.loc["interval", "factor"] == 3.0
    assert rows.loc["interval", "factor_lo"] <= 1.0 and rows.loc["interval", "tied"] == "a, b"
    assert rows.loc["clear", "tie"] == "" and rows.loc["clear", "tied"] == ""
    f0 = pd.Series(1.0, index=list(matrices))
    table = ranking_table(matrices, f0, n_boot=300, winners=rows.reset_index()).set_index("method")
    assert table.loc["a", ["wins", "ties"]].tolist() == [1, 2]
    assert table.loc["b", ["wins", "ties"]].tolist() == [0, 2]


def test_tie_and_disagreement_wording():
    from optbench.reports.summary import winners_display
    from optbench.reports.verdicts import overall_sentence, problem_sentences

    tie = {"problem": "q", "winner": "momentum", "runner_up": "nesterov",
           "winner_median": 8.487e-4, "runner_up_median": 8.526e-4, "factor": 1.0045,
           "factor_lo": 0.957, "factor_hi": 1.0045, "better": 1, "paired": 5, "p": 0.375,
           "tied": "momentum, nesterov", "tie": "display", "tied_equal": "",
           "seed_independent": False}  # fmt: skip
    winners = pd.DataFrame([tie])
    text = problem_sentences(winners)[0]
    assert text.startswith("q: tie between momentum, nesterov, no winner")
    assert "factor 1 [0.957, 1], which reads 1 at the precision shown" in text
    assert " wins" not in text
    assert winners_display(winners)["verdict"][0].startswith("tie (equal at the precision")
    ranking = pd.DataFrame({
        "method": ["adam", "momentum"], "mean_score": [0.92, 0.90], "score_lo": [0.86, 0.88],
        "score_hi": [0.93, 0.93], "gap_lo": [0.0, -0.06], "gap_hi": [0.0, 0.04],
        "mean_rank": [2.71, 2.57], "p_best": [0.63, 0.37], "wins": [0, 2], "ties": [9, 10],
        "problems": [14, 14], "profile_score": [0.30, 0.49]})  # fmt: skip
    text = overall_sentence(ranking)
    assert text.startswith("Overall, adam and momentum tie for first place by mean normalized")
    assert "[-0.06, 0.04], includes 0" in text and "ranks first" not in text
    assert "adam wins 0 of 14 problems outright and ties for first on 9" in text
    assert ("The three aggregates disagree on the best optimizer: the highest mean normalized "
            "score is adam's (0.92); the best mean rank is momentum's (2.57)") in text  # fmt: skip
    ranking.loc[1, ["mean_rank", "gap_lo", "profile_score"]] = [2.8, 0.01, 0.2]
    text = overall_sentence(ranking)
    assert text.startswith("Overall, adam ranks first") and "excludes 0" in text
    assert "The three aggregates agree: adam has the highest mean normalized score (0.92)" in text
