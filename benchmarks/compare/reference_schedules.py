"""Reference learning rates of torch's and optax's schedules, and torch iterates under
schedulers, printed as the constants of ``tests/test_schedules.py``.

Run in an environment that has torch 2.13 and optax (jax in float64); nothing else imports
them::

    python benchmarks/compare/reference_schedules.py

Step numbers: the t-th update (t = 1, 2, ...) uses torch's ``scheduler.get_last_lr()`` after
t - 1 calls of ``scheduler.step()``, and optax's ``schedule(count = t - 1)``; each list below
is the lr of the updates t = 1 .. STEPS. The iterates run ``STEPS`` steps of
``g = A * w + B`` from ``W0`` in float64, ``scheduler.step()`` after each ``opt.step()``.
"""

from __future__ import annotations

import numpy as np

A = np.array([1.0, 2.0, 3.0])
B = np.array([0.1, -0.2, 0.3])
W0 = np.array([0.5, -1.5, 2.0])
STEPS = 12

TORCH_SCHEDULES = [
    ("StepLR", 0.1, {"step_size": 3, "gamma": 0.3}),
    ("ExponentialLR", 0.1, {"gamma": 0.9}),
    ("CosineAnnealingLR", 0.1, {"T_max": 5, "eta_min": 0.01}),
    ("CosineAnnealingLR", 0.3, {"T_max": 4}),
]
OPTAX_SCHEDULES = [
    ("exponential_decay", {"init_value": 0.1, "transition_steps": 2, "decay_rate": 0.7}),
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
    ),
    ("linear_schedule", {"init_value": 0.1, "end_value": 0.02, "transition_steps": 8}),
]
TORCH_RUNS = [
    ("sgd", {"lr": 0.1, "momentum": 0.9}, "StepLR", {"step_size": 3, "gamma": 0.5}),
    ("sgd", {"lr": 0.1, "momentum": 0.9}, "CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}),
    ("adam", {"lr": 0.1}, "StepLR", {"step_size": 3, "gamma": 0.5}),
    ("adam", {"lr": 0.1}, "CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}),
    ("adamw", {"lr": 0.1, "weight_decay": 0.1}, "CosineAnnealingLR", {"T_max": 5}),
]


def torch_lrs(torch, name, lr, kw):
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr)
    sched = getattr(torch.optim.lr_scheduler, name)(opt, **kw)
    out = []
    for _ in range(STEPS):
        out.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return out


def torch_run(torch, name, kw, sched_name, sched_kw):
    w = torch.tensor(W0, requires_grad=True)
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    opt = cls([w], **kw)
    sched = getattr(torch.optim.lr_scheduler, sched_name)(opt, **sched_kw)
    a, b = torch.tensor(A), torch.tensor(B)
    for _ in range(STEPS):
        w.grad = a * w.detach() + b
        opt.step()
        sched.step()
    return w.detach().numpy().tolist()


def main():
    import warnings

    import jax

    jax.config.update("jax_enable_x64", True)
    import optax
    import torch

    warnings.filterwarnings("ignore")
    torch.set_default_dtype(torch.float64)
    print(f"# torch {torch.__version__}, optax {optax.__version__}, jax {jax.__version__}")
    print("TORCH_LRS = [")
    for name, lr, kw in TORCH_SCHEDULES:
        print(f'    ("{name}", {lr!r}, {kw!r}, {torch_lrs(torch, name, lr, kw)!r}),')
    print("]\nOPTAX_LRS = [")
    for name, kw in OPTAX_SCHEDULES:
        fn = getattr(optax, name)(**kw)
        lrs = [float(fn(np.int64(count))) for count in range(STEPS)]
        print(f'    ("{name}", {kw!r}, {lrs!r}),')
    print("]\nTORCH_ITERATES = [")
    for name, kw, sched_name, sched_kw in TORCH_RUNS:
        w = torch_run(torch, name, kw, sched_name, sched_kw)
        print(f'    ("{name}", {kw!r}, "{sched_name}", {sched_kw!r}, {w!r}),')
    print("]")


if __name__ == "__main__":
    main()
