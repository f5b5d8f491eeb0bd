"""``optbench report``: the results store -> tables, figures and one self-contained HTML report.

Reads ``<out>/optbench.sqlite`` and writes ``<out>/report.html``, ``report.md``, ``figures/``
and ``tables/`` (docs/contracts.md §4), drawing the figures on every core (``--jobs``) and
printing a line as each is saved. Exit code 2 when there is no store or it is unusable
(nothing is written then).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from optbench.benchmarks.cli import positive


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="results directory holding optbench.sqlite; the report is written there "
        "(default: results/)",
    )
    parser.add_argument(
        "--jobs", type=positive, metavar="N", help="processes drawing figures (default: cores)"
    )
    parser.add_argument("--svg", action="store_true", help="also write each figure as SVG")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


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
    try:
        path = build(args.out, jobs=args.jobs, svg=args.svg, quiet=args.quiet)
    except StoreError as exc:
        print(f"optbench report: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def build(out: Path, *, jobs: int | None = None, svg: bool = False, quiet: bool = False) -> Path:
    """``build_report`` as the commands call it: every core, a line per figure saved. The
    drawing processes start first, so that their imports overlap this process's."""
    from optbench.benchmarks.cli import default_jobs
    from optbench.reports.workers import Renderer  # the standard library only

    with Renderer(jobs or default_jobs()) as renderer:  # first: its workers import meanwhile
        from threadpoolctl import threadpool_limits

        from optbench.benchmarks.executors import BLAS_THREADS
        from optbench.reports import build_report

        with threadpool_limits(limits=BLAS_THREADS):
            progress_lines = None if quiet else progress
            return build_report(out, renderer=renderer, svg=svg, progress=progress_lines)


def progress(done: int, total: int, name: str, seconds: float) -> None:
    print(f"report: figure {done}/{total}: {name} ({seconds:.1f} s)", file=sys.stderr, flush=True)
