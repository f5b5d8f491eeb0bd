"""The tuning budget: what each optimizer was tuned over, and what more search bought.

:func:`budget_table` states each method's budget: a grid (its size per problem) or a seeded
quasi-random search (its trials), times the tuning seeds. For a search, :func:`best_of_k` is
Crowded Valley's performance against budget (Schmidt, Schneider & Hennig, 2021): for each
``k = 1..N`` the setting that the tuning rule picks from the first k trials, with its median
final objective on the tuning seeds (what the choice saw) and on the evaluation seeds (what it
delivered); ``k = 0`` is the optimizer's defaults, the budget of no tuning at all.
:func:`plot_best_of_k` draws it, one panel per problem.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from optbench.benchmarks import tuning as rule
from optbench.reports.drawing import grid, legend, log_panel_title
from optbench.reports.style import FLOOR, method_order, objective_label, palette, tex_safe
from optbench.reports.tables import GROUP, Tuning

BUDGET_COLUMNS = ["method", "search", "settings", "tuning_seeds", "tuning_runs", "held_out"]


def budget_table(tuning: Tuning) -> pd.DataFrame:
    """One row per method: ``search`` ("grid" or "quasi-random"), ``settings`` (per problem:
    ``"14"``, or ``"14-56"`` when problems differ; a search counts its trials),
    ``tuning_seeds``, ``tuning_runs`` (over every problem) and ``held_out``."""
    rows = []
    for method, runs in tuning.searched.groupby("method", sort=False):
        trials = runs["trial"] if "trial" in runs.columns else pd.Series(dtype=float)
        per_problem = runs.groupby("problem")["setting"].nunique()
        low, high = int(per_problem.min()), int(per_problem.max())
        rows.append(
            {
                "method": method,
                "search": "quasi-random" if trials.notna().any() else "grid",
                "settings": str(low) if low == high else f"{low}-{high}",
                "tuning_seeds": int(runs["seed"].nunique()),
                "tuning_runs": len(runs),
                "held_out": tuning.held_out,
            }
        )
    table = pd.DataFrame(rows, columns=BUDGET_COLUMNS)
    order = {m: i for i, m in enumerate(method_order(table["method"]))}
    return table.sort_values("method", key=lambda s: s.map(order)).reset_index(drop=True)


def best_of_k(tuning: Tuning) -> pd.DataFrame:
    """Per (problem, method) of a search and ``k = 0..N``: the ``setting`` picked from the first
    k trials (k = 0: the defaults), ``tune_median`` (its median final objective on the seeds it
    was chosen on; NaN for k = 0) and ``eval_median`` (on the evaluation seeds; NaN where they
    were not run)."""
    columns = [*GROUP, "k", "setting", "tune_median", "eval_median"]
    settings = tuning.settings
    if "trial" not in settings.columns or settings["trial"].isna().all():
        return pd.DataFrame(columns=columns)
    reported = tuning.reported
    evaluated = reported.groupby([*GROUP, "setting"], sort=False)["objective"].agg(
        lambda s: rule.quantile(s, 0.5)
    )
    picks = rule.best_of_first(settings, GROUP)
    picks = picks[[*GROUP, "k", "setting", "median"]].rename(columns={"median": "tune_median"})
    trial = reported["trial"] if "trial" in reported.columns else pd.Series(dtype=float)
    zero = reported[trial == 0]
    defaults = zero.drop_duplicates([*GROUP, "setting"])[[*GROUP, "setting"]].assign(
        k=0, tune_median=np.nan
    )
    out = pd.concat([defaults, picks], ignore_index=True)
    keys = pd.MultiIndex.from_frame(out[[*GROUP, "setting"]])
    out["eval_median"] = evaluated.reindex(keys).to_numpy()
    out = out[out.set_index(GROUP).index.isin(picks.set_index(GROUP).index)]
    return out[columns].sort_values([*GROUP, "k"]).reset_index(drop=True)


def plot_best_of_k(table: pd.DataFrame, kinds: pd.Series) -> Figure:
    """Median final objective of the setting picked from the first k trials, against k, one
    panel per problem: solid on the evaluation seeds, dashed on the tuning seeds."""
    methods = method_order(table["method"])
    colors = palette(methods)
    problems = list(dict.fromkeys(table["problem"]))
    fig, axes = grid(len(problems))
    for ax, problem in zip(axes, problems, strict=False):
        for method in methods:
            rows = table[(table["problem"] == problem) & (table["method"] == method)]
            for column, ls in (("eval_median", "-"), ("tune_median", "--")):
                y = rows[column].astype(float).clip(lower=FLOOR)
                ok = np.isfinite(y)
                ax.step(rows["k"][ok], y[ok], where="post", color=colors[method], ls=ls, lw=1.6)
            zero = rows[rows["k"] == 0]
            if len(zero):
                y0 = float(zero["eval_median"].clip(lower=FLOOR).iloc[0])
                marker = "o" if np.isfinite(y0) else "X"
                y0 = y0 if np.isfinite(y0) else ax.get_ylim()[1]
                ax.plot(0, y0, marker=marker, color=colors[method], ms=6, mec="black", mew=0.5)
        ax.set(yscale="log", xlabel="search budget k (trials; 0 = defaults)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(objective_label(kinds[problem]))
        log_panel_title(ax, tex_safe(problem))
        ax.grid(True, which="major", alpha=0.3)
    extra = [
        Line2D([], [], color="grey", ls="-", label="evaluation seeds"),
        Line2D([], [], color="grey", ls="--", label="tuning seeds"),
        Line2D([], [], color="grey", ls="", marker="o", mec="black", label="defaults (k = 0)"),
    ]
    legend(fig, methods, colors, extra)
    fig.suptitle("Performance against search budget: the best of the first k trials")
    return fig
