"""``optbench bench``: run the pytest-benchmark suites, save their JSON, print the timing table.

Runs every ``bench_*.py`` suite beside this file (the dense layer, square GEMM, the optimizer
steps, ...) in a fresh ``python -m pytest`` process whose settings do not depend on any
project configuration: a generated ini file, ``--rootdir`` the suites' directory, no cache,
a temporary working directory. pytest-benchmark's JSON is saved as
``<out>/bench/bench-<UTC time>.json`` (failed cases left out); ``optbench.reports.timing`` reads it
back for the table printed here and for the report's timing section: ``<out>/report.html`` is
rebuilt when ``<out>`` holds the store of an ``optbench run`` (not under ``--quick``, which
keeps to its 30 s, nor with ``--no-report``).

Exit codes: 0 success; 1 a benchmark failed (e.g. its correctness check) or ``--compare``
found a slowdown beyond ``--compare-fail``; 2 invalid arguments; otherwise pytest's own code.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

SUITES_DIR = Path(__file__).resolve().parent
DTYPES = ("float32", "float64", "both")
MAX_ELEMENTS = 2**28  # largest array a user shape may ask for (2 GiB in float64)
CLOCKS = {"wall": "time.perf_counter", "cpu": "time.thread_time"}
DEFAULT_FAIL_PCT = 10.0
TIME_BUDGET = {False: ("0.5", "5"), True: ("0.05", "3")}  # quick -> (max_time s, min_rounds)
INI = """[pytest]
python_files = bench_*.py
python_classes =
python_functions = test_*
addopts =
markers =
    quick: cheap case run by `optbench bench --quick`
"""


def shape_arg(text: str) -> list[tuple[int, int, int]]:
    """argparse type: ``"m,n_in,n_out"`` (several allowed, space separated) -> list of triples."""
    from optbench.benchmarks.conftest import parse_shapes

    try:
        shapes = parse_shapes(text)
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
    names = ", ".join(suite_names())
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
    parser.add_argument("--dtype", choices=DTYPES, default="both", help="default: both")
    parser.add_argument(
        "--threads", type=positive_int, metavar="N", help="pin BLAS threads (threadpoolctl)"
    )
    parser.add_argument(
        "--clock",
        choices=tuple(CLOCKS),
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


def suite_names() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in suite_files())


def suite_files() -> list[Path]:
    return sorted(p for p in SUITES_DIR.glob("bench_*.py") if p.name != Path(__file__).name)


def main(args: argparse.Namespace) -> int:
    try:
        files = selected_suites(args.suites)
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
    code = run_pytest(files, json_path, args)
    if not json_path.exists():
        print(f"optbench bench: no benchmark ran (pytest exit code {code})", file=sys.stderr)
        return code or 1
    from optbench.reports.timing import compare_bench, format_table, load_bench

    print(format_table(load_bench(json_path)))
    print(f"\nSaved {json_path}")
    if code != 0:
        print(f"optbench bench: some benchmarks failed (pytest exit {code})", file=sys.stderr)
        return code
    refresh_report(Path(args.out), skip=args.no_report or args.quick)
    if previous is not None:
        fail_pct = DEFAULT_FAIL_PCT if args.compare_fail is None else args.compare_fail
        return report_comparison(compare_bench(previous, json_path), fail_pct)
    return 0


def refresh_report(out: Path, *, skip: bool) -> None:
    """Rebuild the report (now with its timing section) when ``out`` holds a results store."""
    if skip or not (out / "optbench.sqlite").exists():
        print(
            f"No report rebuilt: the timing section joins the report of a results store "
            f"(`optbench run --out {out}`, or `optbench report --out {out}` once one exists)."
        )
        return
    from optbench.reports import build_report

    print(f"Report: {build_report(out)}")


def selected_suites(names: list[str] | None) -> list[Path]:
    files = suite_files()
    if not names:
        return files
    known = {p.stem.removeprefix("bench_"): p for p in files}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"--suites: unknown {unknown}; choose from {sorted(known)}")
    return [known[n] for n in names]


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


def run_pytest(files: list[Path], json_path: Path, args: argparse.Namespace) -> int:
    max_time, min_rounds = TIME_BUDGET[bool(args.quick)]
    shapes = " ".join(",".join(map(str, s)) for group in args.shapes for s in group)
    with tempfile.TemporaryDirectory(prefix="optbench-bench-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text(INI)
        cmd = [sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(SUITES_DIR)]
        cmd += ["-p", "no:cacheprovider", "--import-mode=importlib", "-q", *map(str, files)]
        cmd += ["--benchmark-only", f"--benchmark-json={json_path}", "--benchmark-disable-gc"]
        cmd += [f"--benchmark-max-time={max_time}", f"--benchmark-min-rounds={min_rounds}"]
        cmd.append(f"--benchmark-timer={CLOCKS[args.clock]}")
        cmd.append("--benchmark-quiet")  # its table is replaced by ours, read from the JSON
        cmd += [f"--optbench-dtype={args.dtype}", f"--optbench-shapes={shapes}"]
        if args.threads:
            cmd.append(f"--optbench-threads={args.threads}")
        if args.quick:
            cmd += ["-m", "quick"]
        if args.keyword:
            cmd += ["-k", args.keyword]
        return subprocess.run(cmd, cwd=tmp, check=False).returncode


def report_comparison(table, fail_pct: float) -> int:
    """Print the comparison; 1 if any benchmark's minimum time grew by more than fail_pct %."""
    if table.empty:
        print("\n--compare: no benchmark in common with the earlier run")
        return 0
    print("\nChange of minimum time against the earlier run:")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    slower = table[table["change_pct"] > fail_pct]
    if len(slower):
        print(f"\n{len(slower)} benchmark(s) slower by more than {fail_pct:g}%", file=sys.stderr)
        return 1
    return 0
