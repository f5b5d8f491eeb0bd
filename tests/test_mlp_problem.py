"""The MLP problem: whole-network gradients, per-run minibatches, data, evaluation, bad input."""

import json

import numpy as np
import pytest

from optbench.optimizers import Momentum
from optbench.problems import MLP, REGISTRY
from optbench.problems import datasets as ds


def fd_check(p, seeds, params):
    """Every entry of every parameter, central differences of the run-summed loss of the same
    minibatch (init_params resets the streams, so each evaluation sees step 0's batch)."""
    p.init_params(seeds)
    _, grads = p.loss_and_grad(params)
    grads = [g.copy() for g in grads]
    for W, G in zip(params, grads, strict=True):
        F = np.zeros_like(W)
        for i in np.ndindex(W.shape):
            old = W[i]
            vals = []
            for x in (old + 1e-6, old - 1e-6):
                W[i] = x
                p.init_params(seeds)
                vals.append(p.loss_and_grad(params)[0].sum())
            W[i] = old
            F[i] = (vals[0] - vals[1]) / 2e-6
        assert np.linalg.norm(G - F) / np.linalg.norm(F) < 1e-6


@pytest.mark.parametrize("batch_size", [None, 16])
def test_whole_network_gradient_matches_central_differences(batch_size):
    p = MLP(dataset="spiral", hidden=(6, 5), batch_size=batch_size)
    params = p.init_params([4, 9])
    for W in params[1::2]:
        W += 0.1 * np.random.default_rng(0).standard_normal(W.shape)  # nonzero biases
    fd_check(p, [4, 9], params)


def test_single_run_gradient_matches_central_differences_on_digits():
    p = MLP(hidden=(5,), batch_size=8)
    fd_check(p, [11], p.init_params([11]))


def _train(p, seeds, steps):
    params = p.init_params(seeds)
    opt = Momentum(params, lr=0.05, momentum=0.9)
    losses = []
    for _ in range(steps):
        loss, grads = p.loss_and_grad(params)
        losses.append(loss.copy())
        opt.step(grads)
    return params, np.array(losses)


def test_batch_of_seeds_equals_runs_one_by_one_across_epochs():
    p = MLP(hidden=(16,), batch_size=64)  # 22 steps per epoch: 30 steps cross an epoch
    params, losses = _train(p, [3, 1, 2], 30)
    metrics = p.evaluate(params)
    for i, seed in enumerate([3, 1, 2]):
        q = MLP(hidden=(16,), batch_size=64)
        single, single_losses = _train(q, [seed], 30)
        np.testing.assert_array_equal(single_losses[:, 0], losses[:, i])
        for a, b in zip(single, params, strict=True):
            np.testing.assert_array_equal(a[0], b[i])
        for key, value in q.evaluate(single).items():
            np.testing.assert_array_equal(value[0], metrics[key][i])


def test_runs_beyond_one_chunk_match_single_runs():
    from optbench.problems.mlp import TRAIN_RUNS

    seeds = list(range(TRAIN_RUNS + 4))  # two chunks of runs in loss_and_grad and evaluate
    p = MLP(dataset="spiral", hidden=(8,), batch_size=32)
    params, losses = _train(p, seeds, 5)
    metrics = p.evaluate(params)
    for i in (2, TRAIN_RUNS + 1):
        q = MLP(dataset="spiral", hidden=(8,), batch_size=32)
        single, single_losses = _train(q, [i], 5)
        np.testing.assert_array_equal(single_losses[:, 0], losses[:, i])
        for a, b in zip(single, params, strict=True):
            np.testing.assert_array_equal(a[0], b[i])
        for key, value in q.evaluate(single).items():
            assert value[0] == metrics[key][i], key


def test_minibatches_cover_each_epoch_once_and_reshuffle():
    p = MLP(dataset="spiral", hidden=(4,), batch_size=80)
    p.init_params([0, 1])
    assert p.steps_per_epoch == 480 // 80 == 6
    epoch = []
    for _ in range(2 * p.steps_per_epoch):
        epoch.append(p.X_train[p._batch_indices(2)])
        p._step += 1
    first, second = np.concatenate(epoch[:6], axis=1), np.concatenate(epoch[6:], axis=1)
    for r in range(2):  # every training sample exactly once per epoch, in a new order
        np.testing.assert_array_equal(np.sort(first[r], axis=0), np.sort(p.X_train, axis=0))
        assert not np.array_equal(first[r], second[r])
    assert not np.array_equal(first[0], first[1])  # each run its own order


