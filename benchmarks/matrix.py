"""The benchmark matrix: a TOML spec, validated before anything runs.

A matrix names optimizers with hyperparameter grids, problems with their arguments, seeds, a
step budget, what to record and the suboptimality targets. Example::

    seeds = [0, 1, 2, 3, 4]                   # the evaluation seeds
    tuning = { seeds = [100, 101] }           # optional: tune on these alone (held out)
    budget = { steps = 2000 }                 # or { epochs = 10 }
    targets = [1e-1, 1e-2, 1e-4, 1e-6, 1e-8]  # COCO-style: first step with loss - f* <= target
    divergence = { bound = 1e6 }              # diverged: loss non-finite or > bound * max(1, |L0|)
    recording = { points = 40, spacing = "log", path_points = 300 }

    [[optimizers]]
    name = "adam"
    convention = ["torch", "optax"]           # a string or a list (one batch per convention)
    lr = { logspace = [1e-4, 1e-1], num = 12 }
    betas = [[0.9, 0.999], [0.95, 0.999]]     # a list of values is a grid

    [[optimizers]]
    name = "momentum"
    search = { trials = 20 }                  # seeded quasi-random search instead of a grid
    lr = { loguniform = [1e-4, 1.0] }         # {uniform = [a, b]}; a list is a choice
    problems = [{ name = "quadratic", dim = 50 }]   # only on these problems (default: all)

    [[problems]]
    name = "quadratic"
    dim = 50
    condition_number = 1e3
    budget = { steps = 500 }                  # optional per-problem budget

Hyperparameter values: a scalar (fixed), a list (a grid), or ``{logspace = [a, b], num = n}`` /
``{linspace = [a, b], num = n}``. For a pair-valued hyperparameter such as ``betas``, one pair is a
fixed value and a list of pairs a grid. ``lr`` may be a
schedule, ``lr = { schedule = "cosine_annealing", lr = 0.1, T_max = [1000, 2000] }``, each
field a value or a grid (:mod:`optbench.benchmarks.matrix_schedules`). A ``search`` table draws
the settings from a declared space instead (:mod:`optbench.benchmarks.matrix_search`); a
``tuning`` table holds the tuning seeds out of the reported ones, and ``problems`` restricts
an optimizer table (:mod:`optbench.benchmarks.matrix_protocol`). Allowed names come from
``inspect.signature`` of each optimizer and problem class (docs/contracts.md sections 1 and 2).

Errors raise :class:`MatrixError` naming the key (``optimizers[2].lr``) and, for closed sets,
the allowed values. :func:`optbench.benchmarks.plan.expand` then constructs every problem and every
optimizer batch once (on a tiny dummy), so that their own ``ValueError``s surface before any run
starts.
"""

from __future__ import annotations

import inspect
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import matrix_protocol, matrix_search
from .matrix_schedules import grid as schedule_grid
from .matrix_schedules import is_schedule_table
from .matrix_values import MatrixError, argument, check_keys, is_real, seed_list, spaced, values
from .plugins import Code, PluginError, display_names, resolve

TOP_KEYS = (
    "seeds", "tuning", "budget", "recording", "targets", "divergence", "optimizers", "problems",
)  # fmt: skip
OPTIMIZER_KEYS = ("name", "search", "problems")  # besides "convention" and hyperparameters
RECORDING_DEFAULTS = {"points": 40, "spacing": "log", "path_points": 300}
SPACINGS = ("log", "linear")
DEFAULT_TARGETS = tuple(10.0**-k for k in range(1, 9))
DEFAULT_BOUND = 1e6


@dataclass(frozen=True)
class Budget:
    """How long each run lasts: exactly one of ``steps`` and ``epochs``."""

    steps: int | None = None
    epochs: float | None = None

    def resolve(self, steps_per_epoch: int) -> int:
        """Optimizer steps for a problem with ``steps_per_epoch`` minibatches per epoch."""
        if self.steps is not None:
            return self.steps
        return max(1, round(self.epochs * steps_per_epoch))

    def as_dict(self) -> dict:
        return {"steps": self.steps} if self.steps is not None else {"epochs": self.epochs}


