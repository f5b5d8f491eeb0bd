"""``load_results``: the one way to read the results store (docs/contracts.md section 3).

    df = load_results("results/")                  # one row per run
    curves = load_results("results/", "curves")    # one row per run x recorded step

Tables (tidy, long format): ``runs``, ``curves``, ``paths``, ``targets``, ``plugins``,
``failures``, ``invocations``; their columns and dtypes come from
:mod:`optbench.benchmarks.schema`. Child tables repeat the run's
identifying columns (optimizer, convention, setting, lr, problem, seed, status), so each frame is
usable on its own. Derived columns: ``curves.epoch = step / steps_per_epoch``, ``curves.subopt =
loss - f_star``. Missing values are NaN (never 0).

``df.attrs["partial"]`` is True when a run planned by any invocation is missing from the store
(an interrupted matrix); ``df.attrs["store"]`` is the database path.

:func:`load_tables` reads several tables through one connection (the store is checked once),
and may keep only the child rows of some runs (``run_ids``): the report reads the curves, paths
and targets of the tuned runs alone. :meth:`StoreReader.planned` reads the store's own
``planned`` table, from which :mod:`optbench.reports.selection` picks the runs a report shows.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable

import numpy as np
import pandas as pd

from optbench.benchmarks.schema import (
    COLUMNS,
    TABLES,
    connect,
    corrupt,
    names,
    present_columns,
    present_tables,
    store_path,
)

_LOADED_RUNS = tuple(c for c in COLUMNS["runs"] if c.loaded)
_IDENTITY = (
    "run_id", "optimizer", "convention", "setting", "lr", "problem", "problem_name", "seed",
    "status",
)  # fmt: skip
_CHUNK = 500  # run keys per query (SQLite's limit on bound parameters is 999 in old builds)


def load_results(path: str | os.PathLike, table: str = "runs") -> pd.DataFrame:
    """The store under ``path`` (a results directory or the database file) as a DataFrame.

    Raises ``ValueError`` for an unknown ``table``, ``FileNotFoundError`` when there is no
    store, and ``optbench.benchmarks.schema.StoreError`` when the file is not an optbench store
    (or is corrupt).
    """
    return load_tables(path, (table,))[table]


def load_tables(
    path: str | os.PathLike, tables: Iterable[str] = TABLES, run_ids: Iterable[str] | None = None
) -> dict[str, pd.DataFrame]:
    """``{table: frame}`` for each of ``tables``, read through one connection.

    ``run_ids``: keep only these runs' rows in the ``curves``, ``paths`` and ``targets`` frames
    (the ``runs`` frame always holds every run). Errors as :func:`load_results`.
    """
    tables = list(tables)
    for table in tables:
        _check_table(table)
    with open_results(path) as store:
        return {table: store.table(table, run_ids=run_ids) for table in tables}


def open_results(path: str | os.PathLike) -> StoreReader:
    """The store under ``path``, opened and checked once, read table by table::

        with open_results("results/") as store:
            runs = store.table("runs")
            curves = store.table("curves", run_ids=runs["run_id"][:10])

    Errors as :func:`load_results`, raised on opening.
    """
    return StoreReader(path)


class StoreReader:
    """An open results store (:func:`open_results`); a context manager that closes it."""

    def __init__(self, path: str | os.PathLike):
        self.db = store_path(path)
        if not self.db.exists():
            raise FileNotFoundError(
                f"no results store at {self.db}; run `optbench run --out {path}` first"
            )
        self.con = connect(self.db, readonly=True)
        self._runs: pd.DataFrame | None = None
        try:
            self.attrs = {"partial": _partial(self.con), "store": str(self.db.resolve())}
        except sqlite3.DatabaseError as exc:
            self.close()
            raise corrupt(self.db, exc) from None

    def table(self, table: str, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """One table as a tidy frame (``run_ids``: see :func:`load_tables`)."""
        _check_table(table)
        try:
            if table == "invocations":
                df = _invocations(self.con)
            elif table in ("plugins", "failures"):
                df = _plain(self.con, table)
            else:
                if self._runs is None:
                    self._runs = _runs(self.con)
                if table == "runs":
                    df = self._runs.drop(columns="run_key")
                else:
                    keys = None if run_ids is None else _keys(self._runs, run_ids)
                    df = _child(self.con, table, self._runs, keys)
        except sqlite3.DatabaseError as exc:  # damage that quick_check did not see
            raise corrupt(self.db, exc) from None
        df = df.reset_index(drop=True)
        df.attrs.update(self.attrs)
        return df

    def planned(self) -> pd.DataFrame:
        """The store's ``planned`` table: ``invocation_id``, ``run_id`` (the runs each
        ``optbench run`` asked for, stored or not), for :mod:`optbench.reports.selection`."""
        try:
            rows = self.con.execute("SELECT invocation_id, run_id FROM planned").fetchall()
        except sqlite3.DatabaseError as exc:
            raise corrupt(self.db, exc) from None
        return pd.DataFrame.from_records(rows, columns=list(names("planned")))

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _check_table(table: str) -> None:
    if table not in TABLES:
        raise ValueError(f"table must be one of {list(TABLES)}, got {table!r}")


def _cast(df: pd.DataFrame, columns) -> pd.DataFrame:
    """Each column to its schema dtype (None -> NaN in float columns)."""
    for column in columns:
        if column.dtype == "float64":
            df[column.name] = pd.to_numeric(df[column.name], errors="coerce").astype(np.float64)
        elif column.dtype == "int64":
            df[column.name] = df[column.name].astype(np.int64)
    return df


def _runs(con) -> pd.DataFrame:
    cols = ["run_key", *(c.name for c in _LOADED_RUNS)]
    have = present_columns(con, "runs")  # a store of an older schema lacks the newer columns
    select = ", ".join(c if c in have else f"NULL AS {c}" for c in cols)
    cur = con.execute(f"SELECT {select} FROM runs ORDER BY run_key")
    df = pd.DataFrame.from_records(cur.fetchall(), columns=cols)
    df["run_key"] = df["run_key"].astype(np.int64)
    return _cast(df, _LOADED_RUNS)


def _keys(runs: pd.DataFrame, run_ids: Iterable[str]) -> list[int]:
    wanted = set(run_ids)
    return sorted(runs.loc[runs["run_id"].isin(wanted), "run_key"].tolist())


def _child(con, table: str, runs: pd.DataFrame, keys: list[int] | None) -> pd.DataFrame:
    cols = names(table)
    select = f"SELECT run_key, {', '.join(cols)} FROM {table}"
    if keys is None:
        rows = con.execute(f"{select} ORDER BY run_key, {cols[0]}").fetchall()
    else:
        rows = []
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            where = f"WHERE run_key IN ({', '.join('?' * len(chunk))})"
            rows += con.execute(f"{select} {where} ORDER BY run_key, {cols[0]}", chunk).fetchall()
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(cols) + 1)  # None -> NaN
    child = pd.DataFrame(values[:, 1:], columns=list(cols))
    child.insert(0, "run_key", values[:, 0].astype(np.int64))
    child = _cast(child, COLUMNS[table])
    extra = ["steps_per_epoch", "f_star"] if table == "curves" else []
    df = child.merge(runs[["run_key", *_IDENTITY, *extra]], on="run_key", how="left", sort=False)
    if table == "curves":
        df["epoch"] = df["step"] / df["steps_per_epoch"]
        df["subopt"] = df["loss"] - df["f_star"]
        df = df.drop(columns=["steps_per_epoch", "f_star"])
    order = [*_IDENTITY, *[c for c in df.columns if c not in _IDENTITY and c != "run_key"]]
    return df[order]


def _invocations(con) -> pd.DataFrame:
    cols = names("invocations")
    df = pd.read_sql_query(f"SELECT {', '.join(cols)} FROM invocations ORDER BY started", con)
    for col in ("started", "ended"):
        df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    return df


def _plain(con, table: str) -> pd.DataFrame:
    """A table without child structure (empty, with its columns, in an older store)."""
    cols = list(names(table))
    rows = []
    if table in present_tables(con):
        rows = con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
    return _cast(pd.DataFrame.from_records(rows, columns=cols), COLUMNS[table])


def _partial(con) -> bool:
    """True when a run planned by any invocation (an interrupted earlier matrix too) is not in
    the store."""
    missing = con.execute(
        "SELECT count(*) FROM planned p LEFT JOIN runs r ON r.run_id = p.run_id "
        "WHERE r.run_id IS NULL"
    ).fetchone()[0]
    return missing > 0
