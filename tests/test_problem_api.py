"""The public base of test functions: what a subclass writes, what the base gives the harness."""

import doctest
import inspect
import json

import numpy as np
import pytest

from optbench.problems import REGISTRY, Rosenbrock, TestFunction, objective


class Bowl(TestFunction):
    """f(x, y) = x^2 + 3 y^2 + 1: fixed dim, no constructor of its own."""

    dim = 2
    f_star, x_star, x0 = 1.0, 0.0, (2.0, -1.0)
    box = ((-1.0, 1.0), (10.0, 20.0))

    def value_and_grad(self, X):
        x, y = X[:, 0], X[:, 1]
        return x * x + 3.0 * y * y + 1.0, np.stack([2.0 * x, 6.0 * y], axis=1)


class ShiftedSphere(TestFunction):
    """f(x) = sum_i w_i (x_i - shift)^2, any dim, with arguments of its own."""

    f_star = 0.0

    def __init__(self, dim=3, shift=0.5, weights=None, start="standard", dtype="float64"):
        super().__init__(start, dtype)
        if shift < 0:
            raise ValueError(f"shift must be >= 0, got {shift}")
        self.dim, self.shift = dim, shift
        self.w = np.ones(dim) if weights is None else np.asarray(weights, dtype=float)
        self.x0, self.x_star = 0.0, shift

    def value_and_grad(self, X):
        D = X - self.shift
        return np.sum(self.w * D * D, axis=1), 2.0 * self.w * D


class Scaled(TestFunction):
    """f(x) = scale * x^2 in 1-D; its only argument is ``scale`` (no start, no dtype)."""

    dim, x0 = 1, 1.0

    def __init__(self, scale=1.0):
        super().__init__()
        self.scale = scale

    def value_and_grad(self, X):
        return self.scale * X[:, 0] ** 2, 2.0 * self.scale * X


def test_the_docstring_example_runs():
    result = doctest.testmod(objective)
    assert result.attempted > 0 and result.failed == 0


def test_a_fixed_dim_subclass_gets_the_whole_interface():
    p = Bowl()
    assert (p.dim, p.f_star, p.steps_per_epoch, p.stochastic) == (2, 1.0, 1, False)
    assert type(p.dim) is int and type(p.f_star) is float
    np.testing.assert_array_equal(p.x_star, [0.0, 0.0])
    assert p.name == "bowl" and p.label == "bowl()" and repr(p) == "bowl()"
    assert list(inspect.signature(Bowl).parameters) == ["start", "dtype"]
    assert p.config() == {"start": "standard", "dtype": "float64"}
    (X,) = p.init_params([0, 1, 2])
    assert X.shape == (3, 2) and X.flags.f_contiguous and X.dtype == np.float64
    np.testing.assert_array_equal(X, [[2.0, -1.0]] * 3)
    L, (G,) = p.loss_and_grad([X])
    np.testing.assert_array_equal(L, [8.0] * 3)
    np.testing.assert_array_equal(G, [[4.0, -6.0]] * 3)
    np.testing.assert_array_equal(p.evaluate([X])["loss"], L)
    f, G2 = p.value_and_grad(X)
    np.testing.assert_array_equal(f, L)
    np.testing.assert_array_equal(G2, G)


def test_any_dim_subclass_with_its_own_arguments():
    assert list(inspect.signature(ShiftedSphere).parameters) == [
        *("dim", "shift", "weights", "start", "dtype")
    ]
    p = ShiftedSphere(dim=np.int64(4), shift=np.float32(0.25), weights=(1, 2, 3, 4))
    assert p.dim == 4 and type(p.dim) is int
    assert p.config() == {
        "dim": 4, "shift": 0.25, "weights": [1, 2, 3, 4], "start": "standard", "dtype": "float64"
    }  # fmt: skip
    assert p.label == "shifted_sphere(dim=4, shift=0.25, weights=[1, 2, 3, 4])"
    q = ShiftedSphere(**json.loads(json.dumps(p.config())))
    assert q.label == p.label and q.config() == p.config()
    np.testing.assert_array_equal(p.x_star, [0.25] * 4)
    L, (G,) = p.loss_and_grad(p.init_params([7]))
    assert L[0] == 0.0625 * 10 and G.shape == (1, 4)
    assert ShiftedSphere(dim=9).dim == 9 and ShiftedSphere(7).dim == 7


def test_the_signature_may_leave_out_start_and_dtype():
    p = Scaled(scale=np.float64(2.5))
    assert p.config() == {"scale": 2.5} and p.label == "scaled(scale=2.5)"
    assert list(inspect.signature(Scaled).parameters) == ["scale"]
    assert Scaled(None).label == "scaled(scale=None)"


