"""docs/examples through the CLI, as the README's "Benchmark your own optimizer" runs them, and
the templates of `optbench new`."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from optbench.benchmarks.cli import main as cli
from optbench.reports.load import load_results

EXAMPLES = Path(__file__).parents[1] / "docs" / "examples"


@pytest.fixture(scope="module")
def example_store(tmp_path_factory):
    out = tmp_path_factory.mktemp("examples") / "results"
    config = EXAMPLES / "matrix.toml"
    assert cli(["run", "--config", str(config), "--out", str(out), "--quiet"]) == 0
    return out


def test_the_example_matrix_runs_the_users_optimizer_problem_and_data(example_store):
    df = load_results(example_store)
    assert set(df.optimizer) == {"Lion", "LionPerRun", "adam"}
    assert set(df.problem_name) == {"six_hump_camel", "rosenbrock", "mlp"}
    assert len(df) == 3 * 3 * 4 * 3 and load_results(example_store, "failures").empty
    iris = df[df.problem_name == "mlp"]
    assert set(iris.problem) == {"mlp(iris.csv, 4-16-3, m=32)"}
    assert iris.final_test_acc.max() > 0.9
    plugins = load_results(example_store, "plugins")
    assert sorted(plugins.ref) == [
        "data/iris.csv",
        "lion.py:Lion",
        "lion_per_run.py:LionPerRun",
        "six_hump_camel.py:SixHumpCamel",
    ]
    html = (example_store / "report.html").read_text()
    assert "lion_per_run.py:LionPerRun" in html and "six_hump_camel.py:SixHumpCamel" in html


def test_the_per_run_lion_gives_the_vectorized_lions_iterates(example_store):
    df = load_results(example_store).sort_values(["problem", "lr", "seed"])
    batched, per_run = (df[df.optimizer == name] for name in ("Lion", "LionPerRun"))
    assert len(batched) == len(per_run) == 36
    np.testing.assert_array_equal(batched.final_loss.to_numpy(), per_run.final_loss.to_numpy())


@pytest.mark.parametrize("kind", ["optimizer", "problem"])
def test_a_template_of_optbench_new_passes_its_tests_and_runs(tmp_path, kind, capsys):
    assert cli(["new", kind, "my_rule", "--dir", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_rule.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    config = tmp_path / "matrix_my_rule.toml"
    assert cli(["run", "--config", str(config), "--dry-run"]) == 0
    assert cli(["new", kind, "my_rule", "--dir", str(tmp_path)]) == 2  # never overwrites
    assert "nothing written" in capsys.readouterr().err
    assert cli(["new", kind, "My-Rule"]) == 2
    assert cli(["new", kind, "numpy", "--dir", str(tmp_path)]) == 2  # would shadow numpy
    assert "would shadow it" in capsys.readouterr().err


def test_the_readmes_lion_is_the_example_file():
    readme = (EXAMPLES.parents[1] / "README.md").read_text()
    block = readme.split("This is\n`docs/examples/lion.py`:\n\n```python\n", 1)[1].split("```")[0]
    assert block.strip() in (EXAMPLES / "lion.py").read_text()
    lines = block.strip().splitlines()
    cls = lines[next(i for i, line in enumerate(lines) if line.startswith("class ")) :]
    assert len(cls) <= 25  # the bound for Lion on the public base
