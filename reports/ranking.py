"""Overall ranking across problems, and how sure we are of it.

Every optimizer sees the same seeds (initializations, minibatches, gradient noise), so the
comparisons are *paired* over seeds. From the tuned runs we form, per problem, the matrix
``F[method, seed]`` of final objectives (``+inf`` if diverged; values below ``FLOOR`` floored).

- Rank: per problem, methods ranked by ``median_seeds F`` (1 = best, ties get the mean rank);
  the overall rank is the mean over problems.
- Normalized score (0..1) of a method on a problem: the fraction of the best method's progress
  in orders of magnitude from the initial objective ``f0`` (median at step 0)::

      score = clip(log10(f0 / f) / log10(f0 / f_best), 0, 1)

  1 = as good as the best, 0 = no better than the start, or diverged (median ``+inf``). If no
  method improves on ``f0``, the best method(s) score 1 and the others 0.
- Confidence: a paired bootstrap over seeds. Each of ``n_boot`` resamples draws the seeds of
  every problem with replacement, the same draw for all methods, and recomputes medians, ranks
  and scores (the tuned settings stay fixed). Intervals are the 2.5 and 97.5 percentiles;
  ``p_best`` is the fraction of resamples in which the method has the highest mean score
  (a tie of k methods gives each 1/k).
- Per problem, the method with the lowest median against the runner-up: the ratio of medians
  with its bootstrap interval, the count of seeds on which the first is lower, and the exact
  two-sided sign test ``p = min(1, 2 P[Binomial(n, 1/2) <= min(k, n - k)])`` over the ``n``
  untied seeds.
- Ties (:data:`TIE_RULE`): a method is tied with the first of a problem when its median equals
  the first's at the display precision (3 significant digits; the factor reads "1"), or when
  the 95% paired-bootstrap interval of the factor ``median_m / median_first`` reaches down to 1
  (``factor_lo <= 1``). The first *wins* the problem only when no other method is tied with it;
  ``wins`` counts those problems, ``ties`` those where a method shares first place. Overall,
  a method is tied with the top of the ranking when the 95% paired-bootstrap interval of the
  difference of mean scores (``gap_lo``, ``gap_hi``: top minus it) includes 0, or the two mean
  scores agree to the 2 decimals shown.
"""

from __future__ import annotations

import warnings
from math import comb

import numpy as np
import pandas as pd

from optbench.reports.style import FLOOR, method_order
from optbench.reports.tables import quantile

DIGITS = 3
"""Significant digits of the objectives and factors as displayed (:func:`same_display`)."""
TIE_RULE = (
    "Ties: on a problem, an optimizer is tied with the one with the lowest median when the two "
    "medians agree to the 3 significant digits shown (the factor reads 1), or when the 95% "
    "paired-bootstrap interval of the factor between them reaches down to 1; the first wins "
    "the problem only when no other optimizer is tied with it ('problems won' counts those, "
    "'tied for first' the problems where an optimizer shares first place). Overall, two "
    "optimizers tie when their mean scores agree to the 2 decimals shown or the 95% paired-"
    "bootstrap interval of the difference of their mean scores includes 0."
)


def same_display(a: float, b: float, digits: int = DIGITS) -> bool:
    """Whether ``a`` and ``b`` read the same at ``digits`` significant digits."""
    return f"{float(a):.{digits}g}" == f"{float(b):.{digits}g}"


