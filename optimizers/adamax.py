"""Adamax: Adam's first moment over an exponentially weighted infinity norm of the gradient."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import _primitives as P
from .base import Optimizer
from .hyperparameter import Hyperparameter


class Adamax(Optimizer):
    r"""Adamax as in ``torch.optim.Adamax`` (Kingma & Ba, 2015, section 7.1).

    Update of step t (g = gradient, w = parameter; m, u = state starting at 0)::

        g  <- g + wd * w                                     (if weight_decay)
        m  <- b1 * m + (1 - b1) * g
        u  <- max(b2 * u, |g| + eps)
        w  <- w - (lr / (1 - b1^t)) * m / u

    Symbols: lr = ``lr``, (b1, b2) = ``betas``, eps = ``eps``, wd = ``weight_decay``;
    m = ``state["exp_avg"]``, u = ``state["exp_inf"]`` (torch's names). The eps sits inside
    the max, as in torch and optax, not added to the denominator.
    ``maximize=True`` (torch's flag) ascends: g <- -g before anything else.

    The finer option ``correct_moments`` selects the arithmetic (equal in exact arithmetic):

    - False (torch): ``m <- lerp(m, g, 1 - b1)``; ``w <- w + ((-lr / (1 - b1^t)) * m) / u``
      (``addcdiv_``);
    - True (optax's ``scale_by_adamax``): ``m <- b1 m + (1 - b1) g``, ``m_hat = m / (1 - b1^t)``,
      then ``w <- w + (-lr) * (m_hat / u)``.

    ==========  ===============  =============================================
    convention  correct_moments  source
    ==========  ===============  =============================================
    ``torch``   False            ``torch.optim.Adamax``
    ``optax``   True             ``optax.adamax`` (no weight decay there: a
                                 ``weight_decay`` here is optax's
                                 ``add_decayed_weights`` chained before it)
    ==========  ===============  =============================================

    Any of lr, eps, weight_decay, and each of the two betas, may be an ``(R,)`` array.
    Example::

        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = Adamax([w], lr=0.1, betas=(0.5, 0.5), eps=0.0)
        >>> opt.step([np.array([4.0])]); w     # the first step is lr * sign(g)
        array([0.9])
    """

    lr = Hyperparameter(2e-3)
    betas = Hyperparameter((0.9, 0.999), hi=1.0)
    eps = Hyperparameter(1e-8)
    weight_decay = Hyperparameter(0.0)
    correct_moments = Hyperparameter(None)
    maximize = Hyperparameter(False)  # ascent: the base negates g first
    conventions: ClassVar[dict[str, dict]] = {
        "torch": {"correct_moments": False},
        "optax": {"correct_moments": True},
    }
    state = ("exp_avg", "exp_inf")
    scratch = ("u", "d")

    def static_coefficients(self, h):
        beta1, beta2 = h.betas
        return {
            "beta1": beta1,
            "beta2": beta2,
            "one_minus_beta1": 1.0 - beta1,
            "lerp": P.lerp_branches(1.0 - beta1),  # dtype -> torch's lerp formula
            "neg_lr": -h.lr,
        }

    def step_coefficients(self, t, h):
        bc1 = P.bias_correction(h.beta1, t)
        if h.correct_moments:
            return {"bc1": bc1}
        return {"neg_clr": -(h.lr / bc1)}

    def update(self, w, g, s, h):
        m, u = s.exp_avg, s.exp_inf
        if h.correct_moments:
            P.ema(m, g, h.beta1, h.one_minus_beta1, s.u)
        else:
            P.lerp(m, g, h.one_minus_beta1, s.u, h.lerp[w.dtype])
        infinity_norm(u, g, h.beta2, h.eps, s.d)
        if h.correct_moments:
            d = np.divide(m, h.bc1, out=s.d)
            np.divide(d, u, out=d)
            P.apply(w, d, h.neg_lr, d)
        else:
            P.addcdiv(w, m, u, h.neg_clr, s.d)


def infinity_norm(u, g, beta, eps, scratch):
    """``u <- max(beta * u, |g| + eps)`` (torch's ``maximum(u.mul_(b2), g.abs().add_(eps))``,
    optax's ``update_infinity_moment``); NaN propagates, as in both."""
    np.multiply(u, beta, out=u)
    np.abs(g, out=scratch)
    np.add(scratch, eps, out=scratch)
    np.maximum(u, scratch, out=u)
