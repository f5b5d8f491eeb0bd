"""`optbench run` and `optbench export` end to end, in process."""

import pandas as pd
import pytest

from optbench.benchmarks.cli import main as cli
from optbench.reports.load import load_results

MATRIX = """
seeds = [0, 1]
budget = { steps = 60 }
recording = { points = 8 }
[[optimizers]]
name = "momentum"
lr = { logspace = [1e-3, 1e-1], num = 3 }
[[optimizers]]
name = "adam"
convention = ["torch", "optax"]
lr = [0.01, 0.1]
[[problems]]
name = "rosenbrock"
[[problems]]
name = "quadratic"
dim = 2
condition_number = 20.0
[[problems]]
name = "mlp"
dataset = "spiral"
hidden = [8]
batch_size = 60
budget = { epochs = 3 }
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "matrix.toml"
    path.write_text(MATRIX)
    return path


def test_run_then_export_csv(config, tmp_path, capsys):
    out = tmp_path / "res"
    args = ["run", "--config", str(config), "--out", str(out), "--no-report", "--jobs", "2"]
    assert cli(args) == 0
    text = capsys.readouterr().out
    assert "42 runs in 9 batches" in text and "42/42 planned runs" in text
    df = load_results(out)
    assert len(df) == 42 and set(df.convention) == {"torch", "optax"}
    inv = load_results(out, "invocations")
    assert inv.loc[0, "matrix_toml"] == MATRIX
    assert "run --config" in inv.loc[0, "argv"]
    assert cli(["export", "--out", str(out)]) == 0
    runs = pd.read_csv(out / "export" / "runs.csv")
    assert len(runs) == 42 and runs.run_id.is_unique
    curves = pd.read_csv(out / "export" / "curves.csv")
    assert len(curves) == len(load_results(out, "curves"))


def test_export_parquet_and_missing_store(config, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    out = tmp_path / "res"
    assert cli(["run", "--config", str(config), "--out", str(out), "--quiet", "--no-report"]) == 0
    dest = tmp_path / "pq"
    assert cli(["export", "--out", str(out), "--format", "parquet", "--dest", str(dest)]) == 0
    table = pd.read_parquet(dest / "targets.parquet")
    pd.testing.assert_frame_equal(table, load_results(out, "targets"), check_exact=True)
    assert cli(["export", "--out", str(tmp_path / "nothing")]) == 2
    assert "no results store" in capsys.readouterr().err


def test_quiet_prints_nothing_and_rerun_is_a_no_op(config, tmp_path, capsys):
    out = tmp_path / "res"
    args = ["run", "--config", str(config), "--out", str(out), "--quiet", "--no-report"]
    assert cli(args) == 0
    assert cli([*args, "--jobs", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert len(load_results(out)) == 42


@pytest.mark.slow
def test_run_ends_with_the_report(config, tmp_path, capsys):
    out = tmp_path / "res"
    assert cli(["run", "--config", str(config), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1] == f"report: {out / 'report.html'}"
    assert (out / "report.html").stat().st_size > 0


def test_bad_arguments_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as info:
        cli(["run", "--jobs", "0"])
    assert info.value.code == 2
    assert "expected a positive integer" in capsys.readouterr().err
