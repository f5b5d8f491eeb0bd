"""Learning-rate schedules: ``lr=`` of any optimizer may be a callable of the step number.

A schedule maps the step number t = 1, 2, ... to the learning rate of the t-th update (a float,
or an ``(R,)`` array: one schedule per run). Every parameter may be a scalar or an ``(R,)``
array; each run's value is computed in Python floats, with the formula and order of operations
of the library named, so that a sweep gives every run the bits of a separate run and of the
reference:

========================  ================================================  ===============
class                     value at step t (e = t - 1 updates before it)     reference
========================  ================================================  ===============
:class:`Constant`         ``value``                                         -
:class:`StepDecay`        ``lr * gamma^(e // step_size)``, as a product     ``StepLR``
:class:`ExponentialDecay` ``init * rate^((e - begin) / transition_steps)``  ``optax.``
                                                                            ``exponential_decay``
:class:`CosineAnnealing`  ``eta_min + (lr - eta_min)(1 + cos(pi e/T))/2``   ``CosineAnnealingLR``
:class:`WarmupCosine`     linear warmup ``init -> peak``, then cosine to    ``optax.warmup_``
                          ``end`` at ``decay_steps``                        ``cosine_decay_``
                                                                            ``schedule``
:class:`PolynomialDecay`  ``(init - end)(1 - e'/T)^power + end``            ``optax.``
                                                                            ``polynomial_schedule``
:class:`LinearDecay`      the same, ``power = 1``                           ``linear_schedule``
========================  ================================================  ===============

Step numbers. torch's schedulers set ``group["lr"]`` before ``step()``: the t-th update uses
``scheduler.get_last_lr()`` after t - 1 calls of ``scheduler.step()`` (``last_epoch = t - 1``).
optax's schedules are functions of the count of updates before, from 0: the t-th update uses
``schedule(count = t - 1)``. Here, ``schedule(t)`` is that value. torch's ``StepLR``,
``ExponentialLR`` and ``CosineAnnealingLR`` are chainable (each lr computed from the previous
one); ``StepDecay`` and ``CosineAnnealing`` follow the same recurrence (cached, so stepping
t = 1, 2, ... costs O(1) a step), hence torch's bits. ``ExponentialLR(gamma)`` is
``StepDecay(lr, step_size=1, gamma=gamma)``; ``ExponentialDecay`` is optax's closed form.

Example::

    >>> from optbench.optimizers import SGD, schedules
    >>> sched = schedules.StepDecay(0.1, step_size=2, gamma=0.5)
    >>> [sched(t) for t in (1, 2, 3, 4, 5)]
    [0.1, 0.1, 0.05, 0.05, 0.025]
    >>> import numpy as np
    >>> w = np.ones(2)
    >>> opt = SGD([w], lr=sched)          # or lr=lambda t: 0.1 / t
"""

from __future__ import annotations

import math

import numpy as np

from . import _validation as check


class Schedule:
    """Base of the built-in schedules: parameters checked at construction, one value per run.

    A subclass sets ``name`` and ``fields`` (its parameters, in signature order) and defines
    ``_formula(self, e, *row)`` (closed form, Python floats; e = t - 1) or ``_start(*row)`` and
    ``_advance(e, prev, *row)`` (a recurrence from e - 1 to e, as torch's chainable schedulers).
    """

    name = "schedule"
    fields: tuple[str, ...] = ()

    def _setup(self, **values) -> None:
        self.params = values
        arrays = [v for v in values.values() if isinstance(v, np.ndarray)]
        self.R = None
        if arrays:
            sizes = {a.size for a in arrays}
            if len(sizes) > 1:
                shown = {k: v.shape for k, v in values.items() if isinstance(v, np.ndarray)}
                raise ValueError(
                    f"{type(self).__name__}: (R,) parameters of unequal lengths {shown}"
                )
            self.R = sizes.pop()
            rows = np.stack(np.broadcast_arrays(*(np.asarray(v, float) for v in values.values())))
            distinct, inverse = np.unique(rows.T, axis=0, return_inverse=True)
            self._rows = [tuple(map(float, row)) for row in distinct]
            self._inverse = inverse.reshape(-1)
        else:
            self._rows = [tuple(values.values())]
        self._cache: dict[int, tuple[int, float]] = {}

    def __call__(self, t):
        if isinstance(t, bool) or not isinstance(t, int | np.integer) or t < 1:
            raise ValueError(f"{self!r}: the step number is an int >= 1, got {t!r}")
        e = int(t) - 1
        values = [self._value(e, i, row) for i, row in enumerate(self._rows)]
        if self.R is None:
            return values[0]
        return np.array(values)[self._inverse]

    def _value(self, e: int, i: int, row: tuple) -> float:
        if not hasattr(self, "_advance"):
            return self._formula(e, *row)
        at, value = self._cache.get(i, (None, None))
        if at is None or at > e:
            at, value = 0, self._start(*row)
        while at < e:
            at += 1
            value = self._advance(at, value, *row)
        self._cache[i] = (at, value)
        return value

    def config(self) -> dict:
        """``{"schedule": name, field: float or list}``: plain values, for a run's identity."""
        out: dict = {"schedule": self.name}
        for k, v in self.params.items():
            out[k] = v.tolist() if isinstance(v, np.ndarray) else v
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_show(v)}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self.config() == other.config()

    def __hash__(self) -> int:
        return hash(repr(self))

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_cache": {}}


