"""The ``optbench`` command line: one subcommand per module of this package.

=========  ===============  =========================================================
command    module           what it does
=========  ===============  =========================================================
run        ``cli.run``      run the benchmark matrix into the store, then the report
report     ``cli.report``   store -> tables, figures, one self-contained HTML report
bench      ``cli.bench``    time the dense layer and the optimizer steps (the suites)
export     ``cli.export``   store -> CSV / Parquet for pandas users
list       ``cli.listing``  optimizers, problems and their hyperparameters
new        ``cli.new``      a working template of your own optimizer or problem
=========  ===============  =========================================================

This is the one layer that imports both the harness (:mod:`optbench.benchmarks`) and the
reports (:mod:`optbench.reports`); the reports read the harness's store through
:mod:`optbench.benchmarks.schema` alone. Each module exposes ``configure(parser)`` (adds its
arguments) and ``main(args) -> int`` (the exit code). Command modules keep their top-level
imports light (argparse and the standard library); heavy imports (pandas, matplotlib, pytest)
happen inside ``main``, so that ``optbench list`` and ``optbench --help`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from optbench import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run the benchmark matrix (default: the built-in one)"),
    "report": ("report", "tables, plots and one self-contained HTML report"),
    "bench": ("bench", "time the dense backward pass and optimizer steps"),
    "export": ("export", "write the results store as CSV or Parquet"),
    "list": ("listing", "optimizers, problems and their hyperparameters"),
    "new": ("new", "write a working template of your own optimizer or problem, with tests"),
}
"""Command -> (its module in this package, help text)."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser. Only ``command``'s module is imported (none for ``optbench --help``)."""
    parser = argparse.ArgumentParser(
        prog="optbench",
        description="Compare gradient-descent optimizers, in pure NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            module = importlib.import_module(f"{__name__}.{module_name}")
            module.configure(command_parser)
            command_parser.set_defaults(_module=module)
    return parser


def default_jobs() -> int:
    """The cores this process may use (the default of ``--jobs``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def positive(text: str) -> int:
    """argparse type of ``--jobs`` and ``--max-batch``: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    os.environ["MPLBACKEND"] = "Agg"  # the report draws into files; no window, in any process
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(command).parse_args(argv)
    return int(args._module.main(args) or 0)
