"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import _primitives as P
from .adam import Adam
from .hyperparameter import Hyperparameter


class AdamW(Adam):
    r"""AdamW as in ``torch.optim.AdamW`` (torch's Adam with decoupled weight decay), with AMSGrad.

    Update of step t = 1, 2, ... (g = gradient, w = parameter; m, v, v_max start at 0)::

        w  <- w * (1 - lr * wd)
        m  <- lerp(m, g, 1 - b1);    v <- b2 * v + ((1 - b2) * g) * g
        v_max <- max(v_max, v)  and v <- v_max                    (if amsgrad)
        w  <- w - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    Symbols: lr = ``lr``, (b1, b2) = ``betas``, eps = ``eps``, wd = ``weight_decay``;
    ``maximize=True`` ascends (g <- -g before anything else; optax has no such flag, so with
    ``convention="optax"`` it is optax's update of the negated gradient).

    The finer option ``correct_moments`` selects the rule (equal in exact arithmetic):

    - False (torch): the above, :class:`Adam`'s torch arithmetic with ``w`` scaled before the
      moments are updated;
    - True (``optax.adamw``): ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) (g g)``,
      ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)`` (``v_hat <- max(v_max, v_hat)``
      with amsgrad), ``d = m_hat / (sqrt(v_hat) + eps)``, then the decay joins the Adam
      direction before the scaling by ``-lr``: ``w <- w + (-lr) * (d + wd * w)``.

    ==========  ===============  ===================================================
    convention  correct_moments  source
    ==========  ===============  ===================================================
    ``torch``   False            ``torch.optim.AdamW``
    ``optax``   True             ``optax.adamw`` (``eps_root=0``, ``mu_dtype=None``,
                                 ``nesterov=False``, no mask: its defaults); with
                                 ``amsgrad``, its chain with ``scale_by_amsgrad``.
                                 The default ``weight_decay`` stays torch's 1e-2
                                 (optax's is 1e-4)
    ==========  ===============  ===================================================

    Any of lr, eps, weight_decay and each of the two betas may be an ``(R,)`` array. Example::

        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> opt.step([np.array([5.0])]); w    # w (1 - 0.1 * 0.5) - lr * sign(g)
        array([0.85])
    """

    weight_decay = Hyperparameter(1e-2)  # torch's AdamW default (Adam's is 0)
    weight_decay_mode = None  # the rule's own: before the moments (torch), or in d (optax)
    eps_root = 0.0
    conventions: ClassVar[dict[str, dict]] = {
        "torch": {"correct_moments": False},
        "optax": {"correct_moments": True},
    }

    def static_coefficients(self, h):
        wd = h.weight_decay
        off = not isinstance(wd, np.ndarray) and wd == 0  # nothing at all, as the base
        return {
            **super().static_coefficients(h),
            "decay_factor": None if off or h.correct_moments else 1.0 - h.lr * wd,
            "decay_in_direction": not off and bool(h.correct_moments),
        }

    def update(self, w, g, s, h):
        if not h.correct_moments:
            if h.decay_factor is not None:
                np.multiply(w, h.decay_factor, out=w)  # torch: param.mul_(1 - lr * wd)
            super().update(w, g, s, h)
            return
        m, v = s.exp_avg, s.exp_avg_sq
        P.ema(m, g, h.beta1, h.one_minus_beta1, s.u)
        P.ema_of_squares(v, g, h.beta2, h.one_minus_beta2, s.u, square_first=True)
        m_hat = np.divide(m, h.bc1, out=s.u)
        v_hat = np.divide(v, h.bc2, out=s.d)
        if h.amsgrad:
            v_hat = np.maximum(s.max_exp_avg_sq, v_hat, out=s.max_exp_avg_sq)
        d = np.sqrt(v_hat, out=s.d)
        np.add(d, h.eps, out=d)
        np.divide(m_hat, d, out=d)
        if h.decay_in_direction:  # optax's add_decayed_weights: d + wd * w
            np.multiply(w, h.weight_decay, out=s.u)
            np.add(d, s.u, out=d)
        P.apply(w, d, h.neg_lr, d)
