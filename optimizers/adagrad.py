"""AdaGrad: per-coordinate steps scaled by the root of the summed squared gradients."""

from __future__ import annotations

from typing import ClassVar

from . import _primitives as P
from .base import Optimizer
from .hyperparameter import Hyperparameter


class AdaGrad(Optimizer):
    r"""AdaGrad as in ``torch.optim.Adagrad`` (Duchi et al., 2011).

    Update of step t (g = gradient, w = parameter, G = accumulator, G_0 = iav)::

        g   <- g + wd * w                          (if weight_decay)
        G   <- G + g * g
        clr  = lr / (1 + (t - 1) * lr_decay)
        w   <- w - clr * g / (sqrt(G) + eps)       (eps_inside_sqrt=False, torch)
        w   <- w - clr * g / sqrt(G + eps)         (eps_inside_sqrt=True, seed, optax)

    Symbols: lr = ``lr``, lr_decay = ``lr_decay``, wd = ``weight_decay``,
    iav = ``initial_accumulator_value``, eps = ``eps``.

    ``maximize=True`` (torch's flag) ascends: g <- -g before anything else.

    Conventions (``convention=...``; None-valued options take the convention's value):

    ==========  ===============  =========  =========================================
    convention  eps_inside_sqrt  iav        source
    ==========  ===============  =========  =========================================
    ``torch``   False            0          ``torch.optim.Adagrad``
    ``seed``    True             0          the seed's ``W - lr / sqrt(G + eps) * g``
    ``optax``   True             0.1        ``optax.adagrad`` (pass ``eps=1e-7`` for
                                            optax's default eps)
    ==========  ===============  =========  =========================================

    Any of lr, lr_decay, weight_decay, initial_accumulator_value, eps may be an ``(R,)``
    array. Example::

        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = AdaGrad([w], lr=0.5, eps=0.0)
        >>> opt.step([np.array([3.0])]); w     # 1 - 0.5 * 3 / sqrt(9)
        array([0.5])
    """

    lr = Hyperparameter(1e-2)
    lr_decay = Hyperparameter(0.0)
    weight_decay = Hyperparameter(0.0)
    initial_accumulator_value = Hyperparameter(None)
    eps = Hyperparameter(1e-10)
    eps_inside_sqrt = Hyperparameter(None)
    maximize = Hyperparameter(False)  # ascent: the base negates g first
    conventions: ClassVar[dict[str, dict]] = {
        "torch": {"eps_inside_sqrt": False, "initial_accumulator_value": 0.0},
        "seed": {"eps_inside_sqrt": True, "initial_accumulator_value": 0.0},
        "optax": {"eps_inside_sqrt": True, "initial_accumulator_value": 0.1},
    }
    state = ("sum",)
    scratch = ("u", "d")

    def initial_state(self, h):
        return {"sum": h.initial_accumulator_value}

    def step_coefficients(self, t, h):
        return {"neg_clr": -(h.lr / (1 + (t - 1) * h.lr_decay))}

    def update(self, w, g, s, h):
        P.sum_of_squares(s.sum, g, s.d)
        std = P.root(s.sum, h.eps, h.eps_inside_sqrt, out=s.d)
        P.addcdiv(w, g, std, h.neg_clr, s.u)
