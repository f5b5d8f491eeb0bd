"""Classic 2-D and N-D test functions of optimizer benchmarks, each with its known minimum.

All take ``X`` of shape ``(R, dim)`` (``params == [X]``). They are subclasses of the public
``TestFunction`` (``optbench.problems.objective``), written with its fast buffer hook
``_value_and_grad(X, L, G)``; ``docs/examples/six_hump_camel.py`` shows a user's function.
"""

import numpy as np

from .base import check_int, rowsum
from .objective import TestFunction

TWO_PI = 2.0 * np.pi


class Rosenbrock(TestFunction):
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
        super().__init__(start, dtype)
        self.dim = check_int("dim", dim, 2)
        self.x0 = np.resize([-1.2, 1.0], self.dim)
        self.x_star = np.ones(self.dim)

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


class Beale(TestFunction):
    """Beale's function, dim = 2.

    .. math::
        f(x, y) = a_1^2 + a_2^2 + a_3^2, \\quad a_k = c_k - x + x y^k,
        \\quad (c_1, c_2, c_3) = (1.5, 2.25, 2.625)

        \\partial_x f = \\sum_k 2 a_k (y^k - 1), \\quad
        \\partial_y f = \\sum_k 2 a_k \\, k x y^{k-1}

    Minimum f* = 0 at x* = (3, 0.5). Standard start (1, 1.5); random starts in [-4.5, 4.5]^2.
    """

    name = "beale"
    dim = 2
    box = (-4.5, 4.5)
    f_star = 0.0
    x_star = (3.0, 0.5)
    x0 = (1.0, 1.5)

    def _value_and_grad(self, X, L, G):
        x, y = X[:, 0], X[:, 1]
        L[...] = 0.0
        G[...] = 0.0
        for k, c in ((1, 1.5), (2, 2.25), (3, 2.625)):
            a = c - x + x * y**k
            L += a * a
            G[:, 0] += 2.0 * a * (y**k - 1.0)
            G[:, 1] += 2.0 * a * k * x * y ** (k - 1)


class Himmelblau(TestFunction):
    """Himmelblau's function, dim = 2.

    .. math::
        f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2 = a^2 + b^2,
        \\quad \\partial_x f = 4 x a + 2 b, \\quad \\partial_y f = 2 a + 4 y b

    Four global minima with f* = 0 (``minima``); ``x_star`` is (3, 2).
    Standard start (0, 0); random starts in [-5, 5]^2.
    """

    name = "himmelblau"
    dim = 2
    f_star = 0.0
    x_star = (3.0, 2.0)
    x0 = 0.0
    minima = np.array(
        [
            [3.0, 2.0],
            [-2.805118086952745, 3.131312518250573],
            [-3.779310253377747, -3.283185991286170],
            [3.584428340330492, -1.848126526964404],
        ]
    )

    def _value_and_grad(self, X, L, G):
        x, y = X[:, 0], X[:, 1]
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        np.multiply(a, a, out=L)
        L += b * b
        np.multiply(4.0 * x, a, out=G[:, 0])
        G[:, 0] += 2.0 * b
        np.multiply(4.0 * y, b, out=G[:, 1])
        G[:, 1] += 2.0 * a


