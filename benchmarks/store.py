"""Writing the results store (its format: :mod:`optbench.benchmarks.schema`).

Only the parent ``optbench run`` process writes, one ``BEGIN IMMEDIATE`` transaction per
finished batch; a run is inserted only if its ``run_id`` is absent, so resuming, or two
invocations writing at once, never records a run twice. Readers
(``optbench.reports.load_results``) see whole batches only.

A new database is built under a temporary name and hard-linked into place, so the store path
never holds a half-created file. A file at the path that is not an optbench store (not SQLite,
another application's SQLite, a corrupt database) raises
:class:`~optbench.benchmarks.schema.StoreError` and is left as is.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .schema import (
    APPLICATION_ID,
    CHILD_TABLES,
    SCHEMA_VERSION,
    connect,
    ddl,
    names,
    store_path,
    upgrade,
)


def _marks(columns) -> str:
    return ", ".join("?" * len(columns))


RUN_COLUMNS = names("runs")
_INSERT_RUN = f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({_marks(RUN_COLUMNS)})"
PLUGIN_COLUMNS = names("plugins")
_INSERT_PLUGIN = (
    f"INSERT OR IGNORE INTO plugins ({', '.join(PLUGIN_COLUMNS)}) VALUES ({_marks(PLUGIN_COLUMNS)})"
)
FAILURE_COLUMNS = names("failures")
_INSERT_FAILURE = (
    f"INSERT INTO failures ({', '.join(FAILURE_COLUMNS)}) VALUES ({_marks(FAILURE_COLUMNS)})"
)
_INSERT_CHILD = {
    table: f"INSERT INTO {table} (run_key, {', '.join(cols)}) VALUES (?, {_marks(cols)})"
    for table, cols in ((table, names(table)) for table in CHILD_TABLES)
}


def open_store(out: str | os.PathLike) -> sqlite3.Connection:
    """Open the store under ``out`` for writing, creating it (and ``out``) when absent."""
    path = store_path(out)
    if not path.exists():
        _create(path)
    con = connect(path)
    upgrade(con)
    return con


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    con = sqlite3.connect(tmp, isolation_level=None)
    try:
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        con.execute("PRAGMA journal_mode = WAL")
        con.executescript(f"BEGIN; {ddl()} COMMIT;")
    finally:
        con.close()
    try:
        os.link(tmp, path)  # atomic; fails if a concurrent invocation created it first
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def finished(con: sqlite3.Connection, run_ids: list[str]) -> set[str]:
    """The subset of ``run_ids`` already in the store."""
    return {row[0] for row in stored_rows(con, run_ids, ("run_id",))}


def stored_rows(con: sqlite3.Connection, run_ids: list[str], columns: tuple[str, ...]):
    """The ``runs`` rows (``columns``, in that order) of those of ``run_ids`` in the store,
    500 ids a query (SQLite's bound on host parameters)."""
    for start in range(0, len(run_ids), 500):
        chunk = run_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        yield from con.execute(
            f"SELECT {', '.join(columns)} FROM runs WHERE run_id IN ({marks})", chunk
        )


def begin_invocation(
    con, invocation_id: str, meta: dict, matrix_toml: str, run_ids, plugins: list[dict] = ()
) -> None:
    """Record an invocation, the runs it plans and the user code and data they use (rows of
    ``plugins`` without ``invocation_id``; kept once per (kind, ref, sha256)), in one
    transaction."""
    row = {"invocation_id": invocation_id, "status": "running", **meta}
    row.update(matrix_toml=matrix_toml, planned_runs=len(run_ids), finished_runs=0)
    cols = ", ".join(row)
    with _transaction(con):
        con.execute(f"INSERT INTO invocations ({cols}) VALUES ({_marks(row)})", tuple(row.values()))
        con.executemany(
            _INSERT_PLUGIN,
            (
                tuple({**p, "invocation_id": invocation_id}[c] for c in PLUGIN_COLUMNS)
                for p in plugins
            ),
        )
        con.executemany(
            "INSERT OR IGNORE INTO planned VALUES (?, ?)", ((invocation_id, r) for r in run_ids)
        )
        _count_finished(con, invocation_id)


def plan_runs(con, invocation_id: str, run_ids) -> None:
    """Add runs to what an invocation plans (held-out tuning plans its evaluation runs once
    the tuning runs are stored)."""
    run_ids = list(run_ids)
    with _transaction(con):
        con.executemany(
            "INSERT OR IGNORE INTO planned VALUES (?, ?)", ((invocation_id, r) for r in run_ids)
        )
        con.execute(
            "UPDATE invocations SET planned_runs = "
            "(SELECT count(*) FROM planned WHERE invocation_id = ?) WHERE invocation_id = ?",
            (invocation_id, invocation_id),
        )
        _count_finished(con, invocation_id)


def end_invocation(con, invocation_id: str, ended: str, status: str) -> int:
    """Stamp the end time and status; returns how many planned runs the store holds."""
    with _transaction(con):
        con.execute(
            "UPDATE invocations SET ended = ?, status = ? WHERE invocation_id = ?",
            (ended, status, invocation_id),
        )
        return _count_finished(con, invocation_id)


def write_batch(con, invocation_id: str, rows: list[dict], children) -> int:
    """Insert finished runs (skipping run ids already present) and their child rows.

    ``rows``: one dict per run with the ``runs`` columns of the schema; ``children(run_id) ->
    (curves, paths, targets)``: row tuples in the schema's column order, without the leading
    ``run_key``. Returns the number of runs written.
    """
    with _transaction(con):
        present = finished(con, [r["run_id"] for r in rows])
        new = [r for r in rows if r["run_id"] not in present]
        for row in new:
            key = con.execute(_INSERT_RUN, tuple(row[c] for c in RUN_COLUMNS)).lastrowid
            for table, child_rows in zip(CHILD_TABLES, children(row["run_id"]), strict=True):
                con.executemany(_INSERT_CHILD[table], _keyed(key, child_rows))
        _count_finished(con, invocation_id)
    return len(new)


def write_failure(con, row: dict) -> None:
    """Record a batch that raised (``row``: the ``failures`` columns)."""
    with _transaction(con):
        con.execute(_INSERT_FAILURE, tuple(row[c] for c in FAILURE_COLUMNS))


class _transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error): one writer at a time."""

    def __init__(self, con):
        self.con = con

    def __enter__(self):
        self.con.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self.con.execute("ROLLBACK" if exc_type else "COMMIT")


def _count_finished(con, invocation_id: str) -> int:
    n = con.execute(
        "SELECT count(*) FROM planned p JOIN runs r ON r.run_id = p.run_id "
        "WHERE p.invocation_id = ?",
        (invocation_id,),
    ).fetchone()[0]
    con.execute(
        "UPDATE invocations SET finished_runs = ? WHERE invocation_id = ?", (n, invocation_id)
    )
    return n


def _keyed(key: int, rows):
    return ((key, *row) for row in rows)
