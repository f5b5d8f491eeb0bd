"""Dense backward: optbench's ``layers.Dense`` vs the two-product bound vs torch's CPU autograd.

Run in an environment that has torch and optbench (``pip install -e . torch==2.13.0``;
nothing else imports torch):

    python -m optbench.benchmarks.compare.torch_dense [--samples 15] [--threads 2]

For each shape (batch, n_in, n_out), dtype and run axis (none, or R = 4) it times, interleaved
and with a 0.15 s pause before every sample (so that no candidate inherits another's warm
state or a throttled core); ``--threads 1 --clock cpu`` times the calling thread's CPU time
instead of wall time, which other processes' load on a shared machine does not inflate:

- ``dense``: ``Dense.backward(dZ)`` (dW = X^T dZ, db = sum_i dZ_i, dX = dZ W^T);
- ``bound``: the two bare products into preallocated arrays
  (``optbench.benchmarks.suites.bench_dense``);
- ``torch``: ``Z.backward(dZ)`` through ``F.linear(X, W^T, b)`` (``torch.baddbmm(b, X, W)`` with
  a run axis), with X, W, b requiring gradients; the weight in torch's own (n_out, n_in) layout.

Each dtype's compute ceiling (``optbench.benchmarks.ceilings.compute_ceiling``, the one the
suites use: the best of square and skinny GEMMs, on ``--threads`` threads and the chosen clock)
is measured before its first shape and sampled again in every round; ``x ceiling`` is a
backward's best time over ``FLOPs / ceiling``, at least 1 unless the ceiling is wrong, which the
output then says.

A sample is the mean time of a block of calls lasting about 20 ms. The table gives each
candidate's best sample (other processes only ever add time, so on a shared machine the minimum
is the stable statistic) and the ratios ``dense / bound`` and ``dense / torch`` of the minima,
then the same ratios of the medians.
Every candidate's gradients are checked against the float64 reference once before timing.
"""

from __future__ import annotations

import argparse
import sys
import time

SHAPES = ((64, 784, 256), (256, 1024, 1024), (1024, 512, 512), (4096, 256, 10))
BLOCK_SECONDS = 0.02
PAUSE_SECONDS = 0.15
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def sample(fn, calls: int, clock) -> float:
    """Mean seconds per call over a block of ``calls`` calls, after a pause."""
    time.sleep(PAUSE_SECONDS)
    start = clock()
    for _ in range(calls):
        fn()
    return (clock() - start) / calls


def calls_per_block(fn) -> int:
    fn()
    start = time.perf_counter()
    fn()
    return max(1, round(BLOCK_SECONDS / max(time.perf_counter() - start, 1e-7)))


def torch_backward(torch, case):
    """A closure running torch autograd's backward of the dense layer; checks it once."""
    import numpy as np

    from optbench.benchmarks.suites.bench_dense import check_dense_backward

    X = torch.from_numpy(case.X.copy()).requires_grad_(True)
    b = torch.from_numpy(case.b.copy()).requires_grad_(True)
    dZ = torch.from_numpy(case.dZ.copy())
    if case.runs is None:
        W = torch.from_numpy(np.ascontiguousarray(case.W.T)).requires_grad_(True)
        Z = torch.nn.functional.linear(X, W, b[0])
    else:
        W = torch.from_numpy(case.W.copy()).requires_grad_(True)
        Z = torch.baddbmm(b, X, W)

    def run():
        X.grad = W.grad = b.grad = None
        Z.backward(dZ, retain_graph=True)

    run()
    dW = W.grad.numpy().T if case.runs is None else W.grad.numpy()
    db = b.grad.numpy()
    check_dense_backward(case, dW, db, X.grad.numpy())
    return run


