"""Tuned values at the edge of what was tried: a grid (or a search range) that may be too narrow.

Input: the ``settings`` and ``tuned`` tables of :class:`optbench.reports.tables.Tuning` (one row
per (problem, method, setting), resp. per (problem, method), each with ``hparams``, the
setting's full JSON)::

    problem          method   setting  hparams
    rastrigin(dim=2) adagrad  lr=1     {"lr": 1.0, "eps": 1e-10, ...}
    rastrigin(dim=2) adagrad  lr=10    {"lr": 10.0, "eps": 1e-10, ...}     <- tuned

The rule (:data:`EDGE_RULE`, printed in the report), one for grids and for quasi-random search:
for each (problem, method) and each hyperparameter that took more than one numeric value among
that method's settings on that problem, the tuned value ``v`` is at the *low* edge if
``v == min`` of the values tried and at the *high* edge if ``v == max``. A pair (``betas``) is
checked per component (``betas[0]``, ``betas[1]``), a schedule per numeric field
(``lr.peak_value``); booleans, strings and None never. Only the settings the tuning chose from
count (with held-out tuning seeds: those run on the tuning seeds).
"""

from __future__ import annotations

import json
from numbers import Real

import pandas as pd

EDGE_RULE = (
    "Edges: for each problem and optimizer, every hyperparameter that took more than one "
    "numeric value among the settings tried (grid or search) is checked; the tuned value is "
    "at the low edge if it equals the smallest value tried and at the high edge if it equals "
    "the largest. Pairs such as betas are checked per component; booleans and strings never. "
    "A tuned value at an edge ('edge: lr at max 10') means that the optimum may lie outside "
    "the range tried: widen it before trusting that optimizer's result there."
)

COLUMNS = ["problem", "method", "setting", "hparam", "value", "side", "lo", "hi", "tried"]


def numeric_leaves(value, name: str = "") -> dict[str, float]:
    """The numeric entries of a hyperparameter value by name: ``{"lr": 0.1}``, a pair as
    ``{"betas[0]": 0.9, "betas[1]": 0.999}``, a schedule's fields as ``{"lr.peak_value": ...}``;
    booleans, strings and None give nothing."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return {}
    if isinstance(value, Real):
        return {name: float(value)}
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(numeric_leaves(item, f"{name}.{key}" if name else str(key)))
        return out
    if isinstance(value, (list, tuple)):
        out = {}
        for i, item in enumerate(value):
            out.update(numeric_leaves(item, f"{name}[{i}]"))
        return out
    return {}


def _leaves(hparams) -> dict[str, float]:
    if isinstance(hparams, str):
        hparams = json.loads(hparams)
    return numeric_leaves(hparams or {})


def edge_table(settings: pd.DataFrame, tuned: pd.DataFrame) -> pd.DataFrame:
    """One row per tuned value at an edge (:data:`EDGE_RULE`): ``problem``, ``method``,
    ``setting`` (the tuned one), ``hparam``, ``value``, ``side`` ("low" | "high"), ``lo`` and
    ``hi`` (the smallest and largest value tried) and ``tried`` (how many distinct values)."""
    rows = []
    chosen = tuned.set_index(["problem", "method"])["setting"]
    for (problem, method), group in settings.groupby(["problem", "method"], sort=False):
        if (problem, method) not in chosen.index:
            continue
        setting = chosen[(problem, method)]
        leaves = [_leaves(h) for h in group["hparams"]]
        mine = leaves[list(group["setting"]).index(setting)]
        for name, value in mine.items():
            tried = sorted({leaf[name] for leaf in leaves if name in leaf})
            if len(tried) < 2:
                continue
            lo, hi = tried[0], tried[-1]
            side = "low" if value == lo else "high" if value == hi else None
            if side:
                rows.append([problem, method, setting, name, value, side, lo, hi, len(tried)])
    return pd.DataFrame(rows, columns=COLUMNS)


def edge_text(row) -> str:
    """``"lr at max 10"`` (high edge) or ``"lr at min 1e-05"`` (low edge)."""
    side = "max" if row["side"] == "high" else "min"
    return f"{row['hparam']} at {side} {row['value']:.4g}"


def edge_labels(edges: pd.DataFrame) -> pd.Series:
    """``(problem, method) -> "edge: lr at max 10; betas[0] at min 0.9"`` for every
    (problem, method) with a tuned value at an edge."""
    if edges.empty:
        return pd.Series(
            dtype=object, index=pd.MultiIndex.from_tuples([], names=["problem", "method"])
        )
    text = edges.apply(edge_text, axis=1)
    labels = text.groupby([edges["problem"], edges["method"]], sort=False).agg("; ".join)
    return "edge: " + labels


def with_edges(summary: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """``summary`` (one row per (problem, method)) with an ``edge`` column: the
    :func:`edge_labels` text, "" where no tuned value is at an edge."""
    labels = edge_labels(edges)
    keys = pd.MultiIndex.from_frame(summary[["problem", "method"]])
    out = summary.copy()
    out["edge"] = labels.reindex(keys).fillna("").to_numpy()
    return out


def edge_sentences(edges: pd.DataFrame) -> list[str]:
    """One sentence per problem with a tuned value at an edge, for the summary:
    ``"rastrigin(dim=2): adagrad's tuned lr = 10 is the largest of the 12 values tried (high
    edge)."``"""
    sentences = []
    for problem, rows in edges.groupby("problem", sort=False):
        parts = []
        for _, row in rows.iterrows():
            which = "largest" if row["side"] == "high" else "smallest"
            parts.append(f"{row['method']}'s tuned {row['hparam']} = {row['value']:.4g} is the "
                         f"{which} of the {row['tried']} values tried ({row['side']} "
                         "edge)")  # fmt: skip
        sentences.append(f"{problem}: {'; '.join(parts)}.")
    return sentences
