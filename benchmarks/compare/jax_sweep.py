"""Sweep throughput: optbench's harness vs JAX (jit + vmap + scan + optax), side by side.

Run in an environment that has JAX and optax and optbench (``pip install -e . jax optax``;
nothing else imports JAX and optax):

    python -m optbench.benchmarks.compare.jax_sweep [--R 1024 16384] [--steps 2000]
        [--samples 5]

Both candidates run Adam (lr log-spaced in [1e-4, 1e-1], betas (0.9, 0.999), eps 1e-8) on
Rosenbrock 2-D from (-1.2, 1) for ``steps`` steps, for R runs at once, in float64:

- ``optbench``: ``optbench.benchmarks.runner.run_batch`` on the batch ``optbench run`` would
  build (the
  problem, the optimizer, per-step divergence and target tracking, curve and path recording);
- ``jax``: ``jax.vmap`` over runs of a ``jax.lax.scan`` over steps of ``optax.adam``, jitted
  (compiled before timing), returning the final parameters and losses.

Samples are interleaved, each after a 0.15 s pause; the table gives each candidate's best time
(other processes only ever add time), its run-steps per second, and the ratio optbench / jax.
The final iterates of both are compared first (they must agree to round-off).

Both are placed against the memory ceiling of ``optbench.benchmarks.ceilings`` (the suites'
definition) at the state's size, n = 2R float64, one round of its kernels before each sample
round: every step must read and write the parameters and Adam's two moments (3 arrays of 2R,
``96 R`` bytes; the gradient and the loss may stay in registers in a fused kernel), so
``x ceiling = t / (steps * 96 R / B)``, at least 1 unless the ceiling is wrong (then said).
"""

from __future__ import annotations

import argparse
import sys
import time

PAUSE_SECONDS = 0.15


def jax_sweep(R: int, steps: int):
    """A compiled function running the R-run sweep; returns (final params, final losses)."""
    import jax
    import jax.numpy as jnp
    import optax

    def rosenbrock(x):
        return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2

    def one_run(lr):
        opt = optax.adam(lr, b1=0.9, b2=0.999, eps=1e-8)
        x0 = jnp.array([-1.2, 1.0], dtype=jnp.float64)

        def step(carry, _):
            x, state = carry
            g = jax.grad(rosenbrock)(x)
            updates, state = opt.update(g, state, x)
            return (optax.apply_updates(x, updates), state), None

        (x, _), _ = jax.lax.scan(step, (x0, opt.init(x0)), None, length=steps)
        return x, rosenbrock(x)

    lrs = jnp.logspace(-4.0, -1.0, R, dtype=jnp.float64)
    fn = jax.jit(jax.vmap(one_run))
    jax.block_until_ready(fn(lrs))  # compile

    def run():
        return jax.block_until_ready(fn(lrs))

    return run


def optbench_sweep(R: int, steps: int):
    from optbench.benchmarks.runner import run_batch
    from optbench.benchmarks.suites.bench_sweep import sweep_spec

    spec = sweep_spec(R, steps)
    spec.recording["path_points"] = 2  # keeps the final iterate for the check below
    return lambda: run_batch(spec)


def sweep_bytes(R: int, steps: int) -> int:
    """Bytes every step must move: x, m and v (2R float64 each) read and written."""
    return steps * 6 * 2 * R * 8


def best_times(candidates: dict, samples: int, ceiling=None) -> dict:
    times = {name: [] for name in candidates}
    for _ in range(samples):
        if ceiling is not None:
            time.sleep(PAUSE_SECONDS)
            ceiling.sample(1)
        for name, fn in candidates.items():
            time.sleep(PAUSE_SECONDS)
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--R", type=int, nargs="+", default=[1024, 16384])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args(argv)

    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, numpy {np.__version__}")
    from optbench.benchmarks.ceilings import memory_ceiling, x_ceiling

    print(f"{'R':>6} {'candidate':>9} {'best s':>9} {'run-steps/s':>12} {'x ceiling':>10}")
    for R in args.R:
        ours, theirs = optbench_sweep(R, args.steps), jax_sweep(R, args.steps)
        x_ours = ours().paths[-1]
        x_jax = np.asarray(theirs()[0])
        np.testing.assert_allclose(x_ours, x_jax, rtol=1e-7, atol=1e-9)
        ceiling = memory_ceiling(2 * R, "float64")
        best = best_times({"optbench": ours, "jax": theirs}, args.samples, ceiling)
        moved = sweep_bytes(R, args.steps)
        for name, t in best.items():
            x = x_ceiling(t, moved, ceiling.rate)
            wrong = "  CEILING WRONG: beats the memory ceiling" if x < 1 else ""
            print(f"{R:>6} {name:>9} {t:>9.4f} {R * args.steps / t:>12.3g} {x:>10.2f}{wrong}")
        print(f"{R:>6} optbench / jax time ratio: {best['optbench'] / best['jax']:.2f}; memory "
              f"ceiling {ceiling.rate / 1e9:.1f} GB/s ({ceiling.kernel})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
