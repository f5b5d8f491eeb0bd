"""A test function of one's own, on optbench's public base ``TestFunction``.

A matrix names it ``"six_hump_camel.py:SixHumpCamel"``; ``python six_hump_camel.py`` checks
its gradient against central differences.
"""

import numpy as np

from optbench.problems import TestFunction, check_gradient


class SixHumpCamel(TestFunction):
    """The six-hump camel function, dim = 2.

    .. math::
        f(x, y) = (4 - 2.1 x^2 + x^4 / 3) x^2 + x y + (-4 + 4 y^2) y^2

        \\partial_x f = 8 x - 8.4 x^3 + 2 x^5 + y, \\qquad \\partial_y f = x - 8 y + 16 y^3

    Six local minima in the box [-3, 3] x [-2, 2]; the two global ones, f* = -1.0316284534898774,
    at (0.0898420131003, -0.7126564030207) and its mirror image (-0.0898420131003,
    0.7126564030207). Standard start (-1.5, 1.5).
    """

    dim = 2
    f_star = -1.0316284534898774
    x_star = (0.0898420131003, -0.7126564030207)
    x0 = (-1.5, 1.5)  # the standard start
    box = ((-3.0, 3.0), (-2.0, 2.0))  # random starts: x in [-3, 3], y in [-2, 2]

    def value_and_grad(self, X):
        x, y = X[:, 0], X[:, 1]
        x2, y2 = x * x, y * y
        f = (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2
        dx = 8.0 * x - 8.4 * x2 * x + 2.0 * x2 * x2 * x + y
        dy = x - 8.0 * y + 16.0 * y2 * y
        return f, np.stack([dx, dy], axis=1)


if __name__ == "__main__":
    print(check_gradient(SixHumpCamel()))
