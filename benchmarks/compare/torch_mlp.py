"""One MLP training step: optbench (problems.layers + optimizers.Momentum) vs torch's CPU autograd.

Run in an environment that has torch and optbench (``pip install -e . torch==2.13.0``;
nothing else imports torch):

    python -m optbench.benchmarks.compare.torch_mlp [--samples 15] [--threads 2]

The step is forward, backward and a Momentum update (lr 0.01, momentum 0.9, torch's
convention in both) of the softmax MLP ``--widths`` (default 784-256-10) at ``--batch`` 128 on
random data, from the same weights. Candidates, timed interleaved with a ``--pause`` (0.15 s)
before every sample; a sample is the mean of a ``--block`` of ~20 ms of steps (on a busy
machine, ``--block 0 --samples 300 --pause 0.01`` times single steps, and their minimum is
rarely interrupted by other processes):

- ``optbench``: ``optbench.benchmarks.suites.bench_mlp.TrainStep`` (preallocated activations and
  gradients);
- ``seed``: the seed document's code style (``np.dot`` and fresh arrays in every layer);
- ``torch``: ``nn.Sequential(Linear, ReLU, Linear)``, ``F.cross_entropy``, ``optim.SGD``;
- ``bound``: only the NumPy products of the step, Z_l = A_{l-1} W_l, dW_l = A_{l-1}^T dZ_l
  and dA_{l-1} = dZ_l W_l^T (l > 1), into preallocated arrays: no step of this design is
  faster, so ``bound / torch`` is the best ratio reachable with this BLAS.

Before timing, the three take 5 steps from the same start and must agree on the losses
(rtol 1e-10 in float64, 1e-4 in float32). The table gives, per candidate, the minimum over
samples (other processes only ever add time, so on a shared machine the minimum is the stable
statistic) and the median; the ratios are of minima. ``x ceiling`` is a step's minimum over
``FLOPs / P``, P the dtype's compute ceiling of ``optbench.benchmarks.ceilings`` (the suites'
definition), measured before and sampled in every round; at least 1 unless the ceiling is
wrong, which the output then says.
"""

from __future__ import annotations

import argparse
import sys
import time

RATIOS = ("optbench", "seed", "bound")
BLOCK_SECONDS = 0.02
PAUSE_SECONDS = 0.15


def sample(fn, calls: int, pause: float = PAUSE_SECONDS) -> float:
    time.sleep(pause)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def calls_per_block(fn, block: float = BLOCK_SECONDS) -> int:
    fn()
    start = time.perf_counter()
    fn()
    return max(1, round(block / max(time.perf_counter() - start, 1e-7)))


