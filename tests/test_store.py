"""The results store and load_results: contract columns, resume, foreign and corrupt files."""

import hashlib
import sqlite3

import numpy as np
import pandas as pd
import pytest

from optbench.benchmarks import matrix as mx
from optbench.benchmarks import plan, schema, store
from optbench.benchmarks.harness import run_matrix
from optbench.reports.load import load_results

RAW = {
    "seeds": [0, 1],
    "budget": {"steps": 25},
    "recording": {"points": 6, "path_points": 10},
    "targets": [10.0, 1e-3],
    "optimizers": [{"name": "sgd", "lr": [1e-3, 0.01, 100.0]}, {"name": "adam", "lr": 0.05}],
    "problems": [
        {"name": "rosenbrock"},
        {
            "name": "mlp",
            "dataset": "spiral",
            "hidden": [4],
            "batch_size": 120,
            "budget": {"epochs": 2},
        },
    ],
}

RUN_COLUMNS = [
    "run_id", "optimizer", "convention", "setting", "lr", "hparams", "problem", "problem_name",
    "problem_config", "seed", "status", "diverged_step", "steps", "epochs", "grad_evals",
    "final_loss", "best_loss", "f_star", "final_subopt", "best_subopt", "time_per_step",
    "batch_size", "final_train_loss", "final_test_loss", "final_train_acc", "final_test_acc",
    "invocation_id",
]  # fmt: skip
CURVE_COLUMNS = [
    "run_id", "optimizer", "convention", "setting", "lr", "problem", "problem_name", "seed",
    "status", "step", "epoch", "loss", "subopt", "train_loss", "test_loss", "train_acc",
    "test_acc",
]  # fmt: skip


@pytest.fixture(scope="module")
def small():
    m = mx.parse(RAW)
    return m, plan.expand(m, "test")


@pytest.fixture(scope="module")
def stored(small, tmp_path_factory):
    m, runs = small
    out = tmp_path_factory.mktemp("store")
    outcome = run_matrix(m, runs, out, jobs=1)
    return out, outcome


def test_every_contract_table_has_its_columns(stored, small):
    out, outcome = stored
    _, runs = small
    assert outcome.written == len(runs) == 16 and outcome.kept == 16
    df = load_results(out)
    assert set(RUN_COLUMNS) <= set(df.columns) and len(df) == 16
    assert df.attrs == {"partial": False, "store": str((out / "optbench.sqlite").resolve())}
    assert df.run_id.is_unique
    assert set(CURVE_COLUMNS) <= set(load_results(out, "curves").columns)
    paths = load_results(out, "paths")
    assert set(paths.columns) >= {"run_id", "optimizer", "setting", "lr", "problem", "seed"}
    assert set(paths.problem) == {"rosenbrock(dim=2)"}
    targets = load_results(out, "targets")
    assert set(targets.columns) >= {"run_id", "target", "step", "optimizer", "setting"}
    inv = load_results(out, "invocations")
    assert inv.loc[0, "planned_runs"] == inv.loc[0, "finished_runs"] == 16
    assert inv.loc[0, "status"] == "completed" and inv.loc[0, "matrix_toml"]
    for col in ("optbench_version", "python_version", "numpy_version", "blas", "host"):
        assert inv.loc[0, col]
    assert inv.loc[0, "ended"] >= inv.loc[0, "started"]
    with pytest.raises(ValueError, match="table must be one of"):
        load_results(out, "bogus")


def test_derived_columns_follow_their_definitions(stored):
    out, _ = stored
    df = load_results(out).set_index("run_id")
    div = df[df.status == "diverged"]
    assert 100.0 in set(div.lr) and 1e-3 not in set(div.lr)
    assert (div.grad_evals == div.diverged_step + 1).all()
    fin = df[df.status == "finished"]
    assert fin.diverged_step.isna().all() and (fin.grad_evals == fin.steps).all()
    ros = fin[fin.problem_name == "rosenbrock"]
    np.testing.assert_array_equal(ros.final_subopt, ros.final_loss - ros.f_star)
    mlp = df[df.problem_name == "mlp"]
    assert mlp.f_star.isna().all() and mlp.final_subopt.isna().all()
    assert (mlp.steps == 2 * 4).all() and (mlp.epochs == 2).all()
    assert mlp[mlp.status == "finished"].final_test_acc.between(0, 1).all()
    assert mlp[mlp.status == "diverged"].final_test_acc.isna().all()
    assert (df.time_per_step > 0).all() and set(df.batch_size) == {2, 6}
    curves = load_results(out, "curves")
    assert (curves.groupby("run_id").step.min() == 0).all()
    c = curves[curves.problem_name == "mlp"]
    np.testing.assert_allclose(c.epoch, c.step / 4)
    last = curves.sort_values("step").groupby("run_id").last()
    np.testing.assert_array_equal(last.loc[fin.index, "loss"], fin.final_loss)
    # diverged runs keep their curve up to (not including) the divergence step
    assert (last.loc[div.index, "step"] < div.diverged_step).all()


