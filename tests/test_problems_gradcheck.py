"""check_gradient: passes on every built-in problem, names the coordinate of a wrong gradient."""

import re

import numpy as np
import pytest

from optbench.problems import (
    MLP,
    REGISTRY,
    GradientCheck,
    Himmelblau,
    Quadratic,
    Rosenbrock,
    TestFunction,
    check_gradient,
)

# the MLP's start is random already: "start" and "random" are the same points
CASES = [(n, p) for n in REGISTRY for p in ("start", "random") if (n, p) != ("mlp", "start")]


@pytest.mark.parametrize(("name", "points"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_every_registered_problem_passes(name, points):
    result = check_gradient(REGISTRY[name](), points=points)
    assert isinstance(result, GradientCheck) and result.ok
    assert result.max_abs_error < 1e-4 and result.problem == REGISTRY[name]().label


@pytest.mark.parametrize(
    "problem",
    [
        Rosenbrock(dim=7, dtype="float32"),
        Quadratic(dim=9, condition_number=1e4, rotate=False, start="random"),
        MLP(dataset="spiral", hidden=(6, 5), batch_size=None, dtype="float32"),
        MLP(dataset="spiral", hidden=(4,), batch_size=16, init="seed"),
    ],
    ids=lambda p: p.label,
)
def test_variants_pass_float32_ones_checked_in_float64(problem):
    result = check_gradient(problem, seeds=[3, 11], max_coords=None)
    assert result.ok and all(a.coords == np.prod(a.shape[1:]) for a in result.arrays)
    assert result.max_abs_error < 1e-6  # float32 differences could not get below ~1e-3


class SignError(TestFunction):
    """Himmelblau, as a user writes it, with the sign of 2a in df/dy flipped."""

    dim, x0, box = 2, (1.0, 1.0), (-5.0, 5.0)

    def value_and_grad(self, X):
        x, y = X[:, 0], X[:, 1]
        a, b = x * x + y - 11.0, x + y * y - 7.0
        return a * a + b * b, np.stack([4.0 * x * a + 2.0 * b, -2.0 * a + 4.0 * y * b], axis=1)


def test_a_planted_sign_error_is_caught_and_its_coordinate_named():
    with pytest.raises(AssertionError) as info:
        check_gradient(SignError(), seeds=[0, 1, 2, 3])
    message = str(info.value)
    assert message.startswith("check_gradient(sign_error()): the gradient of X disagrees")
    assert "at 4 of 8 checked coordinates" in message  # dy wrong in every run, dx right
    found = re.search(
        r"worst X\[(\d), (\d)\] \(seed (\d)\): analytic (\S+), central difference "
        r"(\S+),",
        message,
    )
    run, coord, seed = map(int, found.groups()[:3])
    analytic, numeric = map(float, found.groups()[3:])
    assert coord == 1 and seed == run  # seeds [0, 1, 2, 3]: run r has seed r
    (X,) = SignError(start="random").init_params([seed])
    assert analytic == pytest.approx(SignError().value_and_grad(X)[1][0, 1], rel=1e-11)
    assert numeric == pytest.approx(Himmelblau().value_and_grad(X)[1][0, 1], rel=1e-6)
    # the same function with the right sign passes
    assert check_gradient(Himmelblau(), seeds=[0, 1, 2, 3]).ok


class WrongBias(MLP):
    """The MLP with the gradient of b_1 (params[1]) off by a factor 1.01 in one unit."""

    def loss_and_grad(self, params):
        loss, grads = super().loss_and_grad(params)
        grads[1][:, :, 2] *= 1.01
        return loss, grads


def test_a_wrong_gradient_of_one_of_several_arrays_is_named():
    p = WrongBias(dataset="spiral", hidden=(6,), batch_size=32)
    with pytest.raises(AssertionError, match=r"gradient of params\[1\] disagrees") as info:
        check_gradient(p, seeds=[5, 6])
    assert re.search(r"worst params\[1\]\[\d, 0, 2\] \(seed [56]\)", str(info.value))
    assert "at 2 of 12 checked coordinates" in str(info.value)


def test_minibatches_are_differenced_on_the_same_batch():
    p = MLP(dataset="spiral", hidden=(5,), batch_size=8)
    result = check_gradient(p, seeds=[1], max_coords=None)
    assert result.ok and result.max_abs_error < 1e-8
    params = p.init_params([1])  # the check used the first minibatch, by resetting the streams
    first = p.loss_and_grad(params)[0].copy()
    assert p.loss_and_grad(params)[0] != first


def test_gradient_noise_fails_with_a_hint():
    with pytest.raises(AssertionError, match="additive gradient noise is not"):
        check_gradient(Quadratic(dim=4, noise=0.1))


class Unseeded(TestFunction):
    """Gradient noise from a generator that init_params does not reset."""

    dim, x0 = 2, 1.0
    gen = np.random.default_rng(0)

    def value_and_grad(self, X):
        return np.sum(X * X, axis=1), 2.0 * X + self.gen.standard_normal(X.shape)


class Poles(TestFunction):
    dim, x0 = 1, 0.0

    def value_and_grad(self, X):
        with np.errstate(divide="ignore"):
            return 1.0 / X[:, 0], -1.0 / X**2


def test_a_problem_that_cannot_be_checked_is_a_value_error():
    with pytest.raises(ValueError, match="not reproducible after init_params"):
        check_gradient(Unseeded())
    with pytest.raises(ValueError, match=r"check_gradient\(poles\(\)\): the loss or gradient"):
        check_gradient(Poles(), points="start")


def test_explicit_points_and_the_result():
    points = [np.array([[1.0, 1.0], [0.5, -0.3]])]
    result = check_gradient(Rosenbrock(), seeds=[0, 1], points=points)
    (array,) = result.arrays
    assert (array.name, array.shape, array.coords, array.failures) == ("X", (2, 2), 2, 0)
    assert array.max_abs_error < 1e-6 and array.worst[0] in (0, 1) and array.ok
    assert str(result).startswith("check_gradient(rosenbrock(dim=2), seeds=[0, 1], eps=1e-06):")
    np.testing.assert_array_equal(points[0], [[1.0, 1.0], [0.5, -0.3]])  # float64 copies: untouched
    mlp = check_gradient(MLP(dataset="spiral", hidden=(40,)), seeds=[0], max_coords=30)
    assert [a.coords for a in mlp.arrays] == [30, 30, 30, 3]
    assert [a.name for a in mlp.arrays] == [f"params[{i}]" for i in range(4)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eps": 0.0}, "eps must be > 0"),
        ({"rtol": -1.0}, "rtol must be >= 0"),
        ({"max_coords": 0}, "max_coords must be >= 1"),
        ({"points": "middle"}, "points must be one of"),
        ({"points": np.zeros((3, 2))}, "points must be one of"),
        ({"points": [np.zeros((2, 2))]}, r"points\[0\] must be an array of shape \(3, 2\)"),
        ({"points": [np.zeros((3, 2))] * 2}, "points must be a list of 1 arrays"),
        ({"seeds": []}, "non-empty"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_gradient(Rosenbrock(), **kwargs)
