"""Problems the optimizers are benchmarked on: test functions and the softmax MLP.

Every problem follows the interface of docs/contracts.md §2 (see ``problems.base``); the
registry maps a name to its class.
"""

from .base import Problem
from .functions import Beale, GoldsteinPrice, Himmelblau, Rastrigin, StyblinskiTang
from .network import MLP
from .objective import Objective, Rosenbrock
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
    "Himmelblau",
    "Objective",
    "Problem",
    "Quadratic",
    "Rastrigin",
    "Rosenbrock",
    "StyblinskiTang",
]
