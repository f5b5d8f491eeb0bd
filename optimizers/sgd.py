"""Stochastic gradient descent with optional (heavy-ball or Nesterov) momentum."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import _primitives as P
from . import _validation as check
from .base import Optimizer

_PRESETS = {
    "torch": {"ema": False, "buffer_init": "grad", "lr_in_buffer": False},
    "seed": {"ema": True, "buffer_init": "zeros", "lr_in_buffer": False},
    "seed_code": {"ema": False, "buffer_init": "zeros", "lr_in_buffer": True},
    "optax": {"ema": False, "buffer_init": "zeros", "lr_in_buffer": False},
}


class SGD(Optimizer):
    r"""SGD, with momentum, dampening, Nesterov and L2 weight decay as in ``torch.optim.SGD``.

    Update of step t (g = gradient, w = parameter, v = momentum buffer), torch convention::

        g <- g + wd * w                                   (if weight_decay)
        v <- g                        at t = 1            (buffer_init="grad")
        v <- mu * v + (1 - d) * g     at t > 1
        u <- g + mu * v  if nesterov  else  v             (u = g when momentum = 0)
        w <- w - lr * u

    Symbols: lr = ``lr``, mu = ``momentum``, d = ``dampening``, wd = ``weight_decay``.

    Finer options (None takes the value of ``convention``):

    - ``ema``: the buffer is an exponential moving average, ``v <- mu v + (1 - mu) g``
      (dampening d = mu); with Nesterov, ``u <- (1 - mu) g + mu v``.
    - ``buffer_init``: ``"grad"`` (torch: v starts at the first gradient) or ``"zeros"``.
    - ``lr_in_buffer``: the buffer holds the step itself (Sutskever et al., 2013):
      ``v <- mu v - lr g; w <- w + v``; with Nesterov, ``w <- w + mu v - lr g``.

    ==============  =====  ===========  ============  ======================================
    convention      ema    buffer_init  lr_in_buffer  source
    ==============  =====  ===========  ============  ======================================
    ``"torch"``     False  grad         False         ``torch.optim.SGD``
    ``"seed"``      True   zeros        False         the seed's formula ``v = b v + (1-b) g``
    ``"seed_code"`` False  zeros        True          the seed's MLP ``v = b v - lr g; w += v``
    ``"optax"``     False  zeros        False         ``optax.sgd``
    ==============  =====  ===========  ============  ======================================

    Nesterov's look-ahead forms evaluate the gradient at a point ahead of W; the optimizer
    stores that look-ahead point W' (gradients are taken at the stored parameter), so each form
    is one convention under a change of variable (tested in ``tests/test_optimizers_reference``):

    ===============  ==============================================  =================
    convention       look-ahead form                                 stored parameter
    ===============  ==============================================  =================
    ``"seed"``       ``v = mu v + (1-mu) grad L(W - lr mu v)``,      ``W' = W - lr mu v``
                     ``W -= lr v``
    ``"torch"``      ``v = mu v + grad L(W - lr mu v); W -= lr v``   ``W' = W - lr mu v``
    ``"seed_code"``  ``v = mu v - lr grad L(W + mu v); W += v``      ``W' = W + mu v``
    ===============  ==============================================  =================

    ``"optax"`` has torch's iterates whenever dampening = 0 (optax has no dampening).
    Any of lr, momentum, dampening, weight_decay may be an ``(R,)`` array (one value per run,
    along axis 0 of every parameter); ``nesterov`` and the finer options are one value per
    batch. Example::

        >>> import numpy as np
        >>> w = np.array([1.0, -2.0])
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> opt.step([2 * w]); opt.step([2 * w]); w
        array([ 0.46, -0.92])
    """

    CONVENTIONS = ("torch", "seed", "seed_code", "optax")
    PRESETS: ClassVar[dict[str, dict]] = _PRESETS
    N_SCRATCH = 3

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0.0,
        dampening=0.0,
        nesterov: bool = False,
        weight_decay=0.0,
        convention: str = "torch",
        ema: bool | None = None,
        buffer_init: str | None = None,
        lr_in_buffer: bool | None = None,
    ):
        opts = self._resolve(
            convention, ema=ema, buffer_init=buffer_init, lr_in_buffer=lr_in_buffer
        )
        check.flag("ema", opts["ema"])
        check.flag("lr_in_buffer", opts["lr_in_buffer"])
        check.choice("buffer_init", opts["buffer_init"], ("grad", "zeros"))
        opts["nesterov"] = check.flag("nesterov", nesterov)
        hp = {
            "lr": check.hyperparameter("lr", lr),
            "momentum": check.hyperparameter("momentum", momentum, 0.0, 1.0),
            "dampening": check.hyperparameter("dampening", dampening, 0.0, 1.0, hi_open=False),
            "weight_decay": check.hyperparameter("weight_decay", weight_decay),
        }
        damped = np.any(np.asarray(hp["dampening"]) != 0)
        if opts["nesterov"] and (np.any(np.asarray(hp["momentum"]) == 0) or damped):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening = 0, got "
                f"momentum={momentum!r}, dampening={dampening!r}"
            )
        if (opts["ema"] or opts["lr_in_buffer"]) and damped:
            raise ValueError(
                "dampening must be 0 when ema=True (which sets dampening = momentum) or "
                f"lr_in_buffer=True, got dampening={dampening!r}"
            )
        if opts["ema"] and opts["lr_in_buffer"]:
            raise ValueError("ema=True and lr_in_buffer=True are exclusive; choose one")
        super().__init__(params, hp, opts)

    def _has_buffer(self) -> bool:
        m = self.hparams["momentum"]
        return isinstance(m, np.ndarray) or m > 0

    def _state_init(self) -> dict:
        return {"v": 0.0} if self._has_buffer() else {}

    def _coefficients(self, t):
        if t is not None:
            return {"first": t == 1 and self.options["buffer_init"] == "grad"}
        hp = self.hparams
        damp = hp["momentum"] if self.options["ema"] else hp["dampening"]
        if isinstance(hp["momentum"], np.ndarray):  # a run without momentum is plain SGD
            damp = np.where(hp["momentum"] == 0, 0.0, damp)  # (torch ignores its dampening)
        scalar_zero = not isinstance(damp, np.ndarray) and damp == 0
        wd = hp["weight_decay"]
        return {
            "lr": hp["lr"],
            "neg_lr": -hp["lr"],
            "mu": hp["momentum"],
            "c": None if scalar_zero else 1.0 - damp,
            "wd": None if not isinstance(wd, np.ndarray) and wd == 0 else wd,
        }

    def _update(self, w, g, st, s, c):
        if c["wd"] is not None:
            g = P.decayed_grad(g, w, c["wd"], s[0])
        if "v" not in st:
            P.apply(w, g, c["neg_lr"], s[1])
            return
        v, mu, nesterov = st["v"], c["mu"], self.options["nesterov"]
        if self.options["lr_in_buffer"]:
            np.multiply(g, c["lr"], out=s[1])  # lr g
            np.multiply(v, mu, out=v)
            np.subtract(v, s[1], out=v)  # v = mu v - lr g
            if nesterov:
                np.multiply(v, mu, out=s[2])
                np.subtract(s[2], s[1], out=s[2])  # mu v - lr g
                np.add(w, s[2], out=w)
            else:
                np.add(w, v, out=w)
            return
        if c["first"]:
            np.copyto(v, g)
        else:
            P.trace(v, g, mu, c["c"], s[1])
        u = v
        if nesterov:
            u = np.multiply(v, mu, out=s[1])
            if c["c"] is not None:  # (1 - mu) g + mu v, the look-ahead form of the EMA
                np.add(np.multiply(g, c["c"], out=s[2]), u, out=u)
            else:
                np.add(g, u, out=u)
        P.apply(w, u, c["neg_lr"], s[2])


class _MomentumPreset(SGD):
    """SGD with ``momentum=0.9`` by default and ``nesterov`` fixed by the subclass."""

    NESTEROV: ClassVar[bool] = False

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0.9,
        dampening=0.0,
        weight_decay=0.0,
        convention: str = "torch",
        ema: bool | None = None,
        buffer_init: str | None = None,
        lr_in_buffer: bool | None = None,
    ):
        super().__init__(
            params,
            lr,
            momentum,
            dampening,
            self.NESTEROV,
            weight_decay,
            convention,
            ema,
            buffer_init,
            lr_in_buffer,
        )


class Momentum(_MomentumPreset):
    """SGD with heavy-ball momentum (``momentum=0.9`` by default): ``SGD(nesterov=False)``.

    Update of step t (g = gradient after weight decay, w = parameter, v = buffer)::

        torch      v <- mu v + (1 - d) g   (v = g at t = 1)     w <- w - lr v
        seed       v <- mu v + (1 - mu) g  (v = 0 before t = 1)  w <- w - lr v
        seed_code  v <- mu v - lr g        (v = 0 before t = 1)  w <- w + v
        optax      v <- mu v + g           (v = 0 before t = 1)  w <- w - lr v

    Symbols: lr = ``lr``, mu = ``momentum``, d = ``dampening``; the row is chosen by
    ``convention`` (finer options ``ema``, ``buffer_init``, ``lr_in_buffer``: see
    :class:`SGD`, which also documents weight decay and the ``(R,)`` hyperparameters).

    Example, the seed's MLP update ``v = 0.9 v - 0.1 dW; W += v``::

        >>> import numpy as np
        >>> W = np.ones(3)
        >>> opt = Momentum([W], lr=0.1, momentum=0.9, convention="seed_code")
        >>> opt.step([np.ones(3)]); W
        array([0.9, 0.9, 0.9])
    """

    NESTEROV = False


class Nesterov(_MomentumPreset):
    """SGD with Nesterov momentum (``momentum=0.9`` by default): ``SGD(nesterov=True)``.

    Update of step t (g = gradient after weight decay at the stored parameter w, v = buffer)::

        torch      v <- mu v + (1 - d) g   (v = g at t = 1)     w <- w - lr (g + mu v)
        seed       v <- mu v + (1 - mu) g  (v = 0 before t = 1)  w <- w - lr ((1 - mu) g + mu v)
        seed_code  v <- mu v - lr g        (v = 0 before t = 1)  w <- w + mu v - lr g
        optax      v <- mu v + g           (v = 0 before t = 1)  w <- w - lr (g + mu v)

    Symbols: lr = ``lr``, mu = ``momentum``, d = ``dampening``; the row is chosen by
    ``convention`` (finer options: see :class:`SGD`). Each row is a look-ahead form, which
    evaluates the gradient ahead of W, written on the look-ahead point w: the seed's
    ``v <- mu v + (1 - mu) grad L(W - lr mu v); W <- W - lr v`` is the ``seed`` row on
    ``w = W - lr mu v`` (the table in :class:`SGD` gives each change of variable). Example::

        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = Nesterov([w], lr=0.1, momentum=0.5)
        >>> opt.step([w.copy()]); w      # 1 - 0.1 * (1 + 0.5 * 1)
        array([0.85])
    """

    NESTEROV = True