def test_training_learns_digits_and_evaluate_reports_all_metrics():
    p = MLP(hidden=(32,), batch_size=32)
    params, losses = _train(p, [0, 1], 3 * p.steps_per_epoch)
    m = p.evaluate(params)
    assert set(m) == {"loss", "train_loss", "train_acc", "test_loss", "test_acc"}
    assert (m["test_acc"] > 0.9).all() and (m["train_loss"] < 0.3).all()
    np.testing.assert_array_equal(m["loss"], m["train_loss"])
    assert losses[-5:].mean() < 0.3 < losses[0].mean()
    assert p.f_star is None and p.x_star is None and p.stochastic


def test_interface_attributes_config_and_label():
    p = MLP()
    assert p.dim == 64 * 64 + 64 + 64 * 10 + 10 == sum(np.prod(s) for s in p.shapes)
    assert p.steps_per_epoch == 1438 // 128 and len(p.X_test) == 359
    assert p.label == "mlp(digits, 64-64-10, m=128)"
    assert REGISTRY["mlp"] is MLP
    assert MLP(**json.loads(json.dumps(p.config()))).label == p.label
    q = MLP(dataset="spiral", hidden=[8, 8], batch_size="full", init="seed", dtype="float32")
    assert q.label == "mlp(spiral, 2-8-8-3, full-batch, init=seed, float32)"
    assert q.config()["batch_size"] == "full" and MLP(**q.config()).label == q.label
    assert MLP(dataset="spiral", batch_size=None).config()["batch_size"] == "full"
    assert not q.stochastic and q.steps_per_epoch == 1
    params = q.init_params([0])
    assert all(w.dtype == np.float32 for w in params)
    assert abs(params[2].std() - 0.01) < 0.003 and not params[1].any()
    loss, grads = q.loss_and_grad(params)
    assert loss.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)


def test_digits_data_and_split():
    X, y = ds.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 16 and set(np.unique(y)) == set(range(10))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    Xtr, _, Xte, yte = ds.split(X, y, 0.2, seed=0)
    assert len(Xtr) == 1438 and len(Xte) == 359
    np.testing.assert_allclose(Xtr.mean(axis=0), 0.0, atol=1e-12)
    std = Xtr.std(axis=0)
    assert np.allclose(std[std > 0], 1.0) and (std[std == 0] == 0).sum() >= 1  # constant pixels
    again = ds.split(X, y, 0.2, seed=0)
    np.testing.assert_array_equal(again[3], yte)
    assert not np.array_equal(ds.split(X, y, 0.2, seed=1)[3], yte)


def test_spiral():
    X, y = ds.spiral(points=50, classes=4, seed=0)
    assert X.shape == (200, 2) and np.bincount(y).tolist() == [50] * 4
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1.0 + 1e-12
    np.testing.assert_array_equal(ds.spiral(points=50, classes=4, seed=0)[0], X)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dataset": "mnist"}, "dataset must be one of"),
        ({"hidden": 64}, "hidden must be a sequence"),
        ({"hidden": [0]}, r"hidden\[i\] must be >= 1"),
        ({"init": "xavier"}, "init must be one of"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"batch_size": "all"}, "batch_size must be a positive integer or 'full'"),
        ({"batch_size": 5000}, "batch_size must be >= 1 and <= 1438"),
        ({"test_fraction": 1.0}, "test_fraction must leave training data"),
        ({"test_fraction": -0.1}, "test_fraction must be >= 0"),
        ({"test_fraction": 0.0}, "at least one test sample"),
        ({"dtype": "int64"}, "dtype must be one of"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


def test_bad_params_and_data():
    p = MLP(dataset="spiral", hidden=(4,))
    params = p.init_params([0])
    with pytest.raises(ValueError, match="list of 4 arrays"):
        p.loss_and_grad(params[:3])
    with pytest.raises(ValueError, match=r"params\[2\] must have shape \(1, 4, 3\)"):
        p.loss_and_grad([params[0], params[1], np.zeros((1, 4, 2)), params[3]])
    with pytest.raises(ValueError, match="init_params"):
        MLP(dataset="spiral", hidden=(4,)).loss_and_grad(params)
    with pytest.raises(ValueError, match="empty"):
        ds.split(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="finite"):
        ds.split(np.array([[np.nan], [1.0]]), np.array([0, 1]))
    with pytest.raises(ValueError, match="integer labels"):
        ds.split(np.zeros((2, 3)), np.array([0.0, 1.0]))
