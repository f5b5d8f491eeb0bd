"""The dense layer's backward pass (and forward, for context) against its two-product bound.

For ``X: (m, n_in)``, ``W: (n_in, n_out)``, ``b: (1, n_out)`` and the upstream gradient ``dZ: (m,
n_out)`` (each with an optional leading run axis R), ``optbench.problems.layers.Dense`` computes

    forward:   Z  = X W + b                                  2 m n_in n_out + m n_out FLOPs
    backward:  dW = X^T dZ,  db = sum_i dZ_i,  dX = dZ W^T    4 m n_in n_out + m n_out FLOPs

The backward pass is two matrix products and a reduction, so its lower bound is the time of the
two bare products, ``matmul(X^T, dZ, out=dW)`` and ``matmul(dZ, W^T, out=dX)`` into preallocated
arrays (kind ``two_product_bound``, ``role="bound"``), timed in the same session right before the
backward of the same shape, dtype and R; ``ratio_to_bound`` in the JSON is
``t_min(backward) / t_min(bound)``. Every result is checked once, after timing, against a
float64 reference within the rounding-error bound of a length-k dot product,
``|fl(x.y) - x.y| <= k eps |x|.|y|`` (Higham, Accuracy and Stability of Numerical Algorithms,
section 3.1), doubled for the reference's own.

Each case also records the bytes it must move (:func:`dense_bytes`: every input read once,
every output written once and read once before, write-allocate, as the ceilings count them),
which places it on the roofline against the session's compute ceiling (``ceilings`` fixture).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from optbench.problems.layers import Dense

RUNS = (None, 4)


@dataclass
class DenseCase:
    """Inputs of one dense case; arrays carry a leading axis R when ``runs`` is not None."""

    X: np.ndarray
    W: np.ndarray
    b: np.ndarray
    dZ: np.ndarray
    shape: tuple[int, int, int]
    dtype: str
    runs: int | None

    @property
    def bound_key(self) -> str:
        return f"dense/{'x'.join(map(str, self.shape))}/{self.dtype}/R={self.runs}"


def make_case(shape: tuple[int, int, int], dtype: str, runs: int | None, seed: int = 0):
    """Standard-normal X, W, b, dZ of the given shape and dtype (He-scaled W)."""
    m, n_in, n_out = shape
    lead = () if runs is None else (runs,)
    rng = np.random.default_rng(seed)

    def draw(*dims, scale=1.0):
        return (scale * rng.standard_normal(lead + dims)).astype(dtype)

    return DenseCase(
        X=draw(m, n_in),
        W=draw(n_in, n_out, scale=np.sqrt(2.0 / n_in)),
        b=draw(1, n_out),
        dZ=draw(m, n_out),
        shape=shape,
        dtype=dtype,
        runs=runs,
    )


def make_layer(case: DenseCase) -> Dense:
    """A ``Dense`` whose W and b are set in place to the case's, after one forward pass on X."""
    layer = Dense(case.shape[1], case.shape[2], runs=case.runs, dtype=case.dtype)
    layer.weights[...] = case.W
    layer.biases[...] = case.b
    layer.forward(case.X)
    return layer


def dense_flops(case: DenseCase, kind: str) -> int:
    """FLOPs of ``kind`` (see the module docstring), times R."""
    m, n_in, n_out = case.shape
    product = 2 * m * n_in * n_out
    per_run = {
        "dense_forward": product + m * n_out,
        "dense_backward": 2 * product + m * n_out,
        "two_product_bound": 2 * product,
    }[kind]
    return per_run * (case.runs or 1)


def dense_bytes(case: DenseCase, kind: str) -> int:
    """Bytes of ``kind``: inputs read once, outputs written once + once read (write-allocate).

    forward (X, W, b -> Z), backward (X, dZ, W -> dW, db, dX), bound (X, dZ, W -> dW, dX)."""
    m, n_in, n_out = case.shape
    X, W, b, Z = m * n_in, n_in * n_out, n_out, m * n_out
    reads, writes = {
        "dense_forward": (X + W + b, Z),
        "dense_backward": (X + Z + W, W + b + X),
        "two_product_bound": (X + Z + W, W + X),
    }[kind]
    return (reads + 2 * writes) * np.dtype(case.dtype).itemsize * (case.runs or 1)


