"""The matrix spec: parsing, the built-in default, validation errors, expansion and run ids."""

import itertools
import tomllib

import pytest

from optbench.benchmarks import matrix as mx
from optbench.benchmarks import matrix_values, plan
from optbench.benchmarks.cli import main as cli

SMALL = """
seeds = [0, 1]
budget = { steps = 20 }
[[optimizers]]
name = "adam"
lr = { logspace = [1e-3, 1e-1], num = 3 }
amsgrad = [false, true]
[[optimizers]]
name = "sgd"
convention = ["torch", "seed_code"]
lr = [0.01, 0.1]
momentum = 0.5
[[problems]]
name = "rosenbrock"
[[problems]]
name = "quadratic"
dim = 5
condition_number = 10.0
budget = { steps = 7 }
"""


def parse(text):
    return mx.parse(tomllib.loads(text), source=text)


def test_logspace_and_linspace_grids_are_the_hand_values():
    m = parse(SMALL.replace("num = 3", "num = 4").replace("[1e-3, 1e-1]", "[1e-4, 1e-1]"))
    assert m.optimizers[0].grid["lr"] == (1e-4, 1e-3, 1e-2, 1e-1)
    lin = matrix_values.values("x", {"linspace": [0.0, 1.0], "num": 5}, 0.0)
    assert lin == (0.0, 0.25, 0.5, 0.75, 1.0)


def test_pairs_are_values_and_lists_of_pairs_are_grids():
    assert matrix_values.values("betas", [0.9, 0.99], (0.9, 0.999)) == ((0.9, 0.99),)
    grid = matrix_values.values("betas", [[0.9, 0.99], [0.5, 0.9]], (0.9, 0.999))
    assert grid == ((0.9, 0.99), (0.5, 0.9))


def test_expansion_counts_batches_and_per_problem_budget():
    m = parse(SMALL)
    runs = plan.expand(m, "test")
    # per problem: adam 3 lr x 2 amsgrad + sgd 2 conventions x 2 lr = 10 settings, x 2 seeds
    assert len(runs) == 2 * 10 * 2
    assert len({r.run_id for r in runs}) == len(runs)
    specs = plan.batches(runs, m)
    # per problem: adam split by amsgrad (2), sgd split by convention (2)
    assert len(specs) == 2 * 4
    assert sum(s.size for s in specs) == len(runs)
    assert {s.steps for s in specs if s.problem_name == "quadratic"} == {7}
    adam = next(s for s in specs if s.optimizer == "adam" and s.problem_name == "rosenbrock")
    assert adam.size == 6 and set(adam.arrays) == {"lr"} and "amsgrad" in adam.static
    assert plan.batches(runs, m, max_batch=4)[0].size == 4


def test_run_ids_are_stable_and_depend_on_config_and_version():
    m = parse(SMALL)
    a = [r.run_id for r in plan.expand(m, "1.0")]
    assert a == [r.run_id for r in plan.expand(parse(SMALL), "1.0")]
    assert set(a).isdisjoint(r.run_id for r in plan.expand(m, "1.1"))
    b = {r.run_id for r in plan.expand(parse(SMALL.replace("[0, 1]", "[0, 2]")), "1.0")}
    assert len(set(a) & b) == len(a) // 2  # seed 0 runs are shared, seed 1 vs 2 differ


def test_setting_label_names_the_hyperparameters_without_the_seed():
    runs = plan.expand(parse(SMALL), "t")
    sgd = next(r for r in runs if r.optimizer == "sgd")
    assert sgd.setting == "lr=0.01, momentum=0.5"


def test_default_matrix_covers_the_issue():
    m = mx.load()
    assert {o.name for o in m.optimizers} == {
        "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"
    }  # fmt: skip
    for o in m.optimizers:
        lrs = o.grid["lr"]
        assert len(lrs) >= 12
        if o.problems is not None:  # momentum tuned too, on the noise-free 50-D quadratics
            assert o.name in ("momentum", "nesterov") and len(o.grid["momentum"]) >= 4
            assert {m.problems[i].kwargs["condition_number"] for i in o.problems} >= {10, 100, 1e3}
            continue
        ratios = [b / a for a, b in itertools.pairwise(lrs)]
        assert max(ratios) / min(ratios) == pytest.approx(1.0, rel=1e-6)  # log-spaced
    assert m.held_out and not set(m.tuning_seeds) & set(m.seeds)
    assert len(m.seeds) >= 5
    probs = [(p.name, p.kwargs) for p in m.problems]
    assert {k.get("dim", 2) for n, k in probs if n == "rosenbrock"} >= {2, 10}
    quads = [k for n, k in probs if n == "quadratic"]
    assert len({k["condition_number"] for k in quads}) >= 3
    assert any(k.get("noise", 0) > 0 for k in quads) and any(not k.get("noise") for k in quads)
    assert any(k["dim"] == 2 and k.get("rotate", True) for k in quads)
    assert {"beale", "himmelblau"} <= {n for n, _ in probs}
    assert {k["dataset"] for n, k in probs if n == "mlp"} == {"digits", "spiral"}
    assert m.targets == tuple(10.0**-k for k in range(1, 9))


