"""The measured linear rate on the noise-free quadratics against its theoretical optimum.

Theory. On f(x) = 1/2 (x - x*)^T A (x - x*) with the eigenvalues of A in [mu, L] = [1/kappa, 1],
each eigen-direction of the error follows a linear recursion; the per-step contraction rho of
``||x - x*||`` is the spectral radius of that recursion, worst over the spectrum. Tuned over
lr (and momentum beta), torch's update forms reach at best (``optimal_gap``, ``optimal_hparams``):

=============  ==========================================  ======================  =============
form           torch update                                lr, momentum at best    best 1 - rho
=============  ==========================================  ======================  =============
``gd``         w -= lr g                                   2/(L+mu), 0             2/(kappa+1)
``heavy_ball`` v = beta v + g;  w -= lr v                  4/(sqrt L+sqrt mu)^2,   2/(sqrt(kappa)+1)
                                                           ((sqrt k-1)/(sqrt k+1))^2
``nesterov``   v = beta v + g;  w -= lr (g + beta v)       4/(3L+mu),              2/sqrt(3kappa+1)
                                                           (s-2)/(s+2), s=sqrt(3k+1)
=============  ==========================================  ======================  =============

Heavy ball is Polyak's (1964) method: eliminating v gives w' = w - lr g + beta (w - w_prev).
torch's Nesterov form has, per eigenvalue lambda, the characteristic polynomial
z^2 - (1+beta)(1-lr lambda) z + beta (1-lr lambda), the same as Nesterov's look-ahead method, whose
optimum on quadratics is Lessard, Recht & Packard (2016), section 3.2.
``tests/test_theory_check.py`` checks the three optima against a numerical minimization of the
spectral radius of the 2x2 iteration matrices built from torch's updates. The bound holds for any
rescaling of lr (dampening, an EMA buffer), which only moves the optimal lr.

Measurement. For ``f - f* ~ C rho_f^t`` the least-squares slope of ``log(f - f*)`` against
``t`` estimates ``log rho_f``, and ``rho = sqrt(rho_f)`` (f is quadratic in the error). The fit
uses the recorded steps before ``f - f*`` first falls below the cut ``REL_CUT (f_0 - f*)`` (far
above float64's floor, about 1e-32 (f_0 - f*) on these problems; or ``FLOOR_MARGIN`` times a
floor the curve visibly stalls at: a flat tail below ``STALL_LEVEL (f_0 - f*)``, e.g. in
float32), and of those the later half (steps >= half
the last one), to measure the asymptotic rate, not the transient. A run that never reaches the
cut within its budget is *not asymptotic*: its fitted rate may be a transient mixture of modes.
Drawn by :func:`optbench.reports.landscape.plot_condition`.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

REL_CUT = 1e-24  # the rate fit stops where f - f* < REL_CUT (f_0 - f*)
FLOOR_MARGIN = 1e4  # ... or within this factor of a floor the curve stalls at
STALL_LEVEL = 1e-12  # a flat tail below STALL_LEVEL (f_0 - f*) is a round-off floor (float32)
FORMS = ("gd", "heavy_ball", "nesterov")
COLUMNS = ["problem", "method", "family", "kappa", "rho", "form", "bound", "fraction",
           "asymptotic", "budget", "steps_at_bound"]  # fmt: skip


def optimal_gap(form: str, kappa: float) -> float:
    """The best ``1 - rho`` of ``form`` over lr (and momentum) at condition number kappa."""
    if form == "gd":
        return 2.0 / (kappa + 1.0)
    if form == "heavy_ball":
        return 2.0 / (math.sqrt(kappa) + 1.0)
    if form == "nesterov":
        return 2.0 / math.sqrt(3.0 * kappa + 1.0)
    raise ValueError(f"form must be one of {list(FORMS)}, got {form!r}")


def optimal_hparams(form: str, kappa: float) -> tuple[float, float]:
    """(lr, momentum) attaining ``optimal_gap`` for eigenvalues in [1/kappa, 1]."""
    mu = 1.0 / kappa
    if form == "gd":
        return 2.0 / (1.0 + mu), 0.0
    if form == "heavy_ball":
        sk = math.sqrt(kappa)
        return 4.0 / (1.0 + math.sqrt(mu)) ** 2, ((sk - 1.0) / (sk + 1.0)) ** 2
    if form == "nesterov":
        s = math.sqrt(3.0 * kappa + 1.0)
        return 4.0 / (3.0 + mu), (s - 2.0) / (s + 2.0)
    raise ValueError(f"form must be one of {list(FORMS)}, got {form!r}")


def spectral_radius(form: str, lr, momentum, eigenvalues) -> np.ndarray:
    """rho of ``form`` at (lr, momentum) (broadcasting arrays), worst over ``eigenvalues``: the
    largest root modulus of z^2 - T z + D, T = 1 + beta - lr lam, D = beta (heavy ball), or
    T = (1 + beta)(1 - lr lam), D = beta (1 - lr lam) (Nesterov); |1 - lr lam| for GD."""
    lr, beta = np.asarray(lr, float)[..., None], np.asarray(momentum, float)[..., None]
    lam = np.asarray(eigenvalues, float)
    if form == "gd":
        return np.abs(1.0 - lr * lam).max(axis=-1)
    if form == "heavy_ball":
        T, D = 1.0 + beta - lr * lam, beta + 0.0 * lam
    elif form == "nesterov":
        T, D = (1.0 + beta) * (1.0 - lr * lam), beta * (1.0 - lr * lam)
    else:
        raise ValueError(f"form must be one of {list(FORMS)}, got {form!r}")
    disc = np.sqrt((T * T - 4.0 * D).astype(complex))
    return np.maximum(np.abs(T + disc), np.abs(T - disc)).max(axis=-1) / 2.0


def update_form(optimizer: str, hparams: dict) -> str | None:
    """``gd``, ``heavy_ball`` or ``nesterov`` for the SGD family's runs (None for others, or
    with weight decay, which shifts the spectrum)."""
    if optimizer not in ("sgd", "momentum", "nesterov") or hparams.get("weight_decay"):
        return None
    if optimizer == "nesterov" or hparams.get("nesterov"):
        return "nesterov"
    return "heavy_ball" if float(hparams.get("momentum") or 0.0) > 0 else "gd"


def rate_fit(steps: np.ndarray, subopt: np.ndarray) -> tuple[float, bool]:
    """(``rho``, whether the run reached the cut) of one run's curve (module docstring)."""
    order = np.argsort(steps)
    steps, subopt = np.asarray(steps, float)[order], np.asarray(subopt, float)[order]
    zero = bool((subopt == 0).any())  # rounded exactly onto x*: the floor
    keep = np.isfinite(subopt) & (subopt > 0)
    steps, subopt = steps[keep], subopt[keep]
    if subopt.size < 3:
        return float("nan"), zero
    cut = REL_CUT * subopt[0]
    low = subopt.min()
    stalled = low < STALL_LEVEL * subopt[0] and (subopt[-3:] < 4.0 * low).all()  # flat tail
    if stalled:
        cut = max(cut, FLOOR_MARGIN * low)
    below = subopt < cut
    reached = bool(below.any()) or zero
    end = int(np.argmax(below)) if below.any() else subopt.size
    steps, subopt = steps[: max(end, 3)], subopt[: max(end, 3)]
    late = steps >= steps[-1] / 2  # the asymptotic regime, not the transient
    if late.sum() >= 3:
        steps, subopt = steps[late], subopt[late]
    slope = np.polyfit(steps, np.log(subopt), 1)[0]
    return float(np.exp(slope / 2.0)), reached


