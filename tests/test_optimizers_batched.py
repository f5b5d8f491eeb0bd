"""Vectorized over runs: a batched step equals R separate runs bit for bit, whatever the
blocking, threading or memory layout; (R,) hyperparameters broadcast along axis 0."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench import optimizers
from optbench.optimizers import REGISTRY, _blocks

# Per-run values of each hyperparameter (R = 3), and the options that select code paths.
SWEEPS = {
    "sgd": dict(
        lr=[0.1, 0.05, 0.2],
        momentum=[0.9, 0.0, 0.5],
        dampening=[0.0, 0.1, 0.3],
        weight_decay=[0.0, 0.01, 0.1],
    ),
    "momentum": dict(lr=[0.1, 0.05, 0.2], momentum=[0.9, 0.8, 0.5], weight_decay=[0.0, 0.01, 0.1]),
    "nesterov": dict(lr=[0.1, 0.05, 0.2], momentum=[0.9, 0.8, 0.5]),
    "adagrad": dict(
        lr=[0.1, 0.05, 0.2],
        lr_decay=[0.0, 0.1, 0.01],
        eps=[1e-10, 1e-3, 0.1],
        initial_accumulator_value=[0.0, 0.1, 1.0],
        weight_decay=[0.0, 0.01, 0.1],
    ),
    "rmsprop": dict(
        lr=[0.01, 0.05, 0.02],
        alpha=[0.99, 0.9, 0.5],
        eps=[1e-8, 1e-3, 0.1],
        momentum=[0.0, 0.5, 0.9],
        weight_decay=[0.0, 0.01, 0.1],
    ),
    "adam": dict(
        lr=[0.01, 0.05, 0.02],
        eps=[1e-8, 1e-3, 0.1],
        weight_decay=[0.0, 0.01, 0.1],
        betas=([0.9, 0.3, 0.7], [0.999, 0.9, 0.5]),
    ),
}
OPTIONS = {
    "sgd": [dict(), dict(nesterov=False, convention="optax")],
    "momentum": [dict(convention=c) for c in ("torch", "seed", "seed_code")],
    "nesterov": [dict(convention=c) for c in ("torch", "seed", "seed_code")],
    "adagrad": [dict(convention=c) for c in ("torch", "seed", "optax")],
    "rmsprop": [
        dict(),
        dict(centered=True, convention="seed"),
        dict(convention="optax", bias_correction=True),
    ],
    "adam": [dict(), dict(amsgrad=True), dict(convention="optax", amsgrad=True, eps_root=1e-6)],
}
CASES = [(name, opts) for name in sorted(SWEEPS) for opts in OPTIONS[name]]


def strip_dampening(name, opts, sweep):
    if name == "sgd" or opts.get("convention", "torch") == "torch":
        return sweep
    return {k: v for k, v in sweep.items() if k != "dampening"}


def one_run(hp: dict, r: int) -> dict:
    """Run r's scalar hyperparameters from a sweep of (R,) lists."""
    out = {}
    for k, v in hp.items():
        out[k] = (v[0][r], v[1][r]) if k == "betas" else v[r]
    return out


def batched(hp: dict) -> dict:
    return {
        k: (tuple(np.array(x) for x in v) if k == "betas" else np.array(v)) for k, v in hp.items()
    }


def grad_of(w, t):
    """An elementwise gradient that depends on the iterate and on the step."""
    c = w.dtype.type(np.sin(t + 1))
    return np.asarray(2 * w + 0.5 * w * w + c)


def run(name, params, kw, steps=4):
    opt = REGISTRY[name](params, **kw)
    for t in range(steps):
        opt.step([grad_of(p, t) for p in params])
    return params


@pytest.fixture(
    params=[(1 << 16, 1 << 20), (8, 16), (2, 1)], ids=["default", "tiny-blocks", "row-blocks"]
)
def blocks(request, monkeypatch):
    """Default blocking, and tiny blocks split between threads (many blocks, both layouts)."""
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", request.param[0])
    monkeypatch.setattr(_blocks, "PARALLEL_MIN", request.param[1])
    return request.param


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "opts"), CASES)
def test_batched_equals_separate_runs_bit_for_bit(name, opts, dtype, blocks):
    rng = np.random.default_rng(0)
    shapes = [(3, 5, 7), (3, 40), (3,)]
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    sweep = strip_dampening(name, opts, SWEEPS[name])
    together = run(name, [p.copy() for p in init], {**opts, **batched(sweep)})
    for r in range(3):
        alone = run(name, [p[r, ...].copy() for p in init], {**opts, **one_run(sweep, r)})
        for a, b in zip(together, alone, strict=True):
            np.testing.assert_array_equal(a[r], b)


