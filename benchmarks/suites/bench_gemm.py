"""Square GEMM ``C = A @ B`` at several sizes, timed as candidates under the compute ceiling.

``A, B, C: (n, n)``; FLOPs ``2 n^3`` (one multiply and one add per term); bytes ``4 n^2`` items
(A and B read, C written and read before: write-allocate). The ceiling itself is
:func:`optbench.benchmarks.ceilings.compute_ceiling` (the best of square and skinny products,
on all threads), the one definition the comparison scripts use too; a GEMM here that beats it
says that the ceiling was measured too low (``ceiling_wrong``).
"""

from __future__ import annotations

import numpy as np
import pytest

SIZES = (256, 512, 1024, 2048)
QUICK_SIZES = (512, 1024)
PEAK_SECONDS = 0.3  # time budget of each size, also under --quick


def gemm_flops(n: int) -> int:
    """FLOPs of an ``(n, n) @ (n, n)`` product: ``n^2`` dot products of length n, ``2 n^3``."""
    return 2 * n**3


def check_gemm(A: np.ndarray, B: np.ndarray, C: np.ndarray, rows: int = 8) -> None:
    """Assert ``C[:rows] == A[:rows] @ B`` within the forward error bound ``2 n eps |A||B|``.

    The reference is computed in float64; ``n eps |A||B|`` bounds the rounding error of a
    length-n dot product (Higham, Accuracy and Stability, 3.1), doubled for the reference's own.
    """
    n = A.shape[1]
    A64, B64 = A[:rows].astype(np.float64), B.astype(np.float64)
    bound = 2 * n * np.finfo(C.dtype).eps * (np.abs(A64) @ np.abs(B64))
    error = np.abs(C[:rows] - A64 @ B64)
    assert np.all(error <= bound), f"GEMM result wrong: max error {error.max():.3g}"


@pytest.mark.parametrize(
    "n", [pytest.param(n, marks=pytest.mark.quick if n in QUICK_SIZES else ()) for n in SIZES]
)
def test_gemm(timed, benchmark, n, bench_dtype, ceilings):
    ceilings.compute(bench_dtype)
    rng = np.random.default_rng(n)
    A = rng.standard_normal((n, n)).astype(bench_dtype)
    B = rng.standard_normal((n, n)).astype(bench_dtype)
    C = np.empty((n, n), dtype=bench_dtype)
    timed(lambda: np.matmul(A, B, out=C), min_time=PEAK_SECONDS)
    check_gemm(A, B, C)
    benchmark.extra_info.update(
        kind="gemm", shape=[n, n, n], dtype=bench_dtype, runs=None, flops=gemm_flops(n),
        bytes=4 * n * n * np.dtype(bench_dtype).itemsize,
    )  # fmt: skip
