"""The results store: one SQLite database, ``<out>/optbench.sqlite`` (WAL mode).

Only the parent ``optbench run`` process writes, one ``BEGIN IMMEDIATE`` transaction per
finished batch; a run is inserted only if its ``run_id`` is absent, so resuming, or two
invocations writing at once, never records a run twice. Readers (``optbench.reports.load_results``)
see whole batches only. Schema (``run_key`` is an integer alias of ``run_id`` for child rows)::

    invocations(invocation_id PK, started, ended, status, optbench_version, python_version,
                numpy_version, blas, host, cpu_count, git_commit, argv, matrix_toml,
                planned_runs, finished_runs)
    planned(invocation_id, run_id)                      -- the runs each invocation asked for
    runs(run_key PK, run_id UNIQUE, invocation_id, optimizer, convention, setting, lr, hparams,
         problem, problem_name, problem_config, seed, status, diverged_step, steps, epochs,
         steps_per_epoch, grad_evals, final_loss, best_loss, f_star, final_subopt, best_subopt,
         time_per_step, batch_size, final_train_loss, final_test_loss, final_train_acc,
         final_test_acc, config)
    curves(run_key, step, loss, train_loss, test_loss, train_acc, test_acc)
    paths(run_key, step, x0, x1)                        -- 2-D problems only
    targets(run_key, target, step)                      -- step NULL: never reached

A new database is built under a temporary name and hard-linked into place, so the store path
never holds a half-created file. A file at the path that is not an optbench store (not SQLite,
another application's SQLite, a corrupt database) raises :class:`StoreError` and is left as is.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

STORE_NAME = "optbench.sqlite"
APPLICATION_ID = 0x6F707462  # "optb", in the SQLite header at byte offset 68
SCHEMA_VERSION = 1
_MAGIC = b"SQLite format 3\x00"

SCHEMA = """
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

RUN_COLUMNS = (
    "run_id", "invocation_id", "optimizer", "convention", "setting", "lr", "hparams", "problem",
    "problem_name", "problem_config", "seed", "status", "diverged_step", "steps", "epochs",
    "steps_per_epoch", "grad_evals", "final_loss", "best_loss", "f_star", "final_subopt",
    "best_subopt", "time_per_step", "batch_size", "final_train_loss", "final_test_loss",
    "final_train_acc", "final_test_acc", "config",
)  # fmt: skip


class StoreError(RuntimeError):
    """The store path holds something that is not a usable optbench store."""


def store_path(out: str | os.PathLike) -> Path:
    """``<out>/optbench.sqlite``, or ``out`` itself when it names a file (not a directory)."""
    out = Path(out)
    return out if out.suffix in (".sqlite", ".db") or out.is_file() else out / STORE_NAME


def check_file(path: Path) -> None:
    """Raise StoreError unless ``path`` is an optbench store (reads 100 header bytes only)."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    hint = "it was left untouched; move it away or pass another --out"
    if len(header) < 100 or not header.startswith(_MAGIC):
        raise StoreError(f"{path} is not an optbench results store (not an SQLite file); {hint}")
    app_id = int.from_bytes(header[68:72], "big")
    if app_id != APPLICATION_ID:
        raise StoreError(f"{path} is an SQLite database of another application; {hint}")


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """A checked connection (autocommit; callers open transactions explicitly).

    Writers also run ``PRAGMA quick_check`` first, so that a damaged file is reported rather
    than written to; readers rely on the header check (queries fail loudly anyway).
    """
    check_file(path)
    uri = f"{path.resolve().as_uri()}?mode={'ro' if readonly else 'rw'}"
    con = None
    try:
        con = sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None)
        con.execute("PRAGMA busy_timeout = 60000")
        version = con.execute("PRAGMA user_version").fetchone()[0]
        status = "ok" if readonly else con.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if con is not None:
            con.close()
        raise StoreError(
            f"{path} is a corrupt optbench store ({exc}); it was left untouched"
        ) from None
    if status != "ok":
        con.close()
        raise StoreError(f"{path} is a corrupt optbench store ({status}); it was left untouched")
    if version > SCHEMA_VERSION:
        con.close()
        raise StoreError(
            f"{path} has store schema {version}; this optbench reads <= {SCHEMA_VERSION}"
        )
    if not readonly:
        con.execute("PRAGMA synchronous = NORMAL")  # WAL: durable against process kills
    return con


def open_store(out: str | os.PathLike) -> sqlite3.Connection:
    """Open the store under ``out`` for writing, creating it (and ``out``) when absent."""
    path = store_path(out)
    if not path.exists():
        _create(path)
    return connect(path)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    con = sqlite3.connect(tmp, isolation_level=None)
    try:
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        con.execute("PRAGMA journal_mode = WAL")
        con.executescript(f"BEGIN; {SCHEMA} COMMIT;")
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
    found: set[str] = set()
    for start in range(0, len(run_ids), 500):
        chunk = run_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = con.execute(f"SELECT run_id FROM runs WHERE run_id IN ({marks})", chunk)
        found.update(r[0] for r in rows)
    return found


def begin_invocation(con, invocation_id: str, meta: dict, matrix_toml: str, run_ids) -> None:
    """Record an invocation and the runs it plans, in one transaction."""
    row = {"invocation_id": invocation_id, "status": "running", **meta}
    row.update(matrix_toml=matrix_toml, planned_runs=len(run_ids), finished_runs=0)
    cols = ", ".join(row)
    with _transaction(con):
        con.execute(f"INSERT INTO invocations ({cols}) VALUES ({_marks(row)})", tuple(row.values()))
        con.executemany(
            "INSERT OR IGNORE INTO planned VALUES (?, ?)", ((invocation_id, r) for r in run_ids)
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

    ``rows``: one dict per run with the ``RUN_COLUMNS``; ``children(run_id) -> (curves, paths,
    targets)``: row tuples without the leading ``run_key``. Returns the number of runs written.
    """
    with _transaction(con):
        present = finished(con, [r["run_id"] for r in rows])
        new = [r for r in rows if r["run_id"] not in present]
        sql = f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({_marks(RUN_COLUMNS)})"
        for row in new:
            key = con.execute(sql, tuple(row[c] for c in RUN_COLUMNS)).lastrowid
            curves, paths, targets = children(row["run_id"])
            con.executemany("INSERT INTO curves VALUES (?,?,?,?,?,?,?)", _keyed(key, curves))
            con.executemany("INSERT INTO paths VALUES (?,?,?,?)", _keyed(key, paths))
            con.executemany("INSERT INTO targets VALUES (?,?,?)", _keyed(key, targets))
        _count_finished(con, invocation_id)
    return len(new)


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


def _marks(columns) -> str:
    return ", ".join("?" * len(columns))
