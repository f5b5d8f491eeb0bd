"""AdamW, NAdam, RAdam: torch's iterates, hand-derived steps, bad input, sweeps, state.

The reference numbers were printed by ``benchmarks/compare/reference_adam_family.py`` with
``torch.optim`` 2.13 in float64 (default dtype float64, ``foreach=False``); the
``OPTAX_REFERENCE`` rows by ``benchmarks/compare/reference_optax_adam_family.py`` with optax
0.2.8 (jax x64). The tests do not import torch or jax.
"""

import math

import numpy as np
import pytest

from optbench.optimizers import REGISTRY, Adam, AdamW, NAdam, RAdam, _blocks

A = np.array([1.0, 2.0, 3.0])
B = np.array([0.1, -0.2, 0.3])
W0 = np.array([0.5, -1.5, 2.0])

# (registry name, hyperparameters, steps, w after those steps of g = A * w + B from W0)
REFERENCE = [
    ("adamw", {"lr": 0.1}, 5, [0.018019721356318547, -0.9975723691233054, 1.493859354358119]),
    (
        "adamw",
        {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.1, "amsgrad": True},
        5,
        [0.0125222899152089, -0.9432684571366092, 1.4169908627277326],
    ),
    ("nadam", {"lr": 0.1}, 5, [0.1468461085703, -1.1120869134334113, 1.6077815901954808]),
    (
        "nadam",
        {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.01, "momentum_decay": 0.01},
        5,
        [0.10942779906621822, -1.0665919262753927, 1.5614474528884996],
    ),
    (
        "nadam",
        {"lr": 0.1, "weight_decay": 0.05, "decoupled_weight_decay": True},
        5,
        [0.14009496980063746, -1.080783412379291, 1.5641150714904877],
    ),
    ("radam", {"lr": 0.1}, 5, [0.2314185170611388, -0.2226367409293968, -0.23303159894621278]),
    (
        "radam",
        {"lr": 0.1},
        12,
        [0.20375855829409714, -0.20107279164056224, -0.24336719573922141],
    ),
    (
        "radam",
        {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.01},
        12,
        [-0.02569854990623866, -0.04106116501833767, -0.2425712359823583],
    ),
    (
        "radam",
        {"lr": 0.1, "weight_decay": 0.05, "decoupled_weight_decay": True},
        12,
        [0.1882432123947378, -0.17810232401187379, -0.24619893037988266],
    ),
]


# AdamW(convention="optax") against optax.adamw (amsgrad: its chain with scale_by_amsgrad);
# a maximize row is optbench's maximize=True on g = A w + B, optax's adamw on -(A w + B)
OPTAX_REFERENCE = [
    ("adamw", {"lr": 0.1}, 5, [0.018019721356318547, -0.9975723691233056, 1.4938593543581191]),
    (
        "adamw",
        {"lr": 0.1, "weight_decay": 0.0},
        5,
        [0.01938149934713425, -1.0039847944059184, 1.5027745542480315],
    ),
    (
        "adamw",
        {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.1, "eps": 0.001},
        12,
        [-0.22713729699961396, -0.2928288028932191, 0.7064072442404148],
    ),
    (
        "adamw",
        {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.1, "amsgrad": True},
        12,
        [-0.13994833074016758, -0.46264601694674046, 0.85597968143125],
    ),
    (
        "adamw",
        {"lr": 0.1, "weight_decay": 0.05, "maximize": True},
        5,
        [0.9847436462401625, -1.959593693824846, 2.446913813312188],
    ),
    # NAdam(convention="optax") against optax.nadam (an L2 weight_decay: add_decayed_weights
    # chained before it) and optax.nadamw (decoupled_weight_decay=True)
    ("nadam", {"lr": 0.1}, 5, [-0.013552713095292074, -0.9388386519719301, 1.4340634670801662]),
    (
        "nadam",
        {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.01},
        12,
        [-0.18364541761271178, -0.3612924714512391, 0.8179513616942413],
    ),
    (
        "nadam",
        {"lr": 0.1, "weight_decay": 0.05, "decoupled_weight_decay": True},
        12,
        [-0.2573058711973605, -0.28142257037803364, 0.7164815724448993],
    ),
    (
        "nadam",
        {"lr": 0.1, "eps": 0.001, "maximize": True},
        5,
        [1.1025598397226053, -2.0905706887318916, 2.5881631892196792],
    ),
    # RAdam(convention="optax") against optax.radam (L2: add_decayed_weights before it;
    # decoupled: scale_by_radam, add_decayed_weights, scale_by_learning_rate)
    ("radam", {"lr": 0.1}, 5, [0.2314185170611388, -0.2226367409293968, -0.23303159894621261]),
    ("radam", {"lr": 0.1}, 12, [0.20375855218500408, -0.20107279042699386, -0.2433671960918919]),
    (
        "radam",
        {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.01},
        12,
        [-0.025698551528029606, -0.041061164669380104, -0.24257123606109435],
    ),
    (
        "radam",
        {"lr": 0.1, "weight_decay": 0.05, "decoupled_weight_decay": True},
        12,
        [0.1882432063241172, -0.17810232282157884, -0.24619893071841212],
    ),
    (
        "radam",
        {"lr": 0.1, "eps": 0.001, "maximize": True},
        12,
        [0.8647749849360654, -3.5059113618234328, 6.329327015884202],
    ),
]


