"""``optbench report``: the results store -> tables, figures and one self-contained HTML report.

Reads ``<out>/optbench.sqlite`` and writes ``<out>/report.html``, ``report.md``, ``figures/``
and ``tables/`` (docs/contracts.md §4). Exit code 2 when there is no store or it is unusable
(nothing is written then).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="results directory holding optbench.sqlite; the report is written there "
        "(default: results/)",
    )


def main(args: argparse.Namespace) -> int:
    from optbench.benchmarks.schema import StoreError, store_path

    store = store_path(args.out)
    if not store.is_file():
        print(
            f"optbench report: no results store at {store}; run `optbench run --out "
            f"{args.out}` first",
            file=sys.stderr,
        )
        return 2
    from optbench.reports.build import build_report

    try:
        path = build_report(args.out)
    except StoreError as exc:
        print(f"optbench report: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0