def _show(v) -> str:
    return repr(v.tolist()) if isinstance(v, np.ndarray) else repr(v)


def _real(name, value, lo=0.0, hi=np.inf, lo_open=False, hi_open=True):
    return check.hyperparameter(name, value, lo, hi, lo_open=lo_open, hi_open=hi_open)


def _count(name, value, lo=1):
    """A whole number of steps >= ``lo`` (a scalar int or an ``(R,)`` array of them)."""
    v = _real(name, value, lo=lo)
    if np.any(np.asarray(v) != np.floor(v)):
        raise ValueError(f"{name} must be a whole number of steps >= {lo}, got {value!r}")
    return int(v) if not isinstance(v, np.ndarray) else v


class Constant(Schedule):
    """``lr(t) = value``: the same iterates as ``lr=value``, bit for bit."""

    name = "constant"

    def __init__(self, value):
        self._setup(value=_real("value", value))

    def _formula(self, e, value):
        return value


class StepDecay(Schedule):
    """torch's ``StepLR(step_size, gamma)``: ``lr`` times ``gamma`` every ``step_size`` updates,
    as torch's repeated product (``lr * gamma * gamma ...``, not ``gamma ** k``)."""

    name = "step"

    def __init__(self, lr, step_size, gamma=0.1):
        self._setup(
            lr=_real("lr", lr),
            step_size=_count("step_size", step_size),
            gamma=_real("gamma", gamma),
        )

    @staticmethod
    def _start(lr, step_size, gamma):
        return lr

    @staticmethod
    def _advance(e, prev, lr, step_size, gamma):
        return prev * gamma if e % step_size == 0 else prev


class ExponentialDecay(Schedule):
    """optax's ``exponential_decay``: ``init_value`` before ``transition_begin`` updates, then
    ``init_value * decay_rate ** (e' / transition_steps)`` with ``e' = e - transition_begin``
    (``floor`` of the ratio if ``staircase``), clipped at ``end_value`` if given."""

    name = "exponential"

    def __init__(
        self,
        init_value,
        decay_rate,
        transition_steps=1,
        transition_begin=0,
        staircase=False,
        end_value=None,
    ):
        self.staircase = check.flag("staircase", staircase)
        self.has_end = end_value is not None
        self._setup(
            init_value=_real("init_value", init_value),
            decay_rate=_real("decay_rate", decay_rate, lo_open=True),
            transition_steps=_count("transition_steps", transition_steps),
            transition_begin=_count("transition_begin", transition_begin, lo=0),
            **({"end_value": _real("end_value", end_value)} if self.has_end else {}),
        )

    def config(self) -> dict:
        return {**super().config(), "staircase": self.staircase}

    def _formula(self, e, init, rate, steps, begin, end=None):
        n = e - begin
        if n <= 0:
            value = init
        else:
            p = n / steps
            value = init * rate ** (math.floor(p) if self.staircase else p)
        if end is not None:
            value = max(value, end) if rate < 1.0 else min(value, end)
        return value


