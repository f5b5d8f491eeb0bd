"""Adam: bias-corrected moving averages of the gradient and of its square."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from . import _primitives as P
from . import _validation as check
from .base import Optimizer


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

    CONVENTIONS = ("torch", "seed", "optax")
    PRESETS: ClassVar[dict[str, dict]] = {
        "torch": {"correct_moments": False},
        "seed": {"correct_moments": True},
        "optax": {"correct_moments": True},
    }
    N_SCRATCH = 3

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad: bool = False,
        convention: str = "torch",
        correct_moments: bool | None = None,
        eps_root=0.0,
    ):
        opts = self._resolve(convention, correct_moments=correct_moments)
        check.flag("correct_moments", opts["correct_moments"])
        opts["amsgrad"] = check.flag("amsgrad", amsgrad)
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        hp = {
            "lr": check.hyperparameter("lr", lr),
            "beta1": check.hyperparameter("betas[0]", betas[0], 0.0, 1.0),
            "beta2": check.hyperparameter("betas[1]", betas[1], 0.0, 1.0),
            "eps": check.hyperparameter("eps", eps),
            "weight_decay": check.hyperparameter("weight_decay", weight_decay),
            "eps_root": check.hyperparameter("eps_root", eps_root),
        }
        if not opts["correct_moments"] and np.any(np.asarray(hp["eps_root"]) != 0):
            raise ValueError(
                "eps_root must be 0 with correct_moments=False (torch's arithmetic); "
                "use convention='optax' for eps_root"
            )
        super().__init__(params, hp, opts)

    def _state_init(self) -> dict:
        state = {"exp_avg": 0.0, "exp_avg_sq": 0.0}
        if self.options["amsgrad"]:
            state["max_exp_avg_sq"] = 0.0
        return state

    def _derive(self, c):
        return {"lerp": P.lerp_branch(c["one_minus_beta1"])}

    def _coefficients(self, t):
        hp = self.hparams
        if t is None:
            wd, er = hp["weight_decay"], hp["eps_root"]
            return {
                "beta1": hp["beta1"],
                "beta2": hp["beta2"],
                "one_minus_beta1": 1.0 - hp["beta1"],
                "one_minus_beta2": 1.0 - hp["beta2"],
                "eps": hp["eps"],
                "neg_lr": -hp["lr"],
                "wd": None if not isinstance(wd, np.ndarray) and wd == 0 else wd,
                "eps_root": None if not isinstance(er, np.ndarray) and er == 0 else er,
            }
        bc1 = 1.0 - P.power(hp["beta1"], t)
        bc2 = 1.0 - P.power(hp["beta2"], t)
        if self.options["correct_moments"]:
            return {"bc1": bc1, "bc2": bc2}
        sqrt_bc2 = math.sqrt(bc2) if isinstance(bc2, float) else np.sqrt(bc2)
        if isinstance(sqrt_bc2, float) and sqrt_bc2 == 1.0:
            sqrt_bc2 = None  # x / 1 = x: the division is skipped, same bits
        return {"neg_step_size": self._neg_step_size(hp["lr"], bc1), "sqrt_bc2": sqrt_bc2}

    def _neg_step_size(self, lr, bc1):
        """``-(lr / bc1)``, computed as ``(-lr) / bc1`` (the same bits: IEEE division rounds
        symmetrically); per-run values go to a buffer reused every step (an ``(R,)`` temporary
        of 128 KiB or more is a fresh mmap, page faults included, each step)."""
        if not isinstance(lr, np.ndarray) and not isinstance(bc1, np.ndarray):
            return -(lr / bc1)
        buf = self.__dict__.get("_step_size_buffer")
        if buf is None:
            self._neg_lr = np.negative(lr)
            buf = self._step_size_buffer = np.empty(self.R)
        if not isinstance(bc1, np.ndarray) and bc1 == 1.0:  # b1^t < 2^-53 (t > 349 for 0.9)
            return self._neg_lr  # (-lr) / 1 = -lr exactly
        return np.divide(self._neg_lr, bc1, out=buf)

    def _update(self, w, g, st, s, c):
        if c["wd"] is not None:
            g = P.decayed_grad(g, w, c["wd"], s[0])
        m, v = st["exp_avg"], st["exp_avg_sq"]
        if self.options["correct_moments"]:
            self._update_corrected(w, g, m, v, st, s, c)
            return
        P.lerp(m, g, c["one_minus_beta1"], s[1], c["lerp"])
        P.ema_of_squares(v, g, c["beta2"], c["one_minus_beta2"], s[1])
        if self.options["amsgrad"]:
            v = np.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
        d = np.sqrt(v, out=s[1])
        if c["sqrt_bc2"] is not None:
            np.divide(d, c["sqrt_bc2"], out=d)
        np.add(d, c["eps"], out=d)
        P.addcdiv(w, m, d, c["neg_step_size"], s[2])

    def _update_corrected(self, w, g, m, v, st, s, c):
        P.ema(m, g, c["beta1"], c["one_minus_beta1"], s[1])
        P.ema_of_squares(v, g, c["beta2"], c["one_minus_beta2"], s[1], square_first=True)
        m_hat = np.divide(m, c["bc1"], out=s[1])
        v_hat = np.divide(v, c["bc2"], out=s[2])
        if self.options["amsgrad"]:
            v_hat = np.maximum(st["max_exp_avg_sq"], v_hat, out=st["max_exp_avg_sq"])
        if c["eps_root"] is not None:
            v_hat = np.add(v_hat, c["eps_root"], out=s[2])
        d = np.sqrt(v_hat, out=s[2])
        np.add(d, c["eps"], out=d)
        np.divide(m_hat, d, out=d)
        P.apply(w, d, c["neg_lr"], d)
