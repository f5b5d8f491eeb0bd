"""Test functions: exact gradients, known minima, batch independence, the interface, bad input."""

import json

import numpy as np
import pytest

from optbench import problems
from optbench.problems import (
    REGISTRY,
    Beale,
    GoldsteinPrice,
    Himmelblau,
    Rastrigin,
    Rosenbrock,
    StyblinskiTang,
)

FUNCTIONS = [
    Rosenbrock(),
    Rosenbrock(dim=7),
    Beale(),
    GoldsteinPrice(),
    Himmelblau(),
    Rastrigin(),
    Rastrigin(dim=5),
    StyblinskiTang(dim=3),
]
IDS = [p.label for p in FUNCTIONS]


def fd_grad(problem, X, h=1e-6):
    """Central finite differences of the (R,) losses, coordinate by coordinate."""
    G = np.empty_like(X)
    for j in range(X.shape[1]):
        E = np.zeros_like(X)
        E[:, j] = h
        G[:, j] = (problem.evaluate([X + E])["loss"] - problem.evaluate([X - E])["loss"]) / (2 * h)
    return G


def random_points(problem, seeds=range(6)):
    return type(problem)(**dict(problem.config(), start="random")).init_params(list(seeds))[0]


@pytest.mark.parametrize("problem", FUNCTIONS, ids=IDS)
def test_gradient_matches_central_differences(problem):
    X = random_points(problem)
    _, (G,) = problem.loss_and_grad([X])
    Gfd = fd_grad(problem, X)
    rel = np.linalg.norm(G - Gfd, axis=1) / np.linalg.norm(Gfd, axis=1)
    assert rel.max() < 1e-6


@pytest.mark.parametrize("problem", FUNCTIONS, ids=IDS)
def test_minimum_has_value_f_star_and_zero_gradient(problem):
    L, (G,) = problem.loss_and_grad([problem.x_star[None, :].copy()])
    assert L[0] == pytest.approx(problem.f_star, abs=1e-12)
    np.testing.assert_allclose(G, 0.0, atol=1e-9)
    X = random_points(problem, range(50))
    assert (problem.evaluate([X])["loss"] >= problem.f_star - 1e-12).all()


def test_all_four_himmelblau_minima():
    L, (G,) = Himmelblau().loss_and_grad([Himmelblau.minima.copy()])
    np.testing.assert_allclose(L, 0.0, atol=1e-20)
    np.testing.assert_allclose(G, 0.0, atol=1e-11)


def test_hand_derived_values():
    # f(-1.2, 1) = 100 (1 - 1.44)^2 + 2.2^2 = 24.2; grad = (-400*-1.2*-0.44 - 4.4, 200*-0.44)
    L, (G,) = Rosenbrock().loss_and_grad(Rosenbrock().init_params([0]))
    assert L[0] == pytest.approx(24.2, rel=1e-14)
    np.testing.assert_allclose(G[0], [-215.6, -88.0], rtol=1e-14)
    # chained: dim 3 at (-1.2, 1, -1.2) adds 100 (-1.2 - 1)^2 + (1 - 1)^2 = 484
    L3 = Rosenbrock(dim=3).evaluate(Rosenbrock(dim=3).init_params([0]))["loss"]
    assert L3[0] == pytest.approx(24.2 + 484.0, rel=1e-14)
    # Beale at (1, 1.5): 1.5^2 + 3.5^2 + 5^2 = 41.25
    assert Beale().evaluate(Beale().init_params([0]))["loss"][0] == pytest.approx(41.25)
    # Rastrigin at (-2, 3.5): 20 + 4 - 10 + 12.25 + 10 = 36.25
    assert Rastrigin().evaluate(Rastrigin().init_params([0]))["loss"][0] == pytest.approx(36.25)
    # Goldstein-Price at (0, 0): (1 + 1 * 19) (30 + 0) = 600; its minimum is 3, not 0
    assert GoldsteinPrice().evaluate([np.zeros((1, 2))])["loss"][0] == 600.0
    c = StyblinskiTang().x_star[0]
    assert 4 * c**3 - 32 * c + 5 == pytest.approx(0.0, abs=1e-12) and -2.91 < c < -2.90


