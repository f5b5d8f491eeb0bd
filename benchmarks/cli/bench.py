"""``optbench bench``: run the pytest-benchmark suites, save their JSON, print the timing table.

Runs the suites of :mod:`optbench.benchmarks.suites` (the dense layer, square GEMM, the
optimizer steps, ...) through :func:`optbench.benchmarks.suites.run`. pytest-benchmark's JSON is
saved as ``<out>/bench/bench-<UTC time>.json`` (failed cases left out), its roofline as
``<out>/bench/roofline-<UTC time>.png``;
``optbench.reports.timing`` reads it back for the table printed here and for the report's timing
section: ``<out>/report.html`` is rebuilt when ``<out>`` holds the store of an ``optbench run``
(not under ``--quick``, which keeps to its 30 s, nor with ``--no-report``).

Exit codes: 0 success; 1 a benchmark failed (e.g. its correctness check) or ``--compare``
found a slowdown beyond ``--compare-fail``; 2 invalid arguments; otherwise pytest's own code.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from optbench.benchmarks import suites
from optbench.benchmarks.schema import store_path

MAX_ELEMENTS = 2**28  # largest array a user shape may ask for (2 GiB in float64)
DEFAULT_FAIL_PCT = 10.0


def shape_arg(text: str) -> list[tuple[int, int, int]]:
    """argparse type: ``"m,n_in,n_out"`` (several allowed, space separated) -> list of triples."""
    try:
        shapes = suites.parse_shapes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    for m, n_in, n_out in shapes:
        largest = max(m * n_in, n_in * n_out, m * n_out)
        if largest > MAX_ELEMENTS:
            raise argparse.ArgumentTypeError(
                f"shape {m},{n_in},{n_out} needs an array of {largest:,} elements "
                f"(at most {MAX_ELEMENTS:,} allowed)"
            )
    if not shapes:
        raise argparse.ArgumentTypeError("shapes: give at least one 'm,n_in,n_out'")
    return shapes


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a percentage >= 0, got {text!r}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    names = ", ".join(suites.suite_names())
    parser.add_argument("--out", default="results", help="results directory (default: results)")
    parser.add_argument("--quick", action="store_true", help="cheap cases only (< 30 s)")
    parser.add_argument(
        "--shapes",
        nargs="+",
        type=shape_arg,
        default=[],
        metavar="M,N_IN,N_OUT",
        help="extra dense shapes (batch, n_in, n_out), e.g. --shapes 128,784,256 32,64,10",
    )
    dtypes = tuple(suites.DTYPE_CHOICES)
    parser.add_argument("--dtype", choices=dtypes, default="both", help="default: both")
    parser.add_argument(
        "--threads", type=positive_int, metavar="N", help="pin BLAS threads (threadpoolctl)"
    )
    parser.add_argument(
        "--clock",
        choices=tuple(suites.CLOCKS),
        default="wall",
        help="cpu: CPU time of the calling thread, unaffected by other processes' load "
        "(needs --threads 1); default: wall",
    )
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="do not rebuild <out>/report.html (rebuilt with the timing section when "
        "<out> holds an optbench run's store, except under --quick)",
    )
    parser.add_argument("--suites", nargs="+", metavar="NAME", help=f"subset of: {names}")
    parser.add_argument("-k", dest="keyword", metavar="EXPR", help="pytest -k expression")
    parser.add_argument("--compare", metavar="PATH", help="earlier JSON (or a dir: its newest)")
    parser.add_argument(
        "--compare-fail",
        type=percent,
        metavar="PCT",
        help=f"with --compare: exit 1 if a minimum time grew by more than PCT%% "
        f"(default {DEFAULT_FAIL_PCT:g})",
    )


def main(args: argparse.Namespace) -> int:
    try:
        files = suites.select(args.suites)
        previous = resolve_compare(args.compare)
        if args.compare_fail is not None and previous is None:
            raise ValueError("--compare-fail needs --compare PATH")
        if args.clock == "cpu" and args.threads != 1:
            raise ValueError("--clock cpu needs --threads 1 (other threads' work is not counted)")
    except ValueError as exc:
        print(f"optbench bench: error: {exc}", file=sys.stderr)
        return 2
    bench_dir = Path(args.out).resolve() / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    json_path = bench_dir / f"bench-{stamp}.json"
    print(f"optbench bench: running {', '.join(p.stem for p in files)}", flush=True)
    shapes = [shape for group in args.shapes for shape in group]
    code = suites.run(
        files, json_path, quick=args.quick, dtype=args.dtype, shapes=shapes,
        threads=args.threads, clock=args.clock, keyword=args.keyword,
    )  # fmt: skip
    if not json_path.exists():
        print(f"optbench bench: no benchmark ran (pytest exit code {code})", file=sys.stderr)
        return code or 1
    from optbench.reports.timing import compare_bench, format_table, load_bench

    df = load_bench(json_path)
    print(format_table(df))
    print(f"\nSaved {json_path}")
    print(f"Saved {save_roofline(df, bench_dir, f'roofline-{stamp}')}")
    if code != 0:
        print(f"optbench bench: some benchmarks failed (pytest exit {code})", file=sys.stderr)
        return code
    refresh_report(Path(args.out), skip=args.no_report or args.quick)
    if previous is not None:
        fail_pct = DEFAULT_FAIL_PCT if args.compare_fail is None else args.compare_fail
        return report_comparison(compare_bench(previous, json_path), fail_pct)
    return 0


def save_roofline(df, directory: Path, name: str) -> Path:
    """The run's roofline chart (``optbench.reports.roofline``) as ``directory/name.png``."""
    from optbench.reports.drawing import save_figure
    from optbench.reports.roofline import plot_roofline

    (path,) = save_figure(plot_roofline(df), directory, name)
    return path


