"""The dask.distributed backend against a local `distributed` cluster: same results as local."""

import pandas as pd
import pytest

from optbench.benchmarks.cli import main as cli
from optbench.benchmarks.schema import CHILD_TABLES
from optbench.reports.load import load_results

distributed = pytest.importorskip("distributed", reason="the 'dask' extra is not installed")

MATRIX = """
seeds = [0, 1, 2]
budget = { steps = 50 }
recording = { points = 6, path_points = 12 }
[[optimizers]]
name = "rmsprop"
lr = { logspace = [1e-3, 1.0], num = 3 }
[[optimizers]]
name = "nesterov"
lr = [0.001, 0.01]
[[problems]]
name = "himmelblau"
[[problems]]
name = "quadratic"
dim = 8
condition_number = 100.0
noise = 0.1
[[problems]]
name = "mlp"
dataset = "spiral"
hidden = [6]
batch_size = 40
budget = { steps = 12 }
"""


@pytest.mark.slow
def test_dask_scheduler_gives_the_same_store_as_local_processes(tmp_path, capsys):
    config = tmp_path / "matrix.toml"
    config.write_text(MATRIX)
    local, remote = tmp_path / "local", tmp_path / "dask"
    base = ["run", "--config", str(config), "--no-report", "--quiet"]
    assert cli([*base, "--out", str(local), "--jobs", "1"]) == 0
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        assert cli([*base, "--out", str(remote), "--scheduler", cluster.scheduler_address]) == 0
        assert cli([*base, "--out", str(remote), "--scheduler", cluster.scheduler_address]) == 0
    for table in ("runs", *CHILD_TABLES):
        a, b = (_comparable(load_results(out, table)) for out in (local, remote))
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    inv = load_results(remote, "invocations")
    assert inv.finished_runs.tolist() == [45, 45] and inv.status.tolist() == ["completed"] * 2


def _comparable(df):
    """Rows in a fixed order, without the columns that say how (not what) was computed."""
    keys = [c for c in ("run_id", "step", "target") if c in df.columns]
    df = df.drop(columns=["time_per_step", "batch_size", "invocation_id"], errors="ignore")
    return df.sort_values(keys).reset_index(drop=True)


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("optbench.benchmarks.executors.DASK_CONNECT_TIMEOUT", "0.5s")
    config = tmp_path / "matrix.toml"
    config.write_text(MATRIX)
    args = ["run", "--config", str(config), "--out", str(tmp_path / "o"), "--quiet"]
    code = cli([*args, "--no-report", "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 1
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert load_results(tmp_path / "o", "invocations").status.tolist() == ["failed"]


PLUGIN = """
class PlainSGD:
    def __init__(self, params, lr=0.01):
        self.params, self.lr = params, lr

    def step(self, grads):
        for w, g in zip(self.params, grads):
            w -= self.lr * g


class Raises(PlainSGD):
    def step(self, grads):
        raise ValueError("broken on purpose")
"""

PLUGIN_MATRIX = """
seeds = [0, 1]
budget = { steps = 30 }
[[optimizers]]
name = "mine.py:PlainSGD"
lr = [0.001, 0.002]
[[optimizers]]
name = "mine.py:Raises"
[[optimizers]]
name = "sgd"
lr = [0.001, 0.002]
[[problems]]
name = "rosenbrock"
"""


def test_dask_workers_run_file_plugins_and_keep_failures_apart(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(PLUGIN)
    (tmp_path / "matrix.toml").write_text(PLUGIN_MATRIX)
    base = ["run", "--config", str(tmp_path / "matrix.toml"), "--no-report", "--quiet"]
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        assert (
            cli([*base, "--out", str(tmp_path / "out"), "--scheduler", cluster.scheduler_address])
            == 1
        )
    assert "Raises on rosenbrock, 2 runs: mine.py, line" in capsys.readouterr().err
    df = load_results(tmp_path / "out").sort_values(["optimizer", "lr", "seed"])
    mine, sgd = (df[df.optimizer == name].final_loss.to_numpy() for name in ("PlainSGD", "sgd"))
    assert len(mine) == 4 and (mine == sgd).all()
    assert load_results(tmp_path / "out", "failures").optimizer.tolist() == ["Raises"]
