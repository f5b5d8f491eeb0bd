"""The results store's format: where it lives, how it is recognized and opened, its columns.

One SQLite database, ``<out>/optbench.sqlite`` (:data:`STORE_NAME`), marked with
:data:`APPLICATION_ID` in its header. Every fact about its tables is written once, here: the
writer (:mod:`optbench.benchmarks.store`, which builds its SQL from :data:`COLUMNS`), the rows it
writes (:mod:`optbench.benchmarks.records`) and the reader (:func:`optbench.reports.load_results`,
which casts each column to its :attr:`Column.dtype`). It is the one module of the harness that
``optbench.reports`` imports.

    table        one row per                         key
    invocations  ``optbench run`` invocation         invocation_id
    planned      run an invocation asked for         (invocation_id, run_id)
    runs         run (its configuration, results)    run_key (an integer alias of run_id)
    curves       run x recorded step                 (run_key, step)
    paths        run x path step (2-D problems)      (run_key, step)
    targets      run x target (step NULL: missed)    (run_key, target)

``load_results`` returns :data:`TABLES`; the meaning of every column is in docs/contracts.md §3.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

STORE_NAME = "optbench.sqlite"
APPLICATION_ID = 0x6F707462  # "optb", in the SQLite header at byte offset 68
SCHEMA_VERSION = 3  # 2: runs.*_ref/*_sha256, plugins, failures; 3: runs.role/trial/steps_to_target
_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Column:
    """A stored column: its SQL type and constraints, and its dtype in the loaded frame
    (``"object"`` for text, ``"float64"`` for numbers that may be missing, ``"int64"``)."""

    name: str
    sql: str
    dtype: str
    loaded: bool = True  # False: kept in the store only (e.g. the full config, the hash input)


def _text(name: str, null: bool = False) -> Column:
    return Column(name, "TEXT" if null else "TEXT NOT NULL", "object")


def _real(name: str) -> Column:
    return Column(name, "REAL", "float64")


def _int(name: str, null: bool = False) -> Column:
    return Column(name, "INTEGER" if null else "INTEGER NOT NULL", "float64" if null else "int64")


INVOCATIONS = (
    Column("invocation_id", "TEXT PRIMARY KEY", "object"),
    _text("started"), _text("ended", null=True), _text("status"),
    _text("optbench_version", null=True), _text("python_version", null=True),
    _text("numpy_version", null=True), _text("blas", null=True), _text("host", null=True),
    _int("cpu_count", null=True), _text("git_commit", null=True), _text("argv", null=True),
    _text("matrix_toml"), _int("planned_runs"), _int("finished_runs"),
)  # fmt: skip
PLANNED = (_text("invocation_id"), _text("run_id"))
RUNS = (
    Column("run_id", "TEXT NOT NULL UNIQUE", "object"),
    _text("optimizer"), _text("convention"), _text("setting"), _real("lr"), _text("hparams"),
    _text("problem"), _text("problem_name"), _text("problem_config"), _int("seed"),
    _text("status"), _int("diverged_step", null=True), _int("steps"), _real("epochs"),
    _int("steps_per_epoch"), _int("grad_evals"), _real("final_loss"), _real("best_loss"),
    _real("f_star"), _real("final_subopt"), _real("best_subopt"), _real("time_per_step"),
    _int("batch_size"), _real("final_train_loss"), _real("final_test_loss"),
    _real("final_train_acc"), _real("final_test_acc"), _text("invocation_id"),
    Column("config", "TEXT NOT NULL", "object", loaded=False),
    _text("optimizer_ref", null=True), _text("optimizer_sha256", null=True),
    _text("problem_ref", null=True), _text("problem_sha256", null=True),
    _text("role", null=True), _int("trial", null=True), _int("steps_to_target", null=True),
)  # fmt: skip
"""The ``runs`` columns (after ``run_key``), in the order of the loaded frame. The ``*_ref``
and ``*_sha256`` columns (schema 2) are NULL for optbench's own optimizers and problems.
Schema 3: ``role`` is "tune" (a held-out tuning run) or "eval" (reported; NULL in a store of an
older schema means "eval"); ``trial`` the 1-based trial of a quasi-random search (0: the
optimizer's defaults; NULL in a grid); ``steps_to_target`` the first step that reached the
smallest target (NULL: never, or no f*), the tuning rule's tie-break."""
METRICS = ("loss", "train_loss", "test_loss", "train_acc", "test_acc")
"""What a curve records at each step (NaN where a metric does not apply)."""
CURVES = (_int("step"), *(_real(m) for m in METRICS))
PATHS = (_int("step"), _real("x0"), _real("x1"))
TARGETS = (Column("target", "REAL NOT NULL", "float64"), _int("step", null=True))
PLUGINS = (
    _text("kind"), _text("ref"), _text("sha256"), _text("name"), _text("path", null=True),
    _text("source", null=True), _text("invocation_id"),
)  # fmt: skip
"""A user's code or data file, once per (kind, ref, sha256): ``kind`` is "optimizer",
"problem" or "dataset"; ``ref`` the reference as the matrix wrote it; ``source`` the module's
text (NULL for data); ``invocation_id`` the first invocation that used it."""
FAILURES = (
    _text("invocation_id"), _text("optimizer"), _text("problem"), _int("runs"),
    _text("run_ids"), _text("error"), _text("traceback", null=True),
)  # fmt: skip
"""A batch that raised: its runs (``run_ids``, a JSON list) are not in ``runs``."""

COLUMNS: dict[str, tuple[Column, ...]] = {
    "invocations": INVOCATIONS,
    "planned": PLANNED,
    "runs": RUNS,
    "curves": CURVES,
    "paths": PATHS,
    "targets": TARGETS,
    "plugins": PLUGINS,
    "failures": FAILURES,
}
CHILD_TABLES = ("curves", "paths", "targets")  # rows keyed by (run_key, their first column)
TABLES = ("runs", "curves", "paths", "targets", "plugins", "failures", "invocations")
"""The tables of :func:`optbench.reports.load_results` (``planned`` is the store's own)."""


def names(table: str) -> tuple[str, ...]:
    """The column names of ``table`` (for ``runs``, without ``run_key``)."""
    return tuple(c.name for c in COLUMNS[table])


def ddl() -> str:
    """``CREATE TABLE`` statements of every table."""
    statements = []
    for table, columns in COLUMNS.items():
        cols = [f"{c.name} {c.sql}" for c in columns]
        suffix = ""
        if table == "runs":
            cols.insert(0, "run_key INTEGER PRIMARY KEY")
        elif table == "planned":
            cols.append("PRIMARY KEY (invocation_id, run_id)")
            suffix = " WITHOUT ROWID"
        elif table == "plugins":
            cols.append("PRIMARY KEY (kind, ref, sha256)")
            suffix = " WITHOUT ROWID"
        elif table in CHILD_TABLES:
            cols.insert(0, "run_key INTEGER NOT NULL")
            cols.append(f"PRIMARY KEY (run_key, {columns[0].name})")
            suffix = " WITHOUT ROWID"
        statements.append(f"CREATE TABLE {table} ({', '.join(cols)}){suffix};")
    return "\n".join(statements)


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

    Runs ``PRAGMA quick_check`` first, readers too, so that a damaged file is reported as a
    :class:`StoreError` before anything is read from it or written to it. A store that fails
    the checks is left as it was found: the ``-wal`` and ``-shm`` files that opening it created
    are removed again.
    """
    check_file(path)
    companions = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    absent = [p for p in companions if not p.exists()]
    con = None
    try:
        uri = f"{path.resolve().as_uri()}?mode={'ro' if readonly else 'rw'}"
        con = sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None)
        con.execute("PRAGMA busy_timeout = 60000")
        _check(con, path)
    except (sqlite3.DatabaseError, StoreError) as exc:
        if con is not None:
            con.close()
        for created in absent:
            created.unlink(missing_ok=True)
        if isinstance(exc, StoreError):
            raise
        raise corrupt(path, exc) from None
    if not readonly:
        con.execute("PRAGMA synchronous = NORMAL")  # WAL: durable against process kills
    return con


def corrupt(path: Path, reason) -> StoreError:
    """The error for a store SQLite cannot read (``reason``: its message)."""
    return StoreError(f"{path} is a corrupt optbench store ({reason}); it was left untouched")


def upgrade(con: sqlite3.Connection) -> None:
    """Bring a store of an older schema to :data:`SCHEMA_VERSION` (writers only): add the
    missing ``runs`` columns (NULL in old rows) and the missing tables, in one transaction."""
    if con.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    statements = {s.split()[2]: s for s in ddl().splitlines()}
    con.execute("BEGIN IMMEDIATE")
    try:
        tables = present_tables(con)
        for table in COLUMNS:
            if table not in tables:
                con.execute(statements[table])
        have = present_columns(con, "runs")
        for column in RUNS:
            if column.name not in have:  # added columns are all nullable
                con.execute(f"ALTER TABLE runs ADD COLUMN {column.name} {column.sql}")
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def present_tables(con: sqlite3.Connection) -> set[str]:
    """The tables the store has (a reader of an older store finds fewer than :data:`COLUMNS`)."""
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def present_columns(con: sqlite3.Connection, table: str) -> set[str]:
    """The columns ``table`` has in this store."""
    return {r[1] for r in con.execute(f"PRAGMA table_info({table})")}


def _check(con: sqlite3.Connection, path: Path) -> None:
    version = con.execute("PRAGMA user_version").fetchone()[0]
    status = con.execute("PRAGMA quick_check").fetchone()[0]
    if status != "ok":
        raise corrupt(path, status)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has store schema {version}; this optbench reads <= {SCHEMA_VERSION}"
        )