def assert_close(name: str, got, ref64: np.ndarray, scale64: np.ndarray, k: int) -> None:
    """Assert ``|got - ref| <= 2 k eps(got) scale`` elementwise, with matching shapes."""
    got = np.asarray(got)
    if got.shape != ref64.shape:
        raise AssertionError(f"{name}: shape {got.shape}, expected {ref64.shape}")
    bound = 2 * k * np.finfo(got.dtype).eps * scale64
    error = np.abs(got.astype(np.float64) - ref64)
    if not np.all(error <= bound):
        worst = float(np.max(error - bound))
        raise AssertionError(f"{name}: wrong by up to {worst:.3g} beyond the rounding bound")


def check_dense_backward(case: DenseCase, dW, db, dX) -> None:
    """Check dW, db (skipped when None) and dX against ``X^T dZ``, ``sum_i dZ_i``, ``dZ W^T``."""
    X, W, dZ = (a.astype(np.float64) for a in (case.X, case.W, case.dZ))
    m, _, n_out = case.shape
    XT, WT = np.swapaxes(X, -1, -2), np.swapaxes(W, -1, -2)
    assert_close("dW", dW, XT @ dZ, np.abs(XT) @ np.abs(dZ), m)
    if db is not None:
        sums = dZ.sum(axis=-2, keepdims=True), np.abs(dZ).sum(axis=-2, keepdims=True)
        assert_close("db", db, *sums, m)
    assert_close("dX", dX, dZ @ WT, np.abs(dZ) @ np.abs(WT), n_out)


def check_dense_forward(Z, case: DenseCase) -> None:
    """Check ``Z = X W + b``."""
    X, W, b = (a.astype(np.float64) for a in (case.X, case.W, case.b))
    assert_close("Z", Z, X @ W + b, np.abs(X) @ np.abs(W) + np.abs(b), case.shape[1] + 1)


def describe(benchmark, case: DenseCase, kind: str, role: str | None = None) -> None:
    """Record the case in ``extra_info``; the backward and its bound share ``bound_key``."""
    paired = kind in ("dense_backward", "two_product_bound")
    benchmark.extra_info.update(
        kind=kind,
        role=role,
        shape=list(case.shape),
        dtype=case.dtype,
        runs=case.runs,
        flops=dense_flops(case, kind),
        bytes=dense_bytes(case, kind),
        bound_key=case.bound_key if paired else None,
    )


def two_products(XT, dZ, WT, dW, dX) -> None:
    """The bound: ``dW = X^T dZ`` and ``dX = dZ W^T`` into preallocated arrays."""
    np.matmul(XT, dZ, out=dW)
    np.matmul(dZ, WT, out=dX)


def time_backward(timed, case: DenseCase) -> None:
    layer = make_layer(case)
    dX = timed(layer.backward, setup=lambda: (case.dZ,))
    check_dense_backward(case, layer.dweights, layer.dbiases, dX)


def time_forward(timed, case: DenseCase) -> None:
    layer = make_layer(case)
    Z = timed(layer.forward, setup=lambda: (case.X,))
    check_dense_forward(Z, case)


def time_bound(timed, case: DenseCase) -> None:
    XT, WT = np.swapaxes(case.X, -1, -2), np.swapaxes(case.W, -1, -2)
    dW, dX = np.empty_like(case.W), np.empty_like(case.X)
    timed(two_products, setup=lambda: (XT, case.dZ, WT, dW, dX))
    check_dense_backward(case, dW, None, dX)


KINDS = {
    "two_product_bound": time_bound,
    "dense_backward": time_backward,
    "dense_forward": time_forward,
}


@pytest.fixture(params=RUNS, ids=lambda r: "2d" if r is None else f"R{r}")
def runs(request):
    return request.param


@pytest.mark.parametrize("kind", list(KINDS))
def test_dense(timed, benchmark, dense_shape, bench_dtype, runs, kind, ceilings):
    """One case; the three kinds of a (shape, dtype, R) run back to back, the bound first."""
    ceilings.compute(bench_dtype)  # measured before the first case of the dtype
    case = make_case(dense_shape, bench_dtype, runs)
    KINDS[kind](timed, case)
    describe(benchmark, case, kind, role="bound" if kind == "two_product_bound" else None)
