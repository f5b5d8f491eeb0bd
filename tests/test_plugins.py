"""A user's own optimizer and problem, named in the matrix: found, checked, run, identified by
their source, and kept apart from everyone else's results when they fail."""

import json
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from optbench.benchmarks import matrix as mx
from optbench.benchmarks.cli import main as cli
from optbench.benchmarks.plan import expand
from optbench.benchmarks.plugins import Code, PluginError, resolve
from optbench.reports.load import load_results

PLAIN_SGD = """
class PlainSGD:
    '''w <- w - lr g, one run at a time.'''

    def __init__(self, params, lr=0.01):
        self.params, self.lr = params, lr

    def step(self, grads):
        for w, g in zip(self.params, grads):
            w -= self.lr * g
"""

FAULTS = """
import numpy as np

class Raises:
    def __init__(self, params, lr=0.1):
        self.params = params

    def step(self, grads):
        raise ZeroDivisionError("a bug of mine")

class Rebinds:
    def __init__(self, params, lr=0.1):
        self.params, self.lr = params, lr

    def step(self, grads):
        self.params = [w - self.lr * g for w, g in zip(self.params, grads)]

class Explodes:
    def __init__(self, params, lr=0.1):
        self.params = params

    def step(self, grads):
        for w in self.params:
            w[...] = np.nan

class NoStep:
    def __init__(self, params, lr=0.1):
        pass

class RaisesInInit:
    def __init__(self, params, lr=0.1):
        raise RuntimeError("cannot start")

    def step(self, grads):
        pass

def function(params):
    pass

from optbench.optimizers import Hyperparameter, Optimizer

class NoUpdate(Optimizer):
    lr = Hyperparameter(0.1)

class KwargsOnly:
    def __init__(self, params, **hparams):
        pass

    def step(self, grads):
        pass
"""

MATRIX = """
seeds = [0, 1]
budget = {{ steps = 40 }}
recording = {{ points = 5 }}
[[optimizers]]
name = "{name}"
lr = [0.001, 0.01]
[[optimizers]]
name = "sgd"
lr = [0.001, 0.01]
[[problems]]
name = "{problem}"
"""


