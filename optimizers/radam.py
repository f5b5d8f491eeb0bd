"""RAdam: Adam with the variance of its adaptive learning rate rectified (Liu et al., 2020)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from . import _adam_family as F
from . import _primitives as P
from .base import Optimizer
from .hyperparameter import Hyperparameter


class RAdam(Optimizer):
    r"""RAdam as in ``torch.optim.RAdam``, in its order of operations.

    Update of step t = 1, 2, ... (g = gradient, w = parameter; m, v start at 0)::

        g   <- g + wd * w               (if weight_decay and not decoupled_weight_decay)
        w   <- w * (1 - lr * wd)        (if weight_decay and decoupled_weight_decay)
        m   <- lerp(m, g, 1 - b1);    v <- b2 * v + ((1 - b2) * g) * g
        rho_inf = 2 / (1 - b2) - 1,   rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
        if rho_t > 5:
            r = sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t))
            w <- w - (m / (1 - b1^t)) * lr * (1 / (sqrt(v) + eps)) * sqrt(1 - b2^t) * r
        else:
            w <- w - (m / (1 - b1^t)) * lr          (SGD with momentum, no adaptive rate)

    Symbols: lr = ``lr``, (b1, b2) = ``betas``, eps = ``eps``, wd = ``weight_decay``;
    ``maximize=True`` ascends (g <- -g before anything else). With the default b2 = 0.999 the
    first 5 steps are not rectified.

    The finer option ``correct_moments`` selects the rule:

    - False (torch): the above;
    - True (optax's ``scale_by_radam``, its own threshold ``rho_t >= 5``, not ``> 5``):
      ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) (g g)``, ``m_hat = m / (1 - b1^t)``,
      ``d = (r * m_hat) / (sqrt(v / (1 - b2^t)) + eps)`` if ``rho_t >= 5`` else ``m_hat``
      (r as above, its square root ``sqrt``), then ``w <- w + (-lr) * d``; with
      ``decoupled_weight_decay``, ``w <- w + (-lr) * (d + wd * w)`` instead.

    ==========  ===============  ======================================================
    convention  correct_moments  source
    ==========  ===============  ======================================================
    ``torch``   False            ``torch.optim.RAdam``
    ``optax``   True             ``optax.radam`` (``threshold=5.0``, ``eps_root=0``,
                                 ``nesterov=False``: its defaults); an L2
                                 ``weight_decay`` is ``add_decayed_weights`` chained
                                 before it, a decoupled one the chain
                                 ``scale_by_radam``, ``add_decayed_weights``,
                                 ``scale_by_learning_rate`` (optax has no radamw)
    ==========  ===============  ======================================================

    Any of lr, eps, weight_decay and each of the two betas may be an ``(R,)`` array (runs
    rectified from different steps too). Example::

        >>> import numpy as np
        >>> w = np.array([1.0, -2.0])
        >>> opt = RAdam([w], lr=0.1)
        >>> opt.step([2 * w]); w                 # step 1: w - lr * g
        array([ 0.8, -1.6])
    """

    lr = Hyperparameter(1e-3)
    betas = Hyperparameter((0.9, 0.999), hi=1.0)
    eps = Hyperparameter(1e-8)
    weight_decay = Hyperparameter(0.0)
    decoupled_weight_decay = Hyperparameter(False)
    correct_moments = Hyperparameter(None)
    maximize = Hyperparameter(False)  # ascent: the base negates g first
    conventions: ClassVar[dict[str, dict]] = {
        "torch": {"correct_moments": False},
        "optax": {"correct_moments": True},
    }
    state = ("exp_avg", "exp_avg_sq")
    scratch = ("u", "d", "decayed")
    weight_decay_mode = None  # the rule's own: L2 or decoupled, per decoupled_weight_decay

    def static_coefficients(self, h):
        return F.moment_coefficients(h)

    def step_coefficients(self, t, h):
        beta1, beta2 = h.betas
        formula = _optax_formula(t) if h.correct_moments else _formula(float(t))
        c = F.per_run(formula, beta1, beta2)
        plain = c.pop("plain")  # runs not rectified: rect = sqrt_bc2 = 1 there
        if isinstance(plain, np.ndarray):
            plain = bool(plain[0]) if np.all(plain == plain[0]) else plain
        return {**c, "plain": plain}

    def update(self, w, g, s, h):
        if h.correct_moments:
            self._update_optax(w, g, s, h)
            return
        g = F.decay(w, g, h, s.decayed)
        P.lerp(s.exp_avg, g, h.one_minus_beta1, s.u, h.lerp[w.dtype])
        P.ema_of_squares(s.exp_avg_sq, g, h.beta2, h.one_minus_beta2, s.u)
        u = np.divide(s.exp_avg, h.bc1, out=s.u)
        np.multiply(u, h.lr, out=u)
        if h.plain is not True:
            d = np.sqrt(s.exp_avg_sq, out=s.d)
            np.add(d, h.eps, out=d)
            np.reciprocal(d, out=d)  # torch: scalar / tensor is reciprocal() * scalar
            np.multiply(d, h.sqrt_bc2, out=d)
            if h.plain is not False:  # runs on both sides of rho_t = 5
                np.copyto(d, 1.0, where=h.plain)
            np.multiply(u, d, out=u)
            np.multiply(u, h.rect, out=u)
        np.subtract(w, u, out=w)

    @staticmethod
    def _update_optax(w, g, s, h):
        if h.decay == "l2":
            g = P.decayed_grad(g, w, h.decay_value, s.decayed)
        m, v = s.exp_avg, s.exp_avg_sq
        P.ema(m, g, h.beta1, h.one_minus_beta1, s.u)
        P.ema_of_squares(v, g, h.beta2, h.one_minus_beta2, s.u, square_first=True)
        out = m_hat = np.divide(m, h.bc1, out=s.u)
        if h.plain is not True:
            d = np.divide(v, h.bc2, out=s.d)
            np.sqrt(d, out=d)
            np.add(d, h.eps, out=d)
            out = np.multiply(m_hat, h.rect, out=s.decayed)  # g is no longer needed
            np.divide(out, d, out=out)
            if h.plain is not False:  # runs on both sides of rho_t = 5: where(rho >= 5, ..)
                np.copyto(out, m_hat, where=h.plain)
        if h.decay == "decoupled":  # add_decayed_weights after scale_by_radam: d + wd * w
            np.multiply(w, h.weight_decay, out=s.d)
            np.add(out, s.d, out=out)
        P.apply(w, out, h.neg_lr, out)


def _formula(t: float):
    """Step t's coefficients of one run, in Python floats as torch computes them."""

    def formula(beta1, beta2):
        bc2 = 1.0 - beta2**t
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * t * (beta2**t) / bc2
        out = {"bc1": 1.0 - beta1**t, "sqrt_bc2": 1.0, "rect": 1.0, "plain": not rho_t > 5.0}
        if rho_t > 5.0:
            ratio = (rho_t - 4.0) * (rho_t - 2.0) * rho_inf
            out["rect"] = (ratio / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)) ** 0.5
            out["sqrt_bc2"] = bc2**0.5
        return out

    return formula


def _optax_formula(t: int):
    """Step t's coefficients of one run, in Python floats as optax's ``scale_by_radam``."""

    def formula(beta1, beta2):
        b2t = F.xla_pow(beta2, t)
        bc2 = 1.0 - b2t
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * float(t) * b2t / bc2
        out = {"bc1": 1.0 - F.xla_pow(beta1, t), "bc2": bc2, "rect": 1.0, "plain": not rho_t >= 5.0}
        if rho_t >= 5.0:
            ratio = (rho_t - 4.0) * (rho_t - 2.0) * rho_inf
            out["rect"] = math.sqrt(ratio / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
        return out

    return formula
