"""The problem interface (docs/contracts.md §2) and the argument checks every problem shares.

A problem evaluates loss and gradients for R runs at once. Parameters are a list of arrays,
each with a leading run axis R; a run's randomness is drawn from counter-based streams keyed
by its seed (``optbench.problems.rng``), so its results never depend on the other runs of its batch.

    p = Problem(...)
    params = p.init_params(seeds)           # list of (R, *shape) arrays; resets the streams
    losses, grads = p.loss_and_grad(params) # (R,) and a list like params (reused buffers)
    metrics = p.evaluate(params)            # dict of (R,) arrays, always "loss"
"""

import math
import numbers

import numpy as np

from . import rng

FLOAT_DTYPES = ("float32", "float64")


def check_int(name, value, low, high=None):
    """An int in [low, high] (bool rejected), else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        upper = "" if high is None else f" and <= {high}"
        raise ValueError(f"{name} must be >= {low}{upper}, got {value}")
    return int(value)


def check_float(name, value, low=None, low_open=False):
    """A finite real number, >= low (or > low when ``low_open``), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    return value


def check_choice(name, value, choices):
    """One of ``choices``, else ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_dtype(dtype):
    """'float32' or 'float64' (or the numpy dtype) -> np.dtype."""
    name = np.dtype(dtype).name if isinstance(dtype, (type, np.dtype)) else dtype
    check_choice("dtype", name, FLOAT_DTYPES)
    return np.dtype(name)


def check_array(name, a, shape, dtype=None):
    """A floating ndarray whose shape matches ``shape`` (None entries match anything)."""
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array, got {type(a).__name__}")
    if a.dtype.kind != "f":
        raise ValueError(f"{name} must have a floating dtype, got {a.dtype}")
    if dtype is not None and a.dtype != dtype:
        raise ValueError(f"{name} must have dtype {dtype}, got {a.dtype}")
    if a.ndim != len(shape) or any(
        s is not None and s != n for s, n in zip(shape, a.shape, strict=True)
    ):
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {a.shape}")
    return a


def jsonable(name, value):
    """``value`` as plain JSON data, else ValueError naming ``name``: NumPy scalars become
    numbers, tuples and arrays lists, dtypes (``np.float32``) their names."""
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(f"{name}[{i}]", v) for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: jsonable(f"{name}[{k!r}]", v) for k, v in value.items()}
    raise ValueError(
        f"{name} must be JSON-able (numbers, strings, booleans, None, lists, dicts), "
        f"got {type(value).__name__}"
    )


def rowsum(a, out):
    """out[r] = sum_j a[r, j], with a summation order that depends only on the row length.

    NumPy sums each row of a C-contiguous array pairwise, the same for any number of rows;
    other layouts are copied to C order first, so that a run's loss never depends on R.
    """
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    return np.sum(a, axis=1, out=out)


class Problem:
    """Base class: bookkeeping shared by all problems. Subclasses set the attributes below."""

    name = "problem"  # registry key
    stochastic = False
    steps_per_epoch = 1
    f_star = None
    x_star = None
    dim = 0

    def __init__(self, **config):
        self._config = dict(config)
        self._seeds = None

    def config(self):
        """The constructor's arguments, JSON-able."""
        return dict(self._config)

    @property
    def label(self):
        """Short human name with the key arguments, e.g. ``rosenbrock(dim=2)``."""
        return f"{self.name}({self._label_args()})"

    def _label_args(self):
        return ", ".join(f"{k}={v}" for k, v in self._config.items())

    def __repr__(self):
        return self.label

    def _reset(self, seeds):
        """Remember the runs' seeds and reset their random streams (step counter 0)."""
        self._seeds = rng.as_seeds(seeds)
        self._step = 0
        return self._seeds

    def _require_init(self, R):
        if self._seeds is None:
            raise ValueError("call init_params(seeds) before loss_and_grad")
        if R != len(self._seeds):
            raise ValueError(
                f"params have {R} runs but init_params was called with {len(self._seeds)} seeds"
            )

    def init_params(self, seeds):
        raise NotImplementedError

    def loss_and_grad(self, params):
        raise NotImplementedError

    def evaluate(self, params):
        raise NotImplementedError
