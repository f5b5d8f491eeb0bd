"""``optbench list``: the optimizers and problems, with their hyperparameters and defaults.

Reads the two registries (``optbench.optimizers.REGISTRY``, ``optbench.problems.REGISTRY``), the
installed plugins (entry points of the groups ``optbench.optimizers`` and ``optbench.problems``)
and the keyword arguments of each class's signature, so what it prints is what a matrix file may
set. A plugin that cannot be loaded is listed with its error.
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
    """``{name: {"class", "summary": first docstring line, "arguments": {arg: default},
    "source": "optbench"}}``."""
    return {name: {**_describe_class(cls), "source": "optbench"} for name, cls in registry.items()}


def describe_plugins(kind: str) -> dict[str, dict]:
    """The installed entry points of ``kind``: as :func:`describe`, with ``"source": "entry
    point"`` and ``"reference"``; one that does not load has ``"error"`` instead."""
    from optbench.benchmarks.plugins import PluginError, entry_points, resolve

    described = {}
    for entry in entry_points(kind):
        item = {"source": "entry point", "reference": entry.value}
        try:
            item.update(_describe_class(resolve(kind, entry.name).load()))
        except PluginError as exc:
            item["error"] = str(exc)
        described[entry.name] = item
    return described


def _describe_class(cls: type) -> dict:
    doc = inspect.getdoc(cls) or ""
    described = {
        "class": cls.__name__,
        "summary": doc.splitlines()[0] if doc else "",
        "arguments": keyword_defaults(cls),
    }
    if getattr(cls, "CONVENTIONS", ()):
        described["conventions"] = list(cls.CONVENTIONS)
    return described


def keyword_defaults(cls: type) -> dict[str, object]:
    """The keyword arguments of ``cls`` that have defaults, in signature order."""
    signature = inspect.signature(cls)
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
    described = {
        title: {**describe(registry), **describe_plugins(title[:-1])}
        for title, registry in sections.items()
    }
    if args.json:
        print(json.dumps(described, indent=2, default=repr))
        return
    for title, entries in described.items():
        print(f"{title}:")
        width = max(map(len, entries), default=0)
        for name, entry in entries.items():
            if entry["source"] == "entry point":
                where = f"[entry point {entry['reference']}]"
                print(f"  {name:<{width}}  {where} {entry.get('summary', '')}".rstrip())
            else:
                print(f"  {name:<{width}}  {entry['summary']}")
            if "error" in entry:
                print(f"      cannot be used: {entry['error']}")
            for arg, default in entry.get("arguments", {}).items():
                choices = entry.get("conventions") if arg == "convention" else None
                also = f"   (one of: {', '.join(choices)})" if choices else ""
                print(f"      {arg} = {default!r}{also}")
        print()
    print(
        'Your own code: name = "path/to/file.py:Class" (next to the matrix file) or\n'
        '"package.module:Class" in a matrix, or an entry point in the groups\n'
        "'optbench.optimizers' / 'optbench.problems'; see the README, 'Benchmark your own\n"
        "optimizer'."
    )