def numpy_candidates(case):
    import numpy as np

    from optbench.benchmarks.suites.bench_dense import (
        check_dense_backward,
        make_layer,
        two_products,
    )

    layer = make_layer(case)
    dX = layer.backward(case.dZ)
    check_dense_backward(case, layer.dweights, layer.dbiases, dX)
    XT, WT = np.swapaxes(case.X, -1, -2), np.swapaxes(case.W, -1, -2)
    dW, dXb = np.empty_like(case.W), np.empty_like(case.X)
    two_products(XT, case.dZ, WT, dW, dXb)
    check_dense_backward(case, dW, None, dXb)
    return {
        "dense": lambda: layer.backward(case.dZ),
        "bound": lambda: two_products(XT, case.dZ, WT, dW, dXb),
    }


def compare(torch, case, samples: int, clock, ceiling) -> dict[str, list[float]]:
    """Seconds per call of each candidate, ``samples`` samples taken round-robin, with a round
    of the ``ceiling``'s kernels in each."""
    candidates = numpy_candidates(case) | {"torch": torch_backward(torch, case)}
    calls = {name: calls_per_block(fn) for name, fn in candidates.items()}
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(samples):
        ceiling.sample(1, timer=clock)
        for name, fn in candidates.items():
            times[name].append(sample(fn, calls[name], clock))
    return times


def table_row(case, times: dict[str, list[float]], ceiling) -> str:
    import numpy as np

    from optbench.benchmarks.ceilings import x_ceiling
    from optbench.benchmarks.suites.bench_dense import dense_flops

    best = {k: min(v) for k, v in times.items()}
    mid = {k: float(np.median(v)) for k, v in times.items()}
    cells = [f"{best[k] * 1e3:.3f}" for k in ("dense", "bound", "torch")]
    for t in (best, mid):
        cells += [f"{t['dense'] / t['bound']:.3f}", f"{t['dense'] / t['torch']:.3f}"]
    flops = dense_flops(case, "dense_backward")
    xs = {k: x_ceiling(best[k], flops, ceiling.rate) for k in ("dense", "torch")}
    cells += [f"{xs['dense']:.2f}", f"{xs['torch']:.2f}"]
    row = f"| {'x'.join(map(str, case.shape))} | {case.dtype} | {case.runs or '-'} | "
    wrong = [k for k, x in xs.items() if x < 1]
    note = f" CEILING WRONG: {', '.join(wrong)} beat the compute ceiling" if wrong else ""
    return row + " | ".join(cells) + " |" + note


def main(argv: list[str] | None = None) -> int:
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    from optbench.benchmarks.ceilings import compute_ceiling
    from optbench.benchmarks.suites import parse_shapes
    from optbench.benchmarks.suites.bench_dense import make_case

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, nargs="+", default=[0, 4], help="0: no run axis")
    parser.add_argument("--shapes", default="", help="'m,n_in,n_out ...' instead of the four")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument(
        "--clock",
        choices=tuple(CLOCKS),
        default="wall",
        help="cpu: this thread's CPU time (needs --threads 1; robust to other processes' load)",
    )
    args = parser.parse_args(argv)
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu needs --threads 1 (other threads' work is not counted)")
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads, user_api="blas")
    blas = [
        f"{i['internal_api']} {i['version']}" for i in threadpool_info() if i["user_api"] == "blas"
    ]
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads); numpy BLAS {blas}")
    print(f"{args.samples} interleaved samples, {PAUSE_SECONDS} s pause before each, "
          f"{args.clock} clock\n")  # fmt: skip
    print("| shape | dtype | R | dense | bound | torch (min, ms) | dense/bound | dense/torch "
          "| medians: dense/bound | dense/torch | dense x ceiling | torch x ceiling |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    clock = CLOCKS[args.clock]
    ceilings = {
        dtype: compute_ceiling(dtype, threads=args.threads).measure(3, timer=clock)
        for dtype in args.dtypes
    }
    for shape in parse_shapes(args.shapes) or SHAPES:
        for dtype in args.dtypes:
            for runs in args.runs:
                case = make_case(shape, dtype, runs or None)
                t = compare(torch, case, args.samples, clock, ceilings[dtype])
                print(table_row(case, t, ceilings[dtype]), flush=True)
    for dtype, c in ceilings.items():
        print(f"\ncompute ceiling {dtype}: {c.rate / 1e9:.1f} GFLOP/s ({c.kernel}, "
              f"{c.samples} rounds)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
