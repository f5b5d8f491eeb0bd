"""Deterministic test functions f: R^dim -> R evaluated for R runs at once: the shared base.

``X`` has shape ``(R, dim)``, in any memory order. ``init_params`` returns it Fortran-ordered
(structure of arrays: each coordinate contiguous across runs), which makes the column-wise
formulas of 2-D functions contiguous passes; the gradient buffer copies the layout of ``X``.
"""

import numpy as np

from . import rng
from .base import Problem, check_array, check_choice, check_dtype, check_int, rowsum

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


class Rosenbrock(Objective):
    """Chained Rosenbrock function (the standard N-dimensional form).

    .. math::
        f(x) = \\sum_{i=1}^{d-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2,
        \\quad \\partial_i f = -400 x_i t_i - 2(1 - x_i) + 200 t_{i-1},
        \\quad t_i = x_{i+1} - x_i^2

    (terms with an index outside 1..d-1 are absent). Minimum f* = 0 at x* = (1, ..., 1).
    Standard start (-1.2, 1, -1.2, 1, ...); random starts uniform in [-2, 2]^d.
    """

    name = "rosenbrock"
    box = (-2.0, 2.0)
    f_star = 0.0

    def __init__(self, dim=2, start="standard", dtype="float64"):
        dim = check_int("dim", dim, 2)
        super().__init__(dim, start, dtype, {"dim": dim})
        self.x_star = np.ones(self.dim)

    def _standard_start(self):
        return np.resize([-1.2, 1.0], self.dim)

    def _value_and_grad(self, X, L, G):
        if X.shape[1] == 2:
            return self._value_and_grad_2d(X, L, G)
        R, n = X.shape[0], X.shape[1] - 1
        xi, xn, gi = X[:, :n], X[:, 1:], G[:, :n]
        t = self.scratch("t", (R, n), X)
        u = self.scratch("u", (R, n), X)
        np.multiply(xi, xi, out=t)
        np.subtract(xn, t, out=t)  # t_i = x_{i+1} - x_i^2
        np.subtract(1.0, xi, out=u)  # u_i = 1 - x_i
        np.multiply(xi, t, out=gi)
        gi *= 200.0
        gi += u
        gi *= -2.0  # -400 x_i t_i - 2 u_i
        G[:, n] = 0.0
        s = self.scratch("s", (R, n), X)
        np.multiply(t, 200.0, out=s)
        G[:, 1:] += s  # + 200 t_{i-1}
        np.multiply(u, u, out=u)
        np.multiply(t, t, out=t)
        t *= 100.0
        t += u  # the terms of the sum
        rowsum(t, L)

    def _value_and_grad_2d(self, X, L, G):
        """The hot 2-D case in 11 array passes: with t = y - x^2 and w = x - 1,
        g_y = 200 t, g_x = 2 (w - x g_y), f = t g_y / 2 + w^2."""
        x, y, gx, gy = X[:, 0], X[:, 1], G[:, 0], G[:, 1]
        t = self.scratch("t", x.shape, X)
        w = self.scratch("u", x.shape, X)
        np.multiply(x, x, out=t)
        np.subtract(y, t, out=t)
        np.multiply(t, 200.0, out=gy)
        np.subtract(x, 1.0, out=w)
        np.multiply(x, gy, out=gx)
        np.subtract(w, gx, out=gx)
        gx *= 2.0
        np.multiply(t, gy, out=L)
        L *= 0.5
        w *= w
        L += w
