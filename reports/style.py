"""Shared conventions of every table and figure: method names, the objective, colors, text.

- A *method* is an optimizer under one convention. Its label is the registry name (``"adam"``)
  when the store holds a single convention of that optimizer, else ``"adam/seed"``.
- The *objective* of a problem is the suboptimality ``subopt = loss - f_star`` when ``f_star``
  is known, else the exact training loss (the MLP). A diverged run's final objective is ``+inf``.
- Objective values below :data:`FLOOR` are treated as equal to it in ranks, scores and log-scale
  plots: differences under 1e-14 are at the float64 resolution of the objectives.
- Colors are fixed per optimizer (the same in every figure, and in every report).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from optbench.benchmarks.tuning import FLOOR, final_objective, objective_kinds

__all__ = ["FLOOR", "final_objective", "objective_kinds"]  # the rule's, shown by the report

OPTIMIZER_ORDER = (
    "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
    "adamw", "nadam", "radam", "adamax", "adadelta", "lion",
)  # fmt: skip
_COLORS = {  # Paul Tol's bright and muted schemes: told apart also by colour-blind readers
    "sgd": "#4477AA",
    "momentum": "#EE6677",
    "nesterov": "#228833",
    "adagrad": "#CCBB44",
    "rmsprop": "#66CCEE",
    "adam": "#AA3377",
    "adamw": "#EE7733",
    "nadam": "#009988",
    "radam": "#222222",
    "adamax": "#882255",
    "adadelta": "#999933",
    "lion": "#0077BB",
}
_EXTRA_COLORS = ("#BBBBBB", "#CC3311", "#33BBEE", "#EE3377", "#DDAA33", "#117733", "#332288")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
MARKED_ABOVE = 6
"""With more methods than this, lines carry markers too (colour alone stops telling them apart)."""


def add_method(runs: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``runs`` with a ``method`` column (optimizer, or optimizer/convention).

    The optimizer's name is its display name (``runs.optimizer``); where two codes share one
    (a user's optimizer named like a built-in, or two versions of one plugin file), each
    user's code is told apart by its source hash: ``"Lion @1a2b3c4d5e6f"`` (:func:`plugin_tag`).
    """
    out = runs.copy()
    name = out["optimizer"].astype(str)
    if "optimizer_sha256" in out.columns and out["optimizer_sha256"].notna().any():
        sha = out["optimizer_sha256"]
        versions = sha.fillna("").groupby(name).nunique()
        shared = sha.notna() & (name.map(versions) > 1)
        name = name.where(~shared, name + " " + sha.map(plugin_tag))
    conventions = out.groupby(name)["convention"].nunique()
    several = name.map(conventions).fillna(1).to_numpy() > 1
    out["method"] = np.where(several, name + "/" + out["convention"].astype(str), name)
    return out


def plugin_tag(sha256) -> str:
    """``"@"`` and the first 12 hex digits of a user's file's SHA-256 (how the report names
    one version of it)."""
    return f"@{str(sha256)[:12]}"


def method_order(methods) -> list[str]:
    """Methods sorted by registry order of their optimizer, torch's convention first, then by
    name (so ``adam/torch`` gets Adam's color and ``adam/optax`` the next extra color)."""

    def key(method: str) -> tuple[int, bool, str]:
        base, _, convention = method.partition("/")
        rank = OPTIMIZER_ORDER.index(base) if base in OPTIMIZER_ORDER else len(OPTIMIZER_ORDER)
        return rank, convention not in ("", "torch"), method  # torch's convention first

    return sorted({str(m) for m in methods}, key=key)


def palette(methods) -> dict[str, str]:
    """``{method: color}``: the optimizer's fixed color; conventions beyond the first and
    unknown optimizers take the extra colors in order."""
    colors, used, extra = {}, set(), iter(_EXTRA_COLORS * 4)
    for method in method_order(methods):
        base = method.split("/")[0]
        color = _COLORS.get(base)
        colors[method] = color if color and color not in used else next(extra)
        used.add(colors[method])
    return colors


def markers(methods) -> dict[str, str | None]:
    """``{method: marker}``: a distinct marker per method when there are more than
    :data:`MARKED_ABOVE` of them, else None (lines alone)."""
    ordered = method_order(methods)
    if len(ordered) <= MARKED_ABOVE:
        return dict.fromkeys(ordered)
    return {m: _MARKERS[i % len(_MARKERS)] for i, m in enumerate(ordered)}


def line_style(method: str) -> str:
    """``"-"`` for an optimizer under torch's convention (or its only one), ``"--"`` for other
    conventions, so that two conventions tracing the same path both stay visible."""
    convention = method.partition("/")[2]
    return "-" if convention in ("", "torch") else "--"


PROBLEM_ORDER = ("rosenbrock", "beale", "himmelblau", "rastrigin", "styblinski_tang",
                 "quadratic", "mlp")  # fmt: skip
"""Problems in reading order: classic test functions, quadratics, the MLP; others after."""


def problem_order(runs: pd.DataFrame) -> list[str]:
    """Problem labels sorted by :data:`PROBLEM_ORDER` of their name, then naturally by label
    (``dim=2`` before ``dim=10``)."""
    names = runs.drop_duplicates("problem").set_index("problem")["problem_name"]

    def key(label: str):
        name = str(names[label])
        rank = PROBLEM_ORDER.index(name) if name in PROBLEM_ORDER else len(PROBLEM_ORDER)
        parts = re.split(r"(\d+(?:\.\d+)?)", str(label))
        natural = [(0, float(p), "") if i % 2 else (1, 0.0, p) for i, p in enumerate(parts)]
        return rank, name, natural

    return sorted(names.index, key=key)


def tex_safe(text) -> str:
    """``text`` with ``$`` escaped, so matplotlib never parses a config value as mathtext."""
    return str(text).replace("$", r"\$")


def objective_label(kind: str) -> str:
    """Axis label of an objective kind."""
    if kind == "suboptimality":
        return "suboptimality $f(x) - f^*$"
    return "training loss (nats)"
