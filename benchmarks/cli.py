"""The ``optbench`` command line: one subcommand per module.

=========  =================================  ======================================
command    module                             what it does
=========  =================================  ======================================
run        ``benchmarks.run_command``         run the benchmark matrix into the store
export     ``benchmarks.export_command``      store -> CSV / Parquet for pandas users
report     ``reports.command``                store -> tables, plots, one HTML report
bench      ``benchmarks.bench_command``       time the dense backward pass (pytest-benchmark)
list       ``benchmarks.list_command``        optimizers, problems, their hyperparameters
=========  =================================  ======================================

Each module exposes ``configure(parser)`` (adds its arguments) and ``main(args) -> int``
(the exit code). Command modules keep their top-level imports light (argparse and the
standard library); heavy imports (pandas, matplotlib, pytest) happen inside ``main``, so that
``optbench list`` and ``optbench --help`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("benchmarks.run_command", "run the benchmark matrix (default: the built-in one)"),
    "report": ("reports.command", "tables, plots and one self-contained HTML report"),
    "bench": ("benchmarks.bench_command", "time the dense backward pass and optimizer steps"),
    "export": ("benchmarks.export_command", "write the results store as CSV or Parquet"),
    "list": ("benchmarks.list_command", "optimizers, problems and their hyperparameters"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser. Only ``command``'s module is imported (none for ``optbench --help``)."""
    parser = argparse.ArgumentParser(
        prog="optbench",
        description="Compare gradient-descent optimizers, in pure NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            module = importlib.import_module(module_name)
            module.configure(command_parser)
            command_parser.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(command).parse_args(argv)
    return int(args._module.main(args) or 0)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("optbench")
    except PackageNotFoundError:
        return "0+unknown"


if __name__ == "__main__":
    sys.exit(main())
