"""docs/examples/six_hump_camel.py: a user's test function, loaded as a file like a plugin."""

import importlib.util
import inspect
import itertools
from pathlib import Path

import numpy as np
import pytest

from optbench.optimizers import Adam
from optbench.problems import check_gradient

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "six_hump_camel.py"


def load(path=EXAMPLE):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SixHumpCamel = load().SixHumpCamel


def test_the_example_imports_only_numpy_and_optbench_problems():
    source = EXAMPLE.read_text(encoding="utf-8")
    imports = {
        line.split()[1] for line in source.splitlines() if line.startswith(("import", "from"))
    }
    assert imports == {"numpy", "optbench.problems"}


def test_hand_derived_values_and_gradients():
    # (1, 1): (4 - 2.1 + 1/3) + 1 + 0 = 3.2333..; df = (8 - 8.4 + 2 + 1, 1 - 8 + 16) = (2.6, 9)
    # (-1.5, 1.5): x^2 = y^2 = 2.25: (4 - 4.725 + 1.6875) 2.25 - 2.25 + 5 * 2.25 = 11.165625,
    #   df/dx = -12 + 8.4 * 3.375 - 2 * 7.59375 + 1.5 = 2.6625, df/dy = -1.5 - 12 + 54 = 40.5
    # (0, 1): 0 + 0 + (-4 + 4) = 0; df = (y, -8 + 16) = (1, 8)
    X = np.array([[1.0, 1.0], [-1.5, 1.5], [0.0, 0.0], [0.0, 1.0]])
    f, G = SixHumpCamel().value_and_grad(X)
    np.testing.assert_allclose(f, [3.0 + 7.0 / 30.0, 11.165625, 0.0, 0.0], rtol=1e-15)
    np.testing.assert_allclose(G, [[2.6, 9.0], [2.6625, 40.5], [0.0, 0.0], [1.0, 8.0]], rtol=1e-14)
    p = SixHumpCamel()
    L, (G0,) = p.loss_and_grad(p.init_params([0]))  # the standard start (-1.5, 1.5)
    assert L[0] == pytest.approx(11.165625, rel=1e-15)
    np.testing.assert_allclose(G0[0], [2.6625, 40.5], rtol=1e-14)


def test_both_global_minima_and_nothing_below():
    p = SixHumpCamel()
    minima = np.array([p.x_star, -p.x_star])
    L, (G,) = p.loss_and_grad([minima])
    np.testing.assert_allclose(L, p.f_star, rtol=0, atol=1e-15)
    np.testing.assert_allclose(G, 0.0, atol=1e-11)
    (X,) = SixHumpCamel(start="random").init_params(list(range(2000)))
    assert (p.evaluate([X])["loss"] > p.f_star).all()


def test_gradient_by_central_differences():
    for points in ("start", "random"):
        assert check_gradient(SixHumpCamel(), seeds=range(8), points=points).ok
    assert check_gradient(SixHumpCamel(dtype="float32")).ok


def test_interface_the_harness_reads():
    p = SixHumpCamel(start="random", dtype="float32")
    assert p.label == "six_hump_camel(start=random, dtype=float32)"
    assert p.config() == {"start": "random", "dtype": "float32"}
    assert list(inspect.signature(SixHumpCamel).parameters) == ["start", "dtype"]
    assert (p.dim, p.f_star, p.steps_per_epoch, p.stochastic) == (2, -1.0316284534898774, 1, False)
    (X,) = p.init_params(list(range(1000)))  # the per-coordinate box [-3, 3] x [-2, 2]
    assert X.dtype == np.float32 and np.abs(X[:, 0]).max() > 2.5 and np.abs(X[:, 1]).max() < 2
    assert p.loss_and_grad([X])[1][0].dtype == np.float32


def test_a_few_adam_steps_from_the_standard_start_lower_the_loss():
    p = SixHumpCamel()
    (X,) = p.init_params([0])
    opt = Adam([X], lr=0.05)
    losses = []
    for _ in range(12):  # lr 0.05: 11.17 -> 0.18, each step lower
        L, grads = p.loss_and_grad([X])
        losses.append(L[0])
        opt.step(grads)
    assert losses[0] == pytest.approx(11.165625, rel=1e-15)
    assert all(b < a for a, b in itertools.pairwise(losses))
    assert p.evaluate([X])["loss"][0] < 0.2
