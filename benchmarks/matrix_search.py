"""Seeded quasi-random search: ``search = { trials = N }`` in an ``[[optimizers]]`` table.

In a search, each hyperparameter the table sets is fixed (a scalar) or searched::

    lr       = { loguniform = [1e-5, 1.0] }     # exp(log a + u (log b - log a))
    momentum = { uniform = [0.0, 0.99] }        # a + u (b - a)
    nesterov = [false, true]                    # a choice: values[floor(u n)]

Trial ``i`` (1-based) maps point ``i - 1`` of a scrambled Halton sequence in ``[0, 1)^d``, one
coordinate per searched hyperparameter in signature order (``scipy.stats.qmc.Halton``,
``scramble=True``, seeded with ``search.seed``, default 0; AlgoPerf's search uses a scrambled
Halton sequence too). The first k trials of N are the trials of a search with k: a search
extended to more trials re-runs none of the old ones, and the trials are a function of the
matrix alone (and scipy's Halton), so a re-run draws them again and resumes. Values are rounded
to 10 significant digits, like the grids, so that run ids do not depend on the last bits of
``exp`` in the platform's libm.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any

from .matrix_schedules import is_schedule_table
from .matrix_values import MatrixError, check_keys, is_real, typed, values

DISTRIBUTIONS = ("loguniform", "uniform")


@dataclass(frozen=True)
class Search:
    """A declared search: ``trials`` points of the space, seeded by ``seed``.

    ``space``: hyperparameter -> ``("loguniform", a, b)``, ``("uniform", a, b)`` or
    ``("choice", values)``, in signature order; ``fixed``: the scalars the table sets.
    """

    trials: int
    seed: int
    space: dict[str, tuple]
    fixed: dict[str, Any]

    def draw(self) -> list[dict[str, Any]]:
        """The trials' hyperparameters (searched and fixed), trial 1 first."""
        if not self.space:
            return [dict(self.fixed)]
        from scipy.stats import qmc

        points = qmc.Halton(d=len(self.space), scramble=True, rng=self.seed).random(self.trials)
        trials = []
        for u in points.tolist():
            values = {
                name: _value(spec, x) for (name, spec), x in zip(self.space.items(), u, strict=True)
            }
            trials.append({**self.fixed, **values})
        return trials

    def describe(self) -> str:
        """``"20 trials (seed 0) of lr ~ loguniform[1e-05, 1]"``: the budget, as the report
        states it."""
        parts = [f"{name} ~ {_spec_text(spec)}" for name, spec in self.space.items()]
        return f"{self.trials} trials (seed {self.seed}) of " + ", ".join(parts)


def from_table(where: str, table: dict, allowed: dict, ref: str) -> Search:
    """The :class:`Search` of an ``[[optimizers]]`` table with a ``search`` key; ``allowed``:
    its hyperparameters -> defaults (``inspect.Parameter.empty``: none), ``ref`` the class."""
    trials, seed = parse(f"{where}.search", table["search"])
    space, fixed = {}, {}
    for key, default in allowed.items():
        if key not in table:
            if default is inspect.Parameter.empty:
                raise MatrixError(f"{where}.{key}: {ref} takes {key!r} without a default")
            continue
        if key == "lr" and is_schedule_table(table[key]):
            raise MatrixError(f"{where}.lr: a search takes no schedule; search a constant lr")
        dim = dimension(f"{where}.{key}", table[key], default)
        if dim is None:
            fixed[key] = values(f"{where}.{key}", table[key], default)[0]
        else:
            space[key] = dim
    if not space:
        raise MatrixError(
            f"{where}.search: nothing to search; give a hyperparameter a distribution, "
            "lr = {loguniform = [a, b]}, or a list of choices"
        )
    return Search(trials=trials, seed=seed, space=space, fixed=fixed)


def parse(where: str, raw: Any) -> tuple[int, int]:
    """``(trials, seed)`` of a ``search`` table."""
    if not isinstance(raw, dict):
        raise MatrixError(f"{where}: a table {{trials = n}} (optional: seed = s), got {raw!r}")
    check_keys(where, raw, ("trials", "seed"))
    trials, seed = raw.get("trials"), raw.get("seed", 0)
    if not isinstance(trials, int) or isinstance(trials, bool) or not 1 <= trials <= 10_000:
        raise MatrixError(f"{where}.trials: an integer from 1 to 10000, got {trials!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise MatrixError(f"{where}.seed: an integer >= 0, got {seed!r}")
    return trials, seed


def dimension(where: str, raw: Any, default: Any) -> tuple | None:
    """The search dimension of one hyperparameter, or None for a fixed scalar."""
    if isinstance(raw, dict):
        kind = next(iter(raw), None)
        ends = raw.get(kind)
        if (
            len(raw) != 1
            or kind not in DISTRIBUTIONS
            or not (isinstance(ends, list) and len(ends) == 2 and all(is_real(e) for e in ends))
        ):
            raise MatrixError(
                f"{where}: in a search, give {{loguniform = [a, b]}}, {{uniform = [a, b]}} or "
                f"a list of choices, got {raw!r}"
            )
        if isinstance(default, (bool, tuple)) or not isinstance(default, (int, float)):
            raise MatrixError(f"{where}: {kind} needs a number-valued hyperparameter")
        a, b = (typed(where, float(e), 0.0) for e in ends)
        if not a < b:
            raise MatrixError(f"{where}.{kind}: need a < b, got {ends!r}")
        if kind == "loguniform" and a <= 0:
            raise MatrixError(f"{where}.loguniform: bounds must be > 0, got {ends!r}")
        return (kind, a, b)
    is_list = isinstance(raw, list) and not (
        isinstance(default, tuple) and raw and not isinstance(raw[0], list)
    )
    if is_list:
        if not raw:
            raise MatrixError(f"{where}: an empty list of choices")
        return ("choice", tuple(typed(where, v, default) for v in raw))
    return None


def _value(spec: tuple, u: float) -> Any:
    kind = spec[0]
    if kind == "choice":
        values = spec[1]
        return values[min(int(u * len(values)), len(values) - 1)]
    a, b = spec[1], spec[2]
    if kind == "uniform":
        x = a + u * (b - a)
    else:
        x = math.exp(math.log(a) + u * (math.log(b) - math.log(a)))
    return float(f"{x:.10g}")


def _spec_text(spec: tuple) -> str:
    if spec[0] == "choice":
        return "one of " + ", ".join(map(str, spec[1]))
    return f"{spec[0]}[{spec[1]:g}, {spec[2]:g}]"
