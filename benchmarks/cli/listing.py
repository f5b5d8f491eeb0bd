"""``optbench list``: the optimizers and problems, with their hyperparameters and defaults.

Reads the two registries (``optbench.optimizers.REGISTRY``, ``optbench.problems.REGISTRY``) and the
keyword arguments of each class's ``__init__``, so what it prints is what a matrix file may set.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what",
        nargs="?",
        choices=("all", "optimizers", "problems"),
        default="all",
        help="what to list (default: all)",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def describe(registry: dict[str, type]) -> dict[str, dict]:
    """``{name: {"summary": first docstring line, "arguments": {arg: default}}}``."""
    described = {}
    for name, cls in registry.items():
        doc = inspect.getdoc(cls) or ""
        described[name] = {
            "class": cls.__name__,
            "summary": doc.splitlines()[0] if doc else "",
            "arguments": keyword_defaults(cls),
        }
    return described


def keyword_defaults(cls: type) -> dict[str, object]:
    """The keyword arguments of ``cls.__init__`` that have defaults, in order."""
    signature = inspect.signature(cls.__init__)
    return {
        name: parameter.default
        for name, parameter in signature.parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


def main(args: argparse.Namespace) -> int:
    try:
        print_listing(args)
    except BrokenPipeError:  # `optbench list | head`: the reader left; not an error
        sys.stdout = None
    return 0


def print_listing(args: argparse.Namespace) -> None:
    from optbench.optimizers import REGISTRY as OPTIMIZERS
    from optbench.problems import REGISTRY as PROBLEMS

    sections = {"optimizers": OPTIMIZERS, "problems": PROBLEMS}
    if args.what != "all":
        sections = {args.what: sections[args.what]}
    described = {title: describe(registry) for title, registry in sections.items()}
    if args.json:
        print(json.dumps(described, indent=2, default=repr))
        return
    for title, entries in described.items():
        print(f"{title}:")
        for name, entry in entries.items():
            print(f"  {name:<11} {entry['summary']}")
            for arg, default in entry["arguments"].items():
                print(f"      {arg} = {default!r}")
        print()
