"""Learning-rate schedules in the matrix: ``lr = { schedule = "warmup_cosine", ... }``.

The ``schedule`` key names a built-in of :mod:`optbench.optimizers.schedules` by its
``config()`` name; the other keys are that class's arguments, each a value or a grid (a list,
``{logspace = [a, b], num = n}``, ``{linspace = ...}``)::

    [[optimizers]]
    name = "adam"
    lr = { schedule = "warmup_cosine", init_value = 0.0, peak_value = [1e-3, 1e-2],
           warmup_steps = 100, decay_steps = 2000 }

expands into one run per combination of the fields' grids (two here). Numeric fields are
batched as ``(R,)`` arrays like numeric hyperparameters (the batch's schedule is one object
with ``(R,)`` parameters); they are part of the run's hparams (``{"schedule": name, field:
value}``, defaults included: hence of the run id) and of its setting label,
``lr=warmup_cosine(init_value=0, peak_value=0.01, warmup_steps=100, decay_steps=2000)`` (the
fields the matrix sets). Errors are :class:`MatrixError` naming the key, ``optimizers[0].lr.
peak_value``.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass
from typing import Any

from .matrix_values import MatrixError, check_keys, values


def classes() -> dict[str, type]:
    """Schedule name -> class, the built-ins of ``optbench.optimizers.schedules``."""
    from optbench.optimizers import schedules as S

    built_in = (
        S.Constant,
        S.StepDecay,
        S.ExponentialDecay,
        S.CosineAnnealing,
        S.WarmupCosine,
        S.PolynomialDecay,
        S.LinearDecay,
    )
    return {cls.name: cls for cls in built_in}


@dataclass(frozen=True)
class LrSchedule:
    """One schedule setting of a run: its name, every argument (defaults filled in), and the
    names the matrix set (for the label)."""

    schedule: str
    fields: tuple[tuple[str, Any], ...]
    shown: tuple[str, ...]

    def config(self) -> dict:
        return {"schedule": self.schedule, **dict(self.fields)}

    def label(self, fmt) -> str:
        values = dict(self.fields)
        return f"{self.schedule}(" + ", ".join(f"{k}={fmt(values[k])}" for k in self.shown) + ")"

    def numeric(self) -> dict[str, float]:
        return {k: v for k, v in self.fields if isinstance(v, float)}

    def static(self) -> LrSchedule:
        """The setting without its numeric fields: what a batch's runs share."""
        kept = tuple((k, v) for k, v in self.fields if not isinstance(v, float))
        return LrSchedule(self.schedule, kept, ())

    def build(self, arrays: dict[str, Any]):
        """The schedule object, numeric fields from ``arrays`` (``(R,)`` arrays)."""
        return classes()[self.schedule](**dict(self.fields), **arrays)


def is_schedule_table(raw: Any) -> bool:
    return isinstance(raw, dict) and "schedule" in raw


def grid(where: str, raw: dict) -> tuple[LrSchedule, ...]:
    """The settings of an ``lr = {schedule = ...}`` table, one per combination of its grids."""
    known = classes()
    name = raw["schedule"]
    if name not in known:
        raise MatrixError(f"{where}.schedule: {name!r} is not a schedule; allowed: {list(known)}")
    params = list(inspect.signature(known[name]).parameters.values())
    check_keys(where, raw, ("schedule", *(p.name for p in params)))
    fields = {}
    for p in params:
        if p.name in raw:
            default = p.default if isinstance(p.default, bool) else 0.0
            fields[p.name] = values(f"{where}.{p.name}", raw[p.name], default)
        elif p.default is inspect.Parameter.empty:
            raise MatrixError(f"{where}.{p.name}: the {name!r} schedule needs it; set it")
        else:
            fields[p.name] = (p.default,)
    fields = {k: v for k, v in fields.items() if not (v == (None,))}
    shown = tuple(k for k in fields if k in raw)
    out = []
    for combo in itertools.product(*fields.values()):
        setting = LrSchedule(name, tuple(zip(fields, combo, strict=True)), shown)
        try:
            setting.build({})
        except ValueError as exc:
            bad = next((k for k in fields if str(exc).startswith(k)), None)
            raise MatrixError(f"{where}.{bad}: {exc}" if bad else f"{where}: {exc}") from None
        out.append(setting)
    return tuple(out)
