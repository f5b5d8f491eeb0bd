"""Stochastic gradient descent with optional (heavy-ball or Nesterov) momentum."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import _primitives as P
from .base import Optimizer
from .hyperparameter import Hyperparameter

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

    ``maximize=True`` (torch's flag) ascends: g <- -g before anything else.

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

    lr = Hyperparameter(1e-3)
    momentum = Hyperparameter(0.0, hi=1.0)
    dampening = Hyperparameter(0.0, hi=1.0, hi_open=False)
    nesterov = Hyperparameter(False)
    weight_decay = Hyperparameter(0.0)
    ema = Hyperparameter(None)
    buffer_init = Hyperparameter(None, choices=("grad", "zeros"))
    lr_in_buffer = Hyperparameter(None)
    maximize = Hyperparameter(False)  # ascent: the base negates g first
    conventions: ClassVar[dict[str, dict]] = _PRESETS
    state = ("v",)
    scratch = ("u", "tmp")

    def validate(self, h):
        damped = np.any(np.asarray(h.dampening) != 0)
        if h.nesterov and (np.any(np.asarray(h.momentum) == 0) or damped):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening = 0, got "
                f"momentum={h.momentum!r}, dampening={h.dampening!r}"
            )
        if (h.ema or h.lr_in_buffer) and damped:
            raise ValueError(
                "dampening must be 0 when ema=True (which sets dampening = momentum) or "
                f"lr_in_buffer=True, got dampening={h.dampening!r}"
            )
        if h.ema and h.lr_in_buffer:
            raise ValueError("ema=True and lr_in_buffer=True are exclusive; choose one")

    @staticmethod
    def _buffered(h) -> bool:
        return isinstance(h.momentum, np.ndarray) or h.momentum > 0

    def initial_state(self, h):
        return {"v": 0.0} if self._buffered(h) else {}

    def static_coefficients(self, h):
        damp = h.momentum if h.ema else h.dampening
        if isinstance(h.momentum, np.ndarray):  # a run without momentum is plain SGD
            damp = np.where(h.momentum == 0, 0.0, damp)  # (torch ignores its dampening)
        return {
            "neg_lr": -h.lr,
            "c": 1.0 - damp,
            "damped": isinstance(damp, np.ndarray) or damp != 0,  # else c = 1: not multiplied
            "buffered": self._buffered(h),
        }

    def step_coefficients(self, t, h):
        return {"first": t == 1 and h.buffer_init == "grad"}

    def update(self, w, g, s, h):
        if not h.buffered:
            P.apply(w, g, h.neg_lr, s.u)
            return
        v, mu, c = s.v, h.momentum, h.c if h.damped else None
        if h.lr_in_buffer:
            np.multiply(g, h.lr, out=s.u)  # lr g
            np.multiply(v, mu, out=v)
            np.subtract(v, s.u, out=v)  # v = mu v - lr g
            if h.nesterov:
                np.multiply(v, mu, out=s.tmp)
                np.subtract(s.tmp, s.u, out=s.tmp)  # mu v - lr g
                np.add(w, s.tmp, out=w)
            else:
                np.add(w, v, out=w)
            return
        if h.first:
            np.copyto(v, g)
        else:
            P.trace(v, g, mu, c, s.u)
        u = v
        if h.nesterov:
            u = np.multiply(v, mu, out=s.u)
            if c is not None:  # (1 - mu) g + mu v, the look-ahead form of the EMA
                np.add(np.multiply(g, c, out=s.tmp), u, out=u)
            else:
                np.add(g, u, out=u)
        P.apply(w, u, h.neg_lr, s.tmp)


class Momentum(SGD):
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

    momentum = Hyperparameter(0.9, hi=1.0)
    nesterov = False


class Nesterov(SGD):
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

    momentum = Hyperparameter(0.9, hi=1.0)
    nesterov = True
