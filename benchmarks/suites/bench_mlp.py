"""MLP training-step benchmarks (pytest-benchmark), run by ``optbench bench --suites mlp``.

- ``test_train_step``: one step (forward, backward, ``optbench.optimizers.Momentum`` update) of the
  784-256-10 softmax MLP at batch 128 on random data, float32 and float64 (``quick``). FLOPs
  counted: forward 2 m sum(n_in n_out); backward dW for every layer and dX for all but the
  first. Bytes counted (:attr:`TrainStep.bytes`): each layer's forward and backward as
  ``bench_dense.dense_bytes`` counts them, plus the Momentum step (5 arrays per parameter).
  ``benchmarks/compare/torch_mlp.py`` times the same step against torch.
- ``test_runs``: the digits MLP problem (64-64-10, m = 128) trained R runs at a time, ``batched``
  (one ``loss_and_grad`` and one ``Momentum.step`` for all R) versus ``separate`` (R problems of
  one run each, stepped in a Python loop), R = 16 and 64. The batched case also records
  ``separate_over_batched``, the ratio of the two measured side by side (min of 7 samples).
- ``test_rosenbrock_step``: the harness's hottest problem call, ``loss_and_grad`` of the 2-D
  Rosenbrock for R = 16,384 runs (Fortran-ordered X, as ``init_params`` returns it). Records
  the bytes it must move (read X, write the gradient and the losses) and ``passes``, its time
  in units of one ``np.multiply`` pass over a column of R values, measured alongside.
"""

import time
from itertools import pairwise

import numpy as np
import pytest

from optbench.optimizers import Momentum
from optbench.problems import MLP, Rosenbrock
from optbench.problems.mlp import Network

WIDTHS, BATCH = (784, 256, 10), 128


class TrainStep:
    """One training step of a Dense-ReLU-...-Dense softmax network, as a callable.

    Random data X (m, n_0) and labels, He-initialized weights, Momentum(lr=0.01, 0.9).
    """

    def __init__(self, widths=WIDTHS, batch=BATCH, dtype="float64", seed=0):
        gen = np.random.default_rng(seed)
        self.widths, self.batch, self.dtype = tuple(widths), batch, dtype
        self.X = gen.standard_normal((batch, widths[0])).astype(dtype)
        self.y = gen.integers(0, widths[-1], batch)
        self.params = []
        for a, b in pairwise(widths):
            W = np.sqrt(2.0 / a) * gen.standard_normal((a, b))
            self.params += [W.astype(dtype), np.zeros((1, b), dtype)]
        self.net = Network(len(widths) - 1)
        self.net.set(self.params)
        self.opt = Momentum(self.params, lr=0.01, momentum=0.9)

    def __call__(self):
        loss = self.net.forward(self.X, self.y)
        self.net.backward()
        self.opt.step(self.net.grads())
        return loss

    @property
    def bytes(self):
        from optbench.benchmarks.suites.bench_dense import DenseCase, dense_bytes

        item = np.dtype(self.dtype).itemsize
        total = -2 * self.batch * self.widths[0] * item  # the first layer computes no dX
        for a, b in pairwise(self.widths):
            case = DenseCase(None, None, None, None, (self.batch, a, b), self.dtype, None)
            total += dense_bytes(case, "dense_forward") + dense_bytes(case, "dense_backward")
            total += 5 * (a * b + b) * item  # Momentum: w, buffer read and written, dW read
        return total

    @property
    def flops(self):
        layers = list(pairwise(self.widths))
        fwd = sum(2 * self.batch * a * b for a, b in layers)
        return fwd + fwd + sum(2 * self.batch * a * b for a, b in layers[1:])


@pytest.mark.quick
def test_train_step(timed, benchmark, bench_dtype, ceilings):
    ceilings.compute(bench_dtype)
    step = TrainStep(dtype=bench_dtype)
    first = float(step())
    timed(step)
    assert np.isfinite(first) and float(step()) < first  # it trains
    benchmark.extra_info.update(
        kind="mlp_train_step", shape=[BATCH, *WIDTHS], dtype=bench_dtype, runs=None,
        flops=step.flops, bytes=step.bytes,
    )  # fmt: skip


class RunsStep:
    """R runs of the digits MLP: batched in one problem, or R one-run problems in a loop."""

    def __init__(self, R, batched):
        seeds = list(range(R))
        groups = [seeds] if batched else [[s] for s in seeds]
        self.problems = [MLP(hidden=(64,), batch_size=128) for _ in groups]
        self.params = [p.init_params(g) for p, g in zip(self.problems, groups, strict=True)]
        self.opts = [Momentum(w, lr=0.05, momentum=0.9) for w in self.params]

    def __call__(self):
        for p, w, opt in zip(self.problems, self.params, self.opts, strict=True):
            opt.step(p.loss_and_grad(w)[1])


def _min_time(fn, calls=5, samples=7):
    best = float("inf")
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


@pytest.mark.parametrize("mode", ["batched", "separate"])
@pytest.mark.parametrize("R", [pytest.param(16, marks=pytest.mark.quick), 64])
def test_runs(timed, benchmark, R, mode):
    step = RunsStep(R, batched=mode == "batched")
    timed(step)
    m, widths = 128, (64, 64, 10)
    fwd = sum(2 * m * a * b for a, b in pairwise(widths))
    info = dict(kind=f"mlp_runs_{mode}", shape=[m, *widths], dtype="float64", runs=R)
    if mode == "batched":
        other = RunsStep(R, batched=False)
        t_sep, t_bat = _min_time(other), _min_time(step)
        info["separate_over_batched"] = t_sep / t_bat
    benchmark.extra_info.update(info, flops=R * (3 * fwd - 2 * m * 64 * 64))


@pytest.mark.quick
def test_rosenbrock_step(timed, benchmark):
    R = 16384
    p = Rosenbrock()
    (X,) = p.init_params(list(range(R)))
    loss, _ = timed(p.loss_and_grad, setup=lambda: ([X],))
    assert loss[0] == pytest.approx(24.2)
    col, out = X[:, 0], np.empty(R)
    one_pass = _min_time(lambda: np.multiply(col, col, out=out), calls=50)
    passes = _min_time(lambda: p.loss_and_grad([X]), calls=50) / one_pass
    benchmark.extra_info.update(
        kind="rosenbrock_loss_and_grad", shape=[R, 2], dtype="float64", runs=R,
        bytes=5 * R * 8, passes=passes,
    )  # fmt: skip