def test_start_and_dtype_arguments():
    p = Bowl(start="random", dtype=np.float32)
    assert p.config() == {"start": "random", "dtype": "float32"}
    assert p.label == "bowl(start=random, dtype=float32)"
    (X,) = p.init_params(list(range(500)))
    assert X.dtype == np.float32 and X.flags.f_contiguous
    assert (-1 <= X[:, 0]).all() and (X[:, 0] <= 1).all() and X[:, 0].std() > 0.5
    assert (10 <= X[:, 1]).all() and (X[:, 1] <= 20).all() and X[:, 1].std() > 2.5
    np.testing.assert_array_equal(p.init_params(list(range(500)))[0], X)
    L, (G,) = p.loss_and_grad([X])
    assert L.dtype == G.dtype == np.float32
    np.testing.assert_allclose(L, X[:, 0] ** 2 + 3 * X[:, 1] ** 2 + 1, rtol=1e-6)


def test_batch_of_seeds_equals_runs_one_by_one():
    p = ShiftedSphere(dim=5, start="random")
    (X,) = p.init_params([5, 3, 8])
    L, (G,) = p.loss_and_grad([X])
    L, G = L.copy(), G.copy()
    for i, seed in enumerate([5, 3, 8]):
        (Xi,) = p.init_params([seed])
        Li, (Gi,) = p.loss_and_grad([Xi])
        np.testing.assert_array_equal(Xi[0], X[i])
        assert Li[0] == L[i]
        np.testing.assert_array_equal(Gi[0], G[i])


def test_builtins_are_test_functions_with_a_public_value_and_grad():
    builtin = [c for c in REGISTRY.values() if issubclass(c, objective.Objective)]
    assert sum(issubclass(c, TestFunction) for c in builtin) == 6
    p = Rosenbrock(dim=5, start="random")
    (X,) = p.init_params([0, 1])
    L, (G,) = p.loss_and_grad([X])
    f, G2 = p.value_and_grad(X)
    np.testing.assert_array_equal(f, L)
    np.testing.assert_array_equal(G2, G)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Bowl(start="middle"), ValueError, "start must be one of"),
        (lambda: Bowl(dtype="float16"), ValueError, "dtype must be one of"),
        (lambda: ShiftedSphere(dim=0), ValueError, "dim must be >= 1"),
        (lambda: ShiftedSphere(dim=2.5), ValueError, "dim must be an integer"),
        (lambda: ShiftedSphere(shift=-1.0), ValueError, "shift must be >= 0"),
        (lambda: ShiftedSphere(shift=np.inf), ValueError, "x_star must be a scalar or 3 finite"),
        (lambda: Scaled(scale=np.nan), ValueError, "scale must be finite"),
        (lambda: Scaled(scale={1, 2}), ValueError, "scale must be JSON-able"),
        (lambda: Scaled(scale=[1, (2, 1j)]), ValueError, r"scale\[1\]\[1\] must be JSON-able"),
        (lambda: Bowl(0, 1, 2), TypeError, "positional"),
    ],
)
def test_bad_constructor_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def _subclass(**attrs):
    def value_and_grad(self, X):
        return np.sum(X, axis=1), np.ones_like(X)

    return type(
        "Broken", (TestFunction,), {"dim": 2, "x0": 0.0, "value_and_grad": value_and_grad, **attrs}
    )


@pytest.mark.parametrize(
    ("attrs", "error", "match"),
    [
        ({"value_and_grad": TestFunction.value_and_grad}, TypeError, "must define value_and_grad"),
        ({"dim": 0}, ValueError, "Broken must set dim"),
        ({"dim": "2"}, ValueError, "dim must be an integer"),
        ({"x0": None}, ValueError, "Broken must set x0"),
        ({"x0": (1.0, 2.0, 3.0)}, ValueError, r"Broken.x0 must be a scalar or 2 finite numbers"),
        ({"x_star": (np.nan, 0.0)}, ValueError, r"Broken.x_star must be"),
        ({"x_star": "origin"}, ValueError, r"Broken.x_star must be a scalar or 2 finite"),
        ({"__init__": lambda self: None}, TypeError, r"must call super\(\).__init__"),
        ({"f_star": "zero"}, ValueError, "f_star must be a real number"),
        ({"box": (1.0, -1.0)}, ValueError, "box must have finite bounds with low < high"),
        ({"box": ((0, 1), (0, 1), (0, 1))}, ValueError, "box must be a pair"),
    ],
)
def test_bad_subclasses_fail_at_construction(attrs, error, match):
    with pytest.raises(error, match=match):
        _subclass(**attrs)()


def test_value_and_grad_must_return_its_shapes():
    def wrong(self, X):
        return np.sum(X, axis=1, keepdims=True), np.ones_like(X)

    p = _subclass(value_and_grad=wrong)()
    with pytest.raises(ValueError, match=r"Broken.value_and_grad\(X\) must return f of shape"):
        p.loss_and_grad(p.init_params([0]))


def test_bad_params_and_seeds():
    with pytest.raises(ValueError, match=r"X must have shape \(\*, 2\)"):
        Bowl().loss_and_grad([np.zeros((1, 3))])
    with pytest.raises(ValueError, match=r"list \[X\]"):
        Bowl().evaluate(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="non-empty"):
        Bowl().init_params([])


def test_test_function_classes_are_not_collected_by_pytest():
    assert TestFunction.__test__ is False and Bowl.__test__ is False