def torch_step(torch, ref):
    """A closure doing one torch training step from ``ref``'s weights and data."""
    layers = []
    for W, b in zip(ref.params[::2], ref.params[1::2], strict=True):
        lin = torch.nn.Linear(*W.shape, dtype=getattr(torch, ref.dtype))
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b[0].copy()))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    X, y = torch.from_numpy(ref.X.copy()), torch.from_numpy(ref.y.copy())

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def seed_step(ref):
    """The seed's code style: np.dot, new arrays per call, torch-convention momentum."""
    import numpy as np

    params = [p.copy() for p in ref.params]
    moms = [np.zeros_like(p) for p in params]
    X, y = ref.X, ref.y

    def step():
        acts, a = [X], X
        for i in range(0, len(params), 2):
            a = np.dot(a, params[i]) + params[i + 1]
            if i + 2 < len(params):
                a = np.maximum(0, a)
            acts.append(a)
        exp = np.exp(a - np.max(a, axis=1, keepdims=True))
        probs = exp / np.sum(exp, axis=1, keepdims=True)
        loss = np.mean(-np.log(probs[range(len(y)), y]))
        d = probs.copy()
        d[range(len(y)), y] -= 1
        d = d / len(y)
        for i in range(len(params) - 2, -1, -2):
            grads = (np.dot(acts[i // 2].T, d), np.sum(d, axis=0, keepdims=True))
            if i > 0:
                d = np.dot(d, params[i].T)
                d[acts[i // 2] <= 0] = 0
            for j, g in zip((i, i + 1), grads, strict=True):
                moms[j] = 0.9 * moms[j] + g
                params[j] -= 0.01 * moms[j]
        return float(loss)

    return step


def bound_step(ref):
    """The step's matrix products alone (as ``TrainStep`` computes them), preallocated."""
    import numpy as np

    Ws = ref.params[::2]
    acts = [ref.X] + [np.ones((ref.batch, W.shape[1]), ref.dtype) for W in Ws[:-1]]
    outs = [np.empty((ref.batch, W.shape[1]), ref.dtype) for W in Ws]
    dWs = [np.empty_like(W) for W in Ws]
    dAs = [np.empty_like(a) for a in acts]

    def step():
        for A, W, Z in zip(acts, Ws, outs, strict=True):
            np.matmul(A, W, out=Z)
        for i, (A, W, dW) in enumerate(zip(acts, Ws, dWs, strict=True)):
            np.matmul(A.T, outs[i], out=dW)
            if i:
                np.matmul(outs[i], W.T, out=dAs[i])

    return step


def check_agree(steps, dtype):
    import numpy as np

    losses = {name: [float(fn()) for _ in range(5)] for name, fn in steps.items()}
    rtol = 1e-10 if dtype == "float64" else 1e-4
    for name, values in losses.items():
        np.testing.assert_allclose(values, losses["optbench"], rtol=rtol, err_msg=name)


def compare(torch, widths, batch, dtype, samples, block=BLOCK_SECONDS, pause=PAUSE_SECONDS,
            ceiling=None):  # fmt: skip
    """``{name: (min, median)}`` seconds; a round of the ``ceiling``'s kernels in each sample
    round (``optbench.benchmarks.ceilings``)."""
    import numpy as np

    from optbench.benchmarks.suites.bench_mlp import TrainStep

    ref = TrainStep(widths, batch, dtype)
    candidates = {
        "optbench": TrainStep(widths, batch, dtype),
        "seed": seed_step(ref),
        "torch": torch_step(torch, ref),
    }
    check_agree(candidates, dtype)
    candidates["bound"] = bound_step(ref)
    calls = {name: calls_per_block(fn, block) for name, fn in candidates.items()}
    times = {name: [] for name in candidates}
    for _ in range(samples):
        if ceiling is not None:
            ceiling.sample(1)
        for name, fn in candidates.items():
            times[name].append(sample(fn, calls[name], pause))
    return {name: (float(np.min(t)), float(np.median(t))) for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    import torch
    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--widths", default="784,256,10")
    parser.add_argument("--block", type=float, default=BLOCK_SECONDS, help="seconds per sample")
    parser.add_argument("--pause", type=float, default=PAUSE_SECONDS, help="sleep before each")
    args = parser.parse_args(argv)
    widths = tuple(int(w) for w in args.widths.split(","))
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads, user_api="blas")
    print(f"torch {torch.__version__}, {args.threads} threads; widths {widths}, batch {args.batch}")
    print(
        f"{args.samples} interleaved samples of ~{args.block} s, {args.pause} s pause before each"
    )
    print("times in ms: min (median)\n")
    head = ("dtype", "optbench", "seed style", "torch", "bound", *(f"{k}/torch" for k in RATIOS),
            "optbench x ceiling", "torch x ceiling")  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    from optbench.benchmarks.ceilings import compute_ceiling, x_ceiling
    from optbench.benchmarks.suites.bench_mlp import TrainStep

    flops = TrainStep(widths, args.batch).flops
    notes = []
    for dtype in ("float32", "float64"):
        ceiling = compute_ceiling(dtype, threads=args.threads).measure(3)
        t = compare(torch, widths, args.batch, dtype, args.samples, args.block, args.pause,
                    ceiling)  # fmt: skip
        names = ("optbench", "seed", "torch", "bound")
        cells = " | ".join(f"{t[k][0] * 1e3:.3f} ({t[k][1] * 1e3:.3f})" for k in names)
        ratios = " | ".join(f"{t[k][0] / t['torch'][0]:.3f}" for k in RATIOS)
        xs = {k: x_ceiling(t[k][0], flops, ceiling.rate) for k in names}
        print(f"| {dtype} | {cells} | {ratios} | "
              + " | ".join(f"{xs[k]:.2f}" for k in ("optbench", "torch")) + " |")  # fmt: skip
        sys.stdout.flush()
        notes.append(f"compute ceiling {dtype}: {ceiling.rate / 1e9:.1f} GFLOP/s "
                     f"({ceiling.kernel}, {ceiling.samples} rounds)")  # fmt: skip
        wrong = [k for k, x in xs.items() if x < 1]
        if wrong:
            notes.append(f"CEILING WRONG ({dtype}): {', '.join(wrong)} beat the compute ceiling")
    print(f"\n({flops / 1e6:.0f} MFLOP per step, bench_mlp.TrainStep.flops)")
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
