"""What NAdam and RAdam share: torch's choice of weight decay, and per-run scalar formulas.

Both take ``weight_decay`` and ``decoupled_weight_decay`` (torch's names), so the rule applies
the decay itself (``weight_decay_mode = None``): :func:`decay_coefficients` once, then
:func:`decay` on each block. Their per-step coefficients are scalar formulas with powers
(``0.96 ** (t psi)``, ``b2 ** t``, ``x ** 0.5``); :func:`per_run` evaluates such a formula in
Python floats for each distinct row of ``(R,)`` hyperparameters, so that every run of a sweep
gets the bits of a separate run (NumPy's vectorized ``**`` differs in the last bit).
"""

from __future__ import annotations

import numpy as np

from . import _primitives as P


def moment_coefficients(h) -> dict:
    """The static coefficients of NAdam and RAdam: the betas, ``1 - beta``, ``-lr``, torch's
    lerp branch of ``1 - beta1``, and the weight decay's (:func:`decay_coefficients`)."""
    from . import _primitives as P

    beta1, beta2 = h.betas
    return {
        "beta1": beta1,
        "beta2": beta2,
        "neg_lr": -h.lr,
        "one_minus_beta1": 1.0 - beta1,
        "one_minus_beta2": 1.0 - beta2,
        "lerp": P.lerp_branches(1.0 - beta1),
        **decay_coefficients(h),
    }


def decay_coefficients(h) -> dict:
    """``{"decay": None | "l2" | "decoupled", "decay_value": wd | 1 - lr wd}`` (none for a
    scalar weight_decay of 0, as the base)."""
    wd = h.weight_decay
    if not isinstance(wd, np.ndarray) and wd == 0:
        return {"decay": None, "decay_value": None}
    if h.decoupled_weight_decay:
        return {"decay": "decoupled", "decay_value": 1.0 - h.lr * wd}
    return {"decay": "l2", "decay_value": wd}


def decay(w, g, h, out):
    """Weight decay of one block: ``w <- w (1 - lr wd)`` (decoupled, returns g) or
    ``g + wd w`` into ``out`` (L2, returns out), or nothing (returns g)."""
    if h.decay == "decoupled":
        np.multiply(w, h.decay_value, out=w)
    elif h.decay == "l2":
        return P.decayed_grad(g, w, h.decay_value, out)
    return g


def per_run(formula, *values) -> dict:
    """``formula(*floats) -> {name: float or bool}`` applied to scalars (Python floats), or
    to each distinct row of the broadcast ``(R,)`` arrays: ``{name: (R,) array}``."""
    if not any(isinstance(v, np.ndarray) for v in values):
        return formula(*values)
    rows = np.stack(np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values)), 1)
    distinct, inverse = np.unique(rows, axis=0, return_inverse=True)
    results = [formula(*map(float, row)) for row in distinct]
    inverse = inverse.reshape(-1)
    return {k: np.array([r[k] for r in results])[inverse] for k in results[0]}


def xla_pow(x: float, n: int) -> float:
    """``x ** n`` for a step count ``n >= 1`` as optax computes ``decay ** count`` (a float to
    an int32 power: XLA's square-and-multiply, not the C library's ``pow``; the two differ in
    the last bit for some n, which ``rho_t``'s cancellation near 5 amplifies)."""
    acc = None
    while n:
        if n & 1:
            acc = x if acc is None else x * acc
        x *= x
        n >>= 1
    return acc
