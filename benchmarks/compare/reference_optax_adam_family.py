"""Reference iterates of optax 0.2.8 for AdamW's, NAdam's and RAdam's ``convention="optax"``.

Run once in an environment with jax, optax 0.2.8 and NumPy (optbench itself is not needed)::

    python benchmarks/compare/reference_optax_adam_family.py

and paste the printed rows into ``tests/test_optimizers_adam_family.py`` (``OPTAX_REFERENCE``).
Everything runs in float64 (``jax_enable_x64``), eagerly (no ``jit``), from the same problem as
``reference_adam_family.py``: ``g = A w + B`` from ``W0``. Optax has no maximize flag: for
the rows marked maximize, optax gets ``g = -(A w + B)``, which is what optbench's
``maximize=True`` makes of ``g = A w + B`` (``g <- -g``).
``amsgrad=True`` is ``scale_by_amsgrad`` in place of ``scale_by_adam`` in ``optax.adamw``'s
chain; NAdam's L2 ``weight_decay`` is ``add_decayed_weights`` chained before ``optax.nadam``,
its ``decoupled_weight_decay=True`` is ``optax.nadamw``; RAdam's likewise, with the chain
``scale_by_radam``, ``add_decayed_weights``, ``scale_by_learning_rate`` when decoupled.
"""

from __future__ import annotations

A = [1.0, 2.0, 3.0]
B = [0.1, -0.2, 0.3]
W0 = [0.5, -1.5, 2.0]

# (registry name, optbench hyperparameters, steps)
ROWS = [
    ("adamw", {"lr": 0.1}, 5),
    ("adamw", {"lr": 0.1, "weight_decay": 0.0}, 5),
    ("adamw", {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.1, "eps": 1e-3}, 12),
    ("adamw", {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.1, "amsgrad": True}, 12),
    ("adamw", {"lr": 0.1, "weight_decay": 0.05, "maximize": True}, 5),
    ("nadam", {"lr": 0.1}, 5),
    ("nadam", {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.01}, 12),
    ("nadam", {"lr": 0.1, "weight_decay": 0.05, "decoupled_weight_decay": True}, 12),
    ("nadam", {"lr": 0.1, "eps": 1e-3, "maximize": True}, 5),
    ("radam", {"lr": 0.1}, 5),
    ("radam", {"lr": 0.1}, 12),
    ("radam", {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.01}, 12),
    ("radam", {"lr": 0.1, "weight_decay": 0.05, "decoupled_weight_decay": True}, 12),
    ("radam", {"lr": 0.1, "eps": 1e-3, "maximize": True}, 12),
]


def transform(optax, name, kw):
    b1, b2 = kw.get("betas", (0.9, 0.999))
    lr, eps, wd = kw.get("lr", 1e-3), kw.get("eps", 1e-8), kw.get("weight_decay", 1e-2)
    if name == "adamw":
        if kw.get("amsgrad"):
            return optax.chain(
                optax.scale_by_amsgrad(b1=b1, b2=b2, eps=eps),
                optax.add_decayed_weights(wd),
                optax.scale_by_learning_rate(lr),
            )
        return optax.adamw(lr, b1=b1, b2=b2, eps=eps, weight_decay=wd)
    wd = kw.get("weight_decay", 0.0)
    if name == "nadam" and kw.get("decoupled_weight_decay"):
        return optax.nadamw(lr, b1=b1, b2=b2, eps=eps, weight_decay=wd)
    if name == "nadam":
        return optax.chain(optax.add_decayed_weights(wd), optax.nadam(lr, b1=b1, b2=b2, eps=eps))
    if name == "radam" and kw.get("decoupled_weight_decay"):
        return optax.chain(
            optax.scale_by_radam(b1=b1, b2=b2, eps=eps),
            optax.add_decayed_weights(wd),
            optax.scale_by_learning_rate(lr),
        )
    if name == "radam":
        return optax.chain(optax.add_decayed_weights(wd), optax.radam(lr, b1=b1, b2=b2, eps=eps))
    raise ValueError(name)


def run(jax, optax, name, kw, steps):
    jnp = jax.numpy
    a, b = jnp.array(A, dtype=jnp.float64), jnp.array(B, dtype=jnp.float64)
    w = jnp.array(W0, dtype=jnp.float64)
    sign = -1.0 if kw.get("maximize") else 1.0
    tx = transform(optax, name, kw)
    state = tx.init(w)
    for _ in range(steps):
        g = sign * (a * w + b)
        updates, state = tx.update(g, state, w)
        w = optax.apply_updates(w, updates)
    return [float(x) for x in w]


def main() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    import optax

    print(f"# optax {optax.__version__}, jax {jax.__version__}")
    for name, kw, steps in ROWS:
        w = run(jax, optax, name, kw, steps)
        print(f"    ({name!r}, {kw!r}, {steps}, {w!r}),")


if __name__ == "__main__":
    main()
