"""RMSProp: steps scaled by the root of a moving average of squared gradients."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import _primitives as P
from .base import Optimizer
from .hyperparameter import Hyperparameter


class RMSProp(Optimizer):
    r"""RMSProp as in ``torch.optim.RMSprop`` (Hinton's lecture 6e; Graves, 2013 for centered).

    Update of step t (g = gradient, w = parameter; nu, mu, b = state starting at 0)::

        g   <- g + wd * w                                  (if weight_decay)
        nu  <- alpha * nu + (1 - alpha) * g^2
        mu  <- alpha * mu + (1 - alpha) * g                (centered only)
        s    = nu - mu^2        (centered)   or   nu
        s    = s / (1 - alpha^t)     [mu, nu bias-corrected; bias_correction=True only]
        d    = sqrt(s) + eps    (torch)      or   sqrt(s + eps)   (eps_inside_sqrt=True)
        b   <- m * b + g / d;  w <- w - lr * b             (momentum > 0)
        w   <- w - lr * g / d                              (momentum = 0)

    Symbols: lr = ``lr``, alpha = ``alpha``, eps = ``eps``, wd = ``weight_decay``,
    m = ``momentum``; ``centered`` subtracts the squared mean gradient.

    ``maximize=True`` (torch's flag) ascends: g <- -g before anything else.

    Conventions (``convention=...``; None-valued options take the convention's value):

    ==========  ===============  ===============  ===========================================
    convention  eps_inside_sqrt  bias_correction  source
    ==========  ===============  ===============  ===========================================
    ``torch``   False            False            ``torch.optim.RMSprop``
    ``seed``    True             False            the seed's ``W - lr / sqrt(E[g^2] + eps) g``
    ``optax``   True             False            ``optax.rmsprop`` (``bias_correction=True``
                                                  is its option; pass ``alpha=0.9`` for its
                                                  default decay)
    ==========  ===============  ===============  ===========================================

    With bias correction, ``s = nu_hat - mu_hat^2`` where ``x_hat = x / (1 - alpha^t)``.
    The torch convention rounds ``(1 - alpha) * g^2`` as torch does, ``((1 - alpha) g) g``;
    the others as written, ``(1 - alpha) (g g)``.
    Any of lr, alpha, eps, weight_decay, momentum may be an ``(R,)`` array. Example::

        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = RMSProp([w], lr=0.1, alpha=0.75, eps=0.0)
        >>> opt.step([np.array([2.0])]); w     # 1 - 0.1 * 2 / sqrt(0.25 * 4)
        array([0.8])
    """

    lr = Hyperparameter(1e-2)
    alpha = Hyperparameter(0.99, hi=1.0)
    eps = Hyperparameter(1e-8)
    weight_decay = Hyperparameter(0.0)
    momentum = Hyperparameter(0.0, hi=1.0)
    centered = Hyperparameter(False)
    eps_inside_sqrt = Hyperparameter(None)
    bias_correction = Hyperparameter(None)
    maximize = Hyperparameter(False)  # ascent: the base negates g first
    conventions: ClassVar[dict[str, dict]] = {
        "torch": {"eps_inside_sqrt": False, "bias_correction": False},
        "seed": {"eps_inside_sqrt": True, "bias_correction": False},
        "optax": {"eps_inside_sqrt": True, "bias_correction": False},
    }
    state = ("square_avg", "grad_avg", "momentum_buffer")
    scratch = ("u", "v")

    @staticmethod
    def _buffered(h) -> bool:
        return isinstance(h.momentum, np.ndarray) or h.momentum > 0

    def initial_state(self, h):
        state = {"square_avg": 0.0}
        if h.centered:
            state["grad_avg"] = 0.0
        if self._buffered(h):
            state["momentum_buffer"] = 0.0
        return state

    def static_coefficients(self, h):
        return {
            "one_minus_alpha": 1.0 - h.alpha,
            "lerp": P.lerp_branches(1.0 - h.alpha),  # dtype -> torch's lerp formula
            "neg_lr": -h.lr,
            "torch_order": h.convention == "torch",
            "buffered": self._buffered(h),
        }

    def step_coefficients(self, t, h):
        return {"bc": P.bias_correction(h.alpha, t)} if h.bias_correction else {}

    def update(self, w, g, s, h):
        nu = s.square_avg
        P.ema_of_squares(nu, g, h.alpha, h.one_minus_alpha, s.u, not h.torch_order)
        if h.bias_correction:
            nu = np.divide(nu, h.bc, out=s.u)
        if h.centered:
            P.lerp(s.grad_avg, g, h.one_minus_alpha, s.v, h.lerp[w.dtype])
            mean = s.grad_avg
            if h.bias_correction:
                mean = np.divide(mean, h.bc, out=s.v)
            sq = np.multiply(mean, mean, out=s.v)
            nu = np.subtract(nu, sq, out=s.u)
        d = P.root(nu, h.eps, h.eps_inside_sqrt, out=s.u)
        # w + (g / d) * (-lr), not torch's addcdiv order (-lr g) / d: a run with momentum 0
        # in an (R,) sweep whose other runs have momentum takes the buffer path,
        # buf = 0 buf + g / d, and must give the bits of the same run alone.
        u = np.divide(g, d, out=s.u)
        if h.buffered:
            P.trace(s.momentum_buffer, u, h.momentum, None, s.v)
            u = s.momentum_buffer
        P.apply(w, u, h.neg_lr, s.v)
