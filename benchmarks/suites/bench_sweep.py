"""Hyperparameter-sweep throughput: run-steps per second through the real harness code path.

Adam on Rosenbrock 2-D, R runs with learning rates log-spaced in [1e-4, 1e-1], 2,000 steps.
Each case builds its batch exactly as ``optbench run`` does (matrix -> ``plan.expand`` ->
``plan.batches``) and times ``runner.run_batch``: the problem, the optimizer, divergence and
target tracking every step, and the recording of curves and 2-D paths. Baselines:

* ``loop``: a Python loop over separate runs, each a hand-written NumPy Adam on a ``(2,)``
  array (what one writes without the run axis);
* ``loop_harness``: a loop over separate R = 1 batches of the harness.

``extra_info["run_steps_per_s"] = R * steps / t_min``. Targets (issue 4): >= 300x ``loop`` at
R = 1024; within 2x of JAX (jit + vmap + scan + optax, ``benchmarks/compare/jax_sweep.py``) at
R = 16384.
"""

from __future__ import annotations

import numpy as np
import pytest

STEPS = 2000
LOOP_RUNS = 4


def sweep_spec(R: int, steps: int = STEPS):
    """The batch ``optbench run`` would execute for this sweep (one batch of R runs)."""
    from optbench.benchmarks import matrix as mx
    from optbench.benchmarks import plan

    raw = {
        "seeds": [0],
        "budget": {"steps": steps},
        "optimizers": [{"name": "adam", "lr": {"logspace": [1e-4, 1e-1], "num": R}}],
        "problems": [{"name": "rosenbrock", "dim": 2}],
    }
    matrix = mx.parse(raw, source="")
    (spec,) = plan.batches(plan.expand(matrix, "bench"), matrix)
    return spec


def adam_rosenbrock_loop(lr: float, steps: int = STEPS) -> np.ndarray:
    """One run, written directly: torch-convention Adam on Rosenbrock from (-1.2, 1)."""
    x = np.array([-1.2, 1.0])
    m, v = np.zeros(2), np.zeros(2)
    g = np.empty(2)
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        d = x[1] - x[0] * x[0]
        g[0] = -400.0 * x[0] * d - 2.0 * (1.0 - x[0])
        g[1] = 200.0 * d
        m += (1 - b1) * (g - m)
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v) / np.sqrt(1 - b2**t) + eps
        x -= lr / (1 - b1**t) * m / denom
    return x


def _info(benchmark, R: int, kind: str) -> None:
    benchmark.extra_info.update(
        kind=kind, R=R, steps=STEPS, shape=f"({R}, 2)", dtype="float64", problem="rosenbrock",
        optimizer="adam", run_steps=R * STEPS,
    )  # fmt: skip


def _rate(benchmark, R: int) -> None:
    benchmark.extra_info["run_steps_per_s"] = R * STEPS / benchmark.stats.stats.min


@pytest.mark.parametrize(
    "R",
    [
        pytest.param(1, marks=pytest.mark.quick),
        pytest.param(64, marks=pytest.mark.quick),
        1024,
        16384,
    ],
)
def test_sweep_through_the_harness(benchmark, R):
    from optbench.benchmarks.runner import run_batch

    spec = sweep_spec(R)
    _info(benchmark, R, "harness")
    rounds = 3 if R >= 16384 else 5
    result = benchmark.pedantic(run_batch, args=(spec,), rounds=rounds, iterations=1)
    _rate(benchmark, R)
    assert result.diverged_step.shape == (R,)
    assert np.isfinite(result.final["loss"]).all()


@pytest.mark.quick
def test_loop_over_separate_runs(benchmark):
    lrs = np.logspace(-4, -1, LOOP_RUNS)
    _info(benchmark, LOOP_RUNS, "loop")
    xs = benchmark.pedantic(
        lambda: [adam_rosenbrock_loop(float(lr)) for lr in lrs], rounds=3, iterations=1
    )
    _rate(benchmark, LOOP_RUNS)
    # the same arithmetic as the harness's Adam (torch convention), to round-off
    from optbench.benchmarks.runner import run_batch

    spec = sweep_spec(LOOP_RUNS)
    spec.recording["path_points"] = 2
    final = run_batch(spec).paths[-1]
    np.testing.assert_allclose(np.array(xs), final, rtol=1e-9, atol=1e-12)


@pytest.mark.quick
def test_loop_over_separate_harness_runs(benchmark):
    from optbench.benchmarks import plan
    from optbench.benchmarks.runner import run_batch

    spec = sweep_spec(LOOP_RUNS)
    singles = [plan.BatchSpec(**{**vars(spec), "arrays": {"lr": [lr]}, "seeds": [0],
                                 "run_ids": [rid]})
               for lr, rid in zip(spec.arrays["lr"], spec.run_ids, strict=True)]  # fmt: skip
    _info(benchmark, LOOP_RUNS, "loop_harness")
    benchmark.pedantic(lambda: [run_batch(s) for s in singles], rounds=3, iterations=1)
    _rate(benchmark, LOOP_RUNS)
