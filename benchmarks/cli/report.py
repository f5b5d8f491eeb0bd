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
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--all",
        dest="all_runs",
        action="store_true",
        help="report every run of the store (default: the latest invocation's matrix)",
    )
    which.add_argument(
        "--invocation", metavar="ID", help="report the runs of this invocation's matrix"
    )


def main(args: argparse.Namespace) -> int:
    from optbench.benchmarks.schema import StoreError, store_path
    from optbench.reports.selection import UnknownInvocation

    store = store_path(args.out)
    if not store.is_file():
        print(
            f"optbench report: no results store at {store}; run `optbench run --out "
            f"{args.out}` first",
            file=sys.stderr,
        )
        return 2
    try:
        path = build(
            args.out, jobs=args.jobs, svg=args.svg, quiet=args.quiet, all_runs=args.all_runs,
            invocation=args.invocation,
        )  # fmt: skip
    except StoreError as exc:
        print(f"optbench report: {exc}", file=sys.stderr)
        return 2
    except UnknownInvocation as exc:
        print(f"optbench report: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def build(
    out: Path,
    *,
    jobs: int | None = None,
    svg: bool = False,
    quiet: bool = False,
    all_runs: bool = False,
    invocation: str | None = None,
) -> Path:
    """``build_report`` as the commands call it: every core, a line per figure saved, and a
    line on stderr when the store holds runs the report leaves out (none with ``quiet``). The
    report shows the latest invocation's matrix (``invocation``: that one's; ``all_runs``:
    every run). The drawing processes start first, so that their imports overlap this
    process's."""
    from optbench.benchmarks.cli import default_jobs
    from optbench.reports.workers import Renderer  # the standard library only

    with Renderer(jobs or default_jobs()) as renderer:  # first: its workers import meanwhile
        from threadpoolctl import threadpool_limits

        from optbench.benchmarks.executors import BLAS_THREADS
        from optbench.reports import build_report

        with threadpool_limits(limits=BLAS_THREADS):
            return build_report(
                out, renderer=renderer, svg=svg, progress=None if quiet else progress,
                all_runs=all_runs, invocation=invocation, notice=None if quiet else note,
            )  # fmt: skip


def progress(done: int, total: int, name: str, seconds: float) -> None:
    print(f"report: figure {done}/{total}: {name} ({seconds:.1f} s)", file=sys.stderr, flush=True)


def note(sentence: str) -> None:
    print(f"report: {sentence}", file=sys.stderr, flush=True)
