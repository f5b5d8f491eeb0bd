"""The public contract: registry, signatures, bad input, state_dict, dtypes, allocations."""

import inspect
import tracemalloc

import numpy as np
import pytest

from optbench.optimizers import REGISTRY, SGD, AdaGrad, Adam, Momentum, Nesterov, RMSProp

# One heavy configuration per optimizer (every state array in use).
FULL = {
    "sgd": dict(lr=0.1, momentum=0.5, dampening=0.1, weight_decay=0.01),
    "momentum": dict(lr=0.1, weight_decay=0.01),
    "nesterov": dict(lr=0.1, weight_decay=0.01),
    "adagrad": dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
    "adam": dict(lr=0.01, amsgrad=True, weight_decay=0.01),
    "adamw": dict(lr=0.01, amsgrad=True, weight_decay=0.1),
    "nadam": dict(lr=0.01, weight_decay=0.01, momentum_decay=0.01),
    "radam": dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.01),
    "adamax": dict(lr=0.01, weight_decay=0.01),
    "adadelta": dict(lr=0.5, weight_decay=0.01),
    "lion": dict(lr=0.01, weight_decay=0.01),
}


def make(name, shape=(3, 4), dtype=np.float64, seed=0, **extra):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype(dtype)
    return w, REGISTRY[name]([w], **{**FULL[name], **extra})


def grads_for(w, seed):
    return [np.random.default_rng(seed).standard_normal(w.shape).astype(w.dtype)]


def test_registry_names_and_torch_defaults():
    six = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
    assert list(REGISTRY)[:6] == six
    assert {"adamw", "nadam", "radam"} <= set(REGISTRY)  # tests/test_optimizers_adam_family.py
    assert {"adamax", "adadelta", "lion"} <= set(REGISTRY)  # tests/test_optimizers_more.py
    defaults = {
        SGD: dict(lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0),
        Momentum: dict(lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0),
        Nesterov: dict(lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0),
        AdaGrad: dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10),
        RMSProp: dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0),
        Adam: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False),
    }
    for cls, expected in defaults.items():
        sig = inspect.signature(cls.__init__).parameters
        assert all(p.default is not inspect.Parameter.empty for p in list(sig.values())[2:])
        assert {k: sig[k].default for k in expected} == expected
        assert sig["convention"].default == "torch" and cls.CONVENTIONS[0] == "torch"
    assert AdaGrad([np.zeros(2)]).hparams["initial_accumulator_value"] == 0.0
    assert AdaGrad([np.zeros(2)], convention="optax").hparams["initial_accumulator_value"] == 0.1
    assert "Adam([(3, 4)], lr=0.01" in repr(make("adam")[1])
    assert SGD([np.zeros(2)], lr=np.array(0.5), momentum=np.float32(0.5)).hparams["lr"] == 0.5


