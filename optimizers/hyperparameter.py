"""``Hyperparameter``: one constructor argument of an optimizer, declared as a class attribute.

An :class:`~optbench.optimizers.Optimizer` subclass declares its arguments in its class body,
in the order of its signature::

    lr = Hyperparameter(1e-3)                        # a real number in [0, inf)
    betas = Hyperparameter((0.9, 0.999), hi=1)       # a pair, checked as betas[0], betas[1]
    dampening = Hyperparameter(0.0, hi=1, hi_open=False)            # in [0, 1]
    nesterov = Hyperparameter(False)                 # a bool, one value per batch
    buffer_init = Hyperparameter("grad", choices=("grad", "zeros"))  # a string, per batch
    ema = Hyperparameter(None)                       # taken from the convention's preset

The default decides the kind. Real numbers (and each entry of a tuple of them) may be scalars or
``(R,)`` arrays, one value per run; bools and strings are one value for the whole batch. A
``None`` default takes the value of the chosen convention's preset (its kind is that of the
presets' values). On an optimizer, ``opt.lr`` reads the validated value.
"""

from __future__ import annotations

import math
import numbers

from . import _validation as check

REAL, TUPLE, BOOL, CHOICE = "real", "tuple", "bool", "choice"


class Hyperparameter:
    """A declared hyperparameter: its default and what values it allows.

    ``lo``, ``hi``, ``lo_open``, ``hi_open`` bound real values (default ``[0, inf)``);
    ``choices`` lists the allowed strings of a string option.
    """

    def __init__(
        self,
        default,
        lo: float = 0.0,
        hi: float = math.inf,
        *,
        lo_open: bool = False,
        hi_open: bool = True,
        choices: tuple[str, ...] | None = None,
    ):
        if isinstance(default, list):
            raise TypeError(f"a Hyperparameter default must be a tuple, not a list: {default!r}")
        if choices is not None and not all(isinstance(c, str) for c in choices):
            raise TypeError(f"choices must be strings, got {choices!r}")
        self.default = default
        self.lo, self.hi, self.lo_open, self.hi_open = lo, hi, lo_open, hi_open
        self.choices = tuple(choices) if choices is not None else None
        self.name = "?"

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return obj.hparams[self.name]

    def __set__(self, obj, value) -> None:
        raise AttributeError(
            f"{self.name} is fixed at construction; build a new optimizer to change it"
        )

    def __repr__(self) -> str:
        parts = [repr(self.default)]
        if self.kind_of_default() in (REAL, TUPLE, None) and self.choices is None:
            parts.append(f"in {check.describe(self.lo, self.hi, self.lo_open, self.hi_open)}")
        if self.choices is not None:
            parts.append(f"choices={self.choices!r}")
        return f"Hyperparameter({', '.join(parts)})"

    def kind_of_default(self) -> str | None:
        """The kind given by the default (None for a ``None`` default)."""
        d = self.default
        if d is None:
            return CHOICE if self.choices is not None else None
        if isinstance(d, bool):
            return BOOL
        if isinstance(d, str):
            return CHOICE
        if isinstance(d, numbers.Real):
            return REAL
        if isinstance(d, tuple) and d and all(_is_real(x) for x in d):
            return TUPLE
        raise TypeError(
            f"{self.name}: a Hyperparameter default is a real number, a tuple of them, a bool, "
            f"a string or None, got {d!r}"
        )

    def validate(self, value, kind: str, size: int | None = None):
        """``value`` checked for ``kind``: a float or read-only ``(R,)`` array, a tuple of
        those, a bool or a string; ``TypeError``/``ValueError`` naming the argument."""
        if kind == REAL:
            return check.hyperparameter(
                self.name, value, self.lo, self.hi, lo_open=self.lo_open, hi_open=self.hi_open
            )
        if kind == TUPLE:
            n = size or len(self.default)
            if not isinstance(value, tuple | list) or len(value) != n:
                entries = ", ".join(f"{self.name}[{i}]" for i in range(n))
                what = "a pair" if n == 2 else f"a tuple of {n}"
                raise TypeError(f"{self.name} must be {what} ({entries}), got {value!r}")
            bounds = dict(lo=self.lo, hi=self.hi, lo_open=self.lo_open, hi_open=self.hi_open)
            return tuple(
                check.hyperparameter(f"{self.name}[{i}]", v, **bounds) for i, v in enumerate(value)
            )
        if kind == BOOL:
            return check.flag(self.name, value)
        if self.choices is None:
            raise TypeError(f"{self.name}: a string Hyperparameter needs choices=(...)")
        return check.choice(self.name, value, self.choices)


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)