class GoldsteinPrice(TestFunction):
    """Goldstein-Price function, dim = 2: a flat plateau around a narrow basin, values up to 1e6.

    .. math::
        f = A B, \\quad A = 1 + a^2 b, \\quad B = 30 + c^2 d, \\quad a = x + y + 1,
        \\quad c = 2x - 3y,

        b = 19 - 14x + 3x^2 - 14y + 6xy + 3y^2, \\quad
        d = 18 - 32x + 12x^2 + 48y - 36xy + 27y^2,

        \\partial f = B \\, \\partial A + A \\, \\partial B, \\quad
        \\partial_x A = \\partial_y A = 2ab + a^2 (6x + 6y - 14),

        \\partial_x B = 4cd + c^2 (24x - 36y - 32), \\quad
        \\partial_y B = -6cd + c^2 (54y - 36x + 48)

    Minimum f* = 3 (not 0) at x* = (0, -1). Standard start (-1, 1); random starts in [-2, 2]^2.
    """

    name = "goldstein_price"
    dim = 2
    box = (-2.0, 2.0)
    f_star = 3.0
    x_star = (0.0, -1.0)
    x0 = (-1.0, 1.0)

    def _value_and_grad(self, X, L, G):
        x, y = X[:, 0], X[:, 1]
        a, c = x + y + 1.0, 2.0 * x - 3.0 * y
        b = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
        d = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
        A, B = 1.0 + a * a * b, 30.0 + c * c * d
        dA = 2.0 * a * b + a * a * (6.0 * x + 6.0 * y - 14.0)
        dBx = 4.0 * c * d + c * c * (24.0 * x - 36.0 * y - 32.0)
        dBy = -6.0 * c * d + c * c * (54.0 * y - 36.0 * x + 48.0)
        np.multiply(A, B, out=L)
        np.multiply(dA, B, out=G[:, 0])
        G[:, 0] += A * dBx
        np.multiply(dA, B, out=G[:, 1])
        G[:, 1] += A * dBy


class Rastrigin(TestFunction):
    """Rastrigin's function (A = 10), highly multimodal.

    .. math::
        f(x) = A d + \\sum_i x_i^2 - A \\cos(2 \\pi x_i),
        \\quad \\partial_i f = 2 x_i + 2 \\pi A \\sin(2 \\pi x_i)

    Minimum f* = 0 at x* = 0. Standard start (-2, 3.5, -2, 3.5, ...); random starts in
    [-5.12, 5.12]^d.
    """

    name = "rastrigin"
    box = (-5.12, 5.12)
    f_star = 0.0
    A = 10.0

    def __init__(self, dim=2, start="standard", dtype="float64"):
        super().__init__(start, dtype)
        self.dim = check_int("dim", dim, 1)
        self.x0 = np.resize([-2.0, 3.5], self.dim)
        self.x_star = 0.0

    def _value_and_grad(self, X, L, G):
        angle = TWO_PI * X
        terms = X * X - self.A * np.cos(angle) + self.A
        np.multiply(TWO_PI * self.A, np.sin(angle), out=G)
        G += 2.0 * X
        rowsum(terms, L)


class StyblinskiTang(TestFunction):
    """Styblinski-Tang function: one global and 2^d - 1 local minima.

    .. math::
        f(x) = \\tfrac12 \\sum_i x_i^4 - 16 x_i^2 + 5 x_i,
        \\quad \\partial_i f = 2 x_i^3 - 16 x_i + 2.5

    Minimum at x*_i = c, the smallest root of 4c^3 - 32c + 5 = 0 (c = -2.9035...), with
    f* = d (c^4 - 16c^2 + 5c)/2 = -39.166... d. Standard start 0; random starts in [-5, 5]^d.
    """

    name = "styblinski_tang"
    x0 = 0.0

    def __init__(self, dim=2, start="standard", dtype="float64"):
        super().__init__(start, dtype)
        self.dim = check_int("dim", dim, 1)
        c = min(np.roots([4.0, 0.0, -32.0, 5.0]).real)
        c -= (4 * c**3 - 32 * c + 5) / (12 * c**2 - 32)  # one Newton step: full precision
        self.x_star = c
        self.f_star = float(self.dim * 0.5 * (c**4 - 16 * c**2 + 5 * c))

    def _value_and_grad(self, X, L, G):
        x2 = X * X
        terms = 0.5 * (x2 * x2 - 16.0 * x2 + 5.0 * X)
        np.multiply(2.0 * x2 - 16.0, X, out=G)
        G += 2.5
        rowsum(terms, L)