def line_of(text, snippet):
    """The 1-based line of ``snippet`` in ``text`` (as written to a file)."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if snippet in line)


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def matrix(tmp_path, name, problem="rosenbrock"):
    return write(tmp_path, "matrix.toml", MATRIX.format(name=name, problem=problem))


def run(config, out, *extra):
    return cli(["run", "--config", str(config), "--out", str(out), "--quiet", *extra])


def test_a_plain_per_run_class_equals_the_builtin_bit_for_bit(tmp_path):
    write(tmp_path, "mine/plain.py", PLAIN_SGD)
    assert run(matrix(tmp_path, "mine/plain.py:PlainSGD"), tmp_path / "out", "--no-report") == 0
    df = load_results(tmp_path / "out").sort_values(["optimizer", "lr", "seed"])
    mine, sgd = (df[df.optimizer == name] for name in ("PlainSGD", "sgd"))
    assert len(mine) == len(sgd) == 4
    np.testing.assert_array_equal(mine.final_loss.to_numpy(), sgd.final_loss.to_numpy())
    assert set(mine.optimizer_ref) == {"mine/plain.py:PlainSGD"} and sgd.optimizer_ref.isna().all()
    assert set(mine.convention) == {""} and mine.optimizer_sha256.str.len().eq(64).all()
    plugins = load_results(tmp_path / "out", "plugins")
    assert plugins.ref.tolist() == ["mine/plain.py:PlainSGD"]
    assert plugins.source.iloc[0] == textwrap.dedent(PLAIN_SGD)


def test_editing_the_code_reruns_its_runs_and_moving_it_does_not(tmp_path):
    path = write(tmp_path, "plain.py", PLAIN_SGD)
    config = matrix(tmp_path, "plain.py:PlainSGD")
    ids = {r.run_id for r in expand(mx.load(config), "0")}
    path.write_text(path.read_text().replace("w -= self.lr * g", "w -= 2 * self.lr * g"))
    edited = {r.run_id for r in expand(mx.load(config), "0")}
    assert len(ids - edited) == 4 and len(ids & edited) == 4  # sgd's 4 runs stay
    moved = tmp_path / "elsewhere"
    write(moved, "plain.py", path.read_text())
    write(moved, "matrix.toml", config.read_text())
    assert {r.run_id for r in expand(mx.load(moved / "matrix.toml"), "0")} == edited


def test_a_module_reference_and_an_entry_point(tmp_path, monkeypatch, capsys):
    write(tmp_path, "site/userpkg/__init__.py", "")
    write(tmp_path, "site/userpkg/optim.py", PLAIN_SGD)
    write(
        tmp_path,
        "site/userpkg-1.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: userpkg\nVersion: 1.0\n",
    )
    write(
        tmp_path,
        "site/userpkg-1.0.dist-info/entry_points.txt",
        "[optbench.optimizers]\nplain = userpkg.optim:PlainSGD\nbroken = userpkg.nothere:X\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert resolve("optimizer", "userpkg.optim:PlainSGD").identity == "userpkg.optim:PlainSGD"
    assert resolve("optimizer", "plain").target == "userpkg.optim:PlainSGD"
    assert cli(["list", "optimizers"]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"^  plain +\[entry point userpkg\.optim:PlainSGD\]", listing, re.M)
    assert "cannot be used: entry point 'broken' = 'userpkg.nothere:X'" in listing
    assert run(matrix(tmp_path, "plain"), tmp_path / "out", "--no-report") == 0
    assert set(load_results(tmp_path / "out").optimizer) == {"PlainSGD", "sgd"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("faults.py:NoStep", "class NoStep has no method step"),
        ("faults.py:function", "'faults.py:function' names a function, not a class"),
        ("faults.py:Missing", "faults.py defines no 'Missing'"),
        ("nowhere.py:X", "cannot read 'nowhere.py:X'"),
        ("no_such_module:X", "cannot import 'no_such_module:X': ModuleNotFoundError"),
        (
            "faults.py:RaisesInInit",
            f"faults.py, line {line_of(FAULTS, 'cannot start')}: RuntimeError: cannot start",
        ),
        ("lamb", "unknown optimizer 'lamb'; allowed: ['adadelta', 'adagrad'"),
        ("faults.py:NoUpdate", "class NoUpdate defines no update(self, w, g, s, h)"),
        ("faults.py:KwargsOnly", "KwargsOnly takes **kwargs only: declare each hyperparameter"),
    ],
)
def test_a_plugin_that_cannot_run_exits_2_before_any_run(tmp_path, capsys, name, message):
    write(tmp_path, "faults.py", FAULTS)
    assert run(matrix(tmp_path, name), tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "invalid matrix: optimizers[0]" in err and message in err
    assert not (tmp_path / "out").exists()


def test_a_hyperparameter_the_class_does_not_take_exits_2(tmp_path, capsys):
    write(tmp_path, "plain.py", PLAIN_SGD)
    config = matrix(tmp_path, "plain.py:PlainSGD")
    config.write_text(config.read_text().replace("lr = [0.001, 0.01]", "betas = [0.9, 0.99]", 1))
    assert run(config, tmp_path / "out") == 2
    err = capsys.readouterr().err
    allowed = "['name', 'lr', 'search', 'problems']"
    assert f"optimizers[0] (plain.py:PlainSGD): unknown key 'betas'; allowed: {allowed}" in err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_plugin_that_raises_fails_its_batch_alone(tmp_path, capsys, jobs):
    write(tmp_path, "faults.py", FAULTS)
    config = matrix(tmp_path, "faults.py:Raises")
    config.write_text(config.read_text() + '[[problems]]\nname = "quadratic"\ndim = 4\n')
    assert run(config, tmp_path / "out", "--jobs", jobs) == 1
    err = capsys.readouterr().err
    assert "2 batches failed" in err
    line = line_of(FAULTS, "a bug of mine")
    assert f"Raises on rosenbrock, 4 runs: faults.py, line {line}: ZeroDivisionError: a bug" in err
    df = load_results(tmp_path / "out")
    assert set(df.optimizer) == {"sgd"} and len(df) == 8  # every other batch is stored
    failures = load_results(tmp_path / "out", "failures")
    assert sorted(failures.problem) == ["quadratic", "rosenbrock"]
    assert failures.runs.tolist() == [4, 4] and "Traceback" in failures.traceback.iloc[0]
    assert all(len(json.loads(ids)) == 4 for ids in failures.run_ids)
    assert (tmp_path / "out" / "report.html").exists()


def test_a_per_run_class_that_rebinds_instead_of_updating_in_place_fails(tmp_path, capsys):
    write(tmp_path, "faults.py", FAULTS)
    assert run(matrix(tmp_path, "faults.py:Rebinds"), tmp_path / "out", "--no-report") == 1
    assert "Rebinds.step() left every parameter unchanged" in capsys.readouterr().err


def test_a_plugin_that_produces_nan_diverges_like_a_builtin(tmp_path):
    write(tmp_path, "faults.py", FAULTS)
    assert run(matrix(tmp_path, "faults.py:Explodes"), tmp_path / "out", "--no-report") == 0
    df = load_results(tmp_path / "out")
    mine = df[df.optimizer == "Explodes"]
    assert (mine.status == "diverged").all() and (mine.diverged_step == 1).all()
    assert (df[(df.optimizer == "sgd") & (df.lr == 0.001)].status == "finished").all()


PROBLEM = """
import numpy as np