def refresh_report(out: Path, *, skip: bool) -> None:
    """Rebuild the report (now with its timing section) when ``out`` holds a results store."""
    if skip or not store_path(out).exists():
        print(
            f"No report rebuilt: the timing section joins the report of a results store "
            f"(`optbench run --out {out}`, or `optbench report --out {out}` once one exists)."
        )
        return
    from optbench.benchmarks.cli.report import build

    print(f"Report: {build(out)}")


def resolve_compare(path: str | None) -> Path | None:
    """The earlier JSON: ``path`` itself, or the newest ``bench-*.json`` of a directory."""
    if path is None:
        return None
    from optbench.reports.timing import find_bench_json

    p = Path(path)
    if not p.exists():
        raise ValueError(f"--compare: {p} does not exist")
    found = find_bench_json(p)
    if found is None:
        raise ValueError(f"--compare: no bench-*.json in {p} or {p / 'bench'}")
    return found


def report_comparison(table, fail_pct: float) -> int:
    """Print the comparison; 1 if any benchmark got slower by more than fail_pct %.

    A benchmark is judged on the smaller of the changes of its minimum time and of its
    ``x_ceiling`` (time over the roofline bound of its own session: a machine busy in one run
    slows its ceilings too), or on its time alone where either run has no ceiling or a
    candidate beat it (the ceiling is wrong: nothing is judged against it); warns when the
    two runs come from different CPUs."""
    from optbench.reports.timing import different_cpus

    warning = different_cpus(*table.attrs.get("cpus", (None, None)))
    if warning:
        print(f"optbench bench: warning: {warning}", file=sys.stderr)
    if table.empty:
        print("\n--compare: no benchmark in common with the earlier run")
        return 0
    print("\nChange against the earlier run (judged: the smaller of time and x ceiling's):")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    slower = table[table["judged_pct"] > fail_pct]
    if len(slower):
        print(f"\n{len(slower)} benchmark(s) slower by more than {fail_pct:g}%", file=sys.stderr)
        return 1
    return 0