@dataclass(frozen=True)
class OptimizerEntry:
    """One ``[[optimizers]]`` table: the display name, conventions (``("",)`` for a class
    without), a grid per hyperparameter (or a quasi-random ``search``), where the class comes
    from, and the problems it runs on (``problems``: indices into ``Matrix.problems``; None:
    all)."""

    name: str
    conventions: tuple[str, ...]
    grid: dict[str, tuple]  # hyperparameter -> values (a fixed value is a 1-tuple)
    code: Code | None = None
    search: matrix_search.Search | None = None  # then `grid` is empty
    problems: frozenset[int] | None = None
    only: tuple = ()  # the `problems` list as the table wrote it

    def settings(self) -> list[tuple[int | None, dict[str, Any]]]:
        """``(trial, hparams)`` of every setting: the grid's product (trial None), or the
        search's trials (1-based) in the order drawn."""
        if self.search is not None:
            return list(enumerate(self.search.draw(), start=1))
        names = list(self.grid)
        combos = itertools.product(*self.grid.values())
        return [(None, dict(zip(names, combo, strict=True))) for combo in combos]

    def runs_on(self, index: int) -> bool:
        """Whether the table runs on problem ``index`` of the matrix."""
        return self.problems is None or index in self.problems


@dataclass(frozen=True)
class ProblemEntry:
    """One ``[[problems]]`` table: the registry name, constructor arguments, optional budget."""

    name: str
    kwargs: dict[str, Any]
    budget: Budget | None = None
    recording: dict[str, Any] | None = None  # keys override the matrix's recording table
    code: Code | None = None
    dataset: str | None = None  # a data file's path as the matrix wrote it (kwargs: absolute)


@dataclass(frozen=True)
class Matrix:
    """A parsed matrix. ``source`` is the TOML text it came from (stored with each invocation)."""

    seeds: tuple[int, ...]  # the evaluation seeds (with `tuning`; else every seed)
    budget: Budget
    recording: dict[str, Any]
    targets: tuple[float, ...]
    bound: float
    optimizers: tuple[OptimizerEntry, ...]
    problems: tuple[ProblemEntry, ...]
    source: str = field(default="", compare=False)
    base: Path | None = field(default=None, compare=False)  # the folder of the matrix file
    tuning_seeds: tuple[int, ...] | None = None  # `tuning = {seeds}`: held-out tuning

    @property
    def held_out(self) -> bool:
        """Tuning and evaluation seeds are kept apart (the matrix has a ``tuning`` table)."""
        return self.tuning_seeds is not None


BUILTIN = {
    "default": "the mission's six optimizers on every problem (the default)",
    "modern": "all twelve built-in optimizers (adds AdamW, NAdam, RAdam, Adamax, Adadelta, "
    "Lion) on the default matrix's problems",
}
"""The built-in matrices of ``optbench run --matrix NAME``."""


def default_path() -> Path:
    """The built-in matrix shipped with the package."""
    return Path(__file__).with_name("default_matrix.toml")


def builtin_source(name: str) -> str:
    """The TOML of a built-in matrix: ``modern`` is the default one with the optimizer tables
    of ``modern_optimizers.toml`` inserted after its own (one source for the problems)."""
    if name not in BUILTIN:
        raise MatrixError(f"unknown built-in matrix {name!r}; allowed: {list(BUILTIN)}")
    text = default_path().read_text(encoding="utf-8")
    if name == "modern":
        extra = Path(__file__).with_name("modern_optimizers.toml").read_text(encoding="utf-8")
        cut = text.index("\n# --- classic test functions")
        text = f"{text[:cut]}\n\n{extra.rstrip()}\n{text[cut:]}"
    return text


