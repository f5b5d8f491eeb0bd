"""Lion written on optbench's public base: ``Lion([W, b], lr=1e-4).step([dW, db])``."""

import numpy as np

from optbench.optimizers import Hyperparameter, Optimizer


class Lion(Optimizer):
    """Lion (Chen et al., 2023) as ``optax.lion``; (b1, b2) = ``betas``, wd = ``weight_decay``.

    c = b1 m + (1 - b1) g;   w <- w - lr (sign(c) + wd w);   m <- b2 m + (1 - b2) g
    """

    lr = Hyperparameter(1e-4)
    betas = Hyperparameter((0.9, 0.99), hi=1)
    weight_decay = Hyperparameter(1e-3)
    weight_decay_mode = None  # not the base's: added to sign(c) below, in optax's order
    state = ("exp_avg",)
    scratch = ("c", "u")

    def static_coefficients(self, h):
        return {"c1": 1 - h.betas[0], "c2": 1 - h.betas[1], "neg_lr": -h.lr}

    def update(self, w, g, s, h):
        m, c, u = s.exp_avg, s.c, s.u
        np.add(np.multiply(m, h.betas[0], out=c), np.multiply(g, h.c1, out=u), out=c)
        np.sign(c, out=c)
        c += np.multiply(w, h.weight_decay, out=u)  # sign(c) + wd w
        w += np.multiply(c, h.neg_lr, out=c)
        m *= h.betas[1]
        m += np.multiply(g, h.c2, out=u)
