"""``optbench export``: the results store as CSV or Parquet files, for pandas users.

Writes ``<dest>/runs.<ext>`` (one row per run), ``curves``, ``paths``, ``targets`` and
``invocations``: exactly the frames of ``optbench.reports.load_results``. ``dest`` defaults to
``<out>/export``. Exit code 2 when there is no store or it is unusable.
"""

from __future__ import annotations

import argparse
import sys

FORMATS = ("csv", "parquet")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", default="results", metavar="DIR", help="results directory (default: results/)"
    )
    parser.add_argument("--format", choices=FORMATS, default="csv", help="file format (csv)")
    parser.add_argument(
        "--dest", metavar="DIR", help="where to write the files (default: <out>/export)"
    )


def export(out: str, fmt: str = "csv", dest: str | None = None) -> list:
    """Write every table of the store under ``out``; returns the paths written."""
    from pathlib import Path

    from optbench.reports.load import TABLES, load_results

    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {list(FORMATS)}, got {fmt!r}")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            msg = "--format parquet needs pyarrow: pip install 'optbench[parquet]'"
            raise ValueError(msg) from None
    frames = {table: load_results(out, table) for table in TABLES}  # fails before any mkdir
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


def main(args: argparse.Namespace) -> int:
    from .store import StoreError

    try:
        paths = export(args.out, args.format, args.dest)
    except (FileNotFoundError, StoreError, ValueError) as exc:
        print(f"optbench export: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0
