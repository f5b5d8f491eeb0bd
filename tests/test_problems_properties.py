"""Property tests (hypothesis): any batch of seeds gives each run exactly its own results."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench.problems import MLP, Quadratic, Rastrigin
from optbench.problems.layers import Dense, ReLU, SoftmaxCrossEntropy

seeds = st.lists(st.integers(0, 2**40), min_size=1, max_size=5, unique=True)


@settings(max_examples=25, deadline=None)
@given(
    seeds=seeds,
    dim=st.integers(2, 7),
    kappa=st.floats(1.0, 1e5),
    noise=st.sampled_from([0.0, 0.3]),
    rotate=st.booleans(),
)
def test_quadratic_runs_are_independent_of_their_batch(seeds, dim, kappa, noise, rotate):
    p = Quadratic(dim=dim, condition_number=kappa, noise=noise, rotate=rotate, start="random")
    (X,) = p.init_params(seeds)
    batch = [[a.copy() for a in (L, G)] for L, (G,) in (p.loss_and_grad([X]) for _ in range(2))]
    for i, s in enumerate(seeds):
        (Xi,) = p.init_params([s])
        for L, G in batch:  # two steps: two draws of the noise
            Li, (Gi,) = p.loss_and_grad([Xi])
            assert Li[0] == L[i]
            np.testing.assert_array_equal(Gi[0], G[i])


@settings(max_examples=15, deadline=None)
@given(seeds=seeds, dim=st.integers(1, 9))
def test_rastrigin_random_starts_lie_in_the_box_and_repeat(seeds, dim):
    p = Rastrigin(dim=dim, start="random")
    (X,) = p.init_params(seeds)
    assert X.shape == (len(seeds), dim) and (np.abs(X) <= 5.12).all()
    np.testing.assert_array_equal(p.init_params(seeds)[0], X)


@settings(max_examples=25, deadline=None)
@given(
    R=st.integers(1, 4),
    m=st.integers(1, 9),
    n_in=st.integers(1, 9),
    n_out=st.integers(1, 9),
    seed=st.integers(0, 1000),
)
def test_layers_with_a_run_axis_equal_one_layer_per_run(R, m, n_in, n_out, seed):
    gen = np.random.default_rng(seed)
    W, b = gen.standard_normal((R, n_in, n_out)), gen.standard_normal((R, 1, n_out))
    X, y = gen.standard_normal((R, m, n_in)), gen.integers(0, n_out, size=(R, m))
    dense, relu, loss = Dense.wrap(W, b), ReLU(), SoftmaxCrossEntropy()
    out = loss.forward(relu.forward(dense.forward(X)), y).copy()
    assert out.shape == (R,)
    dX = dense.backward(relu.backward(loss.backward())).copy()
    dW, db = dense.dweights.copy(), dense.dbiases.copy()
    assert dX.shape == X.shape and dW.shape == W.shape and db.shape == b.shape
    for r in range(R):
        d1, a1, l1 = Dense.wrap(W[r].copy(), b[r].copy()), ReLU(), SoftmaxCrossEntropy()
        assert l1.forward(a1.forward(d1.forward(X[r])), y[r]) == out[r]
        np.testing.assert_array_equal(d1.backward(a1.backward(l1.backward())), dX[r])
        np.testing.assert_array_equal(d1.dweights, dW[r])
        np.testing.assert_array_equal(d1.dbiases, db[r])


def test_mlp_accepts_any_memory_layout():
    p = MLP(dataset="spiral", hidden=(8,), batch_size=None)
    params = p.init_params([0, 1, 2])
    loss, grads = p.loss_and_grad(params)
    loss, grads = loss.copy(), [g.copy() for g in grads]
    loss_f, grads_f = p.loss_and_grad([np.asfortranarray(w) for w in params])
    np.testing.assert_allclose(loss_f, loss, rtol=1e-13)
    for a, b in zip(grads_f, grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
