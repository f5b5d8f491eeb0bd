"""Words and display tables: the report's summary sentences and its formatted tables.

Everything here turns computed frames (:mod:`optbench.reports.tables`,
:mod:`optbench.reports.ranking`) into strings; values are rounded to 3 significant digits for
display only (the CSV files under ``tables/`` keep full precision). A diverged objective (``+inf``)
reads ``diverged``; a missing value ``–``. Nothing here escapes markup: the renderers do, for every
string.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optbench.reports.style import FLOOR, method_order

MISSING = "–"


def fmt(x, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits; ``inf`` -> "diverged", NaN -> "–"."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return MISSING
    if isinstance(x, (float, np.floating)):
        if np.isinf(x):
            return "diverged" if x > 0 else "-inf"
        return f"{x:.{digits}g}"
    return str(x)


def fmt_ci(value, lo, hi, digits: int = 3) -> str:
    """``"value [lo, hi]"``."""
    return f"{fmt(value, digits)} [{fmt(lo, digits)}, {fmt(hi, digits)}]"


def fmt_fixed(x, decimals: int = 2) -> str:
    """``x`` with a fixed number of decimals (scores and ranks); NaN -> "–"."""
    return MISSING if pd.isna(x) else f"{x:.{decimals}f}"


def fmt_fixed_ci(value, lo, hi, decimals: int = 2) -> str:
    """``"value [lo, hi]"`` with a fixed number of decimals (scores and ranks)."""
    if pd.isna(lo) or pd.isna(hi):
        return fmt_fixed(value, decimals)
    return f"{fmt_fixed(value, decimals)} [{lo:.{decimals}f}, {hi:.{decimals}f}]"


def fmt_steps(x) -> str:
    """A (median) step count: ``1140``, ``12.5``; NaN -> "–"."""
    if pd.isna(x):
        return MISSING
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def fmt_pct(x) -> str:
    """A fraction as a percentage, e.g. 0.25 -> "25%"."""
    return MISSING if pd.isna(x) else f"{100 * x:.0f}%"


def ranking_display(ranking: pd.DataFrame, seeds: int = 2) -> pd.DataFrame:
    """The overall ranking for display (see :func:`optbench.reports.ranking.ranking_table`);
    with a single seed, without intervals and P(best) (a bootstrap over one seed is no
    resampling)."""
    out = pd.DataFrame({"optimizer": ranking["method"]})
    if seeds > 1:
        out["mean normalized score [95% CI]"] = [
            fmt_fixed_ci(*r) for r in ranking[["mean_score", "score_lo", "score_hi"]].values
        ]
        out["mean rank [95% CI]"] = [
            fmt_fixed_ci(*r) for r in ranking[["mean_rank", "rank_lo", "rank_hi"]].values
        ]
        out["P(best)"] = ranking["p_best"].map(fmt_pct)
    else:
        out["mean normalized score"] = ranking["mean_score"].map(fmt_fixed)
        out["mean rank"] = ranking["mean_rank"].map(fmt_fixed)
    won, played = ranking["wins"].astype(int), ranking["problems"].astype(int)
    out["problems won"] = won.astype(str) + " / " + played.astype(str)
    return out


def winners_display(winners: pd.DataFrame, seeds: int = 2) -> pd.DataFrame:
    """Per-problem winner vs runner-up for display (with a single seed: the factor alone, no
    interval, no test)."""
    out = pd.DataFrame(
        {"problem": winners["problem"], "winner": winners["winner"],
         "runner-up": winners["runner_up"]}
    )  # fmt: skip
    if seeds > 1:
        out["factor [95% CI]"] = [
            fmt_ci(*r) for r in winners[["factor", "factor_lo", "factor_hi"]].values
        ]
        out["winner better on"] = (
            winners["better"].astype(str) + " / " + winners["paired"].astype(str) + " seeds"
        )
        out["sign-test p"] = winners["p"].map(lambda p: fmt(float(p)))
    else:
        out["factor"] = winners["factor"].map(fmt)
    out["note"] = [_winner_note(row) for _, row in winners.iterrows()]
    return out


def _winner_note(row) -> str:
    if np.isinf(row["winner_median"]):
        return "all diverged"
    if row["tied"]:
        return f"tie: {row['tied']}"
    return "same result on every seed (exact)" if row["seed_independent"] else ""


def problem_display(
    summary: pd.DataFrame, seeds: int = 2, references: pd.Series | None = None
) -> pd.DataFrame:
    """One problem's rows of :func:`optbench.reports.tables.summary_table`, formatted. Each target
    column ``≤ t`` reads ``"<fraction of seeds that reached t> · <median steps among them>"``.
    ``seeds``: 1 gives the final objective alone (no IQR); ``references``: method -> the
    reference of a user's optimizer, shown in a ``code`` column when there is any."""
    order = {m: i for i, m in enumerate(method_order(summary["method"]))}
    summary = summary.sort_values("method", key=lambda m: m.map(order))
    kind = summary["objective"].iloc[0]
    name = "subopt" if kind == "suboptimality" else "train loss"
    out = pd.DataFrame({"optimizer": summary["method"]})
    if references is not None and len(references):
        out["code"] = [references.get(m, "built-in") for m in summary["method"]]
    out["tuned setting"] = summary["setting"]
    if seeds > 1:
        out[f"final {name}: median [IQR]"] = [
            fmt_ci(*r) for r in summary[["median", "q25", "q75"]].values
        ]
    else:
        out[f"final {name}"] = summary["median"].map(fmt)
    if summary["test_loss"].notna().any():
        out["test loss"] = summary["test_loss"].map(fmt)
        out["test acc"] = summary["test_acc"].map(fmt_pct)
    for column in summary.columns:
        if column.startswith("success@") and summary[column].notna().any():
            target = column.split("@")[1]
            out[f"≤ {target}"] = [
                f"{fmt_pct(rate)} · {fmt_steps(steps)}"
                for rate, steps in summary[[column, f"steps@{target}"]].values
            ]
    out["diverged (whole grid)"] = [
        f"{fmt_pct(r)} of {int(n)}" for r, n in summary[["diverged_grid", "grid_runs"]].values
    ]
    out["µs / step"] = summary["us_per_step"].map(fmt)
    return out


