"""Reference iterates of ``torch.optim`` for AdamW, NAdam, RAdam and ``maximize=True``.

Run once in an environment with torch 2.13.0 and NumPy (optbench itself is not needed)::

    python benchmarks/compare/reference_adam_family.py

and paste the printed rows into ``tests/test_optimizers_adam_family.py`` (``REFERENCE``) and
``tests/test_optimizers_maximize.py`` (``REFERENCE``). Everything runs in float64, with torch's
default dtype set to float64 so that the scalar state (``step``, NAdam's ``mu_product``) is
float64 too, single-tensor code (``foreach=False``). Descent rows use ``g = A w + B``
(f = w.Aw/2 + B.w); maximize rows use ``g = -(A w + B)`` (the concave -f), from ``W0``.
"""

from __future__ import annotations

A = [1.0, 2.0, 3.0]
B = [0.1, -0.2, 0.3]
W0 = [0.5, -1.5, 2.0]

# (registry name, hyperparameters, steps)
DESCENT = [
    ("adamw", {"lr": 0.1}, 5),
    ("adamw", {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.1, "amsgrad": True}, 5),
    ("nadam", {"lr": 0.1}, 5),
    ("nadam", {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.01, "momentum_decay": 0.01}, 5),
    ("nadam", {"lr": 0.1, "weight_decay": 0.05, "decoupled_weight_decay": True}, 5),
    ("radam", {"lr": 0.1}, 5),
    ("radam", {"lr": 0.1}, 12),
    ("radam", {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.01}, 12),
    ("radam", {"lr": 0.1, "weight_decay": 0.05, "decoupled_weight_decay": True}, 12),
]
ASCENT = [
    ("sgd", {"lr": 0.1}, 5),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}, 5),
    ("nesterov", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}, 5),
    (
        "adagrad",
        {"lr": 0.5, "lr_decay": 0.1, "weight_decay": 0.01, "initial_accumulator_value": 0.2},
        5,
    ),
    ("rmsprop", {"lr": 0.05, "weight_decay": 0.01, "momentum": 0.5, "centered": True}, 5),
    ("adam", {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.01, "amsgrad": True}, 5),
    ("adamw", {"lr": 0.1}, 5),
    ("nadam", {"lr": 0.1, "weight_decay": 0.01}, 5),
    ("radam", {"lr": 0.1, "weight_decay": 0.01}, 12),
]
# maximize=True on the convex f itself (ascent away from its minimum)
ASCENT_CONVEX = [
    ("sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}, 5),
    ("adam", {"lr": 0.1, "weight_decay": 0.01}, 5),
    ("nadam", {"lr": 0.1}, 5),
]


def run(torch, name, kw, steps, sign, maximize):
    optim = torch.optim
    classes = {
        "sgd": optim.SGD,
        "nesterov": optim.SGD,
        "adagrad": optim.Adagrad,
        "rmsprop": optim.RMSprop,
        "adam": optim.Adam,
        "adamw": optim.AdamW,
        "nadam": optim.NAdam,
        "radam": optim.RAdam,
    }
    kw = dict(kw, foreach=False)
    if name == "nesterov":
        kw["nesterov"] = True
    if maximize:
        kw["maximize"] = True
    a, b = torch.tensor(A), torch.tensor(B)
    w = torch.tensor(W0, requires_grad=True)
    opt = classes[name]([w], **kw)
    for _ in range(steps):
        with torch.no_grad():
            w.grad = sign * (a * w + b)
        opt.step()
    return w.detach().tolist()


def main() -> None:
    import torch

    torch.set_default_dtype(torch.float64)
    print(f"# torch {torch.__version__}")
    sections = (
        ("DESCENT, g = A w + B", DESCENT, 1.0, False),
        ("ASCENT (maximize=True), g = -(A w + B)", ASCENT, -1.0, True),
        ("ASCENT (maximize=True), g = A w + B", ASCENT_CONVEX, 1.0, True),
    )
    for title, rows, sign, maximize in sections:
        print(f"# {title}")
        for name, kw, steps in rows:
            w = run(torch, name, kw, steps, sign, maximize)
            print(f"    ({name!r}, {kw!r}, {steps}, {w!r}),")


if __name__ == "__main__":
    main()
