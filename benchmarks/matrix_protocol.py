"""The protocol keys of a matrix: held-out tuning seeds, and the problems of an optimizer table.

``tuning = { seeds = [...] }`` holds the tuning seeds out of the reported ones
(:mod:`optbench.benchmarks.protocol` runs them), and ``problems = [...]`` in an
``[[optimizers]]`` table runs it on some problems only::

    problems = ["quadratic"]                                  # every table of that name
    problems = [{ name = "quadratic", dim = 50, noise = 0.0 }]   # those with these arguments

(A quasi-random ``search`` is :mod:`optbench.benchmarks.matrix_search`.)
"""

from __future__ import annotations

import inspect
from typing import Any

from .matrix_values import MatrixError, check_keys, is_real, seed_list


def restriction(where: str, raw: Any, problems) -> frozenset[int]:
    """The indices of the problems an optimizer table runs on: each item of ``raw`` is a
    problem name (every table of that name) or a table ``{name = ..., <argument> = value}``
    (the tables of that name whose arguments, given or default, have those values)."""
    if not isinstance(raw, list) or not raw:
        raise MatrixError(f"{where}: a non-empty list of problem names or tables, got {raw!r}")
    chosen: set[int] = set()
    for j, item in enumerate(raw):
        spec = {"name": item} if isinstance(item, str) else item
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise MatrixError(f"{where}[{j}]: a problem name or a table with a name, got {item!r}")
        found = {i for i, p in enumerate(problems) if _matches(p, spec)}
        if not found:
            raise MatrixError(f"{where}[{j}]: {item!r} matches none of the matrix's problems")
        chosen |= found
    return frozenset(chosen)


def _matches(problem, spec: dict) -> bool:
    """Whether a ``ProblemEntry`` is the problem ``spec`` names."""
    if spec["name"] not in (problem.name, problem.code.ref):
        return False
    params = inspect.signature(problem.code.load()).parameters.values()
    given = {**{q.name: q.default for q in params}, **problem.kwargs}
    for key, want in spec.items():
        if key == "name":
            continue
        have = given.get(key, inspect.Parameter.empty)
        numbers = is_real(have) and is_real(want)
        if have is inspect.Parameter.empty or not (
            have == want or (numbers and float(have) == float(want))
        ):
            return False
    return True


def tuning_seeds(raw: Any, seeds: tuple[int, ...]) -> tuple[int, ...]:
    """The tuning seeds of a ``tuning`` table, disjoint from the evaluation ``seeds``."""
    if not isinstance(raw, dict):
        raise MatrixError(f"tuning: a table {{seeds = [...]}}, got {raw!r}")
    check_keys("tuning", raw, ("seeds",))
    if "seeds" not in raw:
        raise MatrixError("tuning.seeds: give the seeds that choose the tuned setting")
    tuning = seed_list("tuning.seeds", raw["seeds"])
    shared = sorted(set(tuning) & set(seeds))
    if shared:
        raise MatrixError(
            f"tuning.seeds: must be disjoint from the evaluation seeds (seeds), but both hold "
            f"{shared}"
        )
    return tuning