def objective_matrices(at_tuned: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``problem -> DataFrame[method x seed]`` of final objectives (floored at FLOOR; NaN where
    a seed is missing, e.g. in a partial store) from the tuned runs."""
    matrices = {}
    for problem, rows in at_tuned.groupby("problem", sort=False):
        matrix = rows.pivot_table(
            index="method", columns="seed", values="objective", aggfunc="first"
        )
        matrix = matrix.reindex(method_order(matrix.index))
        matrices[str(problem)] = matrix.clip(lower=FLOOR)
    return matrices


def initial_objective(curves: pd.DataFrame, at_tuned: pd.DataFrame) -> pd.Series:
    """``problem -> f0``: median objective at step 0 over the tuned runs (FLOOR-floored)."""
    start = curves[(curves["step"] == 0) & curves["run_id"].isin(at_tuned["run_id"])]
    kinds = at_tuned.groupby("problem")["objective_kind"].first()
    value = np.where(start["problem"].map(kinds) == "suboptimality", start["subopt"], start["loss"])
    f0 = pd.Series(value, index=start.index).groupby(start["problem"]).median()
    return f0.clip(lower=FLOOR)


def rank_array(values: np.ndarray) -> np.ndarray:
    """Ranks along the last axis (1 = smallest; ties get their mean rank; NaN stays NaN and
    does not count): ``rank_i = 1 + #{j: v_j < v_i} + (#{j: v_j == v_i} - 1) / 2``."""
    v = np.asarray(values, float)
    less = (v[..., None, :] < v[..., :, None]).sum(axis=-1)
    equal = (v[..., None, :] == v[..., :, None]).sum(axis=-1)
    return np.where(np.isnan(v), np.nan, 1.0 + less + (equal - 1) / 2.0)


def score_array(medians: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """Normalized scores (module docstring) of ``medians: (..., problems, methods)`` given
    ``f0: (problems,)``."""
    med = np.asarray(medians, float)
    start = np.asarray(f0, float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        best = np.nanmin(med, axis=-1, keepdims=True)
        progress = np.log10(start / med) / np.log10(start / best)
    stuck = ~(best < start)
    progress = np.where(stuck, np.where(med == best, 1.0, 0.0), progress)
    progress = np.where(np.isinf(med), 0.0, progress)  # diverged: 0, even if all did
    return np.where(np.isnan(med), np.nan, np.clip(progress, 0.0, 1.0))


def ranks(medians: pd.DataFrame) -> pd.DataFrame:
    """``problem x method`` ranks of the medians (:func:`rank_array`)."""
    return pd.DataFrame(rank_array(medians.to_numpy(float)), medians.index, medians.columns)


def scores(medians: pd.DataFrame, f0: pd.Series) -> pd.DataFrame:
    """``problem x method`` normalized scores (:func:`score_array`)."""
    values = score_array(medians.to_numpy(float), f0.reindex(medians.index).to_numpy(float))
    return pd.DataFrame(values, index=medians.index, columns=medians.columns)


def median_table(matrices: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``problem x method`` medians over seeds (missing seeds ignored, ``+inf`` kept)."""
    rows = {
        p: pd.Series(_nanmedian(m.to_numpy(float), axis=1), index=m.index)
        for p, m in matrices.items()
    }
    table = pd.DataFrame(rows).T
    return table[method_order(table.columns)]


def _nanmedian(values: np.ndarray, axis: int) -> np.ndarray:
    """``np.nanmedian`` that keeps ``+inf`` (the mean of the middle pair of [a, inf] is inf)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(values, axis=axis)


def bootstrap_medians(matrices, n_boot: int, rng: np.random.Generator):
    """``(B, problems, methods)`` medians of paired seed resamples, and the method labels."""
    methods = method_order({m for matrix in matrices.values() for m in matrix.index})
    out = np.full((n_boot, len(matrices), len(methods)), np.nan)
    for j, matrix in enumerate(matrices.values()):
        values = matrix.reindex(methods).to_numpy(dtype=float)
        draw = rng.integers(0, values.shape[1], size=(n_boot, values.shape[1]))
        sample = values[:, draw]  # (methods, B, seeds)
        all_missing = np.isnan(sample).all(axis=2)
        out[:, j, :] = np.where(all_missing, np.nan, _nanmedian(sample, axis=2)).T
    return out, methods


def ranking_table(
    matrices,
    f0: pd.Series,
    n_boot: int = 2000,
    seed: int = 0,
    winners: pd.DataFrame | None = None,
    profile_score: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per method, best first: ``mean_rank`` with ``rank_lo``/``rank_hi``,
    ``mean_score`` with ``score_lo``/``score_hi`` (95% paired bootstrap), ``gap_lo``/``gap_hi``
    (interval of the top method's mean score minus this one's, in the same resamples),
    ``p_best``, ``wins`` (problems it wins outright, no tie), ``ties`` (problems where it shares
    first place, :data:`TIE_RULE`), ``problems`` (how many it ran on) and, given
    ``profile_score`` (method -> :func:`optbench.reports.profiles.headline_scores`),
    ``profile_score``. ``winners``: :func:`problem_winners` of ``matrices`` if already known."""
    medians = median_table(matrices)
    r, s = ranks(medians), scores(medians, f0)
    boot, methods = bootstrap_medians(matrices, n_boot, np.random.default_rng(seed))
    boot_rank = rank_array(boot)
    boot_score = score_array(boot, f0.reindex(list(matrices)).to_numpy(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_rank = np.nanmean(boot_rank, axis=1)  # (B, methods)
        mean_score = np.nanmean(boot_score, axis=1)
    filled = np.where(np.isnan(mean_score), -1.0, mean_score)
    is_best = filled == filled.max(axis=1, keepdims=True)  # ties share the credit
    p_best = (is_best / is_best.sum(axis=1, keepdims=True)).mean(axis=0)
    if winners is None:
        winners = problem_winners(matrices, n_boot=n_boot, seed=seed)
    wins, ties = first_places(winners, methods)
    table = pd.DataFrame(
        {
            "mean_rank": r.mean(axis=0).reindex(methods),
            "rank_lo": np.percentile(mean_rank, 2.5, axis=0),
            "rank_hi": np.percentile(mean_rank, 97.5, axis=0),
            "mean_score": s.mean(axis=0).reindex(methods),
            "score_lo": np.percentile(mean_score, 2.5, axis=0),
            "score_hi": np.percentile(mean_score, 97.5, axis=0),
            "p_best": p_best,
            "wins": wins,
            "ties": ties,
            "problems": r.notna().sum(axis=0).reindex(methods),
        },
        index=pd.Index(methods, name="method"),
    )
    if profile_score is not None:
        table["profile_score"] = profile_score.reindex(methods).to_numpy(float)
    table = table.sort_values(["mean_score", "mean_rank"], ascending=[False, True])
    top = methods.index(table.index[0])
    gap = mean_score[:, [top]] - mean_score  # (B, methods): top minus each, paired
    table.insert(6, "gap_lo", pd.Series(np.percentile(gap, 2.5, axis=0), index=methods))
    table.insert(7, "gap_hi", pd.Series(np.percentile(gap, 97.5, axis=0), index=methods))
    return table.reset_index()


def first_places(winners: pd.DataFrame, methods: list[str]) -> tuple[list[int], list[int]]:
    """Per method of ``methods``: problems won outright and problems where it is tied for
    first (the ``tied`` list of :func:`problem_winners`; a problem where every method
    diverged counts for no one)."""
    wins, ties = dict.fromkeys(methods, 0), dict.fromkeys(methods, 0)
    for _, row in winners.iterrows():
        if np.isinf(row["winner_median"]):
            continue
        if row["tied"]:
            for method in row["tied"].split(", "):
                ties[method] = ties.get(method, 0) + 1
        else:
            wins[row["winner"]] = wins.get(row["winner"], 0) + 1
    return [wins[m] for m in methods], [ties[m] for m in methods]


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided sign test p-value for ``wins`` vs ``losses`` untied pairs."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(comb(n, i) for i in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2.0 * tail)


def _constant(values: pd.Series) -> bool:
    """True when the non-missing values (at least one) are all equal (``+inf`` included)."""
    present = values.dropna().to_numpy(float)
    return bool(present.size) and bool((present == present[0]).all())


def _ratio_interval(a, b, rng, n_boot: int) -> tuple[float, float]:
    """95% paired-bootstrap interval of ``median(b) / median(a)`` over paired seeds."""
    if a.size == 0:
        return float("nan"), float("nan")
    draw = rng.integers(0, a.size, size=(n_boot, a.size))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.median(b[draw], axis=1) / np.median(a[draw], axis=1)
    return quantile(ratio, 0.025), quantile(ratio, 0.975)


def _tie(first: float, other: float, lo: float) -> str:
    """Why ``other`` is tied with ``first`` (medians): "equal", "display" (the same at
    :data:`DIGITS`, or a factor that reads 1), "interval" (the bootstrap interval of the factor
    reaches 1), or "" (a clear difference)."""
    if other == first:
        return "equal"
    if np.isinf(other) or np.isinf(first):
        return ""
    if same_display(first, other) or same_display(other / first, 1.0):
        return "display"
    return "interval" if lo <= 1.0 else ""


def problem_winners(matrices, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per problem: ``winner`` (the lowest median), ``runner_up``, their medians, ``factor`` =
    runner-up median / winner median with a 95% paired-bootstrap interval (``factor_lo``,
    ``factor_hi``), ``better`` (seeds on which the winner is lower) of ``paired`` seeds, the
    sign test ``p``, ``tied`` (the methods tied with the first by :data:`TIE_RULE`, the first
    included, comma-separated, or "" when it wins outright), ``tie`` (why the runner-up is tied:
    "equal", "display", "interval", or ""), ``tied_equal`` (those of ``tied`` with exactly the
    first's median) and ``seed_independent`` (both results identical on
    every one of at least two paired seeds: a deterministic problem, where the seeds are no
    replicates and the difference is exact)."""
    rng = np.random.default_rng(seed)
    rows = []
    for problem, matrix in matrices.items():
        order = matrix.assign(_m=_nanmedian(matrix.to_numpy(float), axis=1))
        order = order.sort_values("_m", kind="stable")
        if len(order) < 2:
            continue
        medians = order.pop("_m")
        first = order.iloc[0]
        reasons, intervals = {}, {}
        for method, other in list(order.iterrows())[1:]:
            paired = first.notna() & other.notna()
            a, b = first[paired].to_numpy(float), other[paired].to_numpy(float)
            intervals[method] = _ratio_interval(a, b, rng, n_boot)
            reasons[method] = _tie(medians.iloc[0], medians[method], intervals[method][0])
        tied = [order.index[0], *(m for m, why in reasons.items() if why)]
        equal = [order.index[0], *(m for m, why in reasons.items() if why == "equal")]
        (winner, a), (runner, b) = list(order.iterrows())[:2]
        paired = a.notna() & b.notna()
        exact = int(paired.sum()) > 1 and _constant(a) and _constant(b)  # one seed proves nothing
        a, b = a[paired].to_numpy(float), b[paired].to_numpy(float)
        better, worse = int((a < b).sum()), int((a > b).sum())
        rows.append(
            {
                "problem": problem,
                "winner": winner,
                "runner_up": runner,
                "winner_median": medians.iloc[0],
                "runner_up_median": medians.iloc[1],
                "factor": medians.iloc[1] / medians.iloc[0],
                "factor_lo": intervals[runner][0],
                "factor_hi": intervals[runner][1],
                "better": better,
                "paired": int(a.size),
                "p": sign_test(better, worse),
                "tied": ", ".join(map(str, tied)) if len(tied) > 1 else "",
                "tie": reasons[runner],
                "tied_equal": ", ".join(map(str, equal)) if len(equal) > 1 else "",
                "seed_independent": exact,
            }
        )
    return pd.DataFrame(rows)
