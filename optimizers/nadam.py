"""NAdam: Adam with Nesterov momentum and a momentum schedule (Dozat, 2016)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import _adam_family as F
from . import _primitives as P
from .base import Optimizer
from .hyperparameter import Hyperparameter


class NAdam(Optimizer):
    r"""NAdam as in ``torch.optim.NAdam``, in its order of operations.

    Update of step t = 1, 2, ... (g = gradient, w = parameter; m, v start at 0, P_0 = 1)::

        g   <- g + wd * w               (if weight_decay and not decoupled_weight_decay)
        w   <- w * (1 - lr * wd)        (if weight_decay and decoupled_weight_decay)
        mu_t = b1 * (1 - 0.5 * 0.96^(t * psi)),   P_t = P_{t-1} * mu_t
        m   <- lerp(m, g, 1 - b1);    v <- b2 * v + ((1 - b2) * g) * g
        d   = sqrt(v / (1 - b2^t)) + eps
        w   <- w - (lr (1 - mu_t) / (1 - P_t)) * g / d
        w   <- w - (lr mu_{t+1} / (1 - P_t mu_{t+1})) * m / d

    Symbols: lr = ``lr``, (b1, b2) = ``betas``, eps = ``eps``, wd = ``weight_decay``,
    psi = ``momentum_decay``; ``maximize=True`` ascends (g <- -g before anything else).

    torch keeps P_t (``mu_product``) as state; here it is a function of t (the running product
    of mu_1 .. mu_t in torch's order, the same bits), so it survives ``load_state_dict``. torch
    holds it in its default dtype: the iterates are torch's with ``torch.set_default_dtype(
    torch.float64)``, and within float32 round-off of P_t with torch's float32 default.

    The finer option ``correct_moments`` selects the rule:

    - False (torch): the above;
    - True (optax's ``scale_by_adam(nesterov=True)``, a constant b1: ``momentum_decay`` is not
      used): ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) (g g)``,
      ``m_hat = b1 * (m / (1 - b1^(t+1))) + (1 - b1) * (g / (1 - b1^t))``,
      ``d = m_hat / (sqrt(v / (1 - b2^t)) + eps)``, then ``w <- w + (-lr) * d``; with
      ``decoupled_weight_decay``, ``w <- w + (-lr) * (d + wd * w)`` instead (``optax.nadamw``).

    ==========  ===============  ====================================================
    convention  correct_moments  source
    ==========  ===============  ====================================================
    ``torch``   False            ``torch.optim.NAdam``
    ``optax``   True             ``optax.nadam`` (``eps_root=0``, ``mu_dtype=None``:
                                 its defaults); an L2 ``weight_decay`` is optax's
                                 ``add_decayed_weights`` chained before it, a
                                 decoupled one ``optax.nadamw``
    ==========  ===============  ====================================================

    Any of lr, eps, weight_decay, momentum_decay and each of the two betas may be an ``(R,)``
    array. Example::

        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = NAdam([w], lr=0.1)
        >>> opt.step([np.array([5.0])]); round(float(w[0]), 8)   # step 1: d = |g| + eps
        0.89435482
        >>> mu1, mu2 = 0.9 * (1 - 0.5 * 0.96**0.004), 0.9 * (1 - 0.5 * 0.96**0.008)
        >>> round(1 - 0.1 * (1 - mu1) / (1 - mu1) - 0.1 * mu2 * 0.1 / (1 - mu1 * mu2), 8)
        0.89435482
    """

    lr = Hyperparameter(2e-3)
    betas = Hyperparameter((0.9, 0.999), hi=1.0)
    eps = Hyperparameter(1e-8)
    weight_decay = Hyperparameter(0.0)
    momentum_decay = Hyperparameter(4e-3)
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
        if h.correct_moments:  # optax's decay ** count: XLA's integer power
            return F.per_run(
                lambda b1, b2: {
                    "bc1": 1.0 - F.xla_pow(b1, t),
                    "bc1_next": 1.0 - F.xla_pow(b1, t + 1),
                    "bc2": 1.0 - F.xla_pow(b2, t),
                },
                beta1,
                beta2,
            )
        return F.per_run(self._coefficients(t), h.lr, beta1, beta2, h.momentum_decay)

    def _coefficients(self, t):
        products = self.__dict__.setdefault("_mu_products", {})

        def mu(beta1, psi, step):
            return beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))

        def formula(lr, beta1, beta2, psi):
            mu_t, mu_next = mu(beta1, psi, float(t)), mu(beta1, psi, float(t + 1))
            step, product = products.get((beta1, psi), (0, 1.0))
            if step != t:
                if step != t - 1:  # the first step, or a loaded state: from P_0 = 1
                    product = 1.0
                    for k in range(1, t):
                        product *= mu(beta1, psi, float(k))
                product *= mu_t
                products[(beta1, psi)] = (t, product)
            return {
                "bc2": 1.0 - beta2 ** float(t),
                "grad_scale": -lr * (1.0 - mu_t) / (1.0 - product),
                "avg_scale": (-lr * mu_next) / (1.0 - product * mu_next),
            }

        return formula

    def update(self, w, g, s, h):
        if h.correct_moments:
            self._update_optax(w, g, s, h)
            return
        g = F.decay(w, g, h, s.decayed)
        P.lerp(s.exp_avg, g, h.one_minus_beta1, s.u, h.lerp[w.dtype])
        P.ema_of_squares(s.exp_avg_sq, g, h.beta2, h.one_minus_beta2, s.u)
        d = np.divide(s.exp_avg_sq, h.bc2, out=s.d)
        np.sqrt(d, out=d)
        np.add(d, h.eps, out=d)
        P.addcdiv(w, g, d, h.grad_scale, s.u)
        P.addcdiv(w, s.exp_avg, d, h.avg_scale, s.u)

    @staticmethod
    def _update_optax(w, g, s, h):
        if h.decay == "l2":
            g = P.decayed_grad(g, w, h.decay_value, s.decayed)
        m, v = s.exp_avg, s.exp_avg_sq
        P.ema(m, g, h.beta1, h.one_minus_beta1, s.u)
        P.ema_of_squares(v, g, h.beta2, h.one_minus_beta2, s.u, square_first=True)
        m_hat = np.divide(m, h.bc1_next, out=s.u)
        np.multiply(m_hat, h.beta1, out=m_hat)
        g_hat = np.divide(g, h.bc1, out=s.d)
        np.multiply(g_hat, h.one_minus_beta1, out=g_hat)
        np.add(m_hat, g_hat, out=m_hat)
        d = np.divide(v, h.bc2, out=s.d)
        np.sqrt(d, out=d)
        np.add(d, h.eps, out=d)
        np.divide(m_hat, d, out=d)
        if h.decay == "decoupled":  # optax.nadamw's add_decayed_weights: d + wd * w
            np.multiply(w, h.weight_decay, out=s.u)
            np.add(d, s.u, out=d)
        P.apply(w, d, h.neg_lr, d)
