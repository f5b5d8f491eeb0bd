"""The batch runner: hand-derived curves, targets and divergence; batch independence."""

import numpy as np
import pytest

from optbench.benchmarks import matrix as mx
from optbench.benchmarks import plan
from optbench.benchmarks.runner import path_steps, recording_steps, run_batch

# f(x) = (x - 1)^2 / 2 in 1-D from x0 = 0: SGD with lr eta gives x_t - 1 = -(1 - eta)^t, so
# L(t) = (1 - eta)^(2t) / 2 exactly (up to round-off).
LINE = {"name": "quadratic", "dim": 1, "condition_number": 1.0}


def build(optimizers, problems, **top):
    raw = {"seeds": [0], "budget": {"steps": 40}, **top}
    raw.update(optimizers=optimizers, problems=problems)
    m = mx.parse(raw)
    runs = plan.expand(m, "test")
    return m, runs, plan.batches(runs, m)


def test_recording_steps_are_log_spaced_with_0_and_T():
    steps = recording_steps(2000, 40, "log")
    assert steps[0] == 0 and steps[-1] == 2000
    assert np.all(np.diff(steps) > 0) and len(steps) <= 40
    assert list(steps[:6]) == [0, 1, 2, 3, 4, 5]  # early progress is visible
    assert list(recording_steps(10, 3, "linear")) == [0, 5, 10]
    dense = path_steps(2000, 300)
    assert set(range(60)) <= set(dense.tolist()) and np.max(np.diff(dense)) <= 2000 // 149 + 1


def test_sgd_on_a_1d_quadratic_matches_the_closed_form():
    eta = 0.1
    targets = [1e-1, 1e-3, 1e-6, 1e-12]
    *_, (spec,) = build(
        [{"name": "sgd", "lr": eta}], [LINE], targets=targets, recording={"points": 8}
    )
    res = run_batch(spec)
    expected = 0.5 * (1 - eta) ** (2.0 * res.record_steps)
    np.testing.assert_allclose(res.curves["loss"][:, 0], expected, rtol=1e-12)
    T = spec.steps
    assert res.final["loss"][0] == pytest.approx(0.5 * 0.9 ** (2 * T), rel=1e-12)
    assert res.best_loss[0] == pytest.approx(0.5 * 0.9 ** (2 * T), rel=1e-12)
    t = np.arange(T + 1)
    losses = 0.5 * 0.9 ** (2.0 * t)
    for k, tau in enumerate(sorted(targets, reverse=True)):
        hit = np.flatnonzero(losses <= tau)
        assert res.target_steps[k, 0] == (hit[0] if hit.size else -1), tau
    assert res.diverged_step[0] == -1
    assert np.isnan(res.curves["train_acc"]).all()


def test_a_diverging_run_is_frozen_and_does_not_touch_its_batch():
    # lr = 3: x_t - 1 = -(-2)^t, L(t) = 4^t / 2 > 1e6 * max(1, L(0)) first at t = 11.
    m, runs, (spec,) = build([{"name": "sgd", "lr": [0.1, 3.0]}], [LINE])
    res = run_batch(spec)
    lrs = spec.arrays["lr"]
    bad, good = lrs.index(3.0), lrs.index(0.1)
    assert res.diverged_step[bad] == 11 and res.diverged_step[good] == -1
    assert res.final["loss"][bad] == 0.5 * 4.0**11
    assert res.best_loss[bad] == 0.5
    after = res.record_steps >= 11
    assert np.isnan(res.curves["loss"][after, bad]).all()
    assert np.isfinite(res.curves["loss"][~after, bad]).all()
    assert (res.target_steps[:, bad] == -1).all()
    alone = run_batch(plan.make_spec([r for r in runs if r.hparams["lr"] == 0.1], m))
    np.testing.assert_array_equal(alone.curves["loss"][:, 0], res.curves["loss"][:, good])
    np.testing.assert_array_equal(alone.target_steps[:, 0], res.target_steps[:, good])


def test_non_finite_losses_diverge_at_their_first_step():
    *_, (spec,) = build(
        [{"name": "sgd", "lr": [1e-3, 1e30]}], [{"name": "rosenbrock"}], divergence={"bound": 1e300}
    )
    res = run_batch(spec)
    assert res.diverged_step[spec.arrays["lr"].index(1e30)] > 0
    assert res.diverged_step[spec.arrays["lr"].index(1e-3)] == -1


