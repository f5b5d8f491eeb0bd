"""The user-optimizer examples of docs/examples/ (Lion, AdamW): short, exact, batched.

Each file is loaded from its path, as a user's ``file.py:Class`` would be.
"""

import ast
import importlib.util
import inspect
import math
from pathlib import Path

import numpy as np
import pytest

from optbench import optimizers
from optbench.optimizers import Adam, _blocks

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Lion = load("lion").Lion
AdamW = load("adamw").AdamW


@pytest.mark.parametrize(("name", "cls_name"), [("lion", "Lion"), ("adamw", "AdamW")])
def test_each_example_is_at_most_25_lines_of_plain_numpy(name, cls_name):
    tree = ast.parse((EXAMPLES / f"{name}.py").read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert cls.name == cls_name
    lines = cls.end_lineno - cls.lineno + 1  # class statement to last line, docstring included
    assert lines <= 25, f"{cls_name} is {lines} lines"
    imported = {a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in tree.body if isinstance(n, ast.ImportFrom)}
    assert imported == {"numpy", "optbench.optimizers"}


def test_signatures_are_the_declarations_and_there_are_no_conventions():
    assert str(inspect.signature(Lion)) == (
        "(params, lr=0.0001, betas=(0.9, 0.99), weight_decay=0.001)"
    )
    assert str(inspect.signature(AdamW)) == (
        "(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01)"
    )
    assert Lion.CONVENTIONS == () and AdamW.CONVENTIONS == ()
    with pytest.raises(TypeError, match="convention"):
        Lion([np.zeros(2)], convention="torch")
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        AdamW([np.zeros(2)], betas=(0.9, 1.0))


def steps(cls, w0, grads, **kw):
    w = np.array(w0, dtype=np.float64)
    opt = cls([w], **kw)
    out = []
    for g in grads:
        opt.step([np.full_like(w, g)])
        out.append(w[0])
    return out


def test_lion_hand_derived():
    # m = 0: c = 0.1 * 2 > 0, w = 1 - 0.1; m = 0.02. c = 0.018 - 0.1 < 0, w = 0.9 + 0.1;
    # m = 0.0198 - 0.01 = 0.0098. c = 0.00882 - 0.01 < 0, w = 1.0 + 0.1
    got = steps(Lion, [1.0], [2.0, -1.0, -0.1], lr=0.1, weight_decay=0.0)
    np.testing.assert_allclose(got, [0.9, 1.0, 1.1], rtol=1e-15)
    # w = 1 - 0.1 (1 + 0.5 * 1) = 0.85;  then 0.85 - 0.1 (-1 + 0.5 * 0.85) = 0.9075
    got = steps(Lion, [1.0], [2.0, -1.0], lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(got, [0.85, 0.9075], rtol=1e-15)


def test_lion_follows_optax_arithmetic_bit_for_bit():
    """optax.lion as a chain: sign((1 - b1) g + b1 m), + wd w, * (-lr), added to w."""
    lr, b1, b2, wd = 0.05, 0.9, 0.99, 0.1
    start = np.random.default_rng(5).uniform(-1.0, 1.0, 200)
    w, x, m = start.copy(), start.copy(), np.zeros_like(start)
    opt = Lion([w], lr=lr, betas=(b1, b2), weight_decay=wd)
    for _ in range(30):
        g = np.sin(3.0 * x) + 0.1 * x
        opt.step([np.sin(3.0 * w) + 0.1 * w])
        u = np.sign((1 - b1) * g + b1 * m) + wd * x
        x = x + (-lr) * u
        m = (1 - b2) * g + b2 * m
    np.testing.assert_array_equal(w, x)


def test_adamw_hand_derived():
    # t=1: w = 0.99; m = 1, v = 2; w -= 0.1 (1 / 0.5) / (sqrt(2) / sqrt(0.5)) -> 0.89
    # t=2: w = 0.89 * 0.99 = 0.8811; m = 1.5, v = 3; w -= 0.1 (1.5 / 0.75) / 2 -> 0.7811
    got = steps(AdamW, [1.0], [2.0, 2.0], lr=0.1, betas=(0.5, 0.5), weight_decay=0.1, eps=0.0)
    np.testing.assert_allclose(got, [0.89, 0.7811], rtol=1e-15)


def test_adamw_follows_torch_arithmetic_bit_for_bit():
    """torch.optim.AdamW's single-tensor step written out in float64, independently."""
    lr, b1, b2, eps, wd = 1e-2, 0.9, 0.999, 1e-8, 0.1
    start = np.random.default_rng(6).uniform(-1.0, 1.0, 300)
    w, x = start.copy(), start.copy()
    m, v = np.zeros_like(x), np.zeros_like(x)
    opt = AdamW([w], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    for t in range(1, 101):
        g = x + 0.5 * x * x
        opt.step([w + 0.5 * w * w])
        x = x * (1.0 - lr * wd)  # param.mul_(1 - lr * weight_decay)
        m = m + (g - m) * (1.0 - b1)  # exp_avg.lerp_(grad, 1 - beta1), weight < 0.5
        v = v * b2 + (g * (1.0 - b2)) * g  # exp_avg_sq.mul_(b2).addcmul_(g, g, 1 - b2)
        denom = np.sqrt(v) / math.sqrt(1.0 - b2**t) + eps
        x = x + ((-(lr / (1.0 - b1**t))) * m) / denom  # addcdiv_(m, denom, value=-step)
    np.testing.assert_array_equal(w, x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adamw_without_weight_decay_is_the_builtin_adam(dtype):
    start = np.random.default_rng(7).standard_normal((3, 50)).astype(dtype)
    a, b = start.copy(), start.copy()
    oa, ob = AdamW([a], lr=0.01, weight_decay=0.0), Adam([b], lr=0.01)
    for _ in range(40):
        oa.step([np.sin(a) + a * a])
        ob.step([np.sin(b) + b * b])
    np.testing.assert_array_equal(a, b)


SWEEPS = {
    Lion: dict(lr=[0.01, 0.05, 0.02], betas=([0.9, 0.8, 0.95], [0.99, 0.9, 0.5]),
               weight_decay=[0.0, 0.1, 0.01]),
    AdamW: dict(lr=[0.01, 0.05, 0.02], betas=([0.9, 0.8, 0.7], [0.999, 0.9, 0.5]),
                eps=[1e-8, 1e-3, 0.1], weight_decay=[0.0, 0.1, 0.01]),
}  # fmt: skip


def run(cls, params, kw, steps=6):
    opt = cls(params, **kw)
    for t in range(steps):
        opt.step([np.asarray(2 * p + 0.5 * p * p + p.dtype.type(np.sin(t + 1))) for p in params])
    return params


@pytest.mark.parametrize("blocking", [(1 << 16, 1 << 20), (8, 16), (2, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls", [Lion, AdamW], ids=["lion", "adamw"])
def test_batched_sweep_equals_separate_runs_bit_for_bit(cls, dtype, blocking, monkeypatch):
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", blocking[0])
    monkeypatch.setattr(_blocks, "PARALLEL_MIN", blocking[1])
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in [(3, 5, 7), (3, 40), (3,)]]
    sweep = SWEEPS[cls]
    batched = {
        k: tuple(np.array(x) for x in v) if k == "betas" else np.array(v) for k, v in sweep.items()
    }
    together = run(cls, [p.copy() for p in init], batched)
    for r in range(3):
        alone_kw = {k: (v[0][r], v[1][r]) if k == "betas" else v[r] for k, v in sweep.items()}
        alone = run(cls, [p[r, ...].copy() for p in init], alone_kw)
        for a, b in zip(together, alone, strict=True):
            np.testing.assert_array_equal(a[r], b)


@pytest.mark.parametrize("cls", [Lion, AdamW], ids=["lion", "adamw"])
def test_threads_and_layouts_give_the_same_bits(cls):
    base = np.random.default_rng(8).standard_normal((2, 600_000))
    optimizers.set_num_threads(2)
    blocked = run(cls, [base.copy()], dict(lr=np.array([1e-3, 1e-2])), steps=3)[0]
    whole = run(cls, [np.asfortranarray(base)], dict(lr=np.array([1e-3, 1e-2])), steps=3)[0]
    np.testing.assert_array_equal(blocked, whole)
