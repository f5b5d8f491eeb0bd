"""``optbench run``: run the benchmark matrix into the results store, then build the report.

Exit codes: 0 done; 1 some batches raised (every other batch is stored, the report built; the
failed ones are named and kept in the store's ``failures`` table) or a worker died; 2 invalid
matrix (a plugin that cannot be imported or constructed, too) or unusable store (nothing run);
130 interrupted (the finished batches are kept; the same command resumes).
"""

from __future__ import annotations

import argparse
import signal
import sys
import warnings
from pathlib import Path

from optbench.benchmarks.cli import positive


def configure(parser: argparse.ArgumentParser) -> None:
    from optbench.benchmarks.matrix import BUILTIN

    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--config", metavar="TOML", help="the matrix file (default: the built-in matrix)"
    )
    which.add_argument(
        "--matrix",
        choices=tuple(BUILTIN),
        default="default",
        help="a built-in matrix: " + "; ".join(f"{name}: {what}" for name, what in BUILTIN.items()),
    )
    parser.add_argument(
        "--out", default="results", metavar="DIR", help="results directory (default: results/)"
    )
    parser.add_argument(
        "--jobs", type=positive, metavar="N", help="worker processes (default: the cores present)"
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="run batches on this dask.distributed scheduler"
    )
    parser.add_argument(
        "--max-batch", type=positive, metavar="R", help="at most R runs per vectorized batch"
    )
    parser.add_argument(
        "--print-config", action="store_true", help="print the matrix as TOML and exit"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="validate, count runs and batches, run nothing"
    )
    parser.add_argument("--no-report", action="store_true", help="do not build the report")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def main(args: argparse.Namespace) -> int:
    from optbench import __version__
    from optbench.benchmarks import matrix as mx
    from optbench.benchmarks.cli import default_jobs
    from optbench.benchmarks.executors import WorkerError
    from optbench.benchmarks.harness import run_matrix
    from optbench.benchmarks.plan import batches, expand
    from optbench.benchmarks.schema import StoreError

    try:
        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter("always", UserWarning)
            matrix = mx.load(args.config, builtin=args.matrix)
            if args.print_config:
                sys.stdout.write(matrix.source)
                return 0
            runs = expand(matrix, __version__)
    except mx.MatrixError as exc:
        print(f"optbench run: invalid matrix: {exc}", file=sys.stderr)
        return 2
    for note in dict.fromkeys(str(n.message) for n in notes):  # e.g. a data file's relabelling
        print(f"optbench run: note: {note}", file=sys.stderr)
    if args.dry_run:
        n = len(batches(runs, matrix, args.max_batch))
        if matrix.held_out:
            groups = len({(r.problem.label, r.optimizer, r.convention) for r in runs})
            k, tune = len(matrix.seeds), sum(r.role == "tune" for r in runs)
            first = f"{tune} tuning runs" if tune == len(runs) else (
                f"{tune} tuning runs and {len(runs) - tune} of a search's defaults")  # fmt: skip
            print(
                f"{first} in {n} batches, then at least {groups * k} "
                f"evaluation runs ({groups} tuned settings x {k} seeds); "
                "nothing run (--dry-run)"
            )
        else:
            print(f"{len(runs)} runs in {n} batches; nothing run (--dry-run)")
        return 0
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        outcome = run_matrix(
            matrix,
            runs,
            args.out,
            jobs=args.jobs or default_jobs(),
            scheduler=args.scheduler,
            max_batch=args.max_batch,
            quiet=args.quiet,
            argv=_command_line(args),
        )
    except StoreError as exc:
        print(f"optbench run: {exc}", file=sys.stderr)
        return 2
    except WorkerError as exc:
        print(f"optbench run: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    _summary(outcome, args.quiet)
    if outcome.interrupted:
        return 130
    if not args.no_report:
        from optbench.benchmarks.cli.report import build

        html = build(
            Path(args.out), jobs=args.jobs, quiet=args.quiet, invocation=outcome.invocation_id
        )
        print(f"report: {html}")
    if outcome.failures:
        n = len(outcome.failures)
        print(f"optbench run: {n} batch{'es' if n != 1 else ''} failed:", file=sys.stderr)
        for failure in outcome.failures:
            print(f"  {failure.label}: {failure.error}", file=sys.stderr)
        print("  (tracebacks: the store's 'failures' table)", file=sys.stderr)
        return 1
    return 0


def _summary(outcome, quiet: bool) -> None:
    for message in outcome.messages:
        print(f"optbench run: {message}", file=sys.stderr)
    if outcome.interrupted:
        print(
            f"interrupted: kept {outcome.kept} of {outcome.planned} planned runs in "
            f"{outcome.store} ({outcome.written} written by this invocation); "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return
    if quiet:
        return
    rate = outcome.written / outcome.wall_time if outcome.wall_time else 0.0
    print(
        f"{outcome.written} runs in {outcome.batches} batches ({outcome.diverged} diverged), "
        f"{outcome.skipped} already stored; {outcome.kept}/{outcome.planned} planned runs in "
        f"{outcome.store} [{outcome.wall_time:.1f} s, {rate:.0f} runs/s]"
    )


def _command_line(args: argparse.Namespace) -> tuple[str, ...]:
    """The options that shaped this invocation, as ``run --config ... --out ...``."""
    line = ["run"]
    for name in ("config", "matrix", "out", "jobs", "scheduler", "max_batch"):
        value = getattr(args, name, None)
        if value is not None:
            line += [f"--{name.replace('_', '-')}", str(value)]
    return tuple(line)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
