"""Deterministic test functions f: R^dim -> R evaluated for R runs at once: the shared base.

The functions themselves (Rosenbrock, Beale, ...) are in ``optbench.problems.functions``.

``X`` has shape ``(R, dim)``, in any memory order. ``init_params`` returns it Fortran-ordered
(structure of arrays: each coordinate contiguous across runs), which makes the column-wise
formulas of 2-D functions contiguous passes; the gradient buffer copies the layout of ``X``.
"""

import numpy as np

from . import rng
from .base import Problem, check_array, check_choice, check_dtype

STARTS = ("standard", "random")


class Objective(Problem):
    """A function with a known minimum ``f_star`` at ``x_star``; ``params == [X]``.

    Subclasses define ``box`` (the random-start box), ``_standard_start()`` and
    ``_value_and_grad(X, L, G)`` writing f into ``L`` (R,) and the gradient into ``G``.
    """

    box = (-5.0, 5.0)

    def __init__(self, dim, start, dtype, config):
        """``config``: the subclass's constructor arguments (start and dtype are added)."""
        config = dict(config, start=check_choice("start", start, STARTS))
        config["dtype"] = check_dtype(dtype).name
        super().__init__(**config)
        self.dim = int(dim)
        self.start = start
        self.dtype = check_dtype(dtype)
        self._buffers = {}

    def _label_args(self):
        args = {k: v for k, v in self._config.items() if (k, v) not in _DEFAULT_LABEL}
        return ", ".join(f"{k}={v}" for k, v in args.items())

    def _standard_start(self):
        raise NotImplementedError

    def _value_and_grad(self, X, L, G):
        raise NotImplementedError

    def init_params(self, seeds):
        """``[X]`` with X (R, dim), Fortran order: the standard start, or uniform in ``box``."""
        seeds = self._reset(seeds)
        if self.start == "standard":
            X = np.tile(self._standard_start(), (len(seeds), 1))
        else:
            low, high = self.box
            X = low + (high - low) * rng.uniform(rng.run_keys(seeds, rng.STREAM_INIT), self.dim)
        return [np.asfortranarray(X, dtype=self.dtype)]

    def _check(self, params):
        if not isinstance(params, (list, tuple)) or len(params) != 1:
            raise ValueError("params must be a list [X] with X of shape (R, dim)")
        return check_array("X", params[0], (None, self.dim))

    def scratch(self, name, shape, like, order=None):
        """A cached buffer of ``shape``, dtype of ``like``, memory order ``order`` or like's."""
        if order is None:
            order = "F" if like.flags.f_contiguous and not like.flags.c_contiguous else "C"
        key = (name, shape, like.dtype, order)
        buf = self._buffers.get(key)
        if buf is None:
            buf = self._buffers[key] = np.empty(shape, dtype=like.dtype, order=order)
        return buf

    def loss_and_grad(self, params):
        """(R,) losses and ``[G]``, G (R, dim) = grad f; both are buffers reused next call."""
        X = self._check(params)
        L = self.scratch("loss", X.shape[:1], X)
        G = self.scratch("grad", X.shape, X)
        self._value_and_grad(X, L, G)
        return L, [G]

    def evaluate(self, params):
        """{"loss": f(X)} in fresh arrays (the buffers of ``loss_and_grad`` stay untouched)."""
        X = self._check(params)
        L = np.empty(X.shape[0], dtype=X.dtype)
        self._value_and_grad(X, L, np.empty_like(X))
        return {"loss": L}


_DEFAULT_LABEL = {("start", "standard"), ("dtype", "float64")}