def test_targets_are_the_first_step_of_the_curve_below_them(stored):
    out, _ = stored
    targets = load_results(out, "targets")
    assert len(targets) == 8 * 2  # rosenbrock runs x 2 targets; the MLP has no f_star
    assert targets.step.isna().any() and targets.step.notna().any()
    curves = load_results(out, "curves")
    for row in targets.itertuples():
        c = curves[curves.run_id == row.run_id]
        before = c.step < row.step if row.step == row.step else c.step >= 0
        assert (c.subopt[before] > row.target).all()
        assert (c.subopt[c.step == row.step] <= row.target).all()


def test_rerunning_resumes_and_never_duplicates(stored, small):
    out, _ = stored
    m, runs = small
    before = load_results(out)
    again = run_matrix(m, runs, out, jobs=1)
    assert again.skipped == 16 and again.written == 0 and again.batches == 0
    after = load_results(out)
    assert len(after) == 16 and after.run_id.is_unique
    assert before.equals(after)
    assert len(load_results(out, "invocations")) == 2


def test_write_batch_skips_runs_already_present(stored, small):
    out, _ = stored
    m, runs = small
    from optbench.benchmarks.records import batch_rows
    from optbench.benchmarks.runner import run_batch

    spec = plan.batches(runs, m)[0]
    rows, children = batch_rows(run_batch(spec), {r.run_id: r for r in runs}, "x")
    con = store.open_store(out)
    assert store.write_batch(con, "x", rows, children) == 0
    con.close()


def test_partial_when_the_latest_invocation_misses_runs(small, tmp_path):
    m, runs = small
    run_matrix(m, runs[:4], tmp_path, jobs=1)
    assert load_results(tmp_path).attrs["partial"] is False
    con = store.open_store(tmp_path)
    store.begin_invocation(con, "later", {"started": "9999-01-01T00:00:00"}, "", [runs[9].run_id])
    con.close()
    assert load_results(tmp_path).attrs["partial"] is True


def test_partial_when_an_earlier_invocation_was_interrupted(small, tmp_path):
    """An interrupted matrix stays partial after a later, complete one on the same store."""
    m, runs = small
    con = store.open_store(tmp_path)
    store.begin_invocation(con, "cut", {"started": "2000-01-01T00:00:00"}, "", [runs[9].run_id])
    con.close()
    run_matrix(m, runs[:4], tmp_path, jobs=1)  # the latest invocation: complete
    assert load_results(tmp_path).attrs["partial"] is True


def test_report_on_a_foreign_store_is_a_clear_error(tmp_path, capsys):
    from optbench.benchmarks.cli import main

    con = sqlite3.connect(tmp_path / "optbench.sqlite")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    assert main(["report", "--out", str(tmp_path)]) == 2
    assert "optbench report:" in capsys.readouterr().err


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bad_store(kind: str, path, matrix, runs, damage=slice(4096, 8192), fill=b"\xff") -> None:
    """Put at ``path`` a file that is no usable store: text, empty, another application's
    SQLite, or a real store with the bytes ``damage`` overwritten with ``fill``."""
    if kind == "text":
        path.write_text("name,value\na,1\n" * 20)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "foreign_sqlite":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
    else:
        run_matrix(matrix, runs, path.parent, jobs=1)
        data = bytearray(path.read_bytes())
        assert len(data) >= damage.stop
        data[damage] = fill * (damage.stop - damage.start)
        path.write_bytes(bytes(data))
        for name in ("optbench.sqlite-wal", "optbench.sqlite-shm"):
            (path.parent / name).unlink(missing_ok=True)