def load(path: str | Path | None = None, builtin: str = "default") -> Matrix:
    """Read and parse a matrix file (the built-in matrix ``builtin`` when ``path`` is None)."""
    import tomllib

    if path is None:
        path, text = default_path(), builtin_source(builtin)
    else:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MatrixError(f"cannot read matrix file {path}: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MatrixError(f"{path} is not valid TOML: {exc}") from None
    return parse(raw, source=text, base=path.resolve().parent)


def parse(raw: dict, source: str | None = None, base: Path | None = None) -> Matrix:
    """Check the structure and types of a matrix given as a dict (e.g. from ``tomllib``).

    ``base``: the folder that relative paths (``"lion.py:Lion"``, ``dataset = "my.csv"``)
    start from, the matrix file's (default: the current directory).
    """
    base = Path.cwd() if base is None else Path(base)
    if not isinstance(raw, dict):
        raise MatrixError(f"a matrix must be a table, got {type(raw).__name__}")
    check_keys("the matrix", raw, TOP_KEYS)
    for key in ("optimizers", "problems"):
        if key not in raw:
            raise MatrixError(f"missing key {key!r}: give at least one [[{key}]] table")
    if source is None:
        import tomli_w

        source = tomli_w.dumps(raw)
    seeds = seed_list("seeds", raw.get("seeds", [0]))
    held_out = matrix_protocol.tuning_seeds(raw["tuning"], seeds) if "tuning" in raw else None
    problems = _unique(
        [
            _problem(f"problems[{i}]", t, base)
            for i, t in enumerate(_tables("problems", raw["problems"]))
        ]
    )
    optimizers = _unique(
        [
            _optimizer(f"optimizers[{i}]", t, base, problems)
            for i, t in enumerate(_tables("optimizers", raw["optimizers"]))
        ]
    )
    return Matrix(
        seeds=seeds,
        budget=_budget("budget", raw.get("budget", {"steps": 1000})),
        recording={**RECORDING_DEFAULTS, **_recording("recording", raw.get("recording", {}))},
        targets=_targets(raw.get("targets", list(DEFAULT_TARGETS))),
        bound=_bound(raw.get("divergence", {})),
        optimizers=optimizers,
        problems=problems,
        source=source,
        base=base,
        tuning_seeds=held_out,
    )


# --- hyperparameter and argument signatures ------------------------------------------------


REQUIRED = inspect.Parameter.empty
"""The "default" of a hyperparameter or argument without one: the matrix must set it."""


def hyperparameters(cls) -> dict[str, Any]:
    """Keyword arguments of an optimizer after ``params`` (minus ``convention``) -> default
    (:data:`REQUIRED` for one without a default)."""
    params = _signature(cls)[1:]
    if not [p for p in params if _is_keyword(p)] and any(p.kind == p.VAR_KEYWORD for p in params):
        raise MatrixError(
            f"{cls.__qualname__} takes **kwargs only: declare each hyperparameter as a keyword "
            "argument with its default, def __init__(self, params, lr=1e-3, ...), so that the "
            "matrix can be checked against it"
        )
    return {p.name: p.default for p in params if _is_keyword(p) and p.name != "convention"}


def arguments(cls) -> dict[str, Any]:
    """Keyword arguments of a problem constructor -> default (:data:`REQUIRED` if none)."""
    return {p.name: p.default for p in _signature(cls) if _is_keyword(p)}


def _signature(cls) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError) as exc:
        raise MatrixError(f"cannot read the signature of {cls.__qualname__}: {exc}") from None


def _is_keyword(p: inspect.Parameter) -> bool:
    return p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)


# --- sections ------------------------------------------------------------------------------


def _optimizer(where: str, table: dict, base: Path, problems=()) -> OptimizerEntry:
    code = _code(where, table, "optimizer", base)
    cls = code.load()
    try:
        allowed = hyperparameters(cls)
    except MatrixError as exc:
        raise MatrixError(f"{_named_where(where, code)}: {exc}") from None
    conventions = tuple(getattr(cls, "CONVENTIONS", ()) or ()) if not code.per_run else ()
    clash = [k for k in OPTIMIZER_KEYS[1:] if k in allowed]
    if clash and any(k in table for k in clash):
        raise MatrixError(
            f"{_named_where(where, code)}: {clash[0]!r} is both a hyperparameter of {code.ref} "
            "and a key of the matrix's optimizer tables; rename the hyperparameter"
        )
    keys = ("name", *(("convention",) if conventions else ()), *allowed, *OPTIMIZER_KEYS[1:])
    check_keys(_named_where(where, code), table, keys)
    if conventions:
        convention = table.get("convention", conventions[0])
        conventions = _conventions(f"{where}.convention", convention, conventions)
    else:
        conventions = ("",)
    restrict = {}
    if "problems" in table:
        only = table["problems"]
        chosen = matrix_protocol.restriction(f"{where}.problems", only, problems)
        restrict = {"problems": chosen, "only": only}
    if "search" in table:
        search = matrix_search.from_table(where, table, allowed, code.ref)
        return OptimizerEntry(code.name, conventions, {}, code, search=search, **restrict)
    grid = {}
    for key, default in allowed.items():  # signature order: stable labels and hashes
        if key == "lr" and is_schedule_table(table.get(key)):  # lr = {schedule = ...}
            if code.per_run:
                raise MatrixError(
                    f"{where}.lr: a schedule needs an optbench Optimizer subclass; "
                    f"{code.ref} is a plain per-run class"
                )
            grid[key] = schedule_grid(f"{where}.{key}", table[key])
        elif key in table:
            grid[key] = values(f"{where}.{key}", table[key], default)
        elif default is REQUIRED:
            raise MatrixError(f"{where}.{key}: {code.ref} takes {key!r} without a default; set it")
    return OptimizerEntry(code.name, conventions, grid, code, **restrict)


