"""The shared building blocks of the six update rules, in place on one block of arrays.

Each primitive works on arrays of one block (a cache-sized piece of a parameter, see
``_blocks.py``) and on coefficients that are scalars of the parameter's dtype or ``(k, 1)``
arrays (one value per run of the block). Elementwise IEEE operations give the same bits
whatever the block boundaries, so chunked and whole-array updates are identical.

The operation order follows ``torch.optim``'s single-tensor code (the default on CPU), so
that the default convention reproduces torch's iterates to round-off. Not bit for bit: torch's
vectorized CPU kernels compute ``a + alpha * b`` (``add_`` with ``alpha``, ``addcmul_``) with a
fused multiply-add, which NumPy's ufuncs cannot express; after 300 steps about half of the
float64 elements still agree to the last bit, and the rest within a few ulps:

==================  =========================================  ==================================
primitive           update                                     torch source
==================  =========================================  ==================================
``decayed_grad``    ``g + wd * w``                             ``grad.add(param, alpha=wd)``
``trace``           ``v <- beta * v + c * g``                  ``buf.mul_(m).add_(g, alpha=1-d)``
``lerp``            ``a <- a + w * (x - a)``                   ``exp_avg.lerp_(grad, 1 - beta1)``
``ema_of_squares``  ``nu <- beta * nu + ((1 - beta) * g) * g``  ``mul_(beta).addcmul_(g, g, 1-b)``
``sum_of_squares``  ``G <- G + g * g``                         ``addcmul_(grad, grad, value=1)``
``root``            ``sqrt(nu) + eps`` or ``sqrt(nu + eps)``   ``sqrt().add_(eps)``
``apply``           ``w <- w + scale * u``                     ``param.add_(u, alpha=-lr)``
``addcdiv``         ``w <- w + (scale * u) / d``               ``param.addcdiv_(u, d, value=-lr)``
==================  =========================================  ==================================

``bias_correction(beta, t)`` (public, exported by ``optbench.optimizers``) is torch's
``1 - beta1 ** step``, per entry of an ``(R,)`` beta.
"""

from __future__ import annotations

import math

import numpy as np


def decayed_grad(g, w, wd, out):
    """``g + wd * w`` into ``out`` (L2 weight decay folded into the gradient); returns out."""
    np.multiply(w, wd, out=out)
    np.add(g, out, out=out)
    return out


def trace(v, g, beta, c, scratch):
    """Momentum trace ``v <- beta * v + c * g`` (``c = 1 - dampening``; ``c=None`` means 1)."""
    np.multiply(v, beta, out=v)
    if c is None:
        np.add(v, g, out=v)
    else:
        np.multiply(g, c, out=scratch)
        np.add(v, scratch, out=v)


def lerp_branch(w) -> str:
    """Which of torch's two lerp formulas the weights ``w`` use: "small" (all w < 0.5),
    "large" (all w >= 0.5) or "mixed" (runs on both sides; decided per run)."""
    small = np.asarray(w) < 0.5
    return "small" if np.all(small) else "large" if not np.any(small) else "mixed"


def lerp(a, x, w, scratch, branch: str):
    """``a <- a + w * (x - a)``, torch's ``lerp_`` (``x - (x - a) * (1 - w)`` when w >= 0.5).

    ``branch`` is ``lerp_branch(w)`` for the whole batch, computed once.
    """
    np.subtract(x, a, out=scratch)
    if branch == "small":
        np.multiply(scratch, w, out=scratch)
        np.add(a, scratch, out=a)
    elif branch == "large":
        np.multiply(scratch, 1 - w, out=scratch)
        np.subtract(x, scratch, out=a)
    elif np.ndim(w) == 0:  # a block of one run: its own branch
        lerp_row(a, x, w, scratch)
    else:  # rows of one block on both sides of 0.5: one row at a time
        for j in range(a.shape[0]):
            lerp_row(a[j], x[j], w[j, ...], scratch[j])


def lerp_row(a, x, w, d):
    """One run of ``lerp`` with a scalar weight ``w``, given ``d = x - a``."""
    if w < 0.5:
        np.multiply(d, w, out=d)
        np.add(a, d, out=a)
    else:
        np.multiply(d, 1 - w, out=d)
        np.subtract(x, d, out=a)


def ema(a, x, beta, c, scratch):
    """``a <- beta * a + c * x`` with ``c = 1 - beta`` (the seed's and optax's moving average)."""
    trace(a, x, beta, c, scratch)


def ema_of_squares(nu, g, beta, c, scratch, square_first: bool = False):
    """``nu <- beta * nu + (c * g) * g`` with ``c = 1 - beta`` (moving average of squares).

    ``square_first`` rounds as the formula ``beta nu + (1 - beta) g^2`` is written (the seed,
    optax): ``c * (g * g)``; otherwise as torch's ``addcmul``: ``(c * g) * g``.
    """
    np.multiply(nu, beta, out=nu)
    if square_first:
        np.multiply(g, g, out=scratch)
        np.multiply(scratch, c, out=scratch)
    else:
        np.multiply(g, c, out=scratch)
        np.multiply(scratch, g, out=scratch)
    np.add(nu, scratch, out=nu)


def sum_of_squares(G, g, scratch):
    """``G <- G + g * g`` (AdaGrad's accumulator)."""
    np.multiply(g, g, out=scratch)
    np.add(G, scratch, out=G)


def root(nu, eps, eps_inside_sqrt, out):
    """``sqrt(nu + eps)`` (seed, optax) or ``sqrt(nu) + eps`` (torch) into ``out``."""
    if eps_inside_sqrt:
        np.add(nu, eps, out=out)
        np.sqrt(out, out=out)
    else:
        np.sqrt(nu, out=out)
        np.add(out, eps, out=out)
    return out


def apply(w, u, scale, scratch):
    """``w <- w + scale * u`` (``scale`` is ``-lr`` or ``-lr / bias correction``)."""
    np.multiply(u, scale, out=scratch)
    np.add(w, scratch, out=w)


def addcdiv(w, u, d, scale, scratch):
    """``w <- w + (scale * u) / d``, in the order of torch's ``addcdiv_(u, d, value=scale)``
    (``(u / d) * scale`` differs from it in the last bit of about 2% of the elements).
    ``scratch`` must not be ``d``."""
    np.multiply(u, scale, out=scratch)
    np.divide(scratch, d, out=scratch)
    np.add(w, scratch, out=w)


def bias_correction(beta, t: int):
    """``1 - beta ** t``, Adam's bias correction of a moving average after ``t`` steps, for a
    float or an ``(R,)`` array ``beta``.

    Each entry's power is Python's (the C library's ``pow``, as torch's scalar bias corrections),
    so that an ``(R,)`` sweep computes the bits of each run alone: NumPy's vectorized ``**``
    differs from it in the last bit for some entries. Distinct values are computed once.
    """
    if not isinstance(beta, np.ndarray):
        return 1.0 - beta**t
    values, inverse = np.unique(beta, return_inverse=True)
    return 1.0 - np.array([math.pow(float(b), t) for b in values])[inverse]


def lerp_branches(w) -> dict:
    """``lerp_branch`` of the weights ``w`` (float64) once rounded to each float dtype: the
    branch torch takes depends on the weight in the parameter's dtype."""
    return {dt: lerp_branch(np.asarray(w, dtype=dt)) for dt in (np.dtype("f4"), np.dtype("f8"))}