BAD_CONSTRUCTION = [
    (Adam, dict(lr=-1e-3), ValueError, "lr"),
    (SGD, dict(lr=np.nan), ValueError, "lr"),
    (SGD, dict(lr="0.1"), TypeError, "lr"),
    (SGD, dict(lr=True), TypeError, "lr"),
    (SGD, dict(lr=np.ones((2, 2))), ValueError, "lr"),
    (SGD, dict(lr=np.array([])), ValueError, "lr"),
    (Adam, dict(betas=(1.0, 0.999)), ValueError, "betas[0]"),
    (Adam, dict(betas=(0.9, -0.1)), ValueError, "betas[1]"),
    (Adam, dict(betas=0.9), TypeError, "betas"),
    (Adam, dict(eps=-1e-8), ValueError, "eps"),
    (Adam, dict(eps_root=1e-8), ValueError, "eps_root"),
    (Adam, dict(amsgrad=1), TypeError, "amsgrad"),
    (RMSProp, dict(alpha=1.5), ValueError, "alpha"),
    (RMSProp, dict(weight_decay=-0.1), ValueError, "weight_decay"),
    (AdaGrad, dict(lr_decay=-1.0), ValueError, "lr_decay"),
    (AdaGrad, dict(initial_accumulator_value=-1.0), ValueError, "initial_accumulator_value"),
    (Momentum, dict(momentum=1.0), ValueError, "momentum"),
    (SGD, dict(dampening=1.5), ValueError, "dampening"),
    (Nesterov, dict(momentum=0.0), ValueError, "nesterov"),
    (SGD, dict(momentum=0.9, nesterov=True, dampening=0.1), ValueError, "dampening"),
    (Momentum, dict(convention="seed", dampening=0.1), ValueError, "dampening"),
    (Momentum, dict(convention="keras"), ValueError, "convention"),
    (AdaGrad, dict(convention="seed_code"), ValueError, "convention"),
    (Momentum, dict(buffer_init="ones"), ValueError, "buffer_init"),
    (SGD, dict(nesterov="yes"), TypeError, "nesterov"),
    (SGD, dict(lr=np.array([0.1, 0.2])), ValueError, "lr"),  # params have R = 3
    (
        Adam,
        dict(lr=np.array([0.1, 0.2, 0.3]), eps=np.array([1e-8, 1e-8])),
        ValueError,
        "must share one length R, got {'lr': 3, 'eps': 2}",
    ),
]


@pytest.mark.parametrize(("cls", "kw", "exc", "word"), BAD_CONSTRUCTION)
def test_bad_hyperparameters_raise_naming_the_argument(cls, kw, exc, word):
    w = np.ones((3, 2))
    with pytest.raises(exc, match=word.replace("[", r"\[").replace("]", r"\]")):
        cls([w], **kw)
    np.testing.assert_array_equal(w, 1.0)


@pytest.mark.parametrize(
    ("params", "exc", "word"),
    [
        ([np.ones(3, dtype=np.int64)], TypeError, r"params\[0\].*float32 or float64"),
        ([np.ones(3, dtype=np.float16)], TypeError, r"params\[0\]"),
        ([[1.0, 2.0]], TypeError, r"params\[0\] must be a NumPy array"),
        (np.ones(3), TypeError, "list"),
        ([], ValueError, "at least one"),
        ([_W := np.ones((3, 4)), _W[:, :2]], ValueError, r"params\[0\] and params\[1\] share"),
        ([np.ones(2), _W, _W.T], ValueError, r"params\[1\] and params\[2\] share memory"),
    ],
)
def test_bad_params_raise(params, exc, word):
    with pytest.raises(exc, match=word):
        Adam(params)


def test_read_only_params_raise():
    w = np.ones(3)
    w.setflags(write=False)
    with pytest.raises(ValueError, match=r"params\[0\] is read-only"):
        SGD([w])


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_bad_grads_leave_params_and_state_untouched(name):
    w, opt = make(name)
    for seed in range(2):
        opt.step(grads_for(w, seed))
    before_w, before = w.copy(), opt.state_dict()
    g = grads_for(w, 9)[0]
    bad = [
        ([g, g], ValueError, r"one array per param \(1\), got 2"),
        ([g[:, :2]], ValueError, r"grads\[0\] must have shape"),
        ([g.astype(np.float32)], TypeError, r"grads\[0\] must have dtype float64"),
        ([g.tolist()], TypeError, "NumPy array"),
        (g, TypeError, "list"),
    ]
    for grads, exc, word in bad:
        with pytest.raises(exc, match=word):
            opt.step(grads)
    np.testing.assert_array_equal(w, before_w)
    after = opt.state_dict()
    assert after["step"] == before["step"] == 2
    for a, b in zip(after["state"], before["state"], strict=True):
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


CONVENTION_CASES = [
    (name, conv) for name, cls in sorted(REGISTRY.items()) for conv in cls.CONVENTIONS
]


