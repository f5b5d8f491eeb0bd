"""Quadratic: exact condition number, Hessian, gradient noise per run, bad input."""

import numpy as np
import pytest

from optbench.problems import Quadratic
from optbench.problems.quadratic import eigenvalues


@pytest.mark.parametrize("spectrum", ["logspace", "linspace", "two_clusters"])
@pytest.mark.parametrize("kappa", [1.0, 10.0, 1e3, 1e6])
def test_hessian_has_exactly_the_requested_condition_number(spectrum, kappa):
    p = Quadratic(dim=12, condition_number=kappa, spectrum=spectrum)
    lam = p.eigenvalues
    assert lam[0] == 1.0 and lam.max() == 1.0 and lam[-1] == 1.0 / kappa
    assert lam.max() / lam.min() == pytest.approx(kappa, rel=1e-15)
    np.testing.assert_array_equal(p.A, p.A.T)
    np.testing.assert_allclose(np.linalg.eigvalsh(p.A), np.sort(lam), rtol=1e-9, atol=1e-13)


def test_spectra_spacing():
    np.testing.assert_allclose(eigenvalues(3, 100.0, "logspace"), [1.0, 0.1, 0.01])
    np.testing.assert_allclose(eigenvalues(3, 100.0, "linspace"), [1.0, 0.505, 0.01])
    np.testing.assert_allclose(eigenvalues(5, 10.0, "two_clusters"), [1, 1, 1, 0.1, 0.1])


def test_rotation_is_orthogonal_seeded_and_optional():
    p, q = Quadratic(dim=8, seed=3), Quadratic(dim=8, seed=3)
    np.testing.assert_allclose(p.Q @ p.Q.T, np.eye(8), atol=1e-14)
    np.testing.assert_array_equal(p.A, q.A)
    assert not np.allclose(p.A, Quadratic(dim=8, seed=4).A)
    assert np.count_nonzero(p.A - np.diag(np.diag(p.A))) > 0
    d = Quadratic(dim=8, rotate=False)
    np.testing.assert_array_equal(d.A, np.diag(d.eigenvalues))


@pytest.mark.parametrize("rotate", [True, False])
def test_loss_gradient_and_hessian(rotate):
    p = Quadratic(dim=6, condition_number=50.0, rotate=rotate)
    (X,) = Quadratic(dim=6, start="random").init_params([0, 1, 2])
    L, (G,) = p.loss_and_grad([X])
    L, G = L.copy(), G.copy()  # loss_and_grad reuses its buffers
    D = X - p.x_star
    np.testing.assert_allclose(L, 0.5 * np.einsum("ri,ij,rj->r", D, p.A, D), rtol=1e-13)
    h, H = 1e-5, np.empty((3, 6, 6))
    for j in range(6):
        E = np.zeros_like(X)
        E[:, j] = h
        Lp, Lm = p.evaluate([X + E])["loss"], p.evaluate([X - E])["loss"]
        assert np.abs((Lp - Lm) / (2 * h) - G[:, j]).max() < 1e-6 * np.abs(G).max()
        Gp = p.loss_and_grad([X + E])[1][0].copy()
        H[:, :, j] = (Gp - p.loss_and_grad([X - E])[1][0]) / (2 * h)
    np.testing.assert_allclose(H, np.broadcast_to(p.A, H.shape), atol=1e-9)


def test_minimum():
    p = Quadratic(dim=5, condition_number=1e4)
    L, (G,) = p.loss_and_grad([p.x_star[None].copy()])
    assert L[0] == p.f_star == 0.0 and not G.any()


def test_noise_is_per_run_and_independent_of_the_batch():
    p = Quadratic(dim=10, noise=0.5, start="random")
    (X,) = p.init_params([3, 1, 2])
    batch = [p.loss_and_grad([X])[1][0].copy() for _ in range(3)]
    for i, seed in enumerate([3, 1, 2]):
        (Xi,) = p.init_params([seed])
        np.testing.assert_array_equal(Xi[0], X[i])
        for t in range(3):
            np.testing.assert_array_equal(p.loss_and_grad([Xi])[1][0][0], batch[t][i])
    assert not np.array_equal(batch[0], batch[1])  # a new draw every step


def test_noise_statistics_and_exact_loss():
    p = Quadratic(dim=20, noise=0.3)
    (X,) = p.init_params(list(range(4000)))
    exact = Quadratic(dim=20)
    L, (G,) = p.loss_and_grad([X])
    L0, (G0,) = exact.loss_and_grad([X])
    np.testing.assert_array_equal(L, L0)  # the loss is the noise-free f
    z = (G - G0) / 0.3
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    assert abs(np.corrcoef(z[:, 0], z[:, 1])[0, 1]) < 0.05
    np.testing.assert_array_equal(p.evaluate([X])["loss"], L0)


def test_evaluate_consumes_no_randomness():
    p, q = Quadratic(dim=4, noise=1.0), Quadratic(dim=4, noise=1.0)
    (X,), (Y,) = p.init_params([7]), q.init_params([7])
    p.evaluate([X])
    np.testing.assert_array_equal(p.loss_and_grad([X])[1][0], q.loss_and_grad([Y])[1][0])


def test_label_and_config():
    p = Quadratic(dim=50, condition_number=1e3, noise=0.1)
    assert p.label == "quadratic(dim=50, kappa=1e3, noise=0.1)"  # as in docs/contracts.md
    assert Quadratic(condition_number=50.0).label == "quadratic(dim=20, kappa=50)"
    assert Quadratic(condition_number=1e6).label == "quadratic(dim=20, kappa=1e6)"
    assert p.stochastic and not Quadratic().stochastic
    assert Quadratic(**p.config()).label == p.label


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"condition_number": 0.5}, "condition_number must be >= 1"),
        ({"condition_number": float("nan")}, "condition_number must be finite"),
        ({"condition_number": float("inf")}, "condition_number must be finite"),
        ({"condition_number": "10"}, "condition_number must be a real number"),
        ({"dim": 1, "condition_number": 10.0}, "must be 1 when dim == 1"),
        ({"spectrum": "random"}, "spectrum must be one of"),
        ({"noise": -0.1}, "noise must be >= 0"),
        ({"rotate": "yes"}, "rotate must be one of"),
        ({"dim": 0}, "dim must be >= 1"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Quadratic(**kwargs)


def test_noise_needs_init_params_with_matching_runs():
    p = Quadratic(dim=3, noise=1.0)
    with pytest.raises(ValueError, match="init_params"):
        p.loss_and_grad([np.zeros((2, 3))])
    p.init_params([0, 1])
    with pytest.raises(ValueError, match="3 runs but init_params was called with 2"):
        p.loss_and_grad([np.zeros((3, 3))])