def test_two_d_problems_record_their_path_from_the_start():
    *_, (spec,) = build([{"name": "adam", "lr": 0.01}], [{"name": "rosenbrock"}])
    res = run_batch(spec)
    assert res.path_steps[0] == 0 and res.path_steps[-1] == spec.steps
    np.testing.assert_array_equal(res.paths[0, 0], [-1.2, 1.0])
    assert res.paths.shape == (len(res.path_steps), 1, 2)
    _, _, (spec10,) = build([{"name": "adam", "lr": 0.01}], [{"name": "rosenbrock", "dim": 10}])
    assert run_batch(spec10).paths is None


PROBLEMS = [
    {"name": "rosenbrock"},
    {"name": "quadratic", "dim": 5, "condition_number": 100.0, "noise": 0.1},
    {"name": "mlp", "dataset": "spiral", "hidden": [8], "batch_size": 16},
]


@pytest.mark.parametrize("optimizer", ["adam", "nesterov", "rmsprop", "adagrad"])
def test_results_do_not_depend_on_the_batch(optimizer):
    """Each run of a batch equals the same run executed alone (R = 1), bit for bit."""
    m, runs, specs = build(
        [{"name": optimizer, "lr": [1e-3, 0.05, 50.0]}],
        PROBLEMS,
        seeds=[3, 7],
        budget={"steps": 30},
        recording={"points": 10, "path_points": 10},
    )
    for spec in specs:
        batch = run_batch(spec)
        by_id = {r.run_id: r for r in runs}
        for i, run_id in enumerate(spec.run_ids):
            alone = run_batch(plan.make_spec([by_id[run_id]], m))
            for name, curve in batch.curves.items():
                np.testing.assert_array_equal(alone.curves[name][:, 0], curve[:, i], name)
            for name, final in batch.final.items():
                np.testing.assert_array_equal(alone.final[name][0], final[i], name)
            np.testing.assert_array_equal(alone.best_loss[0], batch.best_loss[i])
            np.testing.assert_array_equal(alone.target_steps[:, 0], batch.target_steps[:, i])
            assert alone.diverged_step[0] == batch.diverged_step[i]
            if batch.paths is not None:
                np.testing.assert_array_equal(alone.paths[:, 0], batch.paths[:, i])


def test_mlp_runs_record_train_and_test_metrics():
    *_, (spec,) = build(
        [{"name": "momentum", "lr": 0.05}],
        [{"name": "mlp", "dataset": "spiral", "hidden": [8], "batch_size": 16}],
        budget={"epochs": 2},
    )
    res = run_batch(spec)
    assert spec.steps == 2 * (480 // 16)
    for name in ("train_loss", "test_loss", "train_acc", "test_acc"):
        assert np.isfinite(res.curves[name]).all() and np.isfinite(res.final[name]).all()
    np.testing.assert_array_equal(res.curves["loss"], res.curves["train_loss"])
    assert res.target_steps.shape == (0, 1)  # f_star unknown: no targets
    assert res.best_loss[0] == np.min(res.curves["loss"][:, 0])  # exact losses, not minibatch


@pytest.mark.parametrize("steps", [1, 7, 300])
@pytest.mark.parametrize("path_points", [2, 5, 300])
def test_every_path_row_is_an_iterate_of_the_run(steps, path_points):
    # paths start uninitialized: every path step must be captured (and equal the iterate)
    *_, (spec,) = build(
        [{"name": "sgd", "lr": [1e-4, 1e-3]}],
        [{"name": "rosenbrock", "dim": 2, "start": "random"}],
        seeds=[0, 1],
        budget={"steps": steps},
        recording={"path_points": path_points},
    )
    res = run_batch(spec)
    assert res.paths.shape == (len(res.path_steps), spec.size, 2)
    assert np.isfinite(res.paths).all()
    assert res.path_steps[0] == 0 and res.path_steps[-1] == steps
    from optbench.problems import REGISTRY

    problem = REGISTRY["rosenbrock"](dim=2, start="random")
    X = problem.init_params(np.array(spec.seeds))[0].copy()
    lr = np.array(spec.arrays["lr"])[:, None]
    want = {}
    for t in range(steps + 1):  # plain SGD by hand: x <- x + (-lr) g
        want[t] = X.copy()
        _, (G,) = problem.loss_and_grad([X])
        X = X + (-lr) * G
    for row, t in zip(res.paths, res.path_steps, strict=True):
        np.testing.assert_array_equal(row, want[int(t)])
