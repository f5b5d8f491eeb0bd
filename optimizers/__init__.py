"""The built-in optimizers of optbench, in place and vectorized over runs, and the public base
class for writing your own (``Optimizer``, ``Hyperparameter``: see ``Optimizer``'s docstring).

``REGISTRY`` maps a name to its class; see ``docs/contracts.md`` section 1::

    from optbench.optimizers import Adam
    opt = Adam([W, b], lr=1e-3)      # params: float32/float64 arrays, updated in place
    opt.step([dW, db])
    state = opt.state_dict(); opt.load_state_dict(state)
"""

from . import schedules
from ._blocks import get_num_threads, set_num_threads
from ._primitives import bias_correction
from .adadelta import Adadelta
from .adagrad import AdaGrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .base import Optimizer
from .hyperparameter import Hyperparameter
from .lion import Lion
from .nadam import NAdam
from .radam import RAdam
from .rmsprop import RMSProp
from .schedules import (
    Constant,
    CosineAnnealing,
    ExponentialDecay,
    LinearDecay,
    PolynomialDecay,
    Schedule,
    StepDecay,
    WarmupCosine,
)
from .sgd import SGD, Momentum, Nesterov

REGISTRY: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
    "nadam": NAdam,
    "radam": RAdam,
    "adamax": Adamax,
    "adadelta": Adadelta,
    "lion": Lion,
}

__all__ = [
    "REGISTRY",
    "SGD",
    "AdaGrad",
    "Adadelta",
    "Adam",
    "AdamW",
    "Adamax",
    "Constant",
    "CosineAnnealing",
    "ExponentialDecay",
    "Hyperparameter",
    "LinearDecay",
    "Lion",
    "Momentum",
    "NAdam",
    "Nesterov",
    "Optimizer",
    "PolynomialDecay",
    "RAdam",
    "RMSProp",
    "Schedule",
    "StepDecay",
    "WarmupCosine",
    "bias_correction",
    "get_num_threads",
    "schedules",
    "set_num_threads",
]
