"""``maximize=True`` (torch's flag): the gradient is negated before anything else.

Reference numbers: ``benchmarks/compare/reference_adam_family.py`` (torch 2.13, float64,
``foreach=False``); the tests do not import torch.
"""

import tracemalloc

import numpy as np
import pytest

from optbench.optimizers import REGISTRY, _blocks

A = np.array([1.0, 2.0, 3.0])
B = np.array([0.1, -0.2, 0.3])
W0 = np.array([0.5, -1.5, 2.0])


def concave(w, t):  # gradient of -(w.Aw/2 + B.w)
    return -(A * w + B)


def convex(w, t):  # gradient of w.Aw/2 + B.w: maximize climbs away from its minimum
    return A * w + B


# (registry name, hyperparameters, gradient, steps, torch's w after those steps with maximize)
REFERENCE = [
    ("sgd", {"lr": 0.1}, concave, 5, [0.254294, -0.42428799999999994, 0.252947]),
    (
        "sgd",
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
        concave,
        5,
        [-0.08967177661484711, 0.9591354673842613, -1.7191096500088208],
    ),
    (
        "nesterov",
        {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
        concave,
        5,
        [-0.16537456101256728, 0.765471461348795, -0.8267076860530898],
    ),
    (
        "adagrad",
        {"lr": 0.5, "lr_decay": 0.1, "weight_decay": 0.01, "initial_accumulator_value": 0.2},
        concave,
        5,
        [-0.08885639764872703, -0.3779737393083419, 0.7936256520972024],
    ),
    (
        "rmsprop",
        {"lr": 0.05, "weight_decay": 0.01, "momentum": 0.5, "centered": True},
        concave,
        5,
        [-0.026958398661866473, 0.29109932807832534, -0.07153403583983525],
    ),
    (
        "adam",
        {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.01, "amsgrad": True},
        concave,
        5,
        [0.025572401285863675, -1.005857077643721, 1.504162173278359],
    ),
    (
        "adamw",
        {"lr": 0.1},
        concave,
        5,
        [0.018019721356318547, -0.9975723691233054, 1.493859354358119],
    ),
    (
        "nadam",
        {"lr": 0.1, "weight_decay": 0.01},
        concave,
        5,
        [0.14694869040708658, -1.1120926436175989, 1.6077837294196962],
    ),
    (
        "radam",
        {"lr": 0.1, "weight_decay": 0.01},
        concave,
        12,
        [0.20186452830796975, -0.1966711781482109, -0.2476190427624372],
    ),
    (
        "sgd",
        {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
        convex,
        5,
        [1.4801808833145595, -7.997335360616419, 17.666591612166233],
    ),
    (
        "adam",
        {"lr": 0.1, "weight_decay": 0.01},
        convex,
        5,
        [1.0020699483284323, -2.0017875339209485, 2.5015089288861203],
    ),
    (
        "nadam",
        {"lr": 0.1},
        convex,
        5,
        [0.9386756072264246, -1.9193840964476536, 2.4161612295074018],
    ),
]


def run(name, params, grad, steps, **kw):
    opt = REGISTRY[name](params, **kw)
    for t in range(steps):
        opt.step([np.asarray(grad(p, t), dtype=p.dtype) for p in params])
    return params


@pytest.mark.parametrize(("name", "kw", "grad", "steps", "expected"), REFERENCE)
def test_matches_torch_reference(name, kw, grad, steps, expected):
    (w,) = run(name, [W0.copy()], grad, steps, maximize=True, **kw)
    np.testing.assert_allclose(w, expected, rtol=1e-13, atol=1e-15)


# One configuration per optimizer with weight decay (L2 or decoupled) and every state in use.
FULL = {
    "sgd": dict(lr=0.1, momentum=0.5, dampening=0.1, weight_decay=0.01),
    "momentum": dict(lr=0.1, weight_decay=0.01),
    "nesterov": dict(lr=0.1, weight_decay=0.01),
    "adagrad": dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
    "adam": dict(lr=0.01, amsgrad=True, weight_decay=0.01),
    "adamw": dict(lr=0.01, amsgrad=True, weight_decay=0.1),
    "nadam": dict(lr=0.01, weight_decay=0.01),
    "radam": dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.01),
    "adamax": dict(lr=0.01, weight_decay=0.01),
    "adadelta": dict(lr=0.5, weight_decay=0.01),
}
NAMES = [name for name in FULL if name in REGISTRY]


def f_grad(w, t):  # an elementwise gradient that depends on the iterate and the step
    return 2 * w + 0.5 * w * w + w.dtype.type(np.sin(t + 1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("name", NAMES)
def test_maximize_f_is_minimize_minus_f_bit_for_bit(name, layout, dtype, monkeypatch):
    """Blocked (C) and whole-array (F) paths, a per-run lr, two parameters."""
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", 16)
    monkeypatch.setattr(_blocks, "PARALLEL_MIN", 32)
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in [(3, 6, 7), (3, 10)]]
    kw = {**FULL[name], "lr": np.array([0.01, 0.05, 0.02])}
    if name == "rmsprop":
        kw["lr"] = kw["lr"] / 5

    def copies():
        return [np.asfortranarray(p) if layout == "F" else p.copy() for p in init]

    up = run(name, copies(), f_grad, 8, maximize=True, **kw)
    down = run(name, copies(), lambda w, t: -f_grad(w, t), 8, **kw)
    for a, b in zip(up, down, strict=True):
        np.testing.assert_array_equal(a, b)
    plain = run(name, copies(), f_grad, 8, **kw)
    assert not np.array_equal(up[0], plain[0])  # the flag did something


@pytest.mark.parametrize("name", NAMES)
def test_maximize_never_writes_into_the_gradient(name):
    w = np.random.default_rng(1).standard_normal(50)
    g = np.random.default_rng(2).standard_normal(50)
    g.flags.writeable = False  # a write would raise
    opt = REGISTRY[name]([w], maximize=True, **FULL[name])
    opt.step([g])
    opt.step([g])


@pytest.mark.parametrize("name", NAMES)
def test_maximize_step_allocates_nothing_of_the_parameter_size(name):
    w = np.ones(1 << 16)
    g = np.full_like(w, 0.5)
    opt = REGISTRY[name]([w], maximize=True, **FULL[name])
    opt.step([g])
    opt.step([g])
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        opt.step([g])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < w.nbytes / 20


@pytest.mark.parametrize("name", NAMES)
def test_maximize_defaults_to_false_and_is_a_bool(name):
    cls = REGISTRY[name]
    opt = cls([np.zeros(2)])
    assert opt.hparams["maximize"] is False
    assert opt._engine.maximize is False  # the default path negates nothing
    assert list(cls.__signature__.parameters)[-1] == "maximize"
    with pytest.raises(TypeError, match="maximize"):
        cls([np.zeros(2)], maximize="yes")
