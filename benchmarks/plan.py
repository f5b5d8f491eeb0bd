"""Matrix -> runs -> batches.

A *run* is one (optimizer, convention, hyperparameters, problem, seed). Its id is a stable hash
of its full configuration and the optbench version::

    run_id = sha256(json.dumps(config, sort_keys=True))[:20]

so re-running a matrix finds the runs it already has. With held-out tuning (a ``tuning`` table),
:func:`expand` gives the *tuning* runs, every setting on the tuning seeds (``role`` "tune",
which their config holds: a tuning run is never taken for an evaluation run), and
:func:`evaluation` the *evaluation* runs of the settings that tuning chose, on the matrix's
``seeds`` (``role`` "eval", the config of a matrix without ``tuning``).

Runs that share the optimizer, convention, non-numeric options (booleans, strings) and problem
form a *batch*: their numeric hyperparameters become ``(R,)`` arrays and the problem is
evaluated for all R runs at once. Numeric hyperparameters are passed as arrays whatever the
batch holds (even R = 1), so a run takes the same arithmetic path in every batch: its results
do not depend on the batch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .matrix import REQUIRED, Matrix, hyperparameters
from .matrix_schedules import LrSchedule
from .plugins import Code


@dataclass(frozen=True)
class ProblemInfo:
    """A problem entry of the matrix, constructed once: what the store needs to know of it."""

    name: str
    kwargs: dict[str, Any]
    config: dict[str, Any]
    label: str
    dim: int
    steps_per_epoch: int
    f_star: float | None
    steps: int
    epochs: float | None
    recording: dict[str, Any]
    code: Code = field(repr=False)
    data: dict[str, Any] | None = None  # a data file: {"ref", "path", "sha256"}

    @property
    def ref(self) -> str | None:
        """The matrix's reference of a user's problem (None: optbench's own)."""
        return None if self.code.builtin else self.code.ref


@dataclass(frozen=True)
class Run:
    """One run of the matrix (``hparams`` holds the hyperparameters the matrix sets)."""

    run_id: str
    optimizer: str
    convention: str
    hparams: dict[str, Any]
    setting: str
    problem: ProblemInfo
    seed: int
    config: dict[str, Any] = field(repr=False)
    code: Code = field(repr=False)
    role: str = "eval"  # "tune": a held-out tuning run; "eval": reported
    trial: int | None = None  # a search's trial (1-based; 0: the defaults), None in a grid

    @property
    def optimizer_ref(self) -> str | None:
        """The matrix's reference of a user's optimizer (None: optbench's own)."""
        return None if self.code.builtin else self.code.ref


@dataclass
class BatchSpec:
    """Everything a worker needs to execute R runs as one vectorized batch (picklable)."""

    optimizer: str  # display names
    convention: str
    static: dict[str, Any]  # non-numeric hyperparameters, shared by the batch
    arrays: dict[str, list]  # numeric hyperparameter -> one value per run (pairs stay tuples)
    problem_name: str
    problem_kwargs: dict[str, Any]
    steps: int
    recording: dict[str, Any]
    targets: tuple[float, ...]
    bound: float
    seeds: list[int]
    run_ids: list[str]
    dim: int = 0  # scalar parameters per run (for cost estimates)
    optimizer_code: Code | None = None  # where the classes come from (set by make_spec)
    problem_code: Code | None = None
    data_sha256: str | None = None  # of the problem's data file, as planned

    @property
    def size(self) -> int:
        return len(self.run_ids)


def expand(matrix: Matrix, version: str) -> list[Run]:
    """The runs of the matrix that do not depend on other runs' results, in a stable order
    (problem, optimizer, convention, setting, seed): every setting on every seed, or, with
    held-out tuning, on the tuning seeds (the evaluation runs come from :func:`evaluation`);
    for a search, also its trial 0, the optimizer's defaults for the searched hyperparameters
    on the evaluation seeds (never a candidate of the tuning: the budget of no search).

    Constructs each problem once (its ``ValueError`` becomes a :class:`MatrixError` naming the
    table) and each optimizer batch once on a dummy parameter, before any run starts.
    """
    from .preflight import check_labels, check_optimizers, problem_info

    problems = [problem_info(f"problems[{i}]", p, matrix) for i, p in enumerate(matrix.problems)]
    check_labels(problems)
    role = "tune" if matrix.held_out else "eval"
    seeds = matrix.tuning_seeds if matrix.held_out else matrix.seeds
    runs = []
    for index, info in enumerate(problems):
        for entry in matrix.optimizers:
            if not entry.runs_on(index):
                continue
            settings = entry.settings()
            for convention in entry.conventions:
                for trial, hparams in settings:
                    for seed in seeds:
                        args = (entry, convention, hparams, info, seed, matrix, version)
                        runs.append(_run(*args, role, trial))
                if entry.search is not None:  # its zero budget: the defaults, evaluated
                    for seed in matrix.seeds:
                        args = (entry, convention, dict(entry.search.fixed), info, seed)
                        runs.append(_run(*args, matrix, version, "eval", 0))
    check_optimizers(matrix, problems)
    return list({run.run_id: run for run in runs}.values())  # a table repeated runs once


def evaluation(chosen: list[tuple[Run, int | None]], matrix: Matrix, version: str) -> list[Run]:
    """The evaluation runs of held-out tuning: for each ``(run, trial)`` of ``chosen`` (a
    tuning run of a chosen setting, and the trial to file it under), that setting on every
    evaluation seed, with the role "eval"."""
    runs = []
    for run, trial in chosen:
        entry = _entry(matrix, run)
        for seed in matrix.seeds:
            args = (entry, run.convention, run.hparams, run.problem, seed, matrix, version)
            runs.append(_run(*args, "eval", trial))
    return list({run.run_id: run for run in runs}.values())


def _entry(matrix: Matrix, run: Run):
    for entry in matrix.optimizers:
        if entry.code.identity == run.code.identity and entry.name == run.optimizer:
            return entry
    raise LookupError(f"no optimizer table of {run.optimizer!r} in the matrix")


def batches(runs: list[Run], matrix: Matrix, max_batch: int | None = None) -> list[BatchSpec]:
    """Group runs into vectorized batches of at most ``max_batch`` runs (None: no limit)."""
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        groups.setdefault(_batch_key(run), []).append(run)
    specs = []
    for group in groups.values():
        step = max_batch or len(group)
        for start in range(0, len(group), step):
            specs.append(make_spec(group[start : start + step], matrix))
    return sorted(specs, key=_cost, reverse=True)  # longest first: workers finish together


def _cost(spec: BatchSpec) -> float:
    """A rough cost estimate, R * T * max(dim, 50) (per-step overhead counts as 50 scalars)."""
    return spec.size * spec.steps * max(spec.dim, 50)


def setting_label(hparams: dict[str, Any]) -> str:
    """``"lr=0.01, momentum=0.9"``: the hyperparameters the matrix sets, without the seed."""
    return ", ".join(f"{k}={_fmt(v)}" for k, v in hparams.items())


def is_numeric(value: Any) -> bool:
    """Numeric hyperparameters (floats, pairs of floats) are batched as ``(R,)`` arrays."""
    if isinstance(value, tuple):
        return all(is_numeric(v) for v in value)
    return isinstance(value, float)


# --- internals -----------------------------------------------------------------------------


def _run(entry, convention, hparams, info, seed, matrix, version, role="eval", trial=None) -> Run:
    code = entry.code
    defaults = hyperparameters(code.load())
    full = {**{k: v for k, v in defaults.items() if v is not REQUIRED}, **hparams}
    config = {
        "optbench_version": version,
        "optimizer": code.identity,
        **({} if code.builtin else {"optimizer_sha256": code.sha256}),
        "convention": convention,
        "hparams": jsonable(full),
        "problem": info.code.identity,
        **({} if info.code.builtin else {"problem_sha256": info.code.sha256}),
        "problem_config": jsonable(info.config),
        "seed": seed,
        "steps": info.steps,
        "epochs": info.epochs,
        "recording": info.recording,
        "targets": list(matrix.targets),
        "divergence_bound": matrix.bound,
        **({"role": role} if role != "eval" else {}),
    }
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    run_id = hashlib.sha256(blob.encode()).hexdigest()[:20]
    label = setting_label(hparams)
    if trial == 0:  # a search's zero budget
        label = ", ".join(["defaults", *([label] if label else [])])
    return Run(
        run_id, entry.name, convention, hparams, label, info, seed, config, code, role, trial
    )


def split_hparams(hparams: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, list]]:
    """``(static, arrays)`` of runs that share their non-numeric hyperparameters: ``static``
    maps each non-numeric one to its shared value, ``arrays`` each numeric one to its values,
    one per run (pairs stay tuples)."""
    first = hparams[0]
    static = {k: v for k, v in first.items() if not is_numeric(v)}
    arrays = {k: [hp[k] for hp in hparams] for k, v in first.items() if is_numeric(v)}
    for k, v in first.items():  # a schedule: its numeric fields as "lr.field" columns
        if isinstance(v, LrSchedule):
            static[k] = v.static()
            for name in v.numeric():
                arrays[f"{k}.{name}"] = [hp[k].numeric()[name] for hp in hparams]
    return static, arrays


