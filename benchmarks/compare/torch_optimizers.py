"""Optimizer steps: optbench's Adam and Momentum vs ``torch.optim`` vs the bandwidth bound.

Run in an environment that has torch and optbench (``pip install -e . torch==2.13.0``;
nothing else imports torch):

    python -m optbench.benchmarks.compare.torch_optimizers [--n 1e7] [--samples 15]
        [--dtype float32 float64] [--threads 2]

For each size and dtype it times, interleaved and with a 0.15 s pause before every sample:

- ``bandwidth``: ``np.add(a, b, out=c)``; the bound of a step moving ``k`` arrays of n
  elements is ``k / 3`` of its time (Adam 7 arrays, Momentum 5);
- ``optbench adam`` / ``optbench momentum``: ``optbench.optimizers.Adam`` /
  ``optbench.optimizers.Momentum``
  (torch defaults, lr=1e-4);
- ``torch adam <impl>`` for ``impl`` in single-tensor (``foreach=False``), ``foreach=True`` and
  ``fused=True``; ``torch momentum <impl>`` likewise (``torch.optim.SGD(momentum=0.9)``),
  with ``torch.set_num_threads(--threads)``.

A sample is the mean time of a block of steps lasting about 0.2 s. The table gives each
candidate's best sample (other processes only ever add time) and median, its GB/s and its ratio
to the bound, then the ratios optbench / torch of the minima. Before timing, three steps of
every candidate from the same start are checked against optbench's to round-off.
"""

from __future__ import annotations

import argparse
import statistics
import time

BLOCK_SECONDS = 0.2
PAUSE_SECONDS = 0.15
ARRAYS = {"adam": 7, "momentum": 5}


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
    w0, g, a, b = (rng.standard_normal(n).astype(dtype) for _ in range(4))
    c = np.empty_like(a)
    out = {"bandwidth": ((lambda: np.add(a, b, out=c)), None)}
    for name in ARRAYS:
        out[f"optbench {name}"] = optbench_step(name, w0, g)
        for impl in ("single", "foreach", "fused"):
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
        if w is None or key.startswith("optbench"):
            continue
        ours = cands[f"optbench {key.split()[1]}"][1]
        theirs = w.detach().numpy()
        np.testing.assert_allclose(theirs, ours, rtol=rtol, atol=rtol, err_msg=key)


def run(torch, n: int, dtype: str, samples: int) -> None:
    cands = candidates(torch, n, dtype)
    check(cands, dtype)
    calls = {k: calls_per_block(fn) for k, (fn, _) in cands.items()}
    times = {k: [] for k in cands}
    for _ in range(samples):
        for k, (fn, _) in cands.items():
            times[k].append(sample(fn, calls[k]))
    best = {k: min(v) for k, v in times.items()}
    med = {k: statistics.median(v) for k, v in times.items()}
    itemsize = 4 if dtype == "float32" else 8
    print(f"\nn={n:.0e} {dtype}: bandwidth {3 * n * itemsize / best['bandwidth'] / 1e9:.1f} GB/s")
    print(f"{'candidate':24s} {'min ms':>8s} {'median ms':>10s} {'GB/s':>6s} {'x bound':>8s}")
    for k in cands:
        if k == "bandwidth":
            continue
        arrays = ARRAYS[k.split()[1]]
        bound = best["bandwidth"] * arrays / 3
        gbps = arrays * n * itemsize / best[k] / 1e9
        print(
            f"{k:24s} {best[k] * 1e3:8.2f} {med[k] * 1e3:10.2f} {gbps:6.1f} {best[k] / bound:8.2f}"
        )
    for name in ARRAYS:
        for impl in ("single", "foreach", "fused"):
            ours, theirs = f"optbench {name}", f"torch {name} {impl}"
            print(
                f"{ours} / {theirs}: {best[ours] / best[theirs]:.2f} (min), "
                f"{med[ours] / med[theirs]:.2f} (median)"
            )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, nargs="+", default=[1e7])
    parser.add_argument("--dtype", nargs="+", default=["float32", "float64"])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    from optbench import optimizers

    optimizers.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads for torch and optbench")
    for dtype in args.dtype:
        for n in args.n:
            run(torch, int(n), dtype, args.samples)


if __name__ == "__main__":
    main()
