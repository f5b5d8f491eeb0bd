"""Values inside a matrix: grids, typed scalars, and the checks that name the offending key.

A hyperparameter value is a scalar (fixed), a list (a grid), or ``{logspace = [a, b], num = n}``
/ ``{linspace = [a, b], num = n}``; its type is checked against the default in the class's
signature (a float default takes numbers, a bool default ``true``/``false``, a pair default a
list of two numbers). Every error is a :class:`MatrixError` whose message starts with the key.
"""

from __future__ import annotations

import math
from typing import Any


class MatrixError(ValueError):
    """An invalid matrix: the message names the offending key."""


def values(where: str, raw: Any, default: Any) -> tuple:
    """A hyperparameter's grid: a tuple of validated values (a fixed value is a 1-tuple)."""
    if isinstance(raw, dict):
        values = spaced(where, raw)
    elif isinstance(default, tuple):
        is_grid = isinstance(raw, list) and raw and all(isinstance(v, list) for v in raw)
        values = raw if is_grid else [raw]
    else:
        values = raw if isinstance(raw, list) else [raw]
    if not values:
        raise MatrixError(f"{where}: empty grid; give at least one value")
    return tuple(typed(where, v, default) for v in values)


def spaced(where: str, raw: dict) -> list[float]:
    """``{logspace = [a, b], num = n}`` or ``{linspace = ...}`` -> n values from a to b."""
    kinds = [k for k in ("logspace", "linspace") if k in raw]
    check_keys(where, raw, ("logspace", "linspace", "num"))
    if len(kinds) != 1 or "num" not in raw:
        raise MatrixError(f"{where}: give {{logspace = [a, b], num = n}} or linspace likewise")
    ends, num = raw[kinds[0]], raw["num"]
    if not (isinstance(ends, list) and len(ends) == 2 and all(is_real(e) for e in ends)):
        raise MatrixError(f"{where}.{kinds[0]}: a pair of numbers [a, b], got {ends!r}")
    if not isinstance(num, int) or isinstance(num, bool) or num < 1:
        raise MatrixError(f"{where}.num: a positive integer, got {num!r}")
    a, b = float(ends[0]), float(ends[1])
    if kinds[0] == "logspace":
        if a <= 0 or b <= 0:
            raise MatrixError(f"{where}.logspace: bounds must be > 0, got {ends!r}")
        a, b = math.log10(a), math.log10(b)
    points = [a + (b - a) * i / (num - 1) if num > 1 else a for i in range(num)]
    if kinds[0] == "logspace":
        points = [10.0**p for p in points]
    return [float(f"{p:.10g}") for p in points]  # stable across libm versions: hashes match


def typed(where: str, value: Any, default: Any) -> Any:
    """Check ``value`` against the type of ``default``; returns the normalized value."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise MatrixError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(default, tuple):
        if not (isinstance(value, list) and len(value) == len(default)):
            raise MatrixError(f"{where}: expected a list of {len(default)} numbers, got {value!r}")
        return tuple(typed(where, v, default[0]) for v in value)
    if isinstance(default, float) or (isinstance(default, int) and is_real(value)):
        if not is_real(value) or not math.isfinite(value):
            raise MatrixError(f"{where}: expected a finite number, got {value!r}")
        return float(value) if isinstance(default, float) else value
    if isinstance(default, str) and not isinstance(value, str):
        raise MatrixError(f"{where}: expected a string, got {value!r}")
    if isinstance(value, (dict, list)):
        raise MatrixError(f"{where}: expected a single value, got {value!r}")
    return value


def argument(where: str, value: Any, default: Any) -> Any:
    """A problem argument: typed like its default; lists stay lists (e.g. layer widths)."""
    if isinstance(default, (list, tuple)):
        if not isinstance(value, list):
            raise MatrixError(f"{where}: expected a list, got {value!r}")
        return value
    if isinstance(value, dict):
        raise MatrixError(f"{where}: expected a single value, got a table")
    if isinstance(value, list) and default is not None:
        raise MatrixError(
            f"{where}: expected a single value, got a list (write one [[problems]] table per value)"
        )
    return value if default is None or isinstance(value, list) else typed(where, value, default)


def check_keys(where: str, table: dict, allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise MatrixError(f"{where}: unknown key {key!r}; allowed: {list(allowed)}")


def is_real(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def seed_list(where: str, raw: Any) -> tuple[int, ...]:
    """A non-empty list of distinct integers >= 0 (``seeds``, ``tuning.seeds``)."""
    ok = isinstance(raw, list) and raw and all(isinstance(s, int) and s >= 0 for s in raw)
    if not ok or any(isinstance(s, bool) for s in raw):
        raise MatrixError(f"{where}: a non-empty list of integers >= 0, got {raw!r}")
    if len(set(raw)) != len(raw):
        raise MatrixError(f"{where}: values must be distinct, got {raw!r}")
    return tuple(raw)