def optimizer_kwargs(static: dict[str, Any], arrays: dict[str, list]) -> dict[str, Any]:
    """The keyword arguments of a batch's optimizer: ``static`` values, the ``(R,)`` arrays of
    :func:`hparam_arrays`, and each schedule built from its ``"lr.field"`` columns."""
    hp = {**static, **hparam_arrays(arrays)}
    for k, v in static.items():
        if isinstance(v, LrSchedule):
            prefix = f"{k}."
            columns = {n[len(prefix) :]: hp.pop(n) for n in list(hp) if n.startswith(prefix)}
            hp[k] = v.build(columns)
    return hp


def hparam_arrays(arrays: dict[str, list]) -> dict[str, Any]:
    """The ``arrays`` of :func:`split_hparams` as the optimizer takes them: ``(R,)`` float64
    arrays, and a pair of ``(R,)`` arrays for a pair-valued hyperparameter (``betas``)."""
    import numpy as np

    out: dict[str, Any] = {}
    for name, column in arrays.items():
        if column and isinstance(column[0], (tuple, list)):
            out[name] = tuple(np.array(c, dtype=np.float64) for c in zip(*column, strict=True))
        else:
            out[name] = np.array(column, dtype=np.float64)
    return out


def _batch_key(run: Run) -> tuple:
    static, arrays = split_hparams([run.hparams])
    info = run.problem
    problem = json.dumps(
        [info.name, info.code.identity, info.config, info.steps, info.recording], sort_keys=True
    )
    return (run.optimizer, run.convention, tuple(static.items()), tuple(arrays), problem)


def make_spec(group: list[Run], matrix: Matrix) -> BatchSpec:
    """The batch of ``group`` (runs that share a batch key, see :func:`batches`)."""
    first = group[0]
    problem_code = first.problem.code
    static, arrays = split_hparams([r.hparams for r in group])
    return BatchSpec(
        optimizer=first.optimizer,
        convention=first.convention,
        static=static,
        arrays=arrays,
        problem_name=first.problem.name,
        problem_kwargs=first.problem.kwargs,
        steps=first.problem.steps,
        recording=dict(first.problem.recording),
        targets=matrix.targets,
        bound=matrix.bound,
        seeds=[r.seed for r in group],
        run_ids=[r.run_id for r in group],
        dim=first.problem.dim,
        optimizer_code=first.code,
        problem_code=problem_code,
        data_sha256=(first.problem.data or {}).get("sha256"),
    )


def jsonable(value: Any) -> Any:
    if isinstance(value, LrSchedule):
        return jsonable(value.config())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # NumPy scalars
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _fmt(value: Any) -> str:
    if isinstance(value, LrSchedule):
        return value.label(_fmt)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
