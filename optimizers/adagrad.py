"""AdaGrad: per-coordinate steps scaled by the root of the summed squared gradients."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import _primitives as P
from . import _validation as check
from .base import Optimizer


class AdaGrad(Optimizer):
    r"""AdaGrad as in ``torch.optim.Adagrad`` (Duchi et al., 2011).

    Update of step t (g = gradient, w = parameter, G = accumulator, G_0 = iav)::

        g   <- g + wd * w                          (if weight_decay)
        G   <- G + g * g
        clr  = lr / (1 + (t - 1) * lr_decay)
        w   <- w - clr * g / (sqrt(G) + eps)       (eps_inside_sqrt=False, torch)
        w   <- w - clr * g / sqrt(G + eps)         (eps_inside_sqrt=True, seed, optax)

    Symbols: lr = ``lr``, lr_decay = ``lr_decay``, wd = ``weight_decay``,
    iav = ``initial_accumulator_value``, eps = ``eps``.

    Conventions (``convention=...``; None-valued options take the convention's value):

    ==========  ===============  =========  =========================================
    convention  eps_inside_sqrt  iav        source
    ==========  ===============  =========  =========================================
    ``torch``   False            0          ``torch.optim.Adagrad``
    ``seed``    True             0          the seed's ``W - lr / sqrt(G + eps) * g``
    ``optax``   True             0.1        ``optax.adagrad`` (pass ``eps=1e-7`` for
                                            optax's default eps)
    ==========  ===============  =========  =========================================

    Any of lr, lr_decay, weight_decay, initial_accumulator_value, eps may be an ``(R,)``
    array. Example::

        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = AdaGrad([w], lr=0.5, eps=0.0)
        >>> opt.step([np.array([3.0])]); w     # 1 - 0.5 * 3 / sqrt(9)
        array([0.5])
    """

    CONVENTIONS = ("torch", "seed", "optax")
    PRESETS: ClassVar[dict[str, dict]] = {
        "torch": {"eps_inside_sqrt": False, "initial_accumulator_value": 0.0},
        "seed": {"eps_inside_sqrt": True, "initial_accumulator_value": 0.0},
        "optax": {"eps_inside_sqrt": True, "initial_accumulator_value": 0.1},
    }
    N_SCRATCH = 3

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=None,
        eps=1e-10,
        convention: str = "torch",
        eps_inside_sqrt: bool | None = None,
    ):
        opts = self._resolve(
            convention,
            eps_inside_sqrt=eps_inside_sqrt,
            initial_accumulator_value=initial_accumulator_value,
        )
        check.flag("eps_inside_sqrt", opts["eps_inside_sqrt"])
        hp = {
            "lr": check.hyperparameter("lr", lr),
            "lr_decay": check.hyperparameter("lr_decay", lr_decay),
            "weight_decay": check.hyperparameter("weight_decay", weight_decay),
            "initial_accumulator_value": check.hyperparameter(
                "initial_accumulator_value", opts.pop("initial_accumulator_value")
            ),
            "eps": check.hyperparameter("eps", eps),
        }
        super().__init__(params, hp, opts)

    def _state_init(self) -> dict:
        return {"sum": self.hparams["initial_accumulator_value"]}

    def _coefficients(self, t):
        hp = self.hparams
        if t is not None:
            return {"neg_clr": -(hp["lr"] / (1 + (t - 1) * hp["lr_decay"]))}
        wd = hp["weight_decay"]
        return {"eps": hp["eps"], "wd": None if not isinstance(wd, np.ndarray) and wd == 0 else wd}

    def _update(self, w, g, st, s, c):
        if c["wd"] is not None:
            g = P.decayed_grad(g, w, c["wd"], s[0])
        P.sum_of_squares(st["sum"], g, s[1])
        std = P.root(st["sum"], c["eps"], self.options["eps_inside_sqrt"], out=s[1])
        P.addcdiv(w, g, std, c["neg_clr"], s[2])