@pytest.mark.parametrize(("name", "opts"), CASES)
def test_blocked_equals_whole_array_for_any_layout(name, opts, monkeypatch):
    """Fortran-order and strided parameters and gradients take the whole-array path; they
    must give the same bits as the blocked, threaded path on C-contiguous arrays."""
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", 32)
    monkeypatch.setattr(_blocks, "PARALLEL_MIN", 64)
    sweep = batched(strip_dampening(name, opts, SWEEPS[name]))
    base = np.random.default_rng(1).standard_normal((3, 30, 11))
    c_order = run(name, [base.copy()], {**opts, **sweep})[0]
    f_order = run(name, [np.asfortranarray(base)], {**opts, **sweep})[0]
    big = np.zeros((3, 30, 22))
    big[:, :, ::2] = base
    strided = run(name, [big[:, :, ::2]], {**opts, **sweep})[0]
    np.testing.assert_array_equal(c_order, f_order)
    np.testing.assert_array_equal(c_order, strided)
    assert np.all(big[:, :, 1::2] == 0)  # the gaps are not written


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_state_follows_the_parameters_memory_order(name):
    """State of an F-ordered (R, d) parameter (the problems' structure-of-arrays layout) is
    F-ordered too, so that no update pass mixes layouts."""
    p = np.asfortranarray(np.ones((64, 2)))
    opt = REGISTRY[name]([p], lr=np.full(64, 0.01))
    for arr in opt.state[0].values():
        assert arr.flags.f_contiguous and not arr.flags.c_contiguous, name


def test_threads_do_not_change_results(monkeypatch):
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", 64)
    monkeypatch.setattr(_blocks, "PARALLEL_MIN", 1)
    base = np.random.default_rng(2).standard_normal(10_000)
    results = []
    for n in (1, 2, 3):
        optimizers.set_num_threads(n)
        try:
            results.append(run("adam", [base.copy()], dict(lr=0.01, amsgrad=True))[0])
        finally:
            optimizers.set_num_threads(2)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        optimizers.set_num_threads(0)


@pytest.mark.parametrize(("name", "opts"), CASES)
def test_a_diverged_run_does_not_touch_the_others(name, opts):
    """A non-finite gradient in run 1 leaves runs 0 and 2 as they would be alone."""
    sweep = strip_dampening(name, opts, SWEEPS[name])
    init = np.random.default_rng(3).standard_normal((3, 50))
    w = init.copy()
    opt = REGISTRY[name]([w], **{**opts, **batched(sweep)})
    with np.errstate(invalid="ignore", over="ignore"):  # run 1 is meant to blow up
        for t in range(3):
            g = grad_of(w, t)
            g[1, ::2] = np.nan if t == 1 else np.inf
            opt.step([g])
    for r in (0, 2):
        alone = run(name, [init[r].copy()], {**opts, **one_run(sweep, r)}, steps=3)[0]
        np.testing.assert_array_equal(w[r], alone)
    assert not np.all(np.isfinite(w[1]))


def test_worker_threads_follow_the_callers_errstate(monkeypatch):
    """np.errstate is per context: worker threads must run in the caller's."""
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", 64)
    monkeypatch.setattr(_blocks, "PARALLEL_MIN", 1)
    w = np.ones(8192)
    g = np.full(8192, np.inf)  # inf / inf in every block: "invalid" wherever it runs
    opt = REGISTRY["adam"]([w], lr=0.1)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("error")  # a worker ignoring errstate would warn, hence raise
        for _ in range(20):
            opt.step([g])
    assert np.all(np.isnan(w))


# -- property tests -----------------------------------------------------------------------

RANGES = {  # (name, hyperparameter) -> strategy of valid values
    "lr": st.floats(0.0, 1.0),
    "momentum": st.floats(0.0, 0.99),
    "dampening": st.floats(0.0, 1.0),
    "weight_decay": st.floats(0.0, 0.1),
    "lr_decay": st.floats(0.0, 1.0),
    "eps": st.floats(1e-12, 1.0),
    "initial_accumulator_value": st.floats(0.0, 1.0),
    "alpha": st.floats(0.0, 0.999),
    "beta": st.floats(0.0, 0.999),
}
SWEPT = {
    "sgd": ["lr", "momentum", "dampening", "weight_decay"],
    "momentum": ["lr", "momentum", "weight_decay"],
    "nesterov": ["lr", "weight_decay"],
    "adagrad": ["lr", "lr_decay", "weight_decay", "eps", "initial_accumulator_value"],
    "rmsprop": ["lr", "alpha", "eps", "weight_decay", "momentum"],
    "adam": ["lr", "eps", "weight_decay", "beta1", "beta2"],
}


@st.composite
def batched_problem(draw):
    name = draw(st.sampled_from(sorted(SWEPT)))
    R = draw(st.integers(1, 4))
    tails = draw(st.lists(st.lists(st.integers(0, 4), max_size=3), min_size=1, max_size=3))
    shapes = [(R, *t) for t in tails]
    hp = {}
    for k in SWEPT[name]:
        strat = RANGES["beta" if k.startswith("beta") else k]
        if draw(st.booleans()):
            hp[k] = np.array(draw(st.lists(strat, min_size=R, max_size=R)))
        else:
            hp[k] = draw(strat)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return name, R, shapes, hp, dtype


