"""``optbench export``: the results store as CSV or Parquet files (:mod:`optbench.reports.export`).

Exit code 2 when there is no store or it is unusable; nothing is written then.
"""

from __future__ import annotations

import argparse
import sys

from optbench.reports.export import FORMATS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", default="results", metavar="DIR", help="results directory (default: results/)"
    )
    parser.add_argument("--format", choices=FORMATS, default="csv", help="file format (csv)")
    parser.add_argument(
        "--dest", metavar="DIR", help="where to write the files (default: <out>/export)"
    )


def main(args: argparse.Namespace) -> int:
    from optbench.benchmarks.schema import StoreError
    from optbench.reports.export import export

    try:
        paths = export(args.out, args.format, args.dest)
    except (FileNotFoundError, StoreError, ValueError) as exc:
        print(f"optbench export: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0