@pytest.mark.parametrize("kind", ["text", "empty", "foreign_sqlite", "corrupt"])
def test_a_foreign_or_corrupt_file_is_an_error_and_left_untouched(kind, small, tmp_path):
    m, runs = small
    path = tmp_path / "optbench.sqlite"
    bad_store(kind, path, m, runs[:2])  # corrupt: page 2 overwritten
    before = digest(path)
    with pytest.raises(schema.StoreError, match="left untouched") as info:
        run_matrix(m, runs, tmp_path, jobs=1)
    assert str(path) in str(info.value)
    with pytest.raises(schema.StoreError):
        store.open_store(tmp_path)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["optbench.sqlite"]


@pytest.mark.parametrize("kind", ["text", "foreign_sqlite", "corrupt"])
def test_report_and_export_on_a_bad_store_exit_2_with_runs_message_and_write_nothing(
    kind, small, tmp_path, capsys
):
    """The issue's case among them: 12 KB of a store overwritten."""
    from optbench.benchmarks.cli import main

    m, runs = small
    path = tmp_path / "optbench.sqlite"
    bad_store(kind, path, m, runs, damage=slice(8192, 20480), fill=b"\x00")  # 12 KB
    before = digest(path)
    messages = {}
    for command in ("run", "report", "export"):
        argv = [command, "--out", str(tmp_path)]
        argv += ["--no-report", "--quiet"] if command == "run" else []
        assert main(argv) == 2, command
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"optbench {command}: "), err
        messages[command] = err.removeprefix(f"optbench {command}: ")
    assert messages["report"] == messages["export"] == messages["run"]
    assert str(path) in messages["run"] and "left untouched" in messages["run"]
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["optbench.sqlite"]