class CosineAnnealing(Schedule):
    """torch's ``CosineAnnealingLR(T_max, eta_min)`` from ``lr``, in its chainable form:
    ``lr_e = (1 + cos(pi e / T)) / (1 + cos(pi (e - 1) / T)) (lr_{e-1} - eta_min) + eta_min``
    (with torch's restart branch when ``(e - 1 - T) % 2T == 0``); lr_0 = ``lr``."""

    name = "cosine_annealing"

    def __init__(self, lr, T_max, eta_min=0.0):
        self._setup(
            lr=_real("lr", lr), T_max=_count("T_max", T_max), eta_min=_real("eta_min", eta_min)
        )

    @staticmethod
    def _start(lr, T_max, eta_min):
        return lr

    @staticmethod
    def _advance(e, prev, lr, T_max, eta_min):
        if (e - 1 - T_max) % (2 * T_max) == 0:
            return prev + (lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
        ratio = (1 + math.cos(math.pi * e / T_max)) / (1 + math.cos(math.pi * (e - 1) / T_max))
        return ratio * (prev - eta_min) + eta_min


class PolynomialDecay(Schedule):
    """optax's ``polynomial_schedule``: with ``e' = clip(e - transition_begin, 0,
    transition_steps)``, ``(init_value - end_value) * (1 - e' / transition_steps) ** power +
    end_value``."""

    name = "polynomial"

    def __init__(self, init_value, end_value, power, transition_steps, transition_begin=0):
        self._setup(
            init_value=_real("init_value", init_value),
            end_value=_real("end_value", end_value),
            power=_real("power", power, lo_open=True),
            transition_steps=_count("transition_steps", transition_steps),
            transition_begin=_count("transition_begin", transition_begin, lo=0),
        )

    @staticmethod
    def _formula(e, init, end, power, steps, begin):
        count = min(max(e - begin, 0), steps)
        frac = 1 - count / steps
        return (init - end) * (frac**power) + end


class LinearDecay(PolynomialDecay):
    """optax's ``linear_schedule``: :class:`PolynomialDecay` with ``power = 1``."""

    name = "linear"

    def __init__(self, init_value, end_value, transition_steps, transition_begin=0):
        super().__init__(init_value, end_value, 1.0, transition_steps, transition_begin)
        del self.params["power"]  # (still in each run's row of values)


class WarmupCosine(Schedule):
    """optax's ``warmup_cosine_decay_schedule``: linear from ``init_value`` to ``peak_value``
    over ``warmup_steps`` updates, then cosine decay to ``end_value`` at ``decay_steps``
    updates in all (warmup included), then ``end_value``."""

    name = "warmup_cosine"

    def __init__(self, init_value, peak_value, warmup_steps, decay_steps, end_value=0.0):
        warmup = _count("warmup_steps", warmup_steps, lo=0)
        decay = _count("decay_steps", decay_steps)
        if np.any(np.asarray(decay) <= np.asarray(warmup)):
            raise ValueError(
                f"decay_steps must exceed warmup_steps (it includes them), got "
                f"decay_steps={decay_steps!r}, warmup_steps={warmup_steps!r}"
            )
        self._setup(
            init_value=_real("init_value", init_value),
            peak_value=_real("peak_value", peak_value),
            warmup_steps=warmup,
            decay_steps=decay,
            end_value=_real("end_value", end_value),
        )

    @staticmethod
    def _formula(e, init, peak, warmup, decay, end):
        if e < warmup:  # optax's linear_schedule(init, peak, warmup)
            return (init - peak) * (1 - e / warmup) + peak
        alpha = 0.0 if peak == 0.0 else end / peak
        count = min(e - warmup, decay - warmup)  # optax's cosine_decay_schedule
        cosine = 0.5 * (1 + math.cos(math.pi * count / (decay - warmup)))
        return peak * ((1 - alpha) * cosine + alpha)


__all__ = [
    "Constant",
    "CosineAnnealing",
    "ExponentialDecay",
    "LinearDecay",
    "PolynomialDecay",
    "Schedule",
    "StepDecay",
    "WarmupCosine",
]