def _problem(where: str, table: dict, base: Path) -> ProblemEntry:
    code = _code(where, table, "problem", base)
    allowed = arguments(code.load())
    check_keys(_named_where(where, code), table, ("name", "budget", "recording", *allowed))
    kwargs = {k: argument(f"{where}.{k}", v, allowed[k]) for k, v in table.items() if k in allowed}
    for key, default in allowed.items():
        if default is REQUIRED and key not in kwargs:
            raise MatrixError(f"{where}.{key}: {code.ref} takes {key!r} without a default; set it")
    dataset = kwargs.get("dataset")
    if isinstance(dataset, str) and Path(dataset).suffix:  # a file: next to the matrix
        kwargs["dataset"] = str((base / dataset).resolve())
    else:
        dataset = None
    budget = _budget(f"{where}.budget", table["budget"]) if "budget" in table else None
    recording = None
    if "recording" in table:
        _recording(f"{where}.recording", table["recording"])
        recording = dict(table["recording"])
    return ProblemEntry(
        name=code.name, kwargs=kwargs, budget=budget, recording=recording, code=code,
        dataset=dataset,
    )  # fmt: skip


def _code(where: str, table: dict, kind: str, base: Path) -> Code:
    try:
        return resolve(kind, table.get("name"), base)
    except PluginError as exc:
        raise MatrixError(f"{where}.name: {exc}") from None


def _named_where(where: str, code: Code) -> str:
    """``optimizers[1]``, with the reference of a user's class: ``optimizers[1] (lion.py:Lion)``."""
    return where if code.builtin else f"{where} ({code.ref})"


def _unique(entries: list) -> tuple:
    """The entries with display names made unique (two classes ``Lion`` show their refs)."""
    from dataclasses import replace

    names = display_names([e.code for e in entries])
    return tuple(replace(e, name=names[e.code.ref]) for e in entries)


def _conventions(where: str, raw: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    values = raw if isinstance(raw, list) else [raw]
    if not values:
        raise MatrixError(f"{where}: empty list; allowed: {list(allowed)}")
    for v in values:
        if v not in allowed:
            raise MatrixError(f"{where}: {v!r} is not a convention; allowed: {list(allowed)}")
    return tuple(dict.fromkeys(values))


def _budget(where: str, raw: Any) -> Budget:
    if not isinstance(raw, dict):
        raise MatrixError(f"{where}: a table {{steps = n}} or {{epochs = e}}, got {raw!r}")
    check_keys(where, raw, ("steps", "epochs"))
    if len(raw) != 1:
        raise MatrixError(f"{where}: give exactly one of 'steps' and 'epochs', got {sorted(raw)}")
    if "steps" in raw:
        steps = raw["steps"]
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise MatrixError(f"{where}.steps: a positive integer, got {steps!r}")
        return Budget(steps=steps)
    epochs = raw["epochs"]
    if not is_real(epochs) or not 0 < epochs < 1e6:
        raise MatrixError(f"{where}.epochs: a positive number, got {epochs!r}")
    return Budget(epochs=float(epochs))


def _recording(where: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise MatrixError(f"{where}: a table, got {raw!r}")
    check_keys(where, raw, tuple(RECORDING_DEFAULTS))
    for key in ("points", "path_points"):
        v = raw.get(key, 2)
        if not isinstance(v, int) or isinstance(v, bool) or v < 2:
            raise MatrixError(f"{where}.{key}: an integer >= 2, got {v!r}")
    if raw.get("spacing", "log") not in SPACINGS:
        raise MatrixError(f"{where}.spacing: {raw['spacing']!r}; allowed: {list(SPACINGS)}")
    return raw


def _targets(raw: Any) -> tuple[float, ...]:
    values = spaced("targets", raw) if isinstance(raw, dict) else raw
    if not isinstance(values, list) or not values:
        raise MatrixError(f"targets: a non-empty list of numbers > 0, got {raw!r}")
    if not all(is_real(t) and t > 0 and math.isfinite(t) for t in values):
        raise MatrixError(f"targets: every target must be a finite number > 0, got {raw!r}")
    return tuple(sorted({float(t) for t in values}, reverse=True))


def _bound(raw: Any) -> float:
    if not isinstance(raw, dict):
        raise MatrixError(f"divergence: a table {{bound = b}}, got {raw!r}")
    check_keys("divergence", raw, ("bound",))
    bound = raw.get("bound", DEFAULT_BOUND)
    if not is_real(bound) or not 1 < bound < math.inf:
        raise MatrixError(f"divergence.bound: a finite number > 1, got {bound!r}")
    return float(bound)


def _tables(key: str, raw: Any) -> list[dict]:
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        raise MatrixError(f"{key}: a non-empty array of tables ([[{key}]]), got {raw!r}")
    return raw
