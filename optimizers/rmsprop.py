"""RMSProp: steps scaled by the root of a moving average of squared gradients."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import _primitives as P
from . import _validation as check
from .base import Optimizer


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

    CONVENTIONS = ("torch", "seed", "optax")
    PRESETS: ClassVar[dict[str, dict]] = {
        "torch": {"eps_inside_sqrt": False, "bias_correction": False},
        "seed": {"eps_inside_sqrt": True, "bias_correction": False},
        "optax": {"eps_inside_sqrt": True, "bias_correction": False},
    }
    N_SCRATCH = 3

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        centered: bool = False,
        convention: str = "torch",
        eps_inside_sqrt: bool | None = None,
        bias_correction: bool | None = None,
    ):
        opts = self._resolve(
            convention, eps_inside_sqrt=eps_inside_sqrt, bias_correction=bias_correction
        )
        check.flag("eps_inside_sqrt", opts["eps_inside_sqrt"])
        check.flag("bias_correction", opts["bias_correction"])
        opts["centered"] = check.flag("centered", centered)
        hp = {
            "lr": check.hyperparameter("lr", lr),
            "alpha": check.hyperparameter("alpha", alpha, 0.0, 1.0),
            "eps": check.hyperparameter("eps", eps),
            "weight_decay": check.hyperparameter("weight_decay", weight_decay),
            "momentum": check.hyperparameter("momentum", momentum, 0.0, 1.0),
        }
        super().__init__(params, hp, opts)

    def _state_init(self) -> dict:
        state = {"square_avg": 0.0}
        if self.options["centered"]:
            state["grad_avg"] = 0.0
        m = self.hparams["momentum"]
        if isinstance(m, np.ndarray) or m > 0:
            state["momentum_buffer"] = 0.0
        return state

    def _derive(self, c):
        return {"lerp": P.lerp_branch(c["one_minus_alpha"])}

    def _coefficients(self, t):
        hp = self.hparams
        if t is not None:
            if not self.options["bias_correction"]:
                return {}
            return {"bc": 1.0 - P.power(hp["alpha"], t)}
        wd = hp["weight_decay"]
        return {
            "alpha": hp["alpha"],
            "one_minus_alpha": 1.0 - hp["alpha"],
            "eps": hp["eps"],
            "mu": hp["momentum"],
            "neg_lr": -hp["lr"],
            "wd": None if not isinstance(wd, np.ndarray) and wd == 0 else wd,
        }

    def _update(self, w, g, st, s, c):
        if c["wd"] is not None:
            g = P.decayed_grad(g, w, c["wd"], s[0])
        nu = st["square_avg"]
        torch_order = self.options["convention"] == "torch"
        P.ema_of_squares(nu, g, c["alpha"], c["one_minus_alpha"], s[1], not torch_order)
        corrected = self.options["bias_correction"]
        if corrected:
            nu = np.divide(nu, c["bc"], out=s[1])
        if self.options["centered"]:
            P.lerp(st["grad_avg"], g, c["one_minus_alpha"], s[2], c["lerp"])
            mean = st["grad_avg"]
            if corrected:
                mean = np.divide(mean, c["bc"], out=s[2])
            sq = np.multiply(mean, mean, out=s[2])
            nu = np.subtract(nu, sq, out=s[1])
        d = P.root(nu, c["eps"], self.options["eps_inside_sqrt"], out=s[1])
        # w + (g / d) * (-lr), not torch's addcdiv order (-lr g) / d: a run with momentum 0
        # in an (R,) sweep whose other runs have momentum takes the buffer path,
        # buf = 0 buf + g / d, and must give the bits of the same run alone.
        u = np.divide(g, d, out=s[1])
        if "momentum_buffer" in st:
            P.trace(st["momentum_buffer"], u, c["mu"], None, s[2])
            u = st["momentum_buffer"]
        P.apply(w, u, c["neg_lr"], s[2])
