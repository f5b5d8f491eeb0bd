"""The measured linear rate of convergence on the noise-free quadratics (the condition figure).

For an objective decaying as ``f - f* ~ C rho_f^t``, the least-squares slope of ``log(f - f*)``
against ``t`` estimates ``log rho_f``; since ``f - f*`` is quadratic in ``x - x*``, the error
contracts by ``rho = sqrt(rho_f)`` per step. The fit uses the recorded steps before ``f - f*``
first falls below ``1e-12 (f_0 - f*)`` (or FLOOR), and of those the later half (steps >= half
the last one), to measure the asymptotic rate, not the transient. Drawn by
:func:`optbench.reports.landscape.plot_condition`.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from optbench.reports.style import FLOOR


def linear_rate(steps: np.ndarray, subopt: np.ndarray) -> float:
    """Per-step contraction ``rho`` of ``||x - x*||`` fitted to one run (module docstring)."""
    order = np.argsort(steps)
    steps, subopt = np.asarray(steps, float)[order], np.asarray(subopt, float)[order]
    keep = np.isfinite(subopt) & (subopt > 0)
    steps, subopt = steps[keep], subopt[keep]
    if subopt.size < 3:
        return float("nan")
    below = subopt < max(1e-12 * subopt[0], FLOOR)
    end = int(np.argmax(below)) if below.any() else subopt.size
    steps, subopt = steps[: max(end, 3)], subopt[: max(end, 3)]
    late = steps >= steps[-1] / 2  # the asymptotic regime, not the transient
    if late.sum() >= 3:
        steps, subopt = steps[late], subopt[late]
    slope = np.polyfit(steps, np.log(subopt), 1)[0]
    return float(np.exp(slope / 2.0))


def condition_table(curves: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per (problem, method): ``kappa``, ``family`` (the rest of the quadratic's configuration,
    e.g. ``"dim=50"``: only problems of one family lie on one line) and the median over seeds
    of the fitted ``rho``, for the noise-free quadratics among the (tuned) ``curves``."""
    config = runs.drop_duplicates("problem").set_index("problem")
    rows = []
    for problem, part in curves.groupby("problem", sort=False):
        if config.at[problem, "problem_name"] != "quadratic":
            continue
        cfg = json.loads(config.at[problem, "problem_config"])
        kappa = cfg.pop("condition_number", cfg.pop("kappa", None))
        if kappa is None or float(cfg.get("noise", 0.0) or 0.0) != 0.0:
            continue
        family = ", ".join(f"{k}={v}" for k, v in cfg.items() if k in ("dim", "spectrum"))
        for method, runs_m in part.groupby("method"):
            rates = [linear_rate(r["step"], r["subopt"]) for _, r in runs_m.groupby("run_id")]
            rho = float(np.nanmedian(rates)) if np.isfinite(rates).any() else np.nan
            rows.append({"problem": problem, "method": method, "family": family,
                         "kappa": float(kappa), "rho": rho})  # fmt: skip
    return pd.DataFrame(rows, columns=["problem", "method", "family", "kappa", "rho"])