def linear_rate(steps: np.ndarray, subopt: np.ndarray) -> float:
    """Per-step contraction ``rho`` of ``||x - x*||`` fitted to one run (module docstring)."""
    return rate_fit(steps, subopt)[0]


def steps_at_bound(bound: float) -> float:
    """Steps the optimal rate needs to bring f - f* down to the cut (REL_CUT f_0)."""
    if not 0 < bound < 1:
        return float("nan")
    return math.log(REL_CUT) / (2.0 * math.log1p(-bound))


def _form(runs_m: pd.DataFrame, by_id: pd.DataFrame) -> str | None:
    """The update form shared by a method's runs (None unless they all agree)."""
    first = runs_m["run_id"].drop_duplicates()
    forms = {update_form(by_id.at[r, "optimizer"], json.loads(by_id.at[r, "hparams"]))
             for r in first}  # fmt: skip
    return forms.pop() if len(forms) == 1 else None


def condition_table(curves: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per (problem, method) of the noise-free quadratics among the (tuned) ``curves``:
    ``kappa``; ``family`` (the rest of the configuration, e.g. ``"dim=50"``: only problems of
    one family lie on one line); ``rho``, the median over seeds of the fitted rate; ``form``,
    ``bound`` (its optimal ``1 - rho``, NaN for methods without one) and ``fraction`` = measured
    ``(1 - rho) / bound``; ``asymptotic``, whether most runs reached the cut within ``budget``
    steps; ``steps_at_bound``, the steps the optimal rate needs to reach it."""
    config = runs.drop_duplicates("problem").set_index("problem")
    by_id = runs.drop_duplicates("run_id").set_index("run_id")
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
            fits = [rate_fit(r["step"], r["subopt"]) for _, r in runs_m.groupby("run_id")]
            rates = np.array([f[0] for f in fits])
            rho = float(np.nanmedian(rates)) if np.isfinite(rates).any() else np.nan
            form = _form(runs_m, by_id)
            bound = optimal_gap(form, float(kappa)) if form else np.nan
            rows.append({
                "problem": problem, "method": method, "family": family, "kappa": float(kappa),
                "rho": rho, "form": form, "bound": bound, "fraction": (1.0 - rho) / bound,
                "asymptotic": 2 * sum(f[1] for f in fits) > len(fits),
                "budget": int(by_id.loc[runs_m["run_id"].unique(), "steps"].max()),
                "steps_at_bound": steps_at_bound(bound),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)
