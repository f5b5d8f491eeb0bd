"""The results store as one CSV or Parquet file per table, for pandas users (``optbench export``).

Writes ``<dest>/runs.<ext>`` (one row per run), ``curves``, ``paths``, ``targets`` and
``invocations``: exactly the frames of :func:`optbench.reports.load_results`.
"""

from __future__ import annotations

from pathlib import Path

from optbench.benchmarks.schema import TABLES

FORMATS = ("csv", "parquet")


def export(out: str | Path, fmt: str = "csv", dest: str | Path | None = None) -> list[Path]:
    """Write every table of the store under ``out`` into ``dest`` (default ``<out>/export``);
    return the paths written. Nothing is written unless the whole store was read."""
    from optbench.reports.load import load_tables  # pandas: imported on use, not by the CLI

    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {list(FORMATS)}, got {fmt!r}")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            msg = "--format parquet needs pyarrow: pip install 'optbench[parquet]'"
            raise ValueError(msg) from None
    frames = load_tables(out, TABLES)  # fails before any mkdir
    target = Path(dest) if dest else Path(out) / "export"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for table, df in frames.items():
        path = target / f"{table}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False)
        else:
            df.to_parquet(path, index=False)
        written.append(path)
    return written
