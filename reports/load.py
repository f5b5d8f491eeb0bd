"""``load_results``: the one way to read the results store (docs/contracts.md section 3).

    df = load_results("results/")                  # one row per run
    curves = load_results("results/", "curves")    # one row per run x recorded step

Tables (tidy, long format): ``runs``, ``curves``, ``paths``, ``targets``, ``invocations``.
Child tables repeat the run's identifying columns (optimizer, convention, setting, lr, problem,
seed, status), so each frame is usable on its own. Derived columns: ``curves.epoch = step /
steps_per_epoch``, ``curves.subopt = loss - f_star``. Missing values are NaN (never 0).

``df.attrs["partial"]`` is True when a run planned by any invocation is missing from the store
(an interrupted matrix); ``df.attrs["store"]`` is the database path.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from optbench.benchmarks.store import RUN_COLUMNS as STORED_RUN_COLUMNS
from optbench.benchmarks.store import connect, store_path

TABLES = ("runs", "curves", "paths", "targets", "invocations")
_FLOAT_RUN_COLUMNS = (
    "lr", "diverged_step", "epochs", "final_loss", "best_loss", "f_star", "final_subopt",
    "best_subopt", "time_per_step", "final_train_loss", "final_test_loss", "final_train_acc",
    "final_test_acc",
)  # fmt: skip
# the stored run columns (the writer's list), less the full config, invocation_id last
_RUN_COLUMNS = (
    "run_key",
    *(c for c in STORED_RUN_COLUMNS if c not in ("config", "invocation_id")),
    "invocation_id",
)
_IDENTITY = (
    "run_id", "optimizer", "convention", "setting", "lr", "problem", "problem_name", "seed",
    "status",
)  # fmt: skip
_CHILDREN = {
    "curves": ("step", "loss", "train_loss", "test_loss", "train_acc", "test_acc"),
    "paths": ("step", "x0", "x1"),
    "targets": ("target", "step"),
}


def load_results(path: str | os.PathLike, table: str = "runs") -> pd.DataFrame:
    """The store under ``path`` (a results directory or the database file) as a DataFrame.

    Raises ``ValueError`` for an unknown ``table``, ``FileNotFoundError`` when there is no
    store, and ``optbench.benchmarks.store.StoreError`` when the file is not an optbench store.
    """
    if table not in TABLES:
        raise ValueError(f"table must be one of {list(TABLES)}, got {table!r}")
    db = store_path(path)
    if not db.exists():
        raise FileNotFoundError(f"no results store at {db}; run `optbench run --out {path}` first")
    con = connect(db, readonly=True)
    try:
        if table == "invocations":
            df = _invocations(con)
        else:
            runs = _runs(con)
            df = runs.drop(columns="run_key") if table == "runs" else _child(con, table, runs)
        df.attrs["partial"] = _partial(con)
        df.attrs["store"] = str(Path(db).resolve())
    finally:
        con.close()
    return df.reset_index(drop=True)


def _runs(con) -> pd.DataFrame:
    cur = con.execute(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs ORDER BY run_key")
    df = pd.DataFrame.from_records(cur.fetchall(), columns=list(_RUN_COLUMNS))
    for col in _FLOAT_RUN_COLUMNS:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(np.float64)
    for col in ("run_key", "seed", "steps", "steps_per_epoch", "grad_evals", "batch_size"):
        df[col] = df[col].astype(np.int64)
    return df


def _child(con, table: str, runs: pd.DataFrame) -> pd.DataFrame:
    cols = _CHILDREN[table]
    cur = con.execute(f"SELECT run_key, {', '.join(cols)} FROM {table} ORDER BY run_key, {cols[0]}")
    rows = cur.fetchall()
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(cols) + 1)  # None -> NaN
    child = pd.DataFrame(values[:, 1:], columns=list(cols))
    child.insert(0, "run_key", values[:, 0].astype(np.int64))
    if table != "targets":
        child["step"] = child["step"].astype(np.int64)
    extra = ["steps_per_epoch", "f_star"] if table == "curves" else []
    df = child.merge(runs[["run_key", *_IDENTITY, *extra]], on="run_key", how="left", sort=False)
    if table == "curves":
        df["epoch"] = df["step"] / df["steps_per_epoch"]
        df["subopt"] = df["loss"] - df["f_star"]
        df = df.drop(columns=["steps_per_epoch", "f_star"])
    order = [*_IDENTITY, *[c for c in df.columns if c not in _IDENTITY and c != "run_key"]]
    return df[order]


def _invocations(con) -> pd.DataFrame:
    df = pd.read_sql_query("SELECT * FROM invocations ORDER BY started", con)
    for col in ("started", "ended"):
        df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    return df


def _partial(con) -> bool:
    """True when a run planned by any invocation (an interrupted earlier matrix too) is not in
    the store."""
    missing = con.execute(
        "SELECT count(*) FROM planned p LEFT JOIN runs r ON r.run_id = p.run_id "
        "WHERE r.run_id IS NULL"
    ).fetchone()[0]
    return missing > 0
