"""Adadelta: steps scaled by the ratio of moving RMS of past updates and of gradients."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import _primitives as P
from .base import Optimizer
from .hyperparameter import Hyperparameter


class Adadelta(Optimizer):
    r"""Adadelta as in ``torch.optim.Adadelta`` (Zeiler, 2012).

    Update of step t (g = gradient, w = parameter; v, a = state starting at 0)::

        g  <- g + wd * w                                     (if weight_decay)
        v  <- rho * v + (1 - rho) * g^2
        d   = sqrt(a + eps) / sqrt(v + eps) * g
        a  <- rho * a + (1 - rho) * d^2
        w  <- w - lr * d

    Symbols: lr = ``lr``, rho = ``rho`` (in [0, 1], as torch), eps = ``eps``,
    wd = ``weight_decay``; v = ``state["square_avg"]``, a = ``state["acc_delta"]`` (torch's
    names).
    ``maximize=True`` (torch's flag) ascends: g <- -g before anything else.

    The finer option ``square_first`` selects how ``(1 - rho) * x^2`` rounds (equal in exact
    arithmetic): False (torch's ``addcmul_``) ``((1 - rho) * x) * x``; True (optax's
    ``update_moment``) ``(1 - rho) * (x * x)``.

    ==========  ============  ===================================================
    convention  square_first  source
    ==========  ============  ===================================================
    ``torch``   False         ``torch.optim.Adadelta``
    ``optax``   True          ``optax.adadelta`` (its ``learning_rate`` has no
                              default: pass ``lr``)
    ==========  ============  ===================================================

    Any of lr, rho, eps, weight_decay may be an ``(R,)`` array. Example::

        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = Adadelta([w], lr=0.5, rho=0.25, eps=4.0)
        >>> opt.step([np.array([4.0])]); w     # v = 12, d = sqrt(4) / sqrt(16) * 4 = 2
        array([0.])
    """

    lr = Hyperparameter(1.0)
    rho = Hyperparameter(0.9, hi=1.0, hi_open=False)
    eps = Hyperparameter(1e-6)
    weight_decay = Hyperparameter(0.0)
    square_first = Hyperparameter(None)
    maximize = Hyperparameter(False)  # ascent: the base negates g first
    conventions: ClassVar[dict[str, dict]] = {
        "torch": {"square_first": False},
        "optax": {"square_first": True},
    }
    state = ("square_avg", "acc_delta")
    scratch = ("std", "delta", "u")

    def static_coefficients(self, h):
        return {"one_minus_rho": 1.0 - h.rho, "neg_lr": -h.lr}

    def update(self, w, g, s, h):
        v, a, first = s.square_avg, s.acc_delta, h.square_first
        P.ema_of_squares(v, g, h.rho, h.one_minus_rho, s.u, square_first=first)
        std = P.root(v, h.eps, True, out=s.std)
        d = P.root(a, h.eps, True, out=s.delta)
        np.divide(d, std, out=d)
        np.multiply(d, g, out=d)
        P.ema_of_squares(a, d, h.rho, h.one_minus_rho, s.u, square_first=first)
        P.apply(w, d, h.neg_lr, s.u)
