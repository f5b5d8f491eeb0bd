"""Reference iterates of Adamax, Adadelta (``torch.optim``, optax) and Lion (optax), printed as
the constants of ``tests/test_optimizers_more.py``.

Run in an environment that has torch 2.13 and optax (jax in float64); nothing else imports
them::

    python benchmarks/compare/reference_more.py

Each case runs 5 steps of ``g = A * w + B`` from ``W0`` (the quadratic of
``tests/test_optimizers_reference.py``) in float64 and prints ``w`` after the last step.
"""

from __future__ import annotations

import numpy as np

A = np.array([1.0, 2.0, 3.0])
B = np.array([0.1, -0.2, 0.3])
W0 = np.array([0.5, -1.5, 2.0])
STEPS = 5

TORCH = [
    ("adamax", {"lr": 0.1}),
    ("adamax", {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-3, "weight_decay": 0.01}),
    ("adadelta", {}),
    ("adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-3, "weight_decay": 0.01}),
]
OPTAX = [
    ("adamax", {"lr": 0.1}),
    ("adamax", {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-3, "weight_decay": 0.01}),
    ("adadelta", {"lr": 1.0}),
    ("adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-3, "weight_decay": 0.01}),
    ("lion", {"lr": 0.1, "weight_decay": 0.0}),
    ("lion", {"lr": 0.1}),
    ("lion", {"lr": 0.05, "betas": (0.8, 0.95), "weight_decay": 0.1}),
]


def torch_run(torch, name, kw):
    w = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    cls = {"adamax": torch.optim.Adamax, "adadelta": torch.optim.Adadelta}[name]
    opt = cls([w], foreach=False, **kw)
    a, b = torch.tensor(A), torch.tensor(B)
    for _ in range(STEPS):
        w.grad = (a * w + b).detach()
        opt.step()
    return w.detach().numpy().tolist()


def optax_transform(optax, name, kw):
    kw = dict(kw)
    lr, wd = kw.pop("lr"), kw.pop("weight_decay", None)
    b1, b2 = kw.pop("betas", (None, None))
    betas = {} if b1 is None else {"b1": b1, "b2": b2}
    if name == "lion":
        return optax.lion(lr, **betas, **({} if wd is None else {"weight_decay": wd}))
    if name == "adamax":  # optax.adamax has no weight decay: L2 chained before it, as torch
        core = optax.scale_by_adamax(**betas, **kw)
    else:
        core = optax.scale_by_adadelta(**kw)
    return optax.chain(optax.add_decayed_weights(wd or 0.0), core, optax.scale(-lr))


def optax_run(jax, optax, name, kw):
    jnp = jax.numpy
    tx = optax_transform(optax, name, kw)
    w = jnp.asarray(W0)
    state = tx.init(w)
    for _ in range(STEPS):
        updates, state = tx.update(jnp.asarray(A) * w + jnp.asarray(B), state, w)
        w = optax.apply_updates(w, updates)
    return np.asarray(w).tolist()


def main():
    import jax

    jax.config.update("jax_enable_x64", True)
    import optax
    import torch

    torch.set_default_dtype(torch.float64)
    print(f"# torch {torch.__version__}, optax {optax.__version__}, jax {jax.__version__}")
    for name, kw in TORCH:
        print(f'    ("{name}", "torch", {kw!r}, {torch_run(torch, name, kw)!r}),')
    for name, kw in OPTAX:
        conv = "" if name == "lion" else "optax"
        print(f'    ("{name}", "{conv}", {kw!r}, {optax_run(jax, optax, name, kw)!r}),')


if __name__ == "__main__":
    main()
