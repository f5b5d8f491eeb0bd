"""AdamW written on optbench's public base: ``AdamW([W, b], lr=1e-3).step([dW, db])``."""

import numpy as np

from optbench.optimizers import Hyperparameter, Optimizer, bias_correction


class AdamW(Optimizer):
    """AdamW as ``torch.optim.AdamW``, in its order; (b1, b2) = ``betas``, wd = ``weight_decay``.

    w <- w (1 - lr wd);  m <- m + (1 - b1) (g - m)  [b1 > 0.5];  v <- b2 v + ((1 - b2) g) g
    w <- w - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)   at step t = 1, 2, ...
    """

    lr = Hyperparameter(1e-3)
    betas = Hyperparameter((0.9, 0.999), hi=1)
    eps = Hyperparameter(1e-8)
    weight_decay = Hyperparameter(1e-2)
    weight_decay_mode = "decoupled"  # the base scales w by 1 - lr wd before update
    state, scratch = ("exp_avg", "exp_avg_sq"), ("d", "u")

    def step_coefficients(self, t, h):
        b1, b2 = h.betas
        bc1, bc2 = bias_correction(b1, t), bias_correction(b2, t)
        return {"c1": 1 - b1, "c2": 1 - b2, "neg_step": -h.lr / bc1, "sqrt_bc2": np.sqrt(bc2)}

    def update(self, w, g, s, h):
        s.exp_avg += np.multiply(np.subtract(g, s.exp_avg, out=s.u), h.c1, out=s.u)  # torch's lerp
        s.exp_avg_sq *= h.betas[1]
        s.exp_avg_sq += np.multiply(np.multiply(g, h.c2, out=s.u), g, out=s.u)
        np.add(np.divide(np.sqrt(s.exp_avg_sq, out=s.d), h.sqrt_bc2, out=s.d), h.eps, out=s.d)
        w += np.divide(np.multiply(s.exp_avg, h.neg_step, out=s.u), s.d, out=s.u)  # torch's addcdiv