@pytest.mark.parametrize("problem", FUNCTIONS, ids=IDS)
def test_batch_of_seeds_equals_runs_one_by_one(problem):
    rand = type(problem)(**dict(problem.config(), start="random"))
    (X,) = rand.init_params([3, 1, 2])
    L, (G,) = rand.loss_and_grad([X])
    L, G = L.copy(), G.copy()
    for i, seed in enumerate([3, 1, 2]):
        (Xi,) = rand.init_params([seed])
        np.testing.assert_array_equal(Xi[0], X[i])
        Li, (Gi,) = rand.loss_and_grad([Xi])
        np.testing.assert_array_equal(Li[0], L[i])
        np.testing.assert_array_equal(Gi[0], G[i])


@pytest.mark.parametrize("problem", FUNCTIONS, ids=IDS)
def test_any_memory_layout_gives_identical_results(problem):
    X = random_points(problem, range(9))
    L, (G,) = problem.loss_and_grad([np.asfortranarray(X)])
    L, G = L.copy(), G.copy()
    Lc, (Gc,) = problem.loss_and_grad([np.ascontiguousarray(X)])
    Ls, (Gs,) = problem.loss_and_grad([np.repeat(X, 2, axis=0)[::2]])  # strided view
    for a, b in ((L, Lc), (G, Gc), (L, Ls), (G, Gs)):
        np.testing.assert_array_equal(a, b)


def test_init_params_starts_and_layout():
    (X,) = Rosenbrock(dim=4).init_params([0, 5])
    assert X.shape == (2, 4) and X.flags.f_contiguous and X.dtype == np.float64
    np.testing.assert_array_equal(X, [[-1.2, 1, -1.2, 1]] * 2)
    (R,) = Rosenbrock(dim=4, start="random").init_params(list(range(200)))
    assert (R >= -2).all() and (R <= 2).all() and len(np.unique(R[:, 0])) == 200
    (R2,) = Rosenbrock(dim=4, start="random").init_params(list(range(200)))
    np.testing.assert_array_equal(R, R2)


def test_float32():
    p = Rosenbrock(dtype="float32")
    (X,) = p.init_params([0, 1])
    L, (G,) = p.loss_and_grad([X])
    assert X.dtype == L.dtype == G.dtype == np.float32
    np.testing.assert_allclose(G[0], [-215.6, -88.0], rtol=1e-6)


def test_registry_config_and_label():
    for key in ("rosenbrock", "quadratic", "beale", "himmelblau", "rastrigin", "mlp"):
        assert REGISTRY[key].name == key
    assert problems.REGISTRY["styblinski_tang"] is StyblinskiTang
    for p in FUNCTIONS:
        config = json.loads(json.dumps(p.config()))
        assert type(p)(**config).label == p.label
        assert not p.stochastic and p.steps_per_epoch == 1 and p.dim == len(p.x_star)
    assert Rosenbrock().label == "rosenbrock(dim=2)"
    assert Rosenbrock(start="random", dtype="float32").label == (
        "rosenbrock(dim=2, start=random, dtype=float32)"
    )


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Rosenbrock(dim=1), "dim must be >= 2"),
        (lambda: Rosenbrock(dim=2.0), "dim must be an integer"),
        (lambda: Rastrigin(dim=0), "dim must be >= 1"),
        (lambda: Beale(start="origin"), "start must be one of"),
        (lambda: Himmelblau(dtype="int32"), "dtype must be one of"),
    ],
)
def test_bad_constructor_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ([np.zeros((3, 3))], r"X must have shape \(\*, 2\)"),
        ([np.zeros(2)], r"X must have shape"),
        ([np.zeros((3, 2), dtype=np.int64)], "floating dtype"),
        ([[[0.0, 0.0]]], "NumPy array"),
        ([np.zeros((1, 2)), np.zeros((1, 2))], r"list \[X\]"),
        (np.zeros((1, 2)), r"list \[X\]"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        Rosenbrock().loss_and_grad(params)


@pytest.mark.parametrize(
    ("seeds", "match"),
    [([], "non-empty"), ([-1], ">= 0"), ([0.5], "integers"), ([[1, 2]], "1-D")],
)
def test_bad_seeds(seeds, match):
    with pytest.raises(ValueError, match=match):
        Rosenbrock().init_params(seeds)
