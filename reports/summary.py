"""Words and display tables: the report's formatted values and tables (its verdicts, the
summary sentences on ranks, wins and ties, are in :mod:`optbench.reports.verdicts`).

Everything here turns computed frames (:mod:`optbench.reports.tables`,
:mod:`optbench.reports.ranking`) into strings; values are rounded to 3 significant digits for
display only (the CSV files under ``tables/`` keep full precision). A diverged objective (``+inf``)
reads ``diverged``; a missing value ``–``. Nothing here escapes markup: the renderers do, for every
string.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optbench.reports.style import method_order

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
    resampling). ``problems won`` counts outright wins only; ``tied for first`` the problems
    where the optimizer shares first place (:data:`optbench.reports.ranking.TIE_RULE`)."""
    out = pd.DataFrame({"optimizer": ranking["method"]})
    if seeds > 1:
        out["mean normalized score [95% CI]"] = [
            fmt_fixed_ci(*r) for r in ranking[["mean_score", "score_lo", "score_hi"]].values
        ]
        out["mean rank [95% CI]"] = [
            fmt_fixed_ci(*r) for r in ranking[["mean_rank", "rank_lo", "rank_hi"]].values
        ]
    else:
        out["mean normalized score"] = ranking["mean_score"].map(fmt_fixed)
        out["mean rank"] = ranking["mean_rank"].map(fmt_fixed)
    if "profile_score" in ranking.columns:
        out["profile score"] = ranking["profile_score"].map(fmt_fixed)
    if seeds > 1:
        out["P(best)"] = ranking["p_best"].map(fmt_pct)
    won, played = ranking["wins"].astype(int), ranking["problems"].astype(int)
    out["problems won"] = won.astype(str) + " / " + played.astype(str)
    out["tied for first"] = ranking["ties"].astype(int).astype(str)
    return out


def profile_scores_display(scores: pd.DataFrame) -> pd.DataFrame:
    """``target x method`` AlgoPerf scores (:func:`optbench.reports.profiles.profile_scores`)
    as one row per method, a column per level (with its number of problems) and the mean."""
    methods = method_order(c for c in scores.columns if c != "problems")
    out = pd.DataFrame({"optimizer": methods})
    for target, row in scores.iterrows():
        name = f"≤ {target:.0e} ({int(row['problems'])})"
        out[name] = [fmt_fixed(row[m]) for m in methods]
    out["profile score (mean)"] = [fmt_fixed(scores[m].mean()) for m in methods]
    return out


def winners_display(winners: pd.DataFrame, seeds: int = 2) -> pd.DataFrame:
    """Per problem, the lowest median against the runner-up, for display (with a single seed:
    the factor alone, no interval, no test), and the verdict: a win or a tie
    (:data:`optbench.reports.ranking.TIE_RULE`)."""
    out = pd.DataFrame(
        {"problem": winners["problem"], "first": winners["winner"],
         "runner-up": winners["runner_up"]}
    )  # fmt: skip
    if seeds > 1:
        out["factor [95% CI]"] = [
            fmt_ci(*r) for r in winners[["factor", "factor_lo", "factor_hi"]].values
        ]
        out["first lower on"] = (
            winners["better"].astype(str) + " / " + winners["paired"].astype(str) + " seeds"
        )
        out["sign-test p"] = winners["p"].map(lambda p: fmt(float(p)))
    else:
        out["factor"] = winners["factor"].map(fmt)
    out["verdict"] = [_verdict(row) for _, row in winners.iterrows()]
    return out


TIE_WHY = {
    "equal": "same median",
    "display": "equal at the precision shown",
    "interval": "95% interval includes 1",
}


def _verdict(row) -> str:
    if np.isinf(row["winner_median"]):
        return "all diverged"
    if row["tied"]:
        equal = row.get("tied_equal", "")
        if row.get("tie") == "equal" and equal and equal != row["tied"]:
            return (f"tie: {row['tied']} (same median: {equal}; the others equal at the "
                    "precision shown or inside the 95% interval)")  # fmt: skip
        return f"tie ({TIE_WHY.get(row.get('tie', ''), 'tie')}): {row['tied']}"
    return "win, exact (same result on every seed)" if row["seed_independent"] else "win"


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
    if "edge" in summary.columns and (summary["edge"] != "").any():
        out["edge"] = summary["edge"]
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
