"""Learning-rate schedules: the built-ins against torch's and optax's learning rates, any
optimizer's ``lr=`` schedule (a constant one gives the bits of a float lr, a sweep of schedules
the bits of separate runs), torch's iterates under its schedulers, and the checks.

The constants come from ``benchmarks/compare/reference_schedules.py`` (torch 2.13, optax 0.2.8,
float64); each lr list is the lr of the updates t = 1 .. 12, equal bit for bit; iterates agree
to round-off, as the float-lr references of ``tests/test_optimizers_reference.py``.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from optbench.optimizers import (
    REGISTRY,
    Adam,
    AdamW,
    Constant,
    CosineAnnealing,
    ExponentialDecay,
    LinearDecay,
    PolynomialDecay,
    StepDecay,
    WarmupCosine,
)

A = np.array([1.0, 2.0, 3.0])
B = np.array([0.1, -0.2, 0.3])
W0 = np.array([0.5, -1.5, 2.0])
STEPS = 12

TORCH_LRS = [
    (
        "StepLR",
        0.1,
        {"step_size": 3, "gamma": 0.3},
        [
            0.1,
            0.1,
            0.1,
            0.03,
            0.03,
            0.03,
            0.009,
            0.009,
            0.009,
            0.0026999999999999997,
            0.0026999999999999997,
            0.0026999999999999997,
        ],
    ),
    (
        "ExponentialLR",
        0.1,
        {"gamma": 0.9},
        [
            0.1,
            0.09000000000000001,
            0.08100000000000002,
            0.07290000000000002,
            0.06561000000000002,
            0.05904900000000002,
            0.05314410000000002,
            0.04782969000000002,
            0.043046721000000024,
            0.03874204890000002,
            0.03486784401000002,
            0.03138105960900001,
        ],
    ),
    (
        "CosineAnnealingLR",
        0.1,
        {"T_max": 5, "eta_min": 0.01},
        [
            0.1,
            0.09140576474687263,
            0.06890576474687263,
            0.04109423525312736,
            0.018594235253127367,
            0.01,
            0.018594235253127367,
            0.04109423525312739,
            0.06890576474687267,
            0.09140576474687269,
            0.10000000000000006,
            0.09140576474687272,
        ],
    ),
    (
        "CosineAnnealingLR",
        0.3,
        {"T_max": 4},
        [
            0.3,
            0.2560660171779821,
            0.15,
            0.04393398282201788,
            0.0,
            0.04393398282201786,
            0.15000000000000002,
            0.2560660171779822,
            0.3000000000000001,
            0.2560660171779822,
            0.15000000000000008,
            0.04393398282201801,
        ],
    ),
]
OPTAX_LRS = [
    (
        "exponential_decay",
        {"init_value": 0.1, "transition_steps": 2, "decay_rate": 0.7},
        [
            0.1,
            0.08366600265340757,
            0.06999999999999999,
            0.058566201857385286,
            0.048999999999999995,
            0.0409963413001697,
            0.03429999999999999,
            0.028697438910118785,
            0.024009999999999997,
            0.02008820723708315,
            0.016806999999999996,
            0.014061745065958205,
        ],
    ),
    (
        "exponential_decay",
        {
            "init_value": 0.1,
            "transition_steps": 3,
            "decay_rate": 0.5,
            "transition_begin": 2,
            "staircase": True,
            "end_value": 0.02,
        },
        [0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02],
    ),
    (
        "warmup_cosine_decay_schedule",
        {
            "init_value": 0.0,
            "peak_value": 0.1,
            "warmup_steps": 3,
            "decay_steps": 10,
            "end_value": 0.001,
        },
        [
            0.0,
            0.033333333333333326,
            0.06666666666666667,
            0.1,
            0.09509795896116974,
            0.08136274519200731,
            0.06151478623083756,
            0.03948521376916245,
            0.019637254807992693,
            0.005902041038830259,
            0.001,
            0.001,
        ],
    ),
    (
        "polynomial_schedule",
        {
            "init_value": 0.1,
            "end_value": 0.01,
            "power": 2.5,
            "transition_steps": 7,
            "transition_begin": 2,
        },
        [
            0.1,
            0.1,
            0.1,
            0.07121749231149117,
            0.0488081035334523,
            0.03221505474013417,
            0.02082182598517269,
            0.013927103962794809,
            0.010694220460629194,
            0.01,
            0.01,
            0.01,
        ],
    ),
    (
        "linear_schedule",
        {"init_value": 0.1, "end_value": 0.02, "transition_steps": 8},
        [0.1, 0.09000000000000001, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03, 0.02, 0.02, 0.02, 0.02],
    ),
]
TORCH_ITERATES = [
    (
        "sgd",
        {"lr": 0.1, "momentum": 0.9},
        "StepLR",
        {"step_size": 3, "gamma": 0.5},
        [-0.17943018612696832, 0.6379579178711875, -0.4238828646145913],
    ),
    (
        "sgd",
        {"lr": 0.1, "momentum": 0.9},
        "CosineAnnealingLR",
        {"T_max": 5, "eta_min": 0.01},
        [-0.4626324316643571, 0.6263226294104516, 0.46619403151205974],
    ),
    (
        "adam",
        {"lr": 0.1},
        "StepLR",
        {"step_size": 3, "gamma": 0.5},
        [-0.020279663100987434, -0.9452837639274054, 1.4428801805453884],
    ),
    (
        "adam",
        {"lr": 0.1},
        "CosineAnnealingLR",
        {"T_max": 5, "eta_min": 0.01},
        [-0.15842885920751298, -0.7747985066881179, 1.2699142210670844],
    ),
    (
        "adamw",
        {"lr": 0.1, "weight_decay": 0.1},
        "CosineAnnealingLR",
        {"T_max": 5},
        [-0.13549248855635626, -0.7449852013675438, 1.2074485467090073],
    ),
]


def torch_schedule(name, lr, kw):
    if name == "StepLR":
        return StepDecay(lr, kw["step_size"], kw["gamma"])
    if name == "ExponentialLR":  # torch's chainable product: StepDecay with step_size 1
        return StepDecay(lr, 1, kw["gamma"])
    return CosineAnnealing(lr, kw["T_max"], kw.get("eta_min", 0.0))


def optax_schedule(name, kw):
    kw = dict(kw)
    if name == "exponential_decay":
        return ExponentialDecay(**kw)
    if name == "warmup_cosine_decay_schedule":
        return WarmupCosine(**kw)
    if name == "polynomial_schedule":
        return PolynomialDecay(**kw)
    return LinearDecay(**kw)


@pytest.mark.parametrize(("name", "lr", "kw", "expected"), TORCH_LRS)
def test_torch_learning_rates(name, lr, kw, expected):
    sched = torch_schedule(name, lr, kw)
    assert [sched(t) for t in range(1, STEPS + 1)] == expected


@pytest.mark.parametrize(("name", "kw", "expected"), OPTAX_LRS)
def test_optax_learning_rates(name, kw, expected):
    sched = optax_schedule(name, kw)
    assert [sched(t) for t in range(1, STEPS + 1)] == expected


@pytest.mark.parametrize(("name", "kw", "sched_name", "sched_kw", "expected"), TORCH_ITERATES)
def test_torch_iterates_under_schedulers(name, kw, sched_name, sched_kw, expected):
    cls = {"sgd": REGISTRY["sgd"], "adam": Adam, "adamw": AdamW}[name]
    kw = dict(kw)
    w = W0.copy()
    opt = cls([w], **{**kw, "lr": torch_schedule(sched_name, kw["lr"], sched_kw)})
    for _ in range(STEPS):
        opt.step([A * w + B])
    np.testing.assert_allclose(w, expected, rtol=1e-13, atol=1e-15)  # as torch's, to round-off


def test_stepping_back_and_forth_gives_the_same_values():
    sched = CosineAnnealing(0.1, 5, 0.01)
    forward = [sched(t) for t in range(1, 13)]
    assert [sched(t) for t in (12, 3, 7)] == [forward[11], forward[2], forward[6]]
    assert pickle.loads(pickle.dumps(sched))(12) == forward[11]


# -- any optimizer: lr as a schedule -------------------------------------------------------------
def _kwargs(cls, R):
    kw = {}
    if "weight_decay" in cls._spec.hyper:
        kw["weight_decay"] = 0.05 if R is None else np.array([0.0, 0.05, 0.1])
    if cls.CONVENTIONS:
        kw["convention"] = cls.CONVENTIONS[-1]
    return kw


def _run(cls, lr, R, dtype, order="C", steps=6, **kw):
    rng = np.random.default_rng(3)
    shape = (3, 4, 5) if R else (4, 5)
    w = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    opt = cls([w], lr=lr, **_kwargs(cls, R), **kw)
    for _ in range(steps):
        opt.step([np.asarray(np.sin(3 * w) + rng.standard_normal(shape) * 0.1, dtype=dtype)])
    return w


@pytest.mark.parametrize("name", sorted(REGISTRY))
@pytest.mark.parametrize(
    ("R", "dtype", "order"), [(None, "f8", "C"), (3, "f4", "C"), (3, "f8", "F")]
)
def test_a_constant_schedule_gives_the_bits_of_a_float_lr(name, R, dtype, order):
    cls = REGISTRY[name]
    lr = 0.01 if R is None else np.array([0.01, 0.02, 0.03])
    plain = _run(cls, lr, R, dtype, order)
    np.testing.assert_array_equal(_run(cls, Constant(lr), R, dtype, order), plain)
    np.testing.assert_array_equal(_run(cls, lambda t: lr, R, dtype, order), plain)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_sweep_of_schedules_gives_the_bits_of_separate_runs(name):
    cls = REGISTRY[name]
    peaks, T = np.array([0.01, 0.02, 0.03]), np.array([3.0, 5.0, 3.0])
    batched = _run(cls, WarmupCosine(0.0, peaks, 1, T), 3, "f8")
    rng_kw = _kwargs(cls, 3)
    for r in range(3):
        one = {k: (v[r] if isinstance(v, np.ndarray) else v) for k, v in rng_kw.items()}
        rng = np.random.default_rng(3)
        w = rng.standard_normal((3, 4, 5))[r : r + 1]
        noise = []
        opt = cls([w], lr=WarmupCosine(0.0, peaks[r], 1, int(T[r])), **one)
        for _ in range(6):
            noise = rng.standard_normal((3, 4, 5))[r : r + 1] * 0.1
            opt.step([np.sin(3 * w) + noise])
        np.testing.assert_array_equal(batched[r : r + 1], w)


def test_the_schedule_is_evaluated_at_each_step_and_kept_in_hparams():
    seen = []

    def lr(t):
        seen.append(t)
        return 0.1 / t

    w = np.ones(2)
    opt = REGISTRY["sgd"]([w], lr=lr)
    for _ in range(3):
        opt.step([np.ones(2)])
    np.testing.assert_array_equal(w, 1 - 0.1 - 0.1 / 2 - 0.1 / 3)
    assert seen[-3:] == [1, 2, 3]
    assert opt.hparams["lr"] is lr and opt.state_dict()["hparams"]["lr"] is lr


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_a_negative_or_non_finite_lr_fails_at_its_step(bad):
    w = np.ones(2)
    opt = Adam([w], lr=lambda t: 0.1 if t < 3 else bad)
    opt.step([w]), opt.step([w])
    with pytest.raises(ValueError, match=rf"at step 3.*lr={bad!r}|lr={bad!r}.*at step 3"):
        opt.step([w])
    with pytest.raises(ValueError, match=r"run 1.*at step 1"):
        Adam([np.ones((2, 2))], lr=lambda t: np.array([0.1, bad]))


def test_a_schedule_of_the_wrong_shape_or_type_fails():
    with pytest.raises(TypeError, match="at step 1"):
        Adam([np.ones(2)], lr=lambda t: "0.1")
    opt = Adam([np.ones((2, 2))], lr=lambda t: np.full(2 if t == 1 else 3, 0.1))
    opt.step([np.ones((2, 2))])
    with pytest.raises(ValueError, match=r"shape \(3,\) at step 2"):
        opt.step([np.ones((2, 2))])


# -- the built-ins: parameters, repr, config --------------------------------------------------
@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: Constant(-1.0), "value"),
        (lambda: StepDecay(0.1, 0, 0.5), "step_size"),
        (lambda: StepDecay(0.1, 2.5, 0.5), "step_size"),
        (lambda: StepDecay(0.1, 2, -0.5), "gamma"),
        (lambda: ExponentialDecay(0.1, 0.0), "decay_rate"),
        (lambda: CosineAnnealing(0.1, np.array([2, 0])), "T_max"),
        (lambda: CosineAnnealing(np.nan, 3), "lr"),
        (lambda: WarmupCosine(0.0, 0.1, 5, 5), "decay_steps"),
        (lambda: WarmupCosine(0.0, 0.1, -1, 5), "warmup_steps"),
        (lambda: PolynomialDecay(0.1, 0.0, 0.0, 5), "power"),
        (lambda: LinearDecay(0.1, 0.0, 0), "transition_steps"),
        (lambda: StepDecay(np.array([0.1, 0.2]), np.array([1, 2, 3])), "unequal"),
    ],
)
def test_invalid_parameters_are_rejected_by_name(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_repr_config_pickle_and_batched_values():
    sched = WarmupCosine(0.0, np.array([0.1, 0.2]), 2, 10, end_value=0.001)
    assert repr(sched) == (
        "WarmupCosine(init_value=0.0, peak_value=[0.1, 0.2], warmup_steps=2, decay_steps=10, "
        "end_value=0.001)"
    )
    assert sched.config() == {
        "schedule": "warmup_cosine",
        "init_value": 0.0,
        "peak_value": [0.1, 0.2],
        "warmup_steps": 2,
        "decay_steps": 10,
        "end_value": 0.001,
    }
    assert LinearDecay(0.1, 0.0, 4).config() == {
        "schedule": "linear",
        "init_value": 0.1,
        "end_value": 0.0,
        "transition_steps": 4,
        "transition_begin": 0,
    }
    clone = pickle.loads(pickle.dumps(sched))
    assert clone == sched and repr(clone) == repr(sched)
    for t in (1, 3, 7, 12):
        np.testing.assert_array_equal(
            sched(t), [WarmupCosine(0.0, p, 2, 10, 0.001)(t) for p in (0.1, 0.2)]
        )
    with pytest.raises(ValueError, match="step number"):
        sched(0)


def test_the_module_docstring_example_runs():
    import doctest

    from optbench.optimizers import schedules

    result = doctest.testmod(schedules)
    assert result.attempted > 0 and result.failed == 0
