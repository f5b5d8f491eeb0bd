"""Adamax, Adadelta and Lion: torch/optax reference iterates, hand-derived steps, batched
sweeps equal separate runs, torch's defaults and bad input.

The reference numbers were produced once by ``torch.optim`` 2.13 (single-tensor) and ``optax``
0.2.8 (jax 0.10.2 in float64) with ``benchmarks/compare/reference_more.py``; the tests do not
import either library.
"""

import inspect
import math

import numpy as np
import pytest

from optbench.optimizers import REGISTRY, Adadelta, Adamax, Lion, _blocks

A = np.array([1.0, 2.0, 3.0])
B = np.array([0.1, -0.2, 0.3])
W0 = np.array([0.5, -1.5, 2.0])
WD = {"betas": (0.8, 0.95), "eps": 1e-3, "weight_decay": 0.01}

# (registry name, convention ("" for none), hyperparameters, w after 5 steps of g = A w + B)
REFERENCE = [
    ("adamax", "torch", {"lr": 0.1}, [0.0843992464777959, -1.0323148113176444, 1.5245252538914056]),
    (
        "adamax",
        "torch",
        {"lr": 0.1, **WD},
        [0.05625310540698457, -0.9883976387589416, 1.4791613664479708],
    ),
    ("adadelta", "torch", {}, [0.48367455353493055, -1.4836071786015441, 1.9835976089705316]),
    (
        "adadelta",
        "torch",
        {"lr": 0.5, "rho": 0.8, "eps": 1e-3, "weight_decay": 0.01},
        [0.32398369092414586, -1.313647251234407, 1.8123604843804964],
    ),
    (
        "adamax",
        "optax",
        {"lr": 0.1},
        [0.08439924647779594, -1.0323148113176444, 1.5245252538914058],
    ),
    (
        "adamax",
        "optax",
        {"lr": 0.1, **WD},
        [0.05625310540698458, -0.9883976387589416, 1.479161366447971],
    ),
    (
        "adadelta",
        "optax",
        {"lr": 1.0},
        [0.48367455353493055, -1.4836071786015441, 1.9835976089705316],
    ),
    (
        "adadelta",
        "optax",
        {"lr": 0.5, "rho": 0.8, "eps": 1e-3, "weight_decay": 0.01},
        [0.32398369092414586, -1.3136472512344073, 1.8123604843804964],
    ),
    (
        "lion",
        "",
        {"lr": 0.1, "weight_decay": 0.0},
        [2.7755575615628914e-17, -0.9999999999999997, 1.4999999999999996],
    ),
    ("lion", "", {"lr": 0.1}, [-0.00014996000449975233, -0.9993501399855007, 1.499100189980501]),
    (
        "lion",
        "",
        {"lr": 0.05, "betas": (0.8, 0.95), "weight_decay": 0.1},
        [0.2401119077796875, -1.2153606609015626, 1.7029850374624997],
    ),
]


def run(name, w0, grads, **kw):
    """Steps from ``w0`` with the gradients ``grads(w, t)``; the iterate after each step."""
    w = np.array(w0, dtype=np.float64)
    opt = REGISTRY[name]([w], **kw)
    out = []
    for t in range(len(grads)):
        opt.step([np.asarray(grads[t](w), dtype=np.float64)])
        out.append(w.copy())
    return out


@pytest.mark.parametrize(("name", "convention", "kw", "expected"), REFERENCE)
def test_matches_torch_and_optax_reference(name, convention, kw, expected):
    conv = {"convention": convention} if convention else {}
    w = run(name, W0, [lambda w: A * w + B] * 5, **conv, **kw)[-1]
    # torch's CPU kernels fuse some multiply-adds; over 5 steps that is an ulp or two
    np.testing.assert_allclose(w, expected, rtol=1e-13, atol=1e-15)


def test_lion_is_optax_bit_for_bit():
    """Lion has no FMA to differ by: the same bits as optax (XLA, float64)."""
    for name, _, kw, expected in REFERENCE:
        if name == "lion":
            w = run(name, W0, [lambda w: A * w + B] * 5, **kw)[-1]
            np.testing.assert_array_equal(w, expected)


