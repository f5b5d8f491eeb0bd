"""Problems the optimizers are benchmarked on, R runs at a time (docs/contracts.md §2).

=================== ========================================== ==========================
registry key        problem                                     minimum
=================== ========================================== ==========================
``rosenbrock``      chained Rosenbrock, any dim >= 2            0 at (1, ..., 1)
``quadratic``       1/2 (x - x*)^T A (x - x*), cond(A) = kappa,  0 at (1, ..., 1)
                    rotated, optional gradient noise
``beale``           Beale, 2-D                                  0 at (3, 0.5)
``himmelblau``      Himmelblau, 2-D, four minima                0 at (3, 2), ...
``rastrigin``       Rastrigin, any dim, multimodal              0 at 0
``styblinski_tang`` Styblinski-Tang, any dim, 2^d local minima  -39.166 d at (-2.9035, ...)
``goldstein_price`` Goldstein-Price, 2-D                        3 at (0, -1)
``mlp``             the seed's softmax MLP on digits or spiral  unknown
=================== ========================================== ==========================

Your own test function: subclass ``TestFunction`` (``optbench.problems.objective``; an example
in ``docs/examples/six_hump_camel.py``); check any problem's gradient with
``check_gradient(problem)`` (``optbench.problems.gradcheck``).

Layers of the MLP: ``optbench.problems.layers``; data: ``optbench.problems.datasets``; the per-run
counter-based random numbers: ``optbench.problems.rng``; the interface and argument checks:
``optbench.problems.base``.
"""

from .base import Problem
from .functions import Beale, GoldsteinPrice, Himmelblau, Rastrigin, Rosenbrock, StyblinskiTang
from .gradcheck import GradientCheck, check_gradient
from .mlp import MLP
from .objective import Objective, TestFunction
from .quadratic import Quadratic

REGISTRY = {
    "rosenbrock": Rosenbrock,
    "quadratic": Quadratic,
    "beale": Beale,
    "himmelblau": Himmelblau,
    "rastrigin": Rastrigin,
    "styblinski_tang": StyblinskiTang,
    "goldstein_price": GoldsteinPrice,
    "mlp": MLP,
}

__all__ = [
    "MLP",
    "REGISTRY",
    "Beale",
    "GoldsteinPrice",
    "GradientCheck",
    "Himmelblau",
    "Objective",
    "Problem",
    "Quadratic",
    "Rastrigin",
    "Rosenbrock",
    "StyblinskiTang",
    "TestFunction",
    "check_gradient",
]
