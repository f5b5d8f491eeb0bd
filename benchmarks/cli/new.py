"""``optbench new optimizer NAME`` / ``optbench new problem NAME``: a working template.

Writes three files into ``--dir`` (default: the current folder), and never over an existing one:

- ``NAME.py``: a class on the public base (``optbench.optimizers.Optimizer``, or
  ``optbench.problems.TestFunction``) whose docstring has the formula block to edit. The
  optimizer starts as heavy-ball momentum, the problem as a shifted quadratic bowl: both run as
  they are, so every edit can be checked against a working start;
- ``test_NAME.py``: pytest tests that can fail: one step derived by hand (the optimizer) or
  the gradient against central differences (the problem), and a batch of runs equal to
  separate runs;
- ``matrix_NAME.toml``: a small matrix that benchmarks it beside optbench's own.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path
from string import Template

OPTIMIZER = '''\
"""${cls}, written on optbench's public base (``optbench new optimizer ${name}``)."""

import numpy as np

from optbench.optimizers import Hyperparameter, Optimizer


class ${cls}(Optimizer):
    """${cls}: edit this formula block with the rule (it starts as heavy-ball momentum).

    Update of step t (g = gradient, w = parameter, v = state starting at 0)::

        v <- mu * v + g
        w <- w - lr * v

    Symbols: lr = ``lr``, mu = ``momentum``; ``weight_decay`` is L2 (the base adds wd * w to g).
    """

    lr = Hyperparameter(1e-2)
    momentum = Hyperparameter(0.9, hi=1)
    weight_decay = Hyperparameter(0.0)
    state = ("v",)
    scratch = ("u",)

    def update(self, w, g, s, h):
        s.v *= h.momentum
        s.v += g
        w -= np.multiply(s.v, h.lr, out=s.u)
'''

OPTIMIZER_TEST = '''\
"""Tests of ${cls} (``pytest test_${name}.py``): edit the expected values with the rule."""

import numpy as np

from ${name} import ${cls}


def test_two_steps_by_hand():
    w = np.array([1.0, -2.0])
    opt = ${cls}([w], lr=0.1, momentum=0.5)
    opt.step([np.array([1.0, 1.0])])  # v = g = 1: w - 0.1
    np.testing.assert_allclose(w, [0.9, -2.1], rtol=0, atol=1e-15)
    opt.step([np.array([1.0, 1.0])])  # v = 0.5 + 1 = 1.5: w - 0.15
    np.testing.assert_allclose(w, [0.75, -2.25], rtol=0, atol=1e-15)


def test_a_batch_of_runs_equals_separate_runs():
    rng = np.random.default_rng(0)
    lr = np.array([1e-3, 1e-2, 1e-1])
    W = rng.standard_normal((3, 5))
    alone = [W[r].copy() for r in range(3)]
    batch = ${cls}([W], lr=lr)
    singles = [${cls}([a], lr=float(lr[r])) for r, a in enumerate(alone)]
    for _ in range(10):
        G = rng.standard_normal(W.shape)
        batch.step([G])
        for r, opt in enumerate(singles):
            opt.step([G[r].copy()])
    np.testing.assert_array_equal(W, np.stack(alone))
'''

OPTIMIZER_MATRIX = """\
# optbench run --config matrix_${name}.toml
seeds = [0, 1, 2]
budget = { steps = 500 }

[[optimizers]]
name = "${name}.py:${cls}"
lr = { logspace = [1e-4, 1e-1], num = 7 }

[[optimizers]]
name = "momentum"
lr = { logspace = [1e-4, 1e-1], num = 7 }

[[optimizers]]
name = "adam"
lr = { logspace = [1e-4, 1e-1], num = 7 }

[[problems]]
name = "rosenbrock"

[[problems]]
name = "quadratic"
dim = 50
condition_number = 100.0
"""

PROBLEM = '''\
"""${cls}, a test function on optbench's public base (``optbench new problem ${name}``)."""

import numpy as np

from optbench.problems import TestFunction


class ${cls}(TestFunction):
    """${cls}: edit this formula block with the function (it starts as a shifted bowl).

    .. math::
        f(x) = sum_i (x_i - 1)^2,   grad f(x) = 2 (x - 1)

    Minimum f* = 0 at x* = (1, ..., 1); standard start x0 = (-1, ..., -1); random starts
    uniform in [-3, 3]^dim.
    """

    f_star = 0.0
    box = (-3.0, 3.0)

    def __init__(self, dim=2, start="standard", dtype="float64"):
        super().__init__(start=start, dtype=dtype)
        self.dim = dim
        self.x0 = -np.ones(dim)
        self.x_star = np.ones(dim)

    def value_and_grad(self, X):
        d = X - 1.0
        return (d * d).sum(axis=1), 2.0 * d
'''

PROBLEM_TEST = '''\
"""Tests of ${cls} (``pytest test_${name}.py``): edit the expected values with the function."""

import numpy as np

from optbench.problems import check_gradient
from ${name} import ${cls}


def test_the_minimum_and_the_start():
    p = ${cls}(dim=3)
    f, G = p.value_and_grad(np.stack([p.x_star, p.x0]))
    np.testing.assert_allclose(f, [p.f_star, 12.0])
    np.testing.assert_allclose(G[0], 0.0)


def test_the_gradient_against_central_differences():
    assert check_gradient(${cls}(dim=4), points="random").ok
'''

PROBLEM_MATRIX = """\
# optbench run --config matrix_${name}.toml
seeds = [0, 1, 2]
budget = { steps = 500 }

[[optimizers]]
name = "momentum"
lr = { logspace = [1e-4, 1e-1], num = 7 }

[[optimizers]]
name = "adam"
lr = { logspace = [1e-4, 1e-1], num = 7 }

[[problems]]
name = "${name}.py:${cls}"
dim = 10
"""

TEMPLATES = {
    "optimizer": (OPTIMIZER, OPTIMIZER_TEST, OPTIMIZER_MATRIX),
    "problem": (PROBLEM, PROBLEM_TEST, PROBLEM_MATRIX),
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=tuple(TEMPLATES), help="what to write a template of")
    parser.add_argument("name", help="a Python module name, e.g. lion or my_adam")
    parser.add_argument("--dir", default=".", metavar="DIR", help="where to write (default: .)")


def main(args: argparse.Namespace) -> int:
    name = args.name
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        print(
            f"optbench new: {name!r} is not a module name: lowercase letters, digits and _, "
            "starting with a letter (e.g. lion, my_adam)",
            file=sys.stderr,
        )
        return 2
    if importlib.util.find_spec(name) is not None or name in sys.builtin_module_names:
        print(
            f"optbench new: a module {name!r} is already importable here; a file {name}.py "
            "would shadow it (and its imports). Pick another name",
            file=sys.stderr,
        )
        return 2
    cls = "".join(part.capitalize() for part in name.split("_") if part)
    folder = Path(args.dir)
    files = [folder / f"{name}.py", folder / f"test_{name}.py", folder / f"matrix_{name}.toml"]
    existing = [str(f) for f in files if f.exists()]
    if existing:
        print(f"optbench new: {', '.join(existing)} exist(s); nothing written", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    for path, template in zip(files, TEMPLATES[args.kind], strict=True):
        path.write_text(Template(template).substitute(name=name, cls=cls), encoding="utf-8")
        print(f"wrote {path}")
    python = Path(sys.executable)
    optbench = python.with_name("optbench")
    print(
        f"next: edit {files[0].name}; test it with `{python} -m pytest {files[1]}`; benchmark "
        f"it with `{optbench if optbench.exists() else 'optbench'} run --config {files[2]}`"
    )
    return 0