def test_the_store_is_in_wal_mode_with_our_application_id(stored):
    out, _ = stored
    con = sqlite3.connect(out / "optbench.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


# The DDL of optbench 0.1.0 before the schema module, verbatim.
V1_DDL = """
CREATE TABLE invocations (
    invocation_id TEXT PRIMARY KEY, started TEXT NOT NULL, ended TEXT, status TEXT NOT NULL,
    optbench_version TEXT, python_version TEXT, numpy_version TEXT, blas TEXT, host TEXT,
    cpu_count INTEGER, git_commit TEXT, argv TEXT, matrix_toml TEXT NOT NULL,
    planned_runs INTEGER NOT NULL, finished_runs INTEGER NOT NULL);
CREATE TABLE planned (
    invocation_id TEXT NOT NULL, run_id TEXT NOT NULL,
    PRIMARY KEY (invocation_id, run_id)) WITHOUT ROWID;
CREATE TABLE runs (
    run_key INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, invocation_id TEXT NOT NULL,
    optimizer TEXT NOT NULL, convention TEXT NOT NULL, setting TEXT NOT NULL, lr REAL,
    hparams TEXT NOT NULL, problem TEXT NOT NULL, problem_name TEXT NOT NULL,
    problem_config TEXT NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
    diverged_step INTEGER, steps INTEGER NOT NULL, epochs REAL, steps_per_epoch INTEGER NOT NULL,
    grad_evals INTEGER NOT NULL, final_loss REAL, best_loss REAL, f_star REAL,
    final_subopt REAL, best_subopt REAL, time_per_step REAL, batch_size INTEGER NOT NULL,
    final_train_loss REAL, final_test_loss REAL, final_train_acc REAL, final_test_acc REAL,
    config TEXT NOT NULL);
CREATE TABLE curves (
    run_key INTEGER NOT NULL, step INTEGER NOT NULL, loss REAL, train_loss REAL,
    test_loss REAL, train_acc REAL, test_acc REAL,
    PRIMARY KEY (run_key, step)) WITHOUT ROWID;
CREATE TABLE paths (
    run_key INTEGER NOT NULL, step INTEGER NOT NULL, x0 REAL, x1 REAL,
    PRIMARY KEY (run_key, step)) WITHOUT ROWID;
CREATE TABLE targets (
    run_key INTEGER NOT NULL, target REAL NOT NULL, step INTEGER,
    PRIMARY KEY (run_key, target)) WITHOUT ROWID;
"""


def test_a_store_written_before_the_schema_module_resumes_and_reads_the_same(small, tmp_path):
    """The columns are defined once now, in optbench.benchmarks.schema; a store created with
    the literal DDL of before (same schema version) takes new batches and loads as a new one."""
    m, runs = small
    old = tmp_path / "old"
    old.mkdir()
    con = sqlite3.connect(old / "optbench.sqlite", isolation_level=None)
    con.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    con.execute("PRAGMA user_version = 1")
    con.execute("PRAGMA journal_mode = WAL")
    con.executescript(f"BEGIN; {V1_DDL} COMMIT;")
    con.close()
    run_matrix(m, runs[:6], old, jobs=1)
    run_matrix(m, runs, old, jobs=1)  # resumes
    run_matrix(m, runs, tmp_path / "new", jobs=1)
    for table in ("runs", "curves", "paths", "targets"):
        a, b = load_results(old, table), load_results(tmp_path / "new", table)
        key = ["run_id", *(["step"] if table in ("curves", "paths") else [])]
        key += ["target"] if table == "targets" else []
        a, b = (f.sort_values(key, ignore_index=True) for f in (a, b))
        drop = [c for c in ("time_per_step", "invocation_id", "batch_size") if c in a]
        assert list(a.columns) == list(b.columns)
        pd.testing.assert_frame_equal(a.drop(columns=drop), b.drop(columns=drop))


def test_batch_rows_fill_exactly_the_schema_columns(small):
    from optbench.benchmarks.records import batch_rows
    from optbench.benchmarks.runner import run_batch

    m, runs = small
    spec = plan.batches(runs, m)[0]
    rows, children = batch_rows(run_batch(spec), {r.run_id: r for r in runs}, "x")
    assert all(sorted(row) == sorted(schema.names("runs")) for row in rows)
    curves, paths, targets = children(rows[0]["run_id"])
    assert len(curves[0]) == len(schema.names("curves"))
    assert all(len(p) == len(schema.names("paths")) for p in paths)
    assert all(len(r) == len(schema.names("targets")) for r in targets)


def test_load_tables_keeps_the_child_rows_of_the_runs_asked_for(stored):
    from optbench.reports.load import load_tables

    out, _ = stored
    everything = load_tables(out)
    some = everything["runs"]["run_id"].iloc[::3].tolist()
    frames = load_tables(out, ("runs", "curves", "targets"), run_ids=some)
    assert list(frames) == ["runs", "curves", "targets"]
    pd.testing.assert_frame_equal(frames["runs"], everything["runs"])
    for table in ("curves", "targets"):
        expected = everything[table][everything[table]["run_id"].isin(some)]
        pd.testing.assert_frame_equal(frames[table], expected.reset_index(drop=True))
        assert frames[table].attrs == everything[table].attrs


def test_load_results_without_a_store_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no results store"):
        load_results(tmp_path)


def test_ctrl_c_keeps_the_batch_being_written_and_the_ones_workers_had_finished(
    small, tmp_path, monkeypatch
):
    """Ctrl-C arrives while the parent writes batch 0; batch 1 sits unread in a worker's pipe
    (the executor hands it over in `salvage`): both end up in the store, once each."""
    from optbench.benchmarks import harness
    from optbench.benchmarks.runner import run_batch

    m, runs = small
    specs = plan.batches(runs, m)
    assert len(specs) >= 3
    finished = [run_batch(spec) for spec in specs[:2]]
    real_write = store.write_batch
    calls = []

    def interrupted_write(con, invocation, rows, children):
        written = real_write(con, invocation, rows, children)
        calls.append(written)
        if len(calls) == 1:
            raise KeyboardInterrupt  # after the commit: writing it again must add nothing
        return written

    def executor(specs_iter, jobs, scheduler, salvage):
        salvage.append(finished[1])
        yield finished[0]
        raise AssertionError("the harness asked for more after Ctrl-C")

    monkeypatch.setattr(harness, "_executor", executor)
    monkeypatch.setattr(store, "write_batch", interrupted_write)
    outcome = run_matrix(m, runs, tmp_path, jobs=2)
    assert outcome.interrupted
    kept = set(load_results(tmp_path)["run_id"])
    expected = {i for spec in specs[:2] for i in spec.run_ids}
    assert kept == expected and outcome.kept == len(expected)
    assert calls[1] == 0  # batch 0 again: already there


def test_stopping_workers_salvages_a_result_sent_but_not_read():
    from multiprocessing import Pipe

    from optbench.benchmarks.executors import _stop

    class Done:  # a worker process that has already exited
        def is_alive(self):
            return False

        def join(self, timeout=None):
            pass

    parent, child = Pipe()
    child.send(("ok", "result of batch 7"))
    salvage = []
    _stop([(Done(), parent)], salvage)
    assert salvage == ["result of batch 7"]
