"""Lion: the sign of an interpolation of momentum and gradient, with decoupled weight decay."""

from __future__ import annotations

import numpy as np

from . import _primitives as P
from .base import Optimizer
from .hyperparameter import Hyperparameter


class Lion(Optimizer):
    r"""Lion as ``optax.lion`` (Chen et al., 2023, "Symbolic Discovery of Optimization
    Algorithms").

    Update of step t (g = gradient, w = parameter; m = state starting at 0)::

        c  = b1 * m + (1 - b1) * g
        w <- w - lr * (sign(c) + wd * w)
        m <- b2 * m + (1 - b2) * g

    Symbols: lr = ``lr`` (optax's ``learning_rate``), (b1, b2) = ``betas`` (optax's ``b1``,
    ``b2``), wd = ``weight_decay``; m = ``state["exp_avg"]``. Defaults are optax 0.2.8's:
    ``b1=0.9``, ``b2=0.99``, ``weight_decay=1e-3``; optax's ``learning_rate`` has no default,
    ``lr=1e-4`` here (the paper's suggestion: 3-10 times smaller than AdamW's). The weight decay
    is decoupled and scaled by lr, inside the update as optax's chain
    ``scale_by_lion, add_decayed_weights, scale_by_learning_rate`` rounds it. No conventions:
    torch has no Lion.

    Any of lr, weight_decay, and each of the two betas, may be an ``(R,)`` array. Example::

        >>> import numpy as np
        >>> w = np.array([1.0, -2.0])
        >>> opt = Lion([w], lr=0.1, weight_decay=0.0)
        >>> opt.step([np.array([3.0, -0.5])]); w     # w - lr * sign(g) at the first step
        array([ 0.9, -1.9])
    """

    lr = Hyperparameter(1e-4)
    betas = Hyperparameter((0.9, 0.99), hi=1.0)
    weight_decay = Hyperparameter(1e-3)
    weight_decay_mode = None  # added to sign(c) in update, in optax's order
    state = ("exp_avg",)
    scratch = ("c", "u")

    def static_coefficients(self, h):
        beta1, beta2 = h.betas
        return {
            "beta1": beta1,
            "beta2": beta2,
            "one_minus_beta1": 1.0 - beta1,
            "one_minus_beta2": 1.0 - beta2,
            "neg_lr": -h.lr,
        }

    def update(self, w, g, s, h):
        m, c, u = s.exp_avg, s.c, s.u
        np.multiply(m, h.beta1, out=c)  # c = b1 m + (1 - b1) g
        c += np.multiply(g, h.one_minus_beta1, out=u)
        np.sign(c, out=u)  # into another array: NumPy's sign in place is ~10x slower
        u += np.multiply(w, h.weight_decay, out=c)  # sign(c) + wd w
        P.apply(w, u, h.neg_lr, c)
        P.ema(m, g, h.beta2, h.one_minus_beta2, u)
