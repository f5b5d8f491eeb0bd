"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""

from __future__ import annotations

from typing import ClassVar

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
    ``maximize=True`` ascends (g <- -g before anything else).

    The rule is :class:`Adam`'s torch arithmetic; only the decay differs (``w`` is scaled
    before the moments are updated, instead of ``wd * w`` joining ``g``). No other convention:
    ``optax.adamw`` adds ``wd * w`` to the Adam direction before scaling by lr, a different
    rounding, not offered here. Any of lr, eps, weight_decay and each of the two betas may be
    an ``(R,)`` array. Example::

        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> opt.step([np.array([5.0])]); w    # w (1 - 0.1 * 0.5) - lr * sign(g)
        array([0.85])
    """

    weight_decay = Hyperparameter(1e-2)  # torch's AdamW default (Adam's is 0)
    weight_decay_mode = "decoupled"  # the base scales w by 1 - lr wd before update
    correct_moments = False  # Adam's torch arithmetic, fixed
    eps_root = 0.0
    conventions: ClassVar[dict[str, dict]] = {}
