"""Optimizer steps: optbench's six vs ``torch.optim``'s Adam and SGD-momentum, against the
memory ceiling of :mod:`optbench.benchmarks.ceilings` (the one the suites use).

Run in an environment that has torch and optbench (``pip install -e . torch==2.13.0``;
nothing else imports torch):

    python -m optbench.benchmarks.compare.torch_optimizers [--n 1e7] [--samples 15]
        [--dtype float32 float64] [--threads 2]

For each size and dtype it times, interleaved and with a 0.15 s pause before every sample:

- the **memory ceiling** of n elements of the dtype (``ceilings.memory_ceiling``: the best of
  the STREAM kernels, in place and into a third array, whole and in blocks on 1 and on all
  threads), one round of its kernels per sample, so that it meets the same machine as the steps;
- ``optbench <name>`` for the six steps sgd, momentum, nesterov, adagrad, rmsprop, adam
  (``optbench.optimizers.REGISTRY``, torch defaults, lr=1e-4);
- ``torch adam <impl>`` for ``impl`` in single-tensor (``foreach=False``), ``foreach=True`` and
  ``fused=True``; ``torch momentum <impl>`` likewise (``torch.optim.SGD(momentum=0.9)``),
  with ``torch.set_num_threads(--threads)``.

A step moves ``3 + 2 s`` arrays of n elements in place (s state arrays: SGD 3, Momentum 5,
Adam 7), its bound is those bytes over the ceiling, and ``x ceiling`` is its best time over
that bound: at least 1, unless the ceiling is wrong, which the output then says. A sample is the
mean time of a block of steps lasting about 0.2 s; the table gives each candidate's best
sample (other processes only ever add time) and median. Before timing, three steps of every
torch candidate from the same start are checked against optbench's to round-off.
"""

from __future__ import annotations

import argparse
import statistics
import time

BLOCK_SECONDS = 0.2
PAUSE_SECONDS = 0.15
OURS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
ARRAYS = {"sgd": 3, "momentum": 5, "nesterov": 5, "adagrad": 5, "rmsprop": 5, "adam": 7}
IMPLS = ("single", "foreach", "fused")


def sample(fn, calls: int) -> float:
    time.sleep(PAUSE_SECONDS)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def calls_per_block(fn) -> int:
    fn()
    start = time.perf_counter()
    fn()
    return max(1, round(BLOCK_SECONDS / max(time.perf_counter() - start, 1e-7)))


def optbench_step(name, w0, g):
    from optbench import optimizers

    w = w0.copy()
    opt = optimizers.REGISTRY[name]([w], lr=1e-4)
    return (lambda: opt.step([g])), w


def torch_step(torch, name, impl, w0, g):
    w = torch.from_numpy(w0.copy()).requires_grad_(True)
    w.grad = torch.from_numpy(g.copy())
    kw = {"single": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}
    if name == "adam":
        opt = torch.optim.Adam([w], lr=1e-4, **kw[impl])
    else:
        opt = torch.optim.SGD([w], lr=1e-4, momentum=0.9, **kw[impl])
    return opt.step, w


def candidates(torch, n: int, dtype: str):
    """name -> (step function, parameter array or tensor) for one size and dtype."""
    import numpy as np

    rng = np.random.default_rng(0)
    w0, g = (rng.standard_normal(n).astype(dtype) for _ in range(2))
    out = {f"optbench {name}": optbench_step(name, w0, g) for name in OURS}
    for name in ("adam", "momentum"):
        for impl in IMPLS:
            out[f"torch {name} {impl}"] = torch_step(torch, name, impl, w0, g)
    return out


def check(cands: dict, dtype: str) -> None:
    """Three steps of every torch candidate agree with optbench's (float round-off)."""
    import numpy as np

    rtol = 1e-5 if dtype == "float32" else 1e-12
    for _ in range(3):
        for fn, _ in cands.values():
            fn()
    for key, (_, w) in cands.items():
        if key.startswith("optbench"):
            continue
        ours = cands[f"optbench {key.split()[1]}"][1]
        theirs = w.detach().numpy()
        np.testing.assert_allclose(theirs, ours, rtol=rtol, atol=rtol, err_msg=key)


def measure(torch, n: int, dtype: str, samples: int, threads: int):
    """``(ceiling, times)``: the memory ceiling and each candidate's sample times, all
    interleaved round by round."""
    from optbench.benchmarks.ceilings import memory_ceiling

    ceiling = memory_ceiling(n, dtype, threads=threads)
    cands = candidates(torch, n, dtype)
    check(cands, dtype)
    calls = {k: calls_per_block(fn) for k, (fn, _) in cands.items()}
    times = {k: [] for k in cands}
    for _ in range(samples):
        time.sleep(PAUSE_SECONDS)
        ceiling.sample(1)
        for k, (fn, _) in cands.items():
            times[k].append(sample(fn, calls[k]))
    return ceiling, times


def report(n: int, dtype: str, ceiling, times: dict) -> list[str]:
    """The table's lines, and a CEILING WRONG line for any candidate above the ceiling."""
    import numpy as np

    itemsize = np.dtype(dtype).itemsize
    best = {k: min(v) for k, v in times.items()}
    rates = {k: ARRAYS[k.split()[1]] * n * itemsize / best[k] for k in times}
    top = max(rates, key=rates.get)
    lines = [
        f"\nn={n:.0e} {dtype}: memory ceiling {ceiling.rate / 1e9:.1f} GB/s "
        f"({ceiling.kernel}, {ceiling.samples} rounds); best candidate {rates[top] / 1e9:.1f} "
        f"GB/s ({top})",
        f"{'candidate':24s} {'min ms':>8s} {'median ms':>10s} {'GB/s':>6s} {'x ceiling':>10s}",
    ]
    for k, v in times.items():
        x = ceiling.rate / rates[k]
        lines.append(
            f"{k:24s} {best[k] * 1e3:8.2f} {statistics.median(v) * 1e3:10.2f} "
            f"{rates[k] / 1e9:6.1f} {x:10.2f}"
        )
    wrong = [k for k in times if rates[k] > ceiling.rate]
    if wrong:
        lines.append(f"CEILING WRONG: {', '.join(wrong)} beat the memory ceiling; it was "
                     "measured too low, and these ratios mean nothing")  # fmt: skip
    for name in ("adam", "momentum"):
        for impl in IMPLS:
            ours, theirs = f"optbench {name}", f"torch {name} {impl}"
            med = statistics.median(times[ours]) / statistics.median(times[theirs])
            lines.append(f"{ours} / {theirs}: {best[ours] / best[theirs]:.2f} (min), "
                         f"{med:.2f} (median)")  # fmt: skip
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, nargs="+", default=[1e7])
    parser.add_argument("--dtype", nargs="+", default=["float32", "float64"])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    import torch

    from optbench import optimizers
    from optbench.benchmarks.environment import blas, cpu_info

    torch.set_num_threads(args.threads)
    optimizers.set_num_threads(args.threads)
    cpu = cpu_info()
    print(f"torch {torch.__version__}, {args.threads} threads for torch, optbench and the "
          f"ceiling; CPU {cpu['model']} ({cpu['cores']} cores; "
          f"{', '.join(cpu['vector_extensions'])}); BLAS {blas()}")  # fmt: skip
    for dtype in args.dtype:
        for n in args.n:
            ceiling, times = measure(torch, int(n), dtype, args.samples, args.threads)
            print("\n".join(report(int(n), dtype, ceiling, times)), flush=True)


if __name__ == "__main__":
    main()