def to_kwargs(hp):
    kw = dict(hp)
    if "beta1" in kw:
        kw["betas"] = (kw.pop("beta1"), kw.pop("beta2"))
    return kw


@settings(max_examples=60, deadline=None)
@given(batched_problem(), st.integers(0, 2**32 - 1))
def test_property_broadcast_along_axis0_equals_separate_runs(problem, seed):
    name, R, shapes, hp, dtype = problem
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    together = [p.copy() for p in init]
    run(name, together, to_kwargs(hp), steps=3)
    for p, q in zip(together, init, strict=True):
        assert p.shape == q.shape and p.dtype == q.dtype
    for r in range(R):
        scalars = {k: (v[r] if isinstance(v, np.ndarray) else v) for k, v in hp.items()}
        alone = run(name, [p[r, ...].copy() for p in init], to_kwargs(scalars), steps=3)
        for a, b in zip(together, alone, strict=True):
            np.testing.assert_array_equal(a[r], b)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(sorted(REGISTRY)),
    st.lists(st.integers(0, 5), max_size=4),
    st.integers(1, 5),
)
def test_property_mismatched_R_is_rejected(name, shape, R):
    shape = tuple(shape)
    lr = np.full(R, 0.1)
    w = np.ones(shape)
    if len(shape) >= 1 and shape[0] == R:
        REGISTRY[name]([w], lr=lr)  # fits
    else:
        with pytest.raises(ValueError, match=f"leading axis R={R}"):
            REGISTRY[name]([w], lr=lr)


@pytest.mark.parametrize("order", ["F", "C"])
def test_adam_late_steps_follow_torch_arithmetic_bit_for_bit(order):
    """400 steps with per-run learning rates: past t = 349 the bias correction 1 - 0.9^t has
    rounded to 1 and its divisions are skipped; the iterates must keep torch's bits (with the
    larger rates they hover around the minimum 0 at the scale of a step, where one ulp of a
    step shows: a step size one ulp off fails this test)."""
    b1, b2, eps, lrs = 0.9, 0.999, 1e-8, [1e-3, 1e-2, 1e-1]
    start = np.random.default_rng(3).uniform(-1.0, 1.0, (3, 2))
    w = np.array(start, order=order)
    opt = REGISTRY["adam"]([w], lr=np.array(lrs))
    for _ in range(400):
        opt.step([w + 0.5 * w * w])
    for r, lr in enumerate(lrs):  # torch.optim.Adam's single-tensor order, one run
        x, m, v = start[r].copy(), np.zeros(2), np.zeros(2)
        for t in range(1, 401):
            g = x + 0.5 * x * x
            m = m + (g - m) * (1.0 - b1)
            v = v * b2 + (g * (1.0 - b2)) * g
            denom = np.sqrt(v) / math.sqrt(1.0 - b2**t) + eps
            x = x + ((-(lr / (1.0 - b1**t))) * m) / denom  # addcdiv_(m, denom, value=...)
        np.testing.assert_array_equal(w[r], x)


def test_adagrad_follows_torch_arithmetic_bit_for_bit():
    """torch.optim.Adagrad's single-tensor step, written out: G += g g;
    w.addcdiv_(g, sqrt(G) + eps, value=-clr), i.e. w + (-clr g) / (sqrt(G) + eps)."""
    lr, lr_decay, eps = 0.1, 0.01, 1e-10
    start = np.random.default_rng(4).uniform(-1.0, 1.0, (3, 50))
    w = start.copy()
    opt = REGISTRY["adagrad"]([w], lr=lr, lr_decay=lr_decay, eps=eps)
    x, G = start.copy(), np.zeros_like(start)
    for t in range(1, 101):
        g = np.sin(3.0 * x) + 0.1 * x
        opt.step([np.sin(3.0 * w) + 0.1 * w])
        clr = lr / (1 + (t - 1) * lr_decay)
        G = G + g * g
        x = x + ((-clr) * g) / (np.sqrt(G) + eps)
    np.testing.assert_array_equal(w, x)


def test_a_run_without_momentum_ignores_a_scalar_dampening_as_torch_does():
    """Found by the property test: momentum (0, 0.9) with dampening=1 made run 0 take the
    buffer path, v = 0 v + (1 - 1) g = 0, so it never moved; alone it is plain SGD."""
    start = np.array([[0.5], [0.5]])
    w = start.copy()
    opt = REGISTRY["sgd"]([w], lr=1.0, momentum=np.array([0.0, 0.9]), dampening=1.0)
    for _ in range(3):
        opt.step([np.full_like(w, 0.3)])
    np.testing.assert_array_equal(w[0], ((start[0] - 0.3) - 0.3) - 0.3)