def run(cls, w0, grad, steps, **kw):
    w = np.array(w0, dtype=np.float64)
    opt = cls([w], **kw)
    for t in range(steps):
        opt.step([np.asarray(grad(w, t), dtype=w.dtype)])
    return w


@pytest.mark.parametrize(("name", "kw", "steps", "expected"), REFERENCE)
def test_matches_torch_reference(name, kw, steps, expected):
    w = run(REGISTRY[name], W0, lambda w, t: A * w + B, steps, **kw)
    # torch's CPU kernels fuse some multiply-adds: a few ulps, as tests/test_optimizers_reference
    np.testing.assert_allclose(w, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(("name", "kw", "steps", "expected"), OPTAX_REFERENCE)
def test_optax_convention_matches_optax_reference(name, kw, steps, expected):
    w = run(REGISTRY[name], W0, lambda w, t: A * w + B, steps, convention="optax", **kw)
    # XLA's elementwise kernels round a few results one ulp apart: rtol as above
    np.testing.assert_allclose(w, expected, rtol=1e-13, atol=1e-15)


def test_registry_defaults_are_torchs():
    assert REGISTRY["adamw"] is AdamW and REGISTRY["nadam"] is NAdam
    assert REGISTRY["radam"] is RAdam
    w = [np.zeros(2)]
    assert AdamW(w).hparams == dict(
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        convention="torch",
        correct_moments=False,
        maximize=False,
    )
    assert AdamW.CONVENTIONS == ("torch", "optax")
    assert AdamW(w, convention="optax").hparams["correct_moments"] is True
    assert NAdam(w).hparams == dict(
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        convention="torch",
        correct_moments=False,
        maximize=False,
    )
    assert NAdam.CONVENTIONS == ("torch", "optax")
    assert NAdam(w, convention="optax").hparams["correct_moments"] is True
    assert RAdam(w).hparams == dict(
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        decoupled_weight_decay=False,
        convention="torch",
        correct_moments=False,
        maximize=False,
    )
    assert RAdam.CONVENTIONS == ("torch", "optax")
    assert RAdam(w, convention="optax").hparams["correct_moments"] is True
    for cls in (AdamW, NAdam, RAdam):
        with pytest.raises(ValueError, match="convention"):
            cls(w, convention="jax")


BAD = [
    (dict(lr=-1e-3), "lr"),
    (dict(eps=-1e-8), "eps"),
    (dict(weight_decay=-0.1), "weight_decay"),
    (dict(betas=(1.0, 0.999)), r"betas\[0\]"),
    (dict(betas=(-0.1, 0.999)), r"betas\[0\]"),
    (dict(betas=(0.9, 1.0)), r"betas\[1\]"),
    (dict(betas=(0.9, -0.5)), r"betas\[1\]"),
    (dict(lr=np.array([0.1, -0.1])), "lr"),
]


@pytest.mark.parametrize("cls", [AdamW, NAdam, RAdam])
@pytest.mark.parametrize(("kw", "word"), BAD)
def test_bad_values_raise_naming_the_parameter(cls, kw, word):
    params = [np.zeros((2, 3))]
    with pytest.raises(ValueError, match=word):
        cls(params, **kw)


def test_negative_momentum_decay_is_rejected():
    with pytest.raises(ValueError, match="momentum_decay"):
        NAdam([np.zeros(2)], momentum_decay=-4e-3)
    with pytest.raises(TypeError, match="decoupled_weight_decay"):
        RAdam([np.zeros(2)], decoupled_weight_decay="yes")


def test_adamw_is_adam_with_the_decay_decoupled():
    """Without weight decay AdamW is Adam bit for bit; with it, w is scaled by 1 - lr wd
    before Adam's step (a hand-written reference, same operation order)."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(50)
    gs = rng.standard_normal((6, 50))
    for amsgrad in (False, True):
        a = run(AdamW, w0, lambda w, t: gs[t], 6, lr=0.1, weight_decay=0.0, amsgrad=amsgrad)
        b = run(Adam, w0, lambda w, t: gs[t], 6, lr=0.1, amsgrad=amsgrad)
        np.testing.assert_array_equal(a, b)
    w, m, v = w0.copy(), np.zeros(50), np.zeros(50)
    lr, wd, b1, b2, eps = 0.1, 0.3, 0.9, 0.999, 1e-8
    for t in range(1, 7):
        w = w * (1 - lr * wd)
        m = m + (gs[t - 1] - m) * (1 - b1)
        v = v * b2 + (gs[t - 1] * (1 - b2)) * gs[t - 1]
        d = np.sqrt(v) / math.sqrt(1 - b2**t) + eps
        w = w + (m * -(lr / (1 - b1**t))) / d
    got = run(AdamW, w0, lambda w, t: gs[t], 6, lr=lr, weight_decay=wd)
    np.testing.assert_array_equal(got, w)


def test_radam_is_momentum_sgd_until_rho_exceeds_5():
    """b2 = 0.999: rho_t <= 5 for t <= 5 (w <- w - lr m / (1 - b1^t)); rectified from t = 6."""
    rng = np.random.default_rng(1)
    gs = rng.standard_normal((7, 4))
    w0 = rng.standard_normal(4)
    w, m, v = w0.copy(), np.zeros(4), np.zeros(4)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    rho_inf = 2 / (1 - b2) - 1
    for t in range(1, 8):
        g = gs[t - 1]
        m = m + (g - m) * (1 - b1)
        v = v * b2 + (g * (1 - b2)) * g
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        assert (rho > 5) == (t >= 6)
        step = m / (1 - b1**t) * lr
        if rho > 5:
            rect = ((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)) ** 0.5
            step = step * ((1 / (np.sqrt(v) + eps)) * (1 - b2**t) ** 0.5) * rect
        w = w - step
        np.testing.assert_array_equal(run(RAdam, w0, lambda w, k: gs[k], t, lr=lr), w)


def test_nadam_first_step_by_hand():
    mu1 = 0.9 * (1 - 0.5 * 0.96**0.004)
    mu2 = 0.9 * (1 - 0.5 * 0.96**0.008)
    g = np.array([3.0, -0.5])
    d = np.abs(g) + 1e-8  # sqrt(v / (1 - b2)) = |g| exactly for these g
    expected = np.array([1.0, 2.0]) - 0.1 * g / d - 0.1 * mu2 * 0.1 * g / d / (1 - mu1 * mu2)
    w = run(NAdam, [1.0, 2.0], lambda w, t: g, 1, lr=0.1)
    np.testing.assert_allclose(w, expected, rtol=1e-15)


@pytest.mark.parametrize(
    ("cls", "extra"),
    [
        (NAdam, {}),
        (RAdam, {}),
        (AdamW, {}),
        (AdamW, {"convention": "optax"}),
        (NAdam, {"convention": "optax"}),
        (RAdam, {"convention": "optax"}),
    ],
)
def test_state_dict_round_trip_continues_the_same_sequence(cls, extra):
    """NAdam's mu_product is a function of the step: a loaded state continues exactly."""
    rng = np.random.default_rng(2)
    w0, gs = rng.standard_normal(20), rng.standard_normal((8, 20))
    kw = dict(lr=0.05, weight_decay=0.01, **extra)
    straight = run(cls, w0, lambda w, t: gs[t], 8, **kw)
    w = w0.copy()
    opt = cls([w], **kw)
    for t in range(5):
        opt.step([gs[t]])
    saved = opt.state_dict()
    w2 = w.copy()
    opt2 = cls([w2], **kw)
    opt2.load_state_dict(saved)
    for t in range(5, 8):
        opt2.step([gs[t]])
    np.testing.assert_array_equal(w2, straight)
    assert set(saved["state"][0]) == {"exp_avg", "exp_avg_sq"}  # no mu_product array


SWEEPS = {
    "adamw": dict(lr=[0.01, 0.05, 0.02], weight_decay=[0.0, 0.01, 0.1], eps=[1e-8, 1e-3, 0.1]),
    "nadam": dict(
        lr=[0.01, 0.05, 0.02],
        weight_decay=[0.0, 0.01, 0.1],
        momentum_decay=[4e-3, 0.0, 0.05],
        betas=([0.9, 0.3, 0.9], [0.999, 0.9, 0.5]),
    ),
    "radam": dict(  # b2 = 0.5 is never rectified, 0.9 and 0.999 from step 6
        lr=[0.01, 0.05, 0.02],
        weight_decay=[0.0, 0.01, 0.1],
        betas=([0.9, 0.3, 0.7], [0.999, 0.9, 0.5]),
    ),
}
OPTIONS = {
    "adamw": [
        dict(),
        dict(amsgrad=True),
        dict(convention="optax"),
        dict(convention="optax", amsgrad=True, maximize=True),
    ],
    "nadam": [
        dict(),
        dict(decoupled_weight_decay=True),
        dict(convention="optax"),
        dict(convention="optax", decoupled_weight_decay=True, maximize=True),
    ],
    "radam": [
        dict(),
        dict(decoupled_weight_decay=True),
        dict(convention="optax"),
        dict(convention="optax", decoupled_weight_decay=True, maximize=True),
    ],
}
CASES = [(name, opts) for name in sorted(SWEEPS) for opts in OPTIONS[name]]


def one_run(sweep, r):
    return {k: (v[0][r], v[1][r]) if k == "betas" else v[r] for k, v in sweep.items()}


def batched(sweep):
    return {
        k: tuple(np.array(x) for x in v) if k == "betas" else np.array(v) for k, v in sweep.items()
    }


def steps_of(name, params, kw, steps=8):
    opt = REGISTRY[name](params, **kw)
    for t in range(steps):
        opt.step([np.asarray(2 * p + 0.5 * p * p + p.dtype.type(np.sin(t + 1))) for p in params])
    return params


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "opts"), CASES)
@pytest.mark.parametrize("block", [1 << 16, 8])
def test_batched_equals_separate_runs_bit_for_bit(name, opts, dtype, block, monkeypatch):
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", block)
    monkeypatch.setattr(_blocks, "PARALLEL_MIN", 16)
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in [(3, 5, 7), (3, 40), (3,)]]
    sweep = SWEEPS[name]
    together = steps_of(name, [p.copy() for p in init], {**opts, **batched(sweep)})
    fortran = steps_of(
        name, [np.asfortranarray(p.copy()) for p in init], {**opts, **batched(sweep)}
    )
    for r in range(3):
        alone = steps_of(name, [p[r, ...].copy() for p in init], {**opts, **one_run(sweep, r)})
        for a, f, b in zip(together, fortran, alone, strict=True):
            np.testing.assert_array_equal(a[r], b)
            np.testing.assert_array_equal(f[r], b)