def test_adamax_hand_derived_first_steps():
    w0, g1 = np.array([1.0, -2.0]), np.array([0.5, -4.0])
    eps, lr = 1e-8, 0.1
    for convention in Adamax.CONVENTIONS:
        w1, w2 = run("adamax", w0, [lambda w: g1, lambda w: 0.5 * g1], lr=lr, convention=convention)
        # step 1: m = 0.1 g, u = |g| + eps, bias correction 0.1: w - lr g / (|g| + eps)
        np.testing.assert_allclose(w1, w0 - lr * g1 / (abs(g1) + eps), rtol=1e-15)
        # step 2 (g / 2): m = 0.09 g1 + 0.05 g1, u = 0.999 (|g1| + eps) keeps the maximum
        step = lr / (1 - 0.81) * 0.14 * g1 / (0.999 * (abs(g1) + eps))
        np.testing.assert_allclose(w2, w1 - step, rtol=1e-14)


def test_adadelta_hand_derived_first_steps():
    w0, g = np.array([1.0, -2.0]), np.array([0.5, -4.0])
    lr, rho, eps, wd = 0.5, 0.8, 1e-3, 0.1
    for convention in Adadelta.CONVENTIONS:
        w1, w2 = run(
            "adadelta", w0, [lambda w: g] * 2, lr=lr, rho=rho, eps=eps, weight_decay=wd,
            convention=convention,
        )  # fmt: skip
        g1 = g + wd * w0
        v = (1 - rho) * g1**2
        d1 = np.sqrt(eps) / np.sqrt(v + eps) * g1
        np.testing.assert_allclose(w1, w0 - lr * d1, rtol=1e-15)
        g2 = g + wd * w1
        a = (1 - rho) * d1**2
        v = rho * v + (1 - rho) * g2**2
        d2 = np.sqrt(a + eps) / np.sqrt(v + eps) * g2
        np.testing.assert_allclose(w2, w1 - lr * d2, rtol=1e-14)


def test_lion_hand_derived_first_steps():
    w0 = np.array([1.0, -2.0])
    g1, g2 = np.array([3.0, -0.5]), np.array([-0.1, 1.0])
    lr, wd = 0.1, 0.01
    w1, w2 = run("lion", w0, [lambda w: g1, lambda w: g2], lr=lr, weight_decay=wd)
    np.testing.assert_allclose(w1, w0 - lr * (np.sign(g1) + wd * w0), rtol=1e-15)
    # m = 0.01 g1 = (0.03, -0.005); c = 0.9 m + 0.1 g2 = (0.017, 0.0955): the momentum keeps
    # the first sign against g2's
    np.testing.assert_allclose(w2, w1 - lr * (np.array([1.0, 1.0]) + wd * w1), rtol=1e-15)


def test_torch_and_optax_defaults_and_registry():
    assert [REGISTRY[n] for n in ("adamax", "adadelta", "lion")] == [Adamax, Adadelta, Lion]
    defaults = {
        Adamax: dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, convention="torch"),
        Adadelta: dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, convention="torch"),
        Lion: dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=1e-3),  # optax's b1, b2, wd
    }
    for cls, expected in defaults.items():
        sig = inspect.signature(cls).parameters
        assert {k: sig[k].default for k in expected} == expected
    assert Adamax.CONVENTIONS == Adadelta.CONVENTIONS == ("torch", "optax")
    assert Lion.CONVENTIONS == () and "convention" not in inspect.signature(Lion).parameters
    assert Adadelta([np.zeros(2)], rho=1.0).hparams["rho"] == 1.0  # torch allows rho = 1


BAD = [
    (Adamax, dict(lr=-1e-3), "lr"),
    (Adamax, dict(eps=-1e-8), "eps"),
    (Adamax, dict(betas=(1.0, 0.999)), r"betas\[0\]"),
    (Adamax, dict(betas=(0.9, -0.1)), r"betas\[1\]"),
    (Adamax, dict(weight_decay=-0.1), "weight_decay"),
    (Adamax, dict(convention="keras"), "convention"),
    (Adadelta, dict(rho=1.1), "rho"),
    (Adadelta, dict(rho=-0.1), "rho"),
    (Adadelta, dict(lr=-1.0), "lr"),
    (Adadelta, dict(eps=-1e-6), "eps"),
    (Adadelta, dict(weight_decay=-0.1), "weight_decay"),
    (Adadelta, dict(rho=np.array([0.9, 1.5])), "rho"),
    (Lion, dict(lr=-1e-4), "lr"),
    (Lion, dict(betas=(1.0, 0.99)), r"betas\[0\]"),
    (Lion, dict(betas=(0.9, 1.5)), r"betas\[1\]"),
    (Lion, dict(weight_decay=-1e-3), "weight_decay"),
    (Lion, dict(lr=math.nan), "lr"),
]


