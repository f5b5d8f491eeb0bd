"""Lion as a plain class, one run at a time: any ``Cls(params, **hparams)`` with ``step(grads)``.

optbench runs one instance per run (slower than ``lion.py``, which updates every run of a
batch at once; the README gives the factor). The arithmetic is ``lion.py``'s, so the two give
the same iterates bit for bit.
"""

import numpy as np


class LionPerRun:
    """Lion (Chen et al., 2023) as ``optax.lion``, for one run.

    c = b1 m + (1 - b1) g;   w <- w - lr (sign(c) + wd w);   m <- b2 m + (1 - b2) g
    """

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=1e-3):
        self.params, self.lr, self.betas, self.weight_decay = params, lr, betas, weight_decay
        self.exp_avg = [np.zeros_like(w) for w in params]

    def step(self, grads):
        b1, b2 = self.betas
        for w, g, m in zip(self.params, grads, self.exp_avg, strict=True):
            c = np.sign(m * b1 + g * (1 - b1))
            c += w * self.weight_decay
            w += c * -self.lr  # in place: the harness reads the arrays it passed in
            m *= b2
            m += g * (1 - b2)
