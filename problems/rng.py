"""Counter-based random numbers, vectorized over runs.

Every random number a problem draws is a pure function of ``(seed, stream, counter, index)``:

.. math::

    k_{run}   = \\mathrm{mix}(\\mathrm{mix}(seed + \\gamma) \\oplus \\mathrm{mix}(stream + \\gamma))
    k_{step}  = \\mathrm{mix}(k_{run} \\oplus \\mathrm{mix}(counter + 2\\gamma))
    u_i       = (\\lfloor \\mathrm{mix}(k_{step} + (i+1)\\gamma) / 2^{11} \\rfloor + 1/2) 2^{-53}

with ``mix`` the SplitMix64 finalizer (Steele, Lea and Flood, "Fast splittable pseudorandom
number generators", OOPSLA 2014) and :math:`\\gamma` = 0x9E3779B97F4A7C15, so that
:math:`u_0, u_1, \\ldots` is exactly SplitMix64's output stream started from ``k_step``.
Because nothing depends on the other runs of a batch, a run's numbers are the same whether it
runs alone or with 16,384 others, and drawing for R runs is a handful of array passes with no
Python loop over runs. Not cryptographic; statistically sound for benchmark noise.

Example::

    keys = run_keys([3, 1, 2], stream=STREAM_NOISE)   # (3,) uint64
    z = normal(step_keys(keys, 0), 5)                  # (3, 5) float64, N(0, 1)
"""

import numpy as np

GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB

# Stream tags: one per purpose, so that e.g. the initial point and the noise never share bits.
STREAM_INIT = 1
STREAM_NOISE = 2
STREAM_SHUFFLE = 3


def mix64(z):
    """SplitMix64 finalizer of a uint64 array (wrapping arithmetic): returns a new array."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrapping multiplication is the point
        z = (z ^ (z >> 30)) * np.uint64(_M1)
        z = (z ^ (z >> 27)) * np.uint64(_M2)
    return z ^ (z >> 31)


def as_seeds(seeds):
    """Validate run seeds: a non-empty 1-D sequence of integers in [0, 2**63). Returns uint64."""
    arr = np.asarray(seeds)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"seeds must be a non-empty 1-D sequence of integers, got shape {arr.shape}"
        )
    if arr.dtype.kind not in "iu":
        raise ValueError(f"seeds must be integers, got dtype {arr.dtype}")
    if arr.dtype.kind == "i" and (arr < 0).any():
        raise ValueError(f"seeds must be >= 0, got {arr[arr < 0][0]}")
    return arr.astype(np.uint64)


def run_keys(seeds, stream):
    """Per-run keys (R,) uint64 for one stream (``STREAM_INIT``, ``STREAM_NOISE``, ...)."""
    s = as_seeds(seeds)
    tag = mix64(np.uint64(stream) + np.uint64(GOLDEN))
    return mix64(mix64(s + np.uint64(GOLDEN)) ^ tag)


def step_keys(keys, counter):
    """Keys (R,) for draw number ``counter`` (a step, an epoch, a layer index) of each run."""
    c = mix64(np.uint64(counter) + np.uint64(2 * GOLDEN % 2**64))
    return mix64(np.asarray(keys, dtype=np.uint64) ^ c)


def bits(keys, n):
    """(R, n) uint64: the first n SplitMix64 outputs of each run's key."""
    ctr = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GOLDEN)
    return mix64(np.asarray(keys, dtype=np.uint64)[:, None] + ctr[None, :])


def uniform(keys, n):
    """(R, n) float64 uniform on the open interval (0, 1): 53 random bits, centred."""
    u = (bits(keys, n) >> 11).astype(np.float64)
    u += 0.5
    u *= 2.0**-53
    return u


def normal(keys, n):
    """(R, n) float64 standard normal, by Box-Muller: z = sqrt(-2 ln u1) cos(2 pi u2)."""
    u = uniform(keys, 2 * n)
    r = np.log(u[:, :n])
    r *= -2.0
    np.sqrt(r, out=r)
    c = u[:, n:]
    c *= 2.0 * np.pi
    np.cos(c, out=c)
    r *= c
    return r


def permutations(keys, n):
    """(R, n) int64: one uniformly random permutation of range(n) per run (argsort of keys)."""
    return np.argsort(bits(keys, n), axis=1, kind="stable")