@pytest.mark.parametrize(("cls", "kw", "word"), BAD)
def test_bad_input_is_rejected_at_construction(cls, kw, word):
    params = [np.zeros((2, 3))]
    with pytest.raises(ValueError, match=word):
        cls(params, **kw)


def test_lion_takes_no_convention():
    with pytest.raises(TypeError, match="convention"):
        Lion([np.zeros(2)], convention="optax")


SWEEPS = {
    "adamax": dict(
        lr=[0.01, 0.05, 0.02],
        eps=[1e-8, 1e-3, 0.1],
        weight_decay=[0.0, 0.01, 0.1],
        betas=([0.9, 0.3, 0.7], [0.999, 0.9, 0.5]),
    ),
    "adadelta": dict(
        lr=[1.0, 0.5, 0.1],
        rho=[0.9, 0.5, 0.99],
        eps=[1e-6, 1e-3, 0.1],
        weight_decay=[0.0, 0.01, 0.1],
    ),
    "lion": dict(
        lr=[1e-3, 1e-2, 3e-3],
        weight_decay=[0.0, 1e-3, 0.1],
        betas=([0.9, 0.3, 0.7], [0.99, 0.9, 0.5]),
    ),
}
SWEEP_CASES = [
    ("adamax", {}),
    ("adamax", {"convention": "optax"}),
    ("adadelta", {}),
    ("adadelta", {"convention": "optax"}),
    ("lion", {}),
]


def one_run(hp, r):
    return {k: (v[0][r], v[1][r]) if k == "betas" else v[r] for k, v in hp.items()}


def batched(hp):
    return {k: tuple(map(np.array, v)) if k == "betas" else np.array(v) for k, v in hp.items()}


def steps(name, params, kw, n=4):
    opt = REGISTRY[name](params, **kw)
    for t in range(n):
        opt.step([np.asarray(2 * p + 0.5 * p * p + p.dtype.type(np.sin(t + 1))) for p in params])
    return params


@pytest.fixture(params=[(1 << 16, 1 << 20), (8, 16)], ids=["default", "tiny-blocks"])
def blocks(request, monkeypatch):
    """Default blocking, and tiny blocks split between threads."""
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", request.param[0])
    monkeypatch.setattr(_blocks, "PARALLEL_MIN", request.param[1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "opts"), SWEEP_CASES)
def test_batched_sweep_equals_separate_runs_bit_for_bit(name, opts, dtype, blocks):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in [(3, 5, 7), (3, 40), (3,)]]
    sweep = SWEEPS[name]
    together = steps(name, [p.copy() for p in init], {**opts, **batched(sweep)})
    for r in range(3):
        alone = steps(name, [p[r, ...].copy() for p in init], {**opts, **one_run(sweep, r)})
        for a, b in zip(together, alone, strict=True):
            assert a.dtype == dtype
            np.testing.assert_array_equal(a[r], b)


@pytest.mark.parametrize(("name", "opts"), SWEEP_CASES)
def test_any_memory_layout_gives_the_same_bits(name, opts, monkeypatch):
    """F-ordered and strided parameters take the whole-array path, C-ordered the blocked one."""
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", 32)
    monkeypatch.setattr(_blocks, "PARALLEL_MIN", 64)
    kw = {**opts, **batched(SWEEPS[name])}
    base = np.random.default_rng(1).standard_normal((3, 30, 11))
    c_order = steps(name, [base.copy()], kw)[0]
    big = np.zeros((3, 30, 22))
    big[:, :, ::2] = base
    np.testing.assert_array_equal(c_order, steps(name, [np.asfortranarray(base)], kw)[0])
    np.testing.assert_array_equal(c_order, steps(name, [big[:, :, ::2]], kw)[0])
    assert np.all(big[:, :, 1::2] == 0)


@pytest.mark.parametrize("module", ["adamax", "adadelta", "lion"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"optimizers.{module}"))
    assert result.attempted > 0 and result.failed == 0
