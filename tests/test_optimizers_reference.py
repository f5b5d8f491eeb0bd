"""Exact iterates: hand-derived values, the seed's examples, torch/optax reference numbers.

The reference numbers were produced once by ``torch.optim`` 2.13 and ``optax`` 0.2.8 (jax in
float64) on the quadratic below (5 steps); the tests do not import either library.
"""

import numpy as np
import pytest

from optbench.optimizers import REGISTRY, Momentum, Nesterov

A = np.array([1.0, 2.0, 3.0])
B = np.array([0.1, -0.2, 0.3])
W0 = np.array([0.5, -1.5, 2.0])

# (registry name, convention, hyperparameters, w after 5 steps of g = A * w + B)
REFERENCE = [
    ("sgd", "torch", {"lr": 0.1}, [0.254294, -0.42428799999999994, 0.252947]),
    (
        "sgd",
        "torch",
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
        [-0.08967177661484711, 0.9591354673842613, -1.7191096500088208],
    ),
    (
        "nesterov",
        "torch",
        {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
        [-0.16537456101256728, 0.765471461348795, -0.8267076860530898],
    ),
    (
        "adagrad",
        "torch",
        {"lr": 0.5, "lr_decay": 0.1, "weight_decay": 0.01, "initial_accumulator_value": 0.2},
        [-0.08885639764872703, -0.3779737393083419, 0.7936256520972024],
    ),
    (
        "rmsprop",
        "torch",
        {"lr": 0.05},
        [-0.0999204956644863, -0.2697934751875732, 0.6606974841155929],
    ),
    (
        "rmsprop",
        "torch",
        {
            "lr": 0.05,
            "alpha": 0.9,
            "eps": 1e-06,
            "weight_decay": 0.01,
            "momentum": 0.5,
            "centered": True,
        },
        [-0.15978746751062384, -0.5880556925425874, 1.0588990868444421],
    ),
    ("adam", "torch", {"lr": 0.1}, [0.019381499347134276, -1.0039847944059184, 1.5027745542480313]),
    (
        "adam",
        "torch",
        {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.01, "amsgrad": True},
        [0.025572401285863675, -1.005857077643721, 1.504162173278359],
    ),
    (
        "momentum",
        "optax",
        {"lr": 0.1, "momentum": 0.9},
        [-0.1174960000000001, 1.0286720000000003, -1.7343880000000005],
    ),
    (
        "nesterov",
        "optax",
        {"lr": 0.1, "momentum": 0.9},
        [-0.1627490103400001, 0.7651481292800001, -0.8304897033699999],
    ),
    (
        "adagrad",
        "optax",
        {"lr": 0.5, "eps": 1e-07},
        [-0.0989873053672244, -0.2768048541145164, 0.6667832002969308],
    ),
    (
        "rmsprop",
        "optax",
        {"lr": 0.05, "alpha": 0.9, "eps": 1e-06},
        [0.07308537203007172, -1.0008714880472358, 1.4922968691555594],
    ),
    (
        "rmsprop",
        "optax",
        {"lr": 0.05, "alpha": 0.9, "eps": 1e-06, "momentum": 0.5, "bias_correction": True},
        [0.1428280855914138, -1.1123520181081792, 1.6084842909560164],
    ),
    (
        "rmsprop",
        "optax",
        {"lr": 0.05, "alpha": 0.9, "eps": 0.01, "centered": True},
        [0.06914257926119757, -0.9347611028729044, 1.4211233738578084],
    ),
    (
        "adam",
        "optax",
        {"lr": 0.1, "betas": (0.8, 0.95), "eps_root": 1e-06},
        [0.02549831898301, -1.0058547509589482, 1.5041613756756431],
    ),
    (
        "adam",
        "optax",
        {"lr": 0.1, "betas": (0.8, 0.95), "amsgrad": True, "eps_root": 1e-06},
        [0.0918289967228592, -1.036002575860119, 1.527604516013555],
    ),
]


def iterates(name, convention, kw, w0, grad, steps):
    """Run ``steps`` steps from ``w0`` with ``grad(w)``; return the iterates after each."""
    w = np.array(w0, dtype=np.float64)
    opt = REGISTRY[name]([w], convention=convention, **kw)
    out = []
    for t in range(steps):
        opt.step([np.broadcast_to(np.asarray(grad(w, t), dtype=np.float64), w.shape).copy()])
        out.append(w.copy())
    return np.array(out)


@pytest.mark.parametrize(("name", "convention", "kw", "expected"), REFERENCE)
def test_matches_torch_and_optax_reference(name, convention, kw, expected):
    w = iterates(name, convention, kw, W0, lambda w, t: A * w + B, 5)[-1]
    # torch and XLA fuse some multiply-adds; over 5 steps that is a few ulps
    np.testing.assert_allclose(w, expected, rtol=1e-13, atol=1e-15)


def grad_w(w, t):  # f = w^2 / 2
    return w


def fixed(*gs):
    return lambda w, t: gs[t]


# (name, convention, hyperparameters, w0, gradient, iterates derived by hand)
HAND = [
    ("sgd", "torch", dict(lr=0.5), 1.0, grad_w, [0.5, 0.25, 0.125]),
    ("sgd", "torch", dict(lr=0.5, momentum=0.5), 1.0, grad_w, [0.5, 0.0, -0.25]),
    ("momentum", "seed", dict(lr=0.5, momentum=0.5), 1.0, grad_w, [0.75, 0.4375, 0.171875]),
    ("momentum", "seed_code", dict(lr=0.5, momentum=0.5), 1.0, grad_w, [0.5, 0.0, -0.25]),
    ("momentum", "optax", dict(lr=0.5, momentum=0.5), 1.0, grad_w, [0.5, 0.0, -0.25]),
    (
        "momentum",
        "torch",
        dict(lr=0.5, momentum=0.5, dampening=0.5),
        1.0,
        grad_w,
        [0.5, 0.125, -0.09375],
    ),
    ("nesterov", "torch", dict(lr=0.5, momentum=0.5), 1.0, grad_w, [0.25, -0.0625, -0.109375]),
    ("nesterov", "seed", dict(lr=0.5, momentum=0.5), 1.0, grad_w, [0.625, 0.328125, 0.134765625]),
    ("nesterov", "optax", dict(lr=0.5, momentum=0.5), 1.0, grad_w, [0.25, -0.0625, -0.109375]),
    ("nesterov", "seed_code", dict(lr=0.5, momentum=0.5), 1.0, grad_w, [0.25, -0.0625, -0.109375]),
    ("sgd", "torch", dict(lr=0.5, weight_decay=1.0), 1.0, fixed(1.0, 1.0), [0.0, -0.5]),
    (
        "adagrad",
        "torch",
        dict(lr=1.0, eps=0.0),
        1.0,
        fixed(3.0, 4.0, 12.0),
        [0.0, -0.8, -0.8 - 12 / 13],
    ),
    (
        "adagrad",
        "torch",
        dict(lr=1.0, lr_decay=1.0, eps=0.0),
        1.0,
        fixed(3.0, 4.0, 12.0),
        [0.0, -0.4, -0.4 - 4 / 13],
    ),
    (
        "adagrad",
        "torch",
        dict(lr=1.0, eps=0.0, initial_accumulator_value=16.0),
        1.0,
        fixed(3.0, 0.0, 12.0),
        [0.4, 0.4, 0.4 - 12 / 13],
    ),
    (
        "adagrad",
        "seed",
        dict(lr=1.0, eps=7.0),
        1.0,
        fixed(3.0, 3.0, 12.0),
        [0.25, -0.35, -0.35 - 12 / 13],
    ),
    ("adagrad", "optax", dict(lr=1.0, eps=0.9), 1.0, fixed(0.75, 5 / 3), [0.4, -0.4]),
    (
        "rmsprop",
        "torch",
        dict(lr=0.1, alpha=0.75, eps=0.0),
        1.0,
        fixed(4.0, 2.0, 4.0),
        [0.8, 0.7, 0.7 - 0.4 / np.sqrt(7.0)],
    ),
    (
        "rmsprop",
        "seed",
        dict(lr=0.1, alpha=0.75, eps=3.0),
        1.0,
        fixed(2.0, 2.0),
        [0.9, 0.9 - 0.2 / np.sqrt(4.75)],
    ),
    (
        "rmsprop",
        "torch",
        dict(lr=0.1, alpha=0.5, eps=0.0, centered=True),
        1.0,
        fixed(2.0, 0.0),
        [0.8, 0.8],
    ),
    (
        "rmsprop",
        "torch",
        dict(lr=0.1, alpha=0.75, eps=0.0, momentum=0.5),
        1.0,
        fixed(4.0, 2.0),
        [0.8, 0.8 - 0.1 * (0.5 * 2 + 1)],
    ),
    (
        "rmsprop",
        "optax",
        dict(lr=0.1, alpha=0.75, eps=0.0, bias_correction=True),
        1.0,
        fixed(2.0, 2.0, 2.0),
        [0.9, 0.8, 0.7],
    ),
    ("adam", "torch", dict(lr=1.0, betas=(0.5, 0.5), eps=0.0), 1.0, fixed(1.0, -1.0), [0.0, 1 / 3]),
    ("adam", "seed", dict(lr=1.0, betas=(0.5, 0.5), eps=0.0), 1.0, fixed(1.0, -1.0), [0.0, 1 / 3]),
    ("adam", "torch", dict(lr=0.1, eps=0.0), 1.0, fixed(2.0, 2.0, 2.0), [0.9, 0.8, 0.7]),
    (
        "adam",
        "torch",
        dict(lr=0.1, eps=0.0, amsgrad=True),
        1.0,
        fixed(2.0, 2.0, 2.0),
        [0.9, 0.8, 0.7],
    ),
    (
        "adam",
        "optax",
        dict(lr=0.1, eps=0.0, eps_root=16.0),
        1.0,
        fixed(3.0, 3.0, 3.0),
        [0.94, 0.88, 0.82],
    ),
    (
        "adam",
        "optax",
        dict(lr=1.0, betas=(0.5, 0.5), eps=0.0, amsgrad=True),
        1.0,
        fixed(2.0, 0.0),
        [0.0, -1 / 3],
    ),
]


@pytest.mark.parametrize(("name", "convention", "kw", "w0", "grad", "expected"), HAND)
def test_hand_derived_iterates(name, convention, kw, w0, grad, expected):
    got = iterates(name, convention, kw, [w0], grad, len(expected))[:, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)


SEED_GRADS = [0.9, 0.5, 0.2, -0.1, -0.3, -0.4, -0.2]


def test_seed_momentum_toy_example():
    """The seed's "Code Example - Momentum": -0.06 without momentum, -0.057402429 with."""
    w_gd, w_mom, v = 0.0, 0.0, 0.0  # the seed's loops, verbatim
    for g in SEED_GRADS:
        w_gd -= 0.1 * g
    for g in SEED_GRADS:
        v = 0.9 * v + (1 - 0.9) * g
        w_mom -= 0.1 * v
    plain = iterates("sgd", "seed", dict(lr=0.1), [0.0], fixed(*SEED_GRADS), 7)[-1, 0]
    mom = iterates("momentum", "seed", dict(lr=0.1, momentum=0.9), [0.0], fixed(*SEED_GRADS), 7)
    assert plain == w_gd and mom[-1, 0] == w_mom  # bit for bit
    assert plain == pytest.approx(-0.06, abs=1e-15)
    assert mom[-1, 0] == pytest.approx(-0.057402429, abs=5e-10)


def test_seed_mlp_update_bit_for_bit():
    """``v = momentum * v - lr * dW; W += v`` of the seed's Optimizer_SGD, on its MLP shapes."""
    rng = np.random.default_rng(0)
    shapes = [(2, 64), (1, 64), (64, 3), (1, 3)]
    ours = [0.01 * rng.standard_normal(s) for s in shapes]
    seed = [p.copy() for p in ours]
    velocity = [np.zeros_like(p) for p in ours]
    opt = Momentum(ours, lr=0.1, momentum=0.9, convention="seed_code")
    for _ in range(20):
        grads = [rng.standard_normal(s) for s in shapes]
        for i, g in enumerate(grads):
            velocity[i] = 0.9 * velocity[i] - 0.1 * g
            seed[i] += velocity[i]
        opt.step(grads)
    for a, b in zip(ours, seed, strict=True):
        np.testing.assert_array_equal(a, b)


def quadratic(seed=3, n=6):
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((n, n))
    H = Q @ Q.T / n + np.eye(n)
    b = rng.standard_normal(n)
    return (lambda w: H @ w - b), rng.standard_normal(n)


@pytest.mark.parametrize("convention", ["seed", "torch", "seed_code"])
def test_nesterov_lookahead_form_is_the_same_sequence(convention):
    """The literal look-ahead forms, gradient taken at the look-ahead point, against the
    optimizer on the look-ahead variable W' (the change of variable in the docstrings):

    - seed:      v = mu v + (1 - mu) grad(W - lr mu v);  W -= lr v;   W' = W - lr mu v
    - torch:     v = mu v + grad(W - lr mu v);           W -= lr v;   W' = W - lr mu v
    - seed_code: v = mu v - lr grad(W + mu v);           W += v;      W' = W + mu v
    """
    grad, w0 = quadratic()
    lr, mu = 0.1, 0.9
    W, v = w0.copy(), np.zeros_like(w0)
    w = w0.copy()
    opt = Nesterov([w], lr=lr, momentum=mu, convention=convention)
    for _ in range(150):
        if convention == "seed_code":
            v = mu * v - lr * grad(W + mu * v)
            W = W + v
            lookahead = W + mu * v
        else:
            c = 1 - mu if convention == "seed" else 1.0
            v = mu * v + c * grad(W - lr * mu * v)
            W = W - lr * v
            lookahead = W - lr * mu * v
        opt.step([grad(w)])
        np.testing.assert_allclose(w, lookahead, rtol=1e-12, atol=1e-12)
    assert np.linalg.norm(grad(w)) < 1e-3 * np.linalg.norm(grad(w0))  # it converged


def test_momentum_zero_is_sgd_and_seed_code_equals_torch_at_constant_lr():
    grad, w0 = quadratic()
    plain = iterates("sgd", "torch", dict(lr=0.1), w0, lambda w, t: grad(w), 10)
    zero = iterates("momentum", "torch", dict(lr=0.1, momentum=0.0), w0, lambda w, t: grad(w), 10)
    np.testing.assert_array_equal(plain, zero)
    torch_ = iterates("momentum", "torch", dict(lr=0.1), w0, lambda w, t: grad(w), 10)
    code = iterates("momentum", "seed_code", dict(lr=0.1), w0, lambda w, t: grad(w), 10)
    np.testing.assert_allclose(torch_, code, rtol=1e-13)
