"""Lion's step writes sign(c) into another scratch array (NumPy's in-place sign is slow): the
same operations in the same order, so the bits of the former in-place update, checked here
against that update written out, over steps, dtypes, zeros and per-run hyperparameters."""

from __future__ import annotations

import numpy as np
import pytest

from optbench.optimizers import Lion


def reference_lion(w, m, g, lr, b1, b2, wd):
    """The former update: sign taken in place in c, then ``w <- w + (-lr) (sign(c) + wd w)``."""
    dt = w.dtype.type
    c = np.multiply(m, dt(b1))
    c += np.multiply(g, dt(1.0 - b1))
    np.sign(c, out=c)
    c += np.multiply(w, wd)
    w += np.multiply(c, -lr)
    m *= dt(b2)
    m += np.multiply(g, dt(1.0 - b2))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [50, 300_000])  # whole, and in blocks
def test_lion_is_bit_identical_to_the_in_place_sign(dtype, n):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal(n).astype(dtype)
    w0[::7] = 0.0
    w0[1::11] = -0.0
    w, w_ref, m_ref = w0.copy(), w0.copy(), np.zeros(n, dtype)
    opt = Lion([w], lr=1e-2, betas=(0.9, 0.99), weight_decay=1e-3)
    for step in range(4):
        g = rng.standard_normal(n).astype(dtype)
        g[step::5] = 0.0  # c = 0 at the first step there: sign 0
        opt.step([g])
        dt = np.dtype(dtype).type
        reference_lion(w_ref, m_ref, g, dt(1e-2), 0.9, 0.99, dt(1e-3))
        np.testing.assert_array_equal(w.view(f"u{w.itemsize}"), w_ref.view(f"u{w.itemsize}"))
        np.testing.assert_array_equal(opt.state[0]["exp_avg"], m_ref)


def test_lion_per_run_learning_rates_match_separate_runs():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((3, 40))
    G = rng.standard_normal((3, 40))
    lrs = np.array([1e-3, 1e-2, 1e-1])
    batched = Lion([W.copy()], lr=lrs)
    batched.step([G])
    for r, lr in enumerate(lrs):
        single = Lion([W[r : r + 1].copy()], lr=float(lr))
        single.step([G[r : r + 1]])
        np.testing.assert_array_equal(batched.params[0][r], single.params[0][0])
