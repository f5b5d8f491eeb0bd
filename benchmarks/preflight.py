"""Everything a matrix constructs once, before any run: each problem, each optimizer batch.

A problem's or a constructor's ``ValueError`` (and, for a user's code, any exception) becomes a
:class:`~optbench.benchmarks.matrix.MatrixError` naming the table and the reference, so that
``optbench run`` exits 2 before it has run anything. :func:`make_optimizer` is how the runner
builds the optimizer of a batch, the same way the check here does.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from pathlib import Path

from .matrix import Matrix, MatrixError
from .plan import ProblemInfo, jsonable, optimizer_kwargs, split_hparams
from .plugins import Code, describe_error


def problem_info(where: str, entry, matrix: Matrix) -> ProblemInfo:
    code = entry.code
    with _blamed(f"{where} ({code.ref})", code):
        return _describe(code.load()(**entry.kwargs), entry, matrix)


@contextmanager
def _blamed(where: str, code: Code):
    """Errors inside become a MatrixError naming ``where``: any exception of a user's ``code``
    (with its type and the line of theirs that raised), and optbench's own ``ValueError`` and
    ``TypeError`` (bad arguments); optbench's other exceptions are bugs, and propagate."""
    try:
        yield
    except MatrixError:
        raise
    except Exception as exc:
        if code.builtin and not isinstance(exc, ValueError | TypeError):
            raise
        raise MatrixError(f"{where}: {exc if code.builtin else describe_error(exc)}") from None


def _describe(problem, entry, matrix: Matrix) -> ProblemInfo:
    budget = entry.budget or matrix.budget
    f_star = problem.f_star
    data_file = getattr(problem, "data_file", None)
    data = None
    if data_file is not None:
        data = {"ref": entry.dataset, "path": str(data_file)}
        data.update(name=Path(data_file).name, sha256=getattr(problem, "data_sha256", None))
    return ProblemInfo(
        name=entry.name,
        kwargs=dict(entry.kwargs),
        config=jsonable(problem.config()),
        label=problem.label,
        dim=int(problem.dim),
        steps_per_epoch=int(problem.steps_per_epoch),
        f_star=None if f_star is None else float(f_star),
        steps=budget.resolve(int(problem.steps_per_epoch)),
        epochs=budget.epochs,
        recording={**matrix.recording, **(entry.recording or {})},
        code=entry.code,
        data=data,
    )


def check_labels(problems: list[ProblemInfo]) -> None:
    """Two problems the report would mix up: one label, different configurations (e.g. two
    data files both named ``data.csv``)."""
    seen: dict[str, ProblemInfo] = {}
    for i, info in enumerate(problems):
        other = seen.setdefault(info.label, info)
        if other is not info and (other.code.identity, other.config) != (
            info.code.identity,
            info.config,
        ):
            j = problems.index(other)
            raise MatrixError(
                f"problems[{j}] and problems[{i}] are different problems with one label "
                f"{info.label!r}, which the report could not tell apart; rename one (e.g. "
                "its data file)"
            )


def check_optimizers(matrix: Matrix, problems: list[ProblemInfo]) -> None:
    """Construct every (optimizer, convention, static options) batch once, before any run: on
    a dummy for optbench's own, on the first problem's parameters for a user's class."""
    import numpy as np

    for i, entry in enumerate(matrix.optimizers):
        code = entry.code
        names = list(entry.grid)
        combos = [dict(zip(names, c, strict=True)) for c in itertools.product(*entry.grid.values())]
        for convention in entry.conventions:
            groups: dict[tuple, list[dict]] = {}
            for hp in combos:
                groups.setdefault(tuple(split_hparams([hp])[0].items()), []).append(hp)
            for group in groups.values():
                static, arrays = split_hparams(group)
                if code.builtin:
                    params = [np.zeros((len(group), 1))]
                else:
                    first = problems[0]
                    seeds = np.zeros(len(group), dtype=np.int64)
                    params = first.code.load()(**first.kwargs).init_params(seeds)
                where = f"optimizers[{i}] ({code.ref}"
                where += f", convention={convention!r})" if convention else ")"
                with _blamed(where, code):
                    make_optimizer(code, params, convention, static, arrays)


def make_optimizer(code: Code, params: list, convention: str, static: dict, arrays: dict):
    """The optimizer of a batch: optbench's kind takes the ``(R,)`` hyperparameter arrays; a
    plain per-run class runs as one instance per run (:class:`~.per_run.PerRun`)."""
    hp = optimizer_kwargs(static, arrays)
    cls = code.load()
    if code.per_run:
        from .per_run import PerRun

        return PerRun(cls, params, **hp)
    if convention:
        hp["convention"] = convention
    return cls(params, **hp)