@pytest.mark.parametrize(("name", "convention"), CONVENTION_CASES)
def test_state_dict_round_trip_continues_the_same_sequence(name, convention):
    kw = {"convention": convention}
    if name == "adam" and convention != "torch":
        kw["eps_root"] = 1e-6
    if name == "sgd" and convention.startswith("seed"):
        kw["dampening"] = 0.0  # the seed's momentum has no separate dampening
    w, opt = make(name, **kw)
    for seed in range(3):
        opt.step(grads_for(w, seed))
    saved = opt.state_dict()
    w2 = w.copy()
    opt2 = REGISTRY[name]([w2], **{**FULL[name], **kw})
    opt2.load_state_dict(saved)
    for arrays in saved["state"]:  # the dict holds copies: mutating it changes nothing
        for a in arrays.values():
            a += 1.0
    for seed in range(3, 7):
        opt.step(grads_for(w, seed))
        opt2.step(grads_for(w2, seed))
    np.testing.assert_array_equal(w, w2)
    assert opt2.step_count == 7


def test_load_state_dict_rejects_mismatch_before_changing_anything():
    w, opt = make("adam")
    opt.step(grads_for(w, 0))
    good = opt.state_dict()
    other = make("adam", shape=(3, 5))[1].state_dict()
    for bad, word in [
        (other, "shape"),
        ({"step": 1}, "keys"),
        ({**good, "step": -1}, "step"),
        ({**good, "state": []}, "states"),
        ({**good, "state": [{"exp_avg": good["state"][0]["exp_avg"]}]}, "keys"),
    ]:
        with pytest.raises(ValueError, match=word):
            opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["step"] == 1
    assert all(np.array_equal(after["state"][0][k], v) for k, v in good["state"][0].items())


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_float32_stays_float32_and_mixed_dtypes_work(name):
    rng = np.random.default_rng(1)
    w32 = rng.standard_normal((4, 3)).astype(np.float32)
    w64 = rng.standard_normal(5)
    opt = REGISTRY[name]([w32, w64], **FULL[name])
    for _ in range(3):
        opt.step([w32.copy(), w64.copy()])
    assert w32.dtype == np.float32 and w64.dtype == np.float64
    assert all(a.dtype == np.float32 for a in opt.state[0].values())
    assert all(a.dtype == np.float64 for a in opt.state[1].values())
    # the float32 run equals a float32-only run (the float64 neighbour does not leak in)
    v32 = rng.standard_normal((4, 3)).astype(np.float32)
    u32, ref = v32.copy(), REGISTRY[name]([v32], **FULL[name])
    opt2 = REGISTRY[name]([u32, np.zeros(2)], **FULL[name])
    for _ in range(3):
        ref.step([v32.copy()])
        opt2.step([u32.copy(), np.zeros(2)])
    np.testing.assert_array_equal(v32, u32)


@pytest.mark.parametrize("layout", ["1-D float64", "1-D float32", "runs (R, d) F-order"])
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_steady_state_step_allocates_nothing_of_the_parameter_size(name, layout):
    """Also on the harness's path: F-ordered (R, d) parameters with an (R,) learning rate."""
    n = 1_000_000
    hyper = dict(FULL[name])
    if layout == "runs (R, d) F-order":
        w = np.zeros((1000, n // 1000), order="F")
        hyper["lr"] = np.linspace(0.001, 0.01, 1000)
    else:
        w = np.zeros(n, dtype=np.float32 if "float32" in layout else np.float64)
    g = np.full_like(w, 0.5)
    opt = REGISTRY[name]([w], **hyper)
    opt.step([g])
    opt.step([g])
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        opt.step([g])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < w.nbytes / 20, f"a step allocated {peak} bytes for a {w.nbytes}-byte parameter"


@pytest.mark.parametrize(
    "module", ["base", "sgd", "adagrad", "rmsprop", "adam", "adamw", "nadam", "radam"]
)
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"optimizers.{module}"))
    assert result.attempted > 0 and result.failed == 0