class Bowl:
    '''f(x) = sum (x - 3)^2 over any dim, a plain class with the problem interface.'''

    name = "bowl"
    f_star = 0.0
    x_star = None
    steps_per_epoch = 1
    stochastic = False

    def __init__(self, dim=3):
        self.dim = dim
        self.label = f"bowl(dim={dim})"

    def config(self):
        return {"dim": self.dim}

    def init_params(self, seeds):
        return [np.zeros((len(seeds), self.dim))]

    def loss_and_grad(self, params):
        d = params[0] - 3.0
        return (d * d).sum(axis=1), [2.0 * d]

    def evaluate(self, params):
        return {"loss": self.loss_and_grad(params)[0]}
"""


def test_a_problem_plugin_runs_beside_the_builtins(tmp_path):
    write(tmp_path, "bowl.py", PROBLEM)
    config = matrix(tmp_path, "adam", problem="bowl.py:Bowl")
    config.write_text(config.read_text() + 'dim = 5\n[[problems]]\nname = "rosenbrock"\n')
    assert run(config, tmp_path / "out", "--no-report") == 0
    df = load_results(tmp_path / "out")
    bowl = df[df.problem_name == "bowl"]
    assert len(bowl) == 8 and set(bowl.problem) == {"bowl(dim=5)"}
    assert set(bowl.problem_ref) == {"bowl.py:Bowl"} and df.problem_ref.isna().sum() == 8
    lr01 = bowl[(bowl.optimizer == "sgd") & (bowl.lr == 0.01)].final_loss.to_numpy()
    np.testing.assert_allclose(lr01, 5 * 9 * (1 - 2 * 0.01) ** 80, rtol=1e-12)  # hand-derived


def test_two_classes_of_one_name_show_their_references(tmp_path):
    write(tmp_path, "a/plain.py", PLAIN_SGD)
    write(tmp_path, "b/plain.py", PLAIN_SGD.replace("0.01", "0.02"))
    config = matrix(tmp_path, "a/plain.py:PlainSGD")
    config.write_text(config.read_text().replace('name = "sgd"', 'name = "b/plain.py:PlainSGD"'))
    m = mx.load(config)
    assert [o.name for o in m.optimizers] == ["a/plain.py:PlainSGD", "b/plain.py:PlainSGD"]


def test_a_worker_without_the_file_imports_the_shipped_source(tmp_path):
    path = write(tmp_path, "shipped.py", PLAIN_SGD)
    code = resolve("optimizer", "shipped.py:PlainSGD", tmp_path)
    remote = Code(**{**vars(code), "path": str(tmp_path / "gone" / "shipped.py")})
    remote = Code(**{**vars(remote), "target": f"{remote.path}:PlainSGD"})
    cls = remote.load()
    assert cls.__name__ == "PlainSGD" and cls.__module__.startswith("optbench_plugin_shipped")
    path.write_text(PLAIN_SGD + "\n# edited after planning\n")
    stale = Code(**{**vars(code), "sha256": "0" * 64})
    with pytest.raises(PluginError, match="changed since the matrix was planned"):
        stale.load()
    assert "optbench_plugin_shipped" in " ".join(sys.modules)


DATA_MATRIX = """
seeds = [0]
budget = { steps = 30 }
recording = { points = 4 }
[[optimizers]]
name = "adam"
lr = [0.01]
[[problems]]
name = "mlp"
dataset = "data/mine.csv"
hidden = [8]
batch_size = 32
"""


def test_a_data_file_next_to_the_matrix_is_used_identified_and_recorded(tmp_path, capsys):
    iris = (Path(__file__).parents[1] / "docs/examples/data/iris.csv").read_text()
    data = write(tmp_path, "data/mine.csv", iris)
    config = write(tmp_path, "matrix.toml", DATA_MATRIX)
    assert run(config, tmp_path / "out", "--no-report") == 0
    df = load_results(tmp_path / "out")
    assert df.problem.tolist() == ["mlp(mine.csv, 4-8-3, m=32)"]
    assert df.final_test_acc.iloc[0] > 0.5
    sha = json.loads(df.problem_config.iloc[0])["dataset_sha256"]
    plugins = load_results(tmp_path / "out", "plugins")
    assert plugins[["kind", "ref", "sha256", "name"]].values.tolist() == [
        ["dataset", "data/mine.csv", sha, "mine.csv"]
    ]
    lines = iris.splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[1], "oops", 1)
    data.write_text("\n".join(lines) + "\n")
    assert run(config, tmp_path / "out", "--no-report") == 2
    err = capsys.readouterr().err
    assert "invalid matrix: problems[0] (mlp)" in err and "mine.csv, line 6, column 2" in err
    lines[5] = iris.splitlines()[5].replace(",", ", ", 1)  # same numbers, other bytes
    data.write_text("\n".join(lines) + "\n")
    assert run(config, tmp_path / "out", "--no-report") == 0
    assert len(load_results(tmp_path / "out")) == 2  # new data, new run


def test_two_data_files_of_one_name_are_refused(tmp_path, capsys):
    iris = (Path(__file__).parents[1] / "docs/examples/data/iris.csv").read_text()
    write(tmp_path, "data/mine.csv", iris)
    write(tmp_path, "other/mine.csv", iris.replace("\n5.1,", "\n5.2,", 1))
    second = "[[problems]]" + DATA_MATRIX.split("[[problems]]")[1].replace("data/", "other/")
    config = write(tmp_path, "matrix.toml", DATA_MATRIX + second)
    assert run(config, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "problems[0] and problems[1] are different problems with one label" in err


@pytest.mark.parametrize("name", ["plain:PlainSGD", "plain.PlainSGD"])
def test_a_near_miss_of_a_file_reference_suggests_it(tmp_path, capsys, name):
    write(tmp_path, "plain.py", PLAIN_SGD)
    assert run(matrix(tmp_path, name), tmp_path / "out") == 2
    assert (
        "did you mean 'plain.py:PlainSGD' (a file next to the matrix)?" in capsys.readouterr().err
    )


def test_a_problem_whose_constructor_raises_exits_2_naming_it(tmp_path, capsys):
    text = PROBLEM + "\n\nclass Broken(Bowl):\n    def __init__(self, dim=3):\n        1 / 0\n"
    write(tmp_path, "bowl.py", text)
    assert run(matrix(tmp_path, "adam", problem="bowl.py:Broken"), tmp_path / "out") == 2
    err = capsys.readouterr().err
    line = line_of(textwrap.dedent(text), "1 / 0")
    assert f"problems[0] (bowl.py:Broken): bowl.py, line {line}: ZeroDivisionError" in err


def test_a_hyperparameter_without_a_default_must_be_set(tmp_path, capsys):
    write(tmp_path, "plain.py", PLAIN_SGD.replace("lr=0.01", "lr"))
    config = matrix(tmp_path, "plain.py:PlainSGD")
    assert run(config, tmp_path / "out", "--no-report") == 0  # the matrix sets lr
    config.write_text(config.read_text().replace("lr = [0.001, 0.01]\n", "", 1))
    assert run(config, tmp_path / "out") == 2
    assert (
        "optimizers[0].lr: plain.py:PlainSGD takes 'lr' without a default"
        in capsys.readouterr().err
    )


def test_a_module_beside_the_plugin_is_imported_and_part_of_its_identity(tmp_path):
    write(tmp_path, "coeffs.py", "SCALE = 1.0\n")
    sgd = PLAIN_SGD.replace("class PlainSGD", "from coeffs import SCALE\n\n\nclass PlainSGD")
    write(tmp_path, "plain.py", sgd.replace("w -= self.lr * g", "w -= SCALE * self.lr * g"))
    config = matrix(tmp_path, "plain.py:PlainSGD")
    assert run(config, tmp_path / "out", "--no-report", "--jobs", "2") == 0
    first = load_results(tmp_path / "out")
    write(tmp_path, "coeffs.py", "SCALE = 0.5\n")
    assert run(config, tmp_path / "out", "--no-report", "--jobs", "2") == 0
    both = load_results(tmp_path / "out")
    assert len(first) == 8 and len(both) == 12  # the plugin's 4 runs again, sgd's kept
    plugins = load_results(tmp_path / "out", "plugins")
    assert plugins.source.str.contains("# ---- coeffs.py, imported from the plugin's folder").all()
    halved = both[both.optimizer_sha256.notna() & ~both.run_id.isin(first.run_id)]
    sgd_runs = both[both.optimizer == "sgd"].sort_values(["lr", "seed"])
    assert (
        halved.sort_values(["lr", "seed"]).final_loss.to_numpy() != sgd_runs.final_loss.to_numpy()
    ).all()
