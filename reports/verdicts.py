"""The summary's verdicts: who ranks first or which optimizers tie for first, whether the
three aggregates (mean normalized score, mean rank, profile score) agree, and per problem a
win or a tie (:data:`optbench.reports.ranking.TIE_RULE`), with its numbers.

Plain strings, formatted by :mod:`optbench.reports.summary`; the renderers escape them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optbench.reports.style import FLOOR
from optbench.reports.summary import (
    MISSING,
    fmt,
    fmt_ci,
    fmt_fixed,
    fmt_fixed_ci,
    fmt_pct,
    fmt_steps,
)


def _leaders(ranking: pd.DataFrame, seeds: int) -> list[str]:
    """The methods tied with the top of ``ranking`` by mean score: equal to 2 decimals, or
    (several seeds) a paired-bootstrap interval of the difference that includes 0."""
    top = ranking.iloc[0]
    tied = [top["method"]]
    for _, row in ranking.iloc[1:].iterrows():
        shown = fmt_fixed(row["mean_score"]) == fmt_fixed(top["mean_score"])
        inside = seeds > 1 and "gap_lo" in row.index and row["gap_lo"] <= 0.0 <= row["gap_hi"]
        if shown or inside:
            tied.append(row["method"])
    return tied


def _names(methods: list[str]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    return methods[0] if len(methods) == 1 else ", ".join(methods[:-1]) + " and " + methods[-1]


def _best(ranking: pd.DataFrame, column: str, highest: bool) -> tuple[list[str], str]:
    """The methods best by ``column`` at its display precision (2 decimals), and that value."""
    shown = ranking[column].map(fmt_fixed)
    values = ranking[column].round(2)
    if values.isna().all():
        return [], MISSING
    best = values.max() if highest else values.min()
    chosen = ranking.loc[values == best, "method"].tolist()
    return chosen, shown[values == best].iloc[0]


_COUNT = {1: "one", 2: "two", 3: "three"}


def agreement_sentence(ranking: pd.DataFrame) -> str:
    """Whether mean normalized score, mean rank and (when there is one) profile score name the
    same best optimizer, at their display precision; "" with a single method."""
    if len(ranking) < 2:
        return ""
    measures = [("the highest mean normalized score", "mean_score", True),
                ("the best mean rank", "mean_rank", False)]  # fmt: skip
    if "profile_score" in ranking.columns and ranking["profile_score"].notna().any():
        measures.append(("the highest profile score (steps to the targets, AlgoPerf's score)",
                         "profile_score", True))  # fmt: skip
    best = [(what, *_best(ranking, column, high)) for what, column, high in measures]
    named = [(what, _names(methods), value) for what, methods, value in best if methods]
    if len({name for _, name, _ in named}) == 1:
        return (
            f"The {_COUNT[len(named)]} aggregates agree: {named[0][1]} has "
            + ", ".join(f"{what} ({value})" for what, _, value in named)
            + "."
        )
    parts = [f"{what} is {name}'s ({value})" for what, name, value in named]
    return (f"The {_COUNT[len(named)]} aggregates disagree on the best optimizer: "
            + "; ".join(parts) + ".")  # fmt: skip


def _first_places(ranking: pd.DataFrame, methods: list[str]) -> str:
    rows = ranking.set_index("method").loc[methods]
    parts = [f"{m} wins {int(r['wins'])} of {int(r['problems'])} problems outright and ties "
             f"for first on {int(r['ties'])}" for m, r in rows.iterrows()]  # fmt: skip
    return "; ".join(parts) + "."


def overall_sentence(ranking: pd.DataFrame, seeds: int = 2) -> str:
    """Who ranks first by mean normalized score, or which methods tie for first (a tie:
    :data:`optbench.reports.ranking.TIE_RULE`), with bootstrap intervals (none with a single
    seed); their outright wins and ties; whether the three aggregates agree."""
    top = ranking.iloc[0]
    leaders = _leaders(ranking, seeds)
    ci = (lambda r: fmt_fixed_ci(r["mean_score"], r["score_lo"], r["score_hi"])) if seeds > 1 \
        else (lambda r: fmt_fixed(r["mean_score"]))  # fmt: skip
    rows = ranking.set_index("method", drop=False)
    if len(leaders) > 1:
        scores = ", ".join(f"{m} {ci(rows.loc[m])}" for m in leaders)
        text = (f"Overall, {_names(leaders)} tie for first place by mean normalized score "
                f"(1 = best on every problem): {scores}")  # fmt: skip
        if seeds > 1:
            second = rows.loc[leaders[1]]
            text += (f"; the paired bootstrap interval of the difference between {leaders[0]} "
                     f"and {leaders[1]}, [{second['gap_lo']:.2f}, {second['gap_hi']:.2f}], "
                     "includes 0" if second["gap_lo"] <= 0 <= second["gap_hi"] else
                     "; the scores agree to the 2 decimals shown")  # fmt: skip
            text += (f" ({leaders[0]} is the best in {fmt_pct(top['p_best'])} of the paired "
                     "resamples over seeds)")  # fmt: skip
        text += ". "
    else:
        text = (f"Overall, {top['method']} ranks first with a mean normalized score of "
                f"{ci(top)} (1 = best on every problem) and a mean rank of "
                f"{fmt_fixed(top['mean_rank'])}")  # fmt: skip
        if len(ranking) > 1:
            second = ranking.iloc[1]
            text += f", ahead of {second['method']} ({ci(second)})"
            if seeds > 1:
                text += (f": the paired bootstrap interval of the difference, "
                         f"[{second['gap_lo']:.2f}, {second['gap_hi']:.2f}], excludes 0; it is "
                         f"the best in {fmt_pct(top['p_best'])} of the paired resamples over "
                         "seeds")  # fmt: skip
        text += ". "
    text += _first_places(ranking, leaders)
    agree = agreement_sentence(ranking)
    text += f" {agree}" if agree else ""
    if seeds < 2:
        text += (
            " The matrix has a single seed, so there is no sampling error to estimate: no "
            "confidence intervals and no tests, and the order rests on one run per setting."
        )
    return text


def _problem_sentence(row) -> str:
    if np.isinf(row["winner_median"]):
        return (
            f"{row['problem']}: every optimizer diverged at its best setting (median over "
            "seeds); no winner."
        )
    if row["tied"]:
        return _tie_sentence(row)
    if row["paired"] < 2:
        seeds = "a single seed" if row["paired"] else "no seed in common"
        return (
            f"{row['problem']}: {row['winner']} wins, ahead of {row['runner_up']} by a factor "
            f"{fmt(row['factor'])} in final objective, on {seeds} (no interval and no test)."
        )
    if row["seed_independent"]:
        return (
            f"{row['problem']}: {row['winner']} wins, ahead of {row['runner_up']} by a factor "
            f"{fmt(row['factor'])} in final objective; every seed gives the same result (a "
            "deterministic problem), so the difference is exact, not a sample."
        )
    factor = fmt_ci(row["factor"], row["factor_lo"], row["factor_hi"])
    return (
        f"{row['problem']}: {row['winner']} wins, ahead of {row['runner_up']} by a factor "
        f"{factor} in median final objective (the 95% interval excludes 1); "
        + _seeds_clause(row)
        + "."
    )


def _seeds_clause(row) -> str:
    """``"lower on 4 of 5 paired seeds (sign test p = 0.375, not significant ...)"``."""
    significant = "significant" if row["p"] < 0.05 else "not significant"
    least = 2.0 / 2 ** row["paired"] if row["paired"] else 1.0
    text = (f"lower on {row['better']} of {row['paired']} paired seeds (sign test "
            f"p = {row['p']:.3g}, {significant} at the 5% level")  # fmt: skip
    if least >= 0.05:
        text += f"; with {row['paired']} seeds no p below {least:.3g} is possible"
    return text + ")"


def _tie_sentence(row) -> str:
    """A problem without a winner: the methods tied with the first and why."""
    why, equal = row.get("tie", "equal"), row.get("tied_equal", "") or row["tied"]
    others = [m for m in row["tied"].split(", ") if m not in equal.split(", ")]
    if why == "equal":
        reach = (f"all reach the {FLOOR:.0e} floor (differences below it are not resolved)"
                 if row["winner_median"] <= FLOOR else
                 f"with the same median final objective {fmt(row['winner_median'])}")  # fmt: skip
        text = f"{row['problem']}: tie between {equal}, {reach}"
        if others:
            text += (f"; {_names(others)} {'is' if len(others) == 1 else 'are'} tied with them "
                     "too, equal at the precision shown or inside the 95% interval")  # fmt: skip
        return text + "."
    factor = fmt_ci(row["factor"], row["factor_lo"], row["factor_hi"])
    if row["paired"] < 2 or row["seed_independent"]:
        factor = fmt(row["factor"])
    because = ("which reads 1 at the precision shown" if why == "display" else
               "but the 95% paired-bootstrap interval includes 1")  # fmt: skip
    text = (f"{row['problem']}: tie between {row['tied']}, no winner: {row['winner']}'s median "
            f"final objective is lower than {row['runner_up']}'s by a factor {factor}, "
            f"{because}")  # fmt: skip
    if row["paired"] >= 2 and not row["seed_independent"]:
        text += "; " + _seeds_clause(row)
    if len(row["tied"].split(", ")) > 2:
        text += (f"; the others are tied with {row['winner']} by the same rule (equal at the "
                 "precision shown, or a 95% interval that includes 1)")  # fmt: skip
    return text + "."


def fastest_to_target(summary: pd.DataFrame, problem: str, methods: list[str]) -> str:
    """Among ``methods`` on ``problem``, who reaches the hardest target every seed reached
    first: ``"; fastest to f - f* <= 1e-08: adam (median 310 steps)"``, or "" if none did."""
    rows = summary[(summary["problem"] == problem) & summary["method"].isin(methods)]
    columns = sorted((c for c in rows.columns if c.startswith("success@")),
                     key=lambda c: float(c.split("@")[1]))  # fmt: skip
    for column in columns:  # hardest target first
        done = rows[rows[column] == 1.0]
        if len(done):
            target = column.split("@")[1]
            best = done.loc[done[f"steps@{target}"].idxmin()]
            return (f"; fastest to f - f* <= {target} on every seed: {best['method']} "
                    f"(median {fmt_steps(best[f'steps@{target}'])} steps)")  # fmt: skip
    return ""


def problem_sentences(winners: pd.DataFrame, summary: pd.DataFrame | None = None) -> list[str]:
    """One sentence per problem: who won, by how much, with what confidence; ties broken by
    steps to the targets when ``summary`` (:func:`optbench.reports.tables.summary_table`) is given.
    """
    sentences = []
    for _, row in winners.iterrows():
        sentence = _problem_sentence(row)
        if row["tied"] and summary is not None:
            fastest = fastest_to_target(summary, row["problem"], row["tied"].split(", "))
            sentence = sentence.removesuffix(".") + fastest + "."
        sentences.append(sentence)
    return sentences
