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
    return _mix_inplace(np.array(z, dtype=np.uint64))


def _mix_inplace(z):
    """z <- (z ^ z >> 30) * M1; z <- (z ^ z >> 27) * M2; z <- z ^ z >> 31 (in place)."""
    t = np.empty_like(z)
    with np.errstate(over="ignore"):  # wrapping multiplication is the point
        for shift, mult in ((30, _M1), (27, _M2)):
            np.right_shift(z, shift, out=t)
            z ^= t
            z *= np.uint64(mult)
        np.right_shift(z, 31, out=t)
        z ^= t
    return z


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
    return _mix_inplace(np.add.outer(np.asarray(keys, dtype=np.uint64), ctr))


def uniform(keys, n):
    """(R, n) float64 uniform on the open interval (0, 1): 53 random bits, centred."""
    z = bits(keys, n)
    np.right_shift(z, 11, out=z)
    u = z.astype(np.float64)
    u += 0.5
    u *= 2.0**-53
    return u


def normal(keys, n):
    """(R, n) float64 standard normal, by Box-Muller on h = ceil(n/2) pairs (u1, u2):
    z_i = sqrt(-2 ln u1_i) cos(2 pi u2_i) for i < h, then sqrt(-2 ln u1_j) sin(2 pi u2_j)."""
    h = (n + 1) // 2
    u = uniform(keys, 2 * h)
    r, angle = u[:, :h], u[:, h:]
    np.log(r, out=r)
    r *= -2.0
    np.sqrt(r, out=r)
    angle *= 2.0 * np.pi
    z = np.empty((u.shape[0], n))
    np.cos(angle, out=z[:, :h])
    z[:, :h] *= r
    np.sin(angle[:, : n - h], out=z[:, h:])
    z[:, h:] *= r[:, : n - h]
    return z


def permutations(keys, n):
    """(R, n) int64: one uniformly random permutation of range(n) per run (argsort of keys)."""
    return np.argsort(bits(keys, n), axis=1, kind="stable")