def test_print_config_prints_the_default_as_toml(capsys):
    assert cli(["run", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert mx.parse(tomllib.loads(text)) == mx.load()


BAD = [
    ('colour = "red"\n', "the matrix: unknown key 'colour'"),
    ("seeds = []\n", "seeds: a non-empty list"),
    ('seeds = ["a"]\n', "seeds: a non-empty list"),
    ("budget = { steps = 10, epochs = 1 }\n", "budget: give exactly one of"),
    ("budget = { steps = 0 }\n", "budget.steps: a positive integer"),
    ("targets = [0.1, -1.0]\n", "targets: every target must be"),
    ('recording = { spacing = "cubic" }\n', "allowed: ['log', 'linear']"),
    ("divergence = { bound = 0.5 }\n", "divergence.bound"),
]


@pytest.mark.parametrize(("prefix", "message"), BAD)
def test_top_level_errors_name_the_key(prefix, message):
    body = SMALL.split("[[optimizers]]", 1)[1]
    with pytest.raises(mx.MatrixError) as info:
        parse(prefix + "[[optimizers]]" + body)
    assert message in str(info.value)


ENTRY_ERRORS = [
    (
        'name = "adamx"',
        "optimizers[0].name: unknown optimizer 'adamx'; allowed: ['adadelta', 'adagrad'",
    ),
    ('name = "adam"\nfoo = 1', "optimizers[0]: unknown key 'foo'; allowed: ['name', 'convention'"),
    ('name = "adam"\nlr = "fast"', "optimizers[0].lr: expected a finite number, got 'fast'"),
    ('name = "adam"\nlr = []', "optimizers[0].lr: empty grid"),
    ('name = "adam"\namsgrad = 1', "optimizers[0].amsgrad: expected true or false"),
    ('name = "adam"\nbetas = [0.9]', "optimizers[0].betas: expected a list of 2 numbers"),
    ('name = "adam"\nconvention = "keras"', "allowed: ['torch', 'seed', 'optax']"),
    ('name = "adam"\nlr = { logspace = [0.0, 1.0], num = 3 }', "bounds must be > 0"),
]


@pytest.mark.parametrize(("entry", "message"), ENTRY_ERRORS)
def test_optimizer_errors_name_the_key_and_allowed_values(entry, message):
    text = f"[[optimizers]]\n{entry}\n[[problems]]\nname = 'rosenbrock'\n"
    with pytest.raises(mx.MatrixError) as info:
        parse(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('name = "sphere"', "problems[0].name: unknown problem 'sphere'; allowed: ['beale'"),
        ('name = "rosenbrock"\ndims = 3', "problems[0]: unknown key 'dims'; allowed: ['name'"),
        ('name = "rosenbrock"\ndim = [2, 3]', "problems[0].dim: expected a single value"),
        ('name = "mlp"\nhidden = 3', "problems[0].hidden: expected a list"),
    ],
)
def test_problem_errors_name_the_key(entry, message):
    text = f"[[optimizers]]\nname = 'sgd'\n[[problems]]\n{entry}\n"
    with pytest.raises(mx.MatrixError) as info:
        parse(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("optimizer", "problem", "message"),
    [
        ("name = 'adam'\nlr = [0.1, -1.0]", "name = 'rosenbrock'", "optimizers[0] (adam"),
        ("name = 'adam'\nbetas = [1.5, 0.9]", "name = 'rosenbrock'", "betas"),
        ("name = 'sgd'", "name = 'quadratic'\ncondition_number = 0.5", "problems[0] (quadratic)"),
        ("name = 'sgd'", "name = 'rosenbrock'\ndim = 1", "problems[0] (rosenbrock): dim"),
    ],
)
def test_invalid_values_surface_from_the_classes_before_any_run(optimizer, problem, message):
    m = parse(f"[[optimizers]]\n{optimizer}\n[[problems]]\n{problem}\n")
    with pytest.raises(mx.MatrixError) as info:
        plan.expand(m, "t")
    assert message in str(info.value)


def test_cli_rejects_a_bad_matrix_with_exit_2_and_runs_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[optimizers]]\nname = 'adam'\nlr = -1.0\n[[problems]]\nname = 'beale'\n")
    out = tmp_path / "out"
    assert cli(["run", "--config", str(bad), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "invalid matrix" in err and "lr" in err
    assert not out.exists()
    bad.write_text("[[optimizers]\n")
    assert cli(["run", "--config", str(bad), "--out", str(out)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert cli(["run", "--config", str(tmp_path / "missing.toml")]) == 2


def test_dry_run_counts_runs_and_batches(tmp_path, capsys):
    path = tmp_path / "m.toml"
    path.write_text(SMALL)
    assert cli(["run", "--config", str(path), "--dry-run", "--out", str(tmp_path / "o")]) == 0
    assert capsys.readouterr().out.startswith("40 runs in 8 batches")
    assert not (tmp_path / "o").exists()