def overall_sentence(ranking: pd.DataFrame, seeds: int = 2) -> str:
    """Who ranks first, with its bootstrap interval (none with a single seed), and whether
    the runner-up's interval overlaps."""
    top = ranking.iloc[0]
    if seeds < 2:
        text = (
            f"Overall, {top['method']} ranks first with a mean normalized score of "
            f"{fmt_fixed(top['mean_score'])} (1 = best on every problem) and a mean rank of "
            f"{fmt_fixed(top['mean_rank'])}, winning on {int(top['wins'])} of "
            f"{int(top['problems'])} problems."
        )
        if len(ranking) > 1:
            second = ranking.iloc[1]
            text += f" Next is {second['method']} ({fmt_fixed(second['mean_score'])})."
        return text + (
            " The matrix has a single seed, so there is no sampling error to estimate: no "
            "confidence intervals and no tests, and the order rests on one run per setting."
        )
    text = (
        f"Overall, {top['method']} ranks first with a mean normalized score of "
        f"{fmt_fixed_ci(top['mean_score'], top['score_lo'], top['score_hi'])} (1 = best on "
        f"every problem) and a mean rank of {top['mean_rank']:.2f}, winning on "
        f"{int(top['wins'])} of {int(top['problems'])} problems; it is the best in "
        f"{fmt_pct(top['p_best'])} of the paired bootstrap resamples over seeds."
    )
    if len(ranking) > 1:
        second = ranking.iloc[1]
        overlap = second["score_hi"] >= top["score_lo"]
        text += (
            f" Next is {second['method']} "
            f"({fmt_fixed_ci(second['mean_score'], second['score_lo'], second['score_hi'])}); "
            + (
                "the intervals overlap, so the order of the two is not settled by these seeds."
                if overlap
                else "the intervals do not overlap."
            )
        )
    return text


def _problem_sentence(row) -> str:
    if np.isinf(row["winner_median"]):
        return (
            f"{row['problem']}: every optimizer diverged at its best setting (median over "
            "seeds); no winner."
        )
    if row["tied"]:
        reach = (f"all reach the {FLOOR:.0e} floor (differences below it are not resolved)"
                 if row["winner_median"] <= FLOOR else
                 f"with the same median final objective {fmt(row['winner_median'])}")  # fmt: skip
        return f"{row['problem']}: tie between {row['tied']}, {reach}."
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
    significant = "significant" if row["p"] < 0.05 else "not significant"
    least = 2.0 / 2 ** row["paired"] if row["paired"] else 1.0
    text = (
        f"{row['problem']}: {row['winner']} wins, ahead of {row['runner_up']} by a factor "
        f"{factor} in median final objective; better on {row['better']} of {row['paired']} "
        f"paired seeds (sign test p = {row['p']:.3g}, {significant} at the 5% level"
    )
    if least >= 0.05:
        text += f"; with {row['paired']} seeds no p below {least:.3g} is possible"
    return text + ")."


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
