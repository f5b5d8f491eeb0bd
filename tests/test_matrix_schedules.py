"""``lr = {schedule = ...}`` in the matrix: grids of fields expand into runs, numeric fields
are batched as ``(R,)`` arrays, the setting is in the run id and the label, errors name keys."""

import numpy as np
import pytest

from optbench.benchmarks import matrix as mx
from optbench.benchmarks import plan
from optbench.benchmarks.matrix_values import MatrixError
from optbench.benchmarks.runner import run_batch

LINE = {"name": "quadratic", "dim": 1, "condition_number": 1.0}


def build(lr, name="sgd", **extra):
    raw = {"seeds": [0], "budget": {"steps": 12}, "problems": [LINE]}
    raw["optimizers"] = [{"name": name, "lr": lr, **extra}]
    m = mx.parse(raw)
    runs = plan.expand(m, "test")
    return m, runs, plan.batches(runs, m)


def test_fields_grids_expand_into_one_batch_of_runs():
    lr = {
        "schedule": "step",
        "lr": [0.1, 0.2],
        "step_size": 3,
        "gamma": {"linspace": [0.5, 0.9], "num": 2},
    }
    _, runs, specs = build(lr)
    assert len(runs) == 4 and len(specs) == 1
    assert runs[0].setting == "lr=step(lr=0.1, step_size=3, gamma=0.5)"
    assert runs[0].config["hparams"]["lr"] == {
        "schedule": "step",
        "lr": 0.1,
        "step_size": 3.0,
        "gamma": 0.5,
    }
    assert len({r.run_id for r in runs}) == 4
    spec = specs[0]
    assert spec.arrays["lr.lr"] == [0.1, 0.1, 0.2, 0.2] and "lr" in spec.static
    assert spec.arrays["lr.gamma"] == [0.5, 0.9, 0.5, 0.9]


def test_a_batch_of_schedules_gives_the_runs_of_hand_computed_lrs():
    # f(x) = (x - 1)^2 / 2 from 0: x_t - 1 = -prod_s (1 - lr_s), so L = prod (1 - lr_s)^2 / 2.
    _, runs, (spec,) = build({"schedule": "step", "lr": [0.1, 0.2], "step_size": 3, "gamma": 0.5})
    res = run_batch(spec)
    for run in runs:
        base = run.config["hparams"]["lr"]["lr"]
        lrs = [base * 0.5 ** ((t - 1) // 3) for t in range(1, 13)]
        expected = 0.5 * np.prod([(1 - lr) ** 2 for lr in lrs])
        i = spec.run_ids.index(run.run_id)
        assert res.final["loss"][i] == pytest.approx(expected, rel=1e-12)


def test_defaults_are_in_the_run_identity_and_not_in_the_label():
    _, runs, _ = build(
        {
            "schedule": "warmup_cosine",
            "init_value": 0.0,
            "peak_value": 0.1,
            "warmup_steps": 2,
            "decay_steps": 10,
        },
        name="adam",
    )
    assert runs[0].setting == (
        "lr=warmup_cosine(init_value=0, peak_value=0.1, warmup_steps=2, decay_steps=10)"
    )
    assert runs[0].config["hparams"]["lr"]["end_value"] == 0.0
    _, other, _ = build(
        {
            "schedule": "warmup_cosine",
            "init_value": 0.0,
            "peak_value": 0.1,
            "warmup_steps": 2,
            "decay_steps": 11,
        },
        name="adam",
    )
    assert other[0].run_id != runs[0].run_id


@pytest.mark.parametrize(
    ("lr", "key"),
    [
        ({"schedule": "cosine"}, "optimizers[0].lr.schedule"),
        (
            {"schedule": "step", "lr": 0.1, "gama": 0.5, "step_size": 2},
            "optimizers[0].lr: unknown key 'gama'",
        ),
        ({"schedule": "step", "lr": 0.1}, "optimizers[0].lr.step_size"),
        ({"schedule": "step", "lr": -0.1, "step_size": 2}, "optimizers[0].lr.lr"),
        ({"schedule": "step", "lr": 0.1, "step_size": [2, 0]}, "optimizers[0].lr.step_size"),
        ({"schedule": "step", "lr": "a", "step_size": 2}, "optimizers[0].lr.lr"),
        (
            {
                "schedule": "warmup_cosine",
                "init_value": 0.0,
                "peak_value": 0.1,
                "warmup_steps": 5,
                "decay_steps": 5,
            },
            "optimizers[0].lr.decay_steps",
        ),
    ],
)
def test_invalid_fields_name_the_key(lr, key):
    with pytest.raises(MatrixError) as exc:
        build(lr)
    assert str(exc.value).startswith(key)


def test_a_plain_per_run_class_takes_no_schedule(tmp_path):
    (tmp_path / "plain.py").write_text(
        "class PlainSGD:\n"
        "    def __init__(self, params, lr=0.01):\n"
        "        self.params, self.lr = params, lr\n\n"
        "    def step(self, grads):\n"
        "        pass\n"
    )
    raw = {"problems": [LINE], "optimizers": [{"name": "plain.py:PlainSGD"}]}
    raw["optimizers"][0]["lr"] = {"schedule": "constant", "value": 0.1}
    with pytest.raises(MatrixError, match=r"^optimizers\[0\]\.lr: a schedule needs"):
        mx.parse(raw, base=tmp_path)
