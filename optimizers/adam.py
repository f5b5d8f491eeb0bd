"""Adam: bias-corrected moving averages of the gradient and of its square."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from . import _primitives as P
from .base import Optimizer
from .hyperparameter import Hyperparameter


class Adam(Optimizer):
    r"""Adam as in ``torch.optim.Adam`` (Kingma & Ba, 2015), with AMSGrad.

    Update of step t (g = gradient, w = parameter; m, v, v_max = state starting at 0)::

        g  <- g + wd * w                                     (if weight_decay)
        m  <- b1 * m + (1 - b1) * g
        v  <- b2 * v + (1 - b2) * g^2
        m_hat = m / (1 - b1^t),   v_hat = v / (1 - b2^t)
        w  <- w - lr * m_hat / (sqrt(v_hat + eps_root) + eps)

    With ``amsgrad``, v_max <- max(v_max, v) replaces v (torch), or
    v_max <- max(v_max, v_hat) replaces v_hat (``correct_moments=True``, as optax).

    Symbols: lr = ``lr``, (b1, b2) = ``betas``, eps = ``eps``, wd = ``weight_decay``,
    eps_root = ``eps_root``.

    ``maximize=True`` (torch's flag) ascends: g <- -g before anything else.

    The finer option ``correct_moments`` selects the arithmetic (equal in exact arithmetic):

    - False (torch): ``m <- lerp(m, g, 1 - b1)``;
      ``w <- w - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``
      (``eps_root`` must be 0);
    - True (the seed's table, optax's ``scale_by_adam``): ``m <- b1 m + (1 - b1) g``,
      ``v <- b2 v + (1 - b2) (g g)``, m_hat and v_hat are formed, then
      ``w <- w - lr * m_hat / (sqrt(v_hat + eps_root) + eps)``.

    ==========  ===============  ===========================================
    convention  correct_moments  source
    ==========  ===============  ===========================================
    ``torch``   False            ``torch.optim.Adam``
    ``seed``    True             the seed's Adam row
    ``optax``   True             ``optax.adam`` / ``optax.amsgrad`` (eps_root)
    ==========  ===============  ===========================================

    Any of lr, eps, weight_decay, eps_root, and each of the two betas, may be an ``(R,)``
    array. Example::

        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = Adam([w], lr=0.1)
        >>> opt.step([np.array([5.0])]); w     # the first step is lr * sign(g)
        array([0.9])
    """

    lr = Hyperparameter(1e-3)
    betas = Hyperparameter((0.9, 0.999), hi=1.0)
    eps = Hyperparameter(1e-8)
    weight_decay = Hyperparameter(0.0)
    amsgrad = Hyperparameter(False)
    correct_moments = Hyperparameter(None)
    eps_root = Hyperparameter(0.0)
    maximize = Hyperparameter(False)  # ascent: the base negates g first
    conventions: ClassVar[dict[str, dict]] = {
        "torch": {"correct_moments": False},
        "seed": {"correct_moments": True},
        "optax": {"correct_moments": True},
    }
    state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    scratch = ("u", "d")

    def validate(self, h):
        if not h.correct_moments and np.any(np.asarray(h.eps_root) != 0):
            raise ValueError(
                "eps_root must be 0 with correct_moments=False (torch's arithmetic); "
                "use convention='optax' for eps_root"
            )

    def initial_state(self, h):
        state = {"exp_avg": 0.0, "exp_avg_sq": 0.0}
        if h.amsgrad:
            state["max_exp_avg_sq"] = 0.0
        return state

    def static_coefficients(self, h):
        beta1, beta2 = h.betas
        er = h.eps_root
        return {
            "beta1": beta1,
            "beta2": beta2,
            "one_minus_beta1": 1.0 - beta1,
            "one_minus_beta2": 1.0 - beta2,
            "lerp": P.lerp_branches(1.0 - beta1),  # dtype -> torch's lerp formula
            "neg_lr": -h.lr,
            "add_eps_root": isinstance(er, np.ndarray) or er != 0,
        }

    def step_coefficients(self, t, h):
        bc1 = P.bias_correction(h.beta1, t)
        bc2 = P.bias_correction(h.beta2, t)
        if h.correct_moments:
            return {"bc1": bc1, "bc2": bc2}
        sqrt_bc2 = math.sqrt(bc2) if isinstance(bc2, float) else np.sqrt(bc2)
        if isinstance(sqrt_bc2, float) and sqrt_bc2 == 1.0:
            sqrt_bc2 = None  # x / 1 = x: the division is skipped, same bits
        return {"neg_step_size": self._neg_step_size(h, bc1), "sqrt_bc2": sqrt_bc2}

    def _neg_step_size(self, h, bc1):
        """``-(lr / bc1)``, computed as ``(-lr) / bc1`` (the same bits: IEEE division rounds
        symmetrically); per-run values go to a buffer reused every step (an ``(R,)`` temporary
        of 128 KiB or more is a fresh mmap, page faults included, each step)."""
        if not isinstance(h.lr, np.ndarray) and not isinstance(bc1, np.ndarray):
            return -(h.lr / bc1)
        if not isinstance(bc1, np.ndarray) and bc1 == 1.0:  # b1^t < 2^-53 (t > 349 for 0.9)
            return h.neg_lr  # (-lr) / 1 = -lr exactly (an (R,) array: lr is one)
        buf = self.__dict__.get("_step_size_buffer")
        if buf is None:
            buf = self._step_size_buffer = np.empty(self.R)
        return np.divide(h.neg_lr, bc1, out=buf)

    def update(self, w, g, s, h):
        if h.correct_moments:
            self._update_corrected(w, g, s, h)
            return
        m, v = s.exp_avg, s.exp_avg_sq
        P.lerp(m, g, h.one_minus_beta1, s.u, h.lerp[w.dtype])
        P.ema_of_squares(v, g, h.beta2, h.one_minus_beta2, s.u)
        if h.amsgrad:
            v = np.maximum(s.max_exp_avg_sq, v, out=s.max_exp_avg_sq)
        d = np.sqrt(v, out=s.u)
        if h.sqrt_bc2 is not None:
            np.divide(d, h.sqrt_bc2, out=d)
        np.add(d, h.eps, out=d)
        P.addcdiv(w, m, d, h.neg_step_size, s.d)

    @staticmethod
    def _update_corrected(w, g, s, h):
        m, v = s.exp_avg, s.exp_avg_sq
        P.ema(m, g, h.beta1, h.one_minus_beta1, s.u)
        P.ema_of_squares(v, g, h.beta2, h.one_minus_beta2, s.u, square_first=True)
        m_hat = np.divide(m, h.bc1, out=s.u)
        v_hat = np.divide(v, h.bc2, out=s.d)
        if h.amsgrad:
            v_hat = np.maximum(s.max_exp_avg_sq, v_hat, out=s.max_exp_avg_sq)
        if h.add_eps_root:
            v_hat = np.add(v_hat, h.eps_root, out=s.d)
        d = np.sqrt(v_hat, out=s.d)
        np.add(d, h.eps, out=d)
        np.divide(m_hat, d, out=d)
        P.apply(w, d, h.neg_lr, d)
