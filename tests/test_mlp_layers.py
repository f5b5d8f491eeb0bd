"""The MLP's layers: forward values, backward vs central differences, run axis, bad input."""

import numpy as np
import pytest

from optbench.problems.layers import (
    CategoricalCrossEntropy,
    Dense,
    ReLU,
    Softmax,
    SoftmaxCrossEntropy,
    accuracy,
)

H = 1e-6


def fd(f, x, h=H):
    """Central differences of the scalar f() with respect to every entry of x (in place)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * h)
    return g


def rel_err(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("lead", [(), (3,)], ids=["2d", "runs"])
def test_dense_forward_and_backward(lead):
    gen = np.random.default_rng(0)
    layer = Dense(4, 3, runs=lead[0] if lead else None, init="he", rng=gen)
    layer.biases[...] = gen.standard_normal(layer.biases.shape)
    X = gen.standard_normal((*lead, 5, 4))
    C = gen.standard_normal((*lead, 5, 3))  # L = sum(Z * C), so dZ = C
    Z = layer.forward(X)
    np.testing.assert_allclose(Z, X @ layer.weights + layer.biases, rtol=1e-14)
    dX = layer.backward(C).copy()

    def loss():
        return np.sum(layer.forward(X) * C)

    assert rel_err(layer.dweights, fd(loss, layer.weights)) < 1e-6
    assert rel_err(layer.dbiases, fd(loss, layer.biases)) < 1e-6
    assert rel_err(dX, fd(loss, X)) < 1e-6


def test_dense_run_axis_equals_per_run_layers_and_shared_inputs():
    gen = np.random.default_rng(1)
    W, b = gen.standard_normal((3, 6, 4)), gen.standard_normal((3, 1, 4))
    X, dZ = gen.standard_normal((3, 8, 6)), gen.standard_normal((3, 8, 4))
    batched = Dense.wrap(W, b)
    Z, dX = batched.forward(X).copy(), batched.backward(dZ).copy()
    shared = Dense.wrap(W, b)
    shared.forward(X[1])  # one (m, n_in) input for every run
    shared.backward(dZ)
    for r in range(3):
        single = Dense.wrap(W[r].copy(), b[r].copy())
        np.testing.assert_array_equal(single.forward(X[r]), Z[r])
        np.testing.assert_array_equal(single.backward(dZ[r]), dX[r])
        np.testing.assert_array_equal(single.dweights, batched.dweights[r])
        np.testing.assert_array_equal(single.dbiases, batched.dbiases[r])
    np.testing.assert_allclose(shared.dweights[0], X[1].T @ dZ[0], rtol=1e-13)


def test_dense_init_and_dtype():
    gen = np.random.default_rng(2)
    assert abs(Dense(400, 300, init="seed", rng=gen).weights.std() - 0.01) < 2e-4
    assert abs(Dense(400, 300, init="he", rng=gen).weights.std() - np.sqrt(2 / 400)) < 2e-3
    layer = Dense(3, 2, runs=4, rng=gen, dtype=np.float32)
    assert layer.weights.shape == (4, 3, 2) and layer.biases.shape == (4, 1, 2)
    assert not layer.biases.any() and layer.weights.dtype == np.float32
    assert layer.forward(np.ones((5, 3), np.float32)).dtype == np.float32
    assert layer.backward(np.ones((4, 5, 2), np.float32), need_dinputs=False) is None
    legacy = np.random.RandomState(42)
    np.testing.assert_array_equal(Dense(2, 3, rng=legacy).weights, 0.01 * _randn_42(2, 3))


def _randn_42(*shape):
    return np.random.RandomState(42).randn(*shape)


def test_relu():
    relu = ReLU()
    Z = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.25]])
    np.testing.assert_array_equal(relu.forward(Z), [[0, 0, 2], [3, 0, 0.25]])
    np.testing.assert_array_equal(relu.backward(np.full((2, 3), 7.0)), [[0, 0, 7], [7, 0, 7]])
    gen = np.random.default_rng(3)
    X, C = gen.standard_normal((2, 4, 5)), gen.standard_normal((2, 4, 5))
    relu.forward(X)
    assert rel_err(relu.backward(C).copy(), fd(lambda: np.sum(relu.forward(X) * C), X)) < 1e-6


@pytest.mark.parametrize("lead", [(), (2,)], ids=["2d", "runs"])
def test_softmax(lead):
    gen = np.random.default_rng(4)
    sm = Softmax()
    Z, C = gen.standard_normal((*lead, 4, 5)), gen.standard_normal((*lead, 4, 5))
    P = sm.forward(Z).copy()
    np.testing.assert_allclose(P.sum(axis=-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(P, np.exp(Z) / np.exp(Z).sum(axis=-1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(sm.forward(Z + 1000.0), P, rtol=1e-12)  # shift-invariant, stable
    sm.forward(Z)
    assert rel_err(sm.backward(C), fd(lambda: np.sum(sm.forward(Z) * C), Z)) < 1e-6


@pytest.mark.parametrize("lead", [(), (2,)], ids=["2d", "runs"])
def test_categorical_cross_entropy(lead):
    gen = np.random.default_rng(5)
    P = Softmax().forward(gen.standard_normal((*lead, 6, 4))).copy()
    y = gen.integers(0, 4, size=(*lead, 6))
    Y = np.eye(4)[y]
    cce = CategoricalCrossEntropy()
    losses = cce.forward(P, y)
    np.testing.assert_allclose(losses, -np.log(np.take_along_axis(P, y[..., None], -1)[..., 0]))
    np.testing.assert_allclose(cce.forward(P, Y), losses, rtol=1e-15)
    dP = cce.backward(P, y)
    np.testing.assert_array_equal(cce.backward(P, Y), dP)
    assert rel_err(dP, fd(lambda: np.sum(np.mean(cce.forward(P, y), axis=-1)), P)) < 1e-6
    clipped = cce.forward(np.array([[1.0, 0.0]]), np.array([1]))
    assert clipped[0] == pytest.approx(-np.log(1e-7))  # the seed's clip


@pytest.mark.parametrize("labels", ["sparse", "onehot", "shared"])
@pytest.mark.parametrize("lead", [(), (3,)], ids=["2d", "runs"])
def test_softmax_cross_entropy(lead, labels):
    gen = np.random.default_rng(6)
    Z = 3.0 * gen.standard_normal((*lead, 7, 5))
    y = gen.integers(0, 5, size=Z.shape[-2:-1] if labels == "shared" else Z.shape[:-1])
    y_true = np.eye(5)[y] if labels == "onehot" else y
    sce = SoftmaxCrossEntropy()
    loss = sce.forward(Z, y_true)
    assert np.shape(loss) == lead
    P = Softmax().forward(Z)
    reference = np.mean(
        -np.log(np.take_along_axis(P, np.broadcast_to(y, Z.shape[:-1])[..., None], -1)),
        axis=(-2, -1),
    )
    np.testing.assert_allclose(loss, reference, rtol=1e-13)
    dZ = sce.backward().copy()
    assert rel_err(dZ, fd(lambda: np.sum(sce.forward(Z, y_true)), Z)) < 1e-6


def test_softmax_cross_entropy_run_axis_equals_per_run_and_is_exact_far_out():
    gen = np.random.default_rng(7)
    Z, y = gen.standard_normal((4, 9, 3)), gen.integers(0, 3, size=(4, 9))
    sce = SoftmaxCrossEntropy()
    loss, dZ = sce.forward(Z, y).copy(), sce.backward().copy()
    for r in range(4):
        assert sce.forward(Z[r], y[r]) == loss[r]
        np.testing.assert_array_equal(sce.backward(), dZ[r])
    # No clipping in the exact loss: a logit gap of 40 costs log(1 + 2 e^-40), not -log(1 - 1e-7).
    far = sce.forward(np.array([[40.0, 0.0, 0.0]]), np.array([0]))
    assert far == pytest.approx(np.log1p(2 * np.exp(-40.0)), rel=1e-12)
    assert (
        SoftmaxCrossEntropy(clip=1e-7).forward(np.array([[40.0, 0.0, 0.0]]), np.array([0])) > 1e-8
    )


def test_accuracy():
    scores = np.array([[[0.1, 0.9], [0.8, 0.2]], [[0.6, 0.4], [0.3, 0.7]]])
    np.testing.assert_array_equal(accuracy(scores, np.array([1, 0])), [1.0, 0.0])
    assert accuracy(scores[0], np.eye(2)[[1, 1]]) == 0.5


@pytest.mark.parametrize(
    ("logits", "y", "match"),
    [
        (np.zeros((3, 4)), np.array([0, 4, 1]), r"labels must lie in \[0, n_classes=4\), got 4"),
        (np.zeros((3, 4)), np.array([0, -1, 1]), r"got -1"),
        (np.zeros((3, 4)), np.array([0, 1]), r"sparse y_true must have shape \(3,\)"),
        (np.zeros((3, 4)), np.zeros((3, 3)), r"one-hot y_true must have shape \(3, 4\)"),
        (np.zeros((3, 4)), np.array(["a", "b", "c"]), "integer labels or one-hot"),
        (np.zeros((3, 4)), [0, 1, 2], "must be a NumPy array"),
        (np.zeros((3, 4), dtype=np.int64), np.array([0, 1, 2]), "floating array"),
        (np.zeros((3, 3)), -np.eye(3), "entries >= 0 that sum to 1"),
        (np.zeros((3, 3)), 2 * np.eye(3), "entries >= 0 that sum to 1"),
        (np.zeros((3, 3)), np.full((3, 3), np.nan), "entries >= 0 that sum to 1"),
        (np.zeros((0, 3)), np.zeros(0, dtype=np.int64), r"at least one sample"),
    ],
)
def test_bad_labels_and_logits(logits, y, match):
    with pytest.raises(ValueError, match=match):
        SoftmaxCrossEntropy().forward(logits, y)


def test_dense_bad_inputs():
    layer = Dense(3, 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"inputs must have shape \(m, 3\)"):
        layer.forward(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="floating NumPy array"):
        layer.forward(np.zeros((4, 3), dtype=np.int32))
    with pytest.raises(ValueError, match=r"dvalues must have forward\(\) first"):
        layer.backward(np.zeros((4, 2)))
    layer.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"dvalues must have shape \(4, 2\), like the output"):
        layer.backward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="dvalues must be a floating NumPy array"):
        layer.backward(np.zeros((4, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="init must be one of"):
        Dense(3, 2, init="xavier")
    with pytest.raises(ValueError, match="n_out must be >= 1"):
        Dense(3, 0)
    with pytest.raises(ValueError, match="runs must be >= 1"):
        Dense(3, 2, runs=0)
    with pytest.raises(ValueError, match="rng must be"):
        Dense(3, 2, rng=42)
