"""The plan of the house, checked on the source: who may import whom.

- ``optbench.reports`` reads the harness's store through ``optbench.benchmarks.schema`` alone;
- the harness (``optbench.benchmarks`` outside ``cli/``) never imports ``optbench.reports``;
- ``optbench.benchmarks.cli`` is the one layer that imports both.
"""

from __future__ import annotations

import ast
from pathlib import Path

import optbench

ROOT = Path(optbench.__file__).resolve().parent


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; relative ones resolved), anywhere in it."""
    package = ".".join(["optbench", *path.relative_to(ROOT).parent.parts])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_reports_read_the_harness_through_its_two_contracts_alone():
    """The store's format (``schema``) and the tuning rule (``tuning``), which the harness
    applies to choose what the held-out seeds run and the report to show it."""
    contracts = ("optbench.benchmarks.schema", "optbench.benchmarks.tuning")
    for path in modules("reports"):
        harness = {m for m in imports(path) if m.startswith("optbench.benchmarks.")}
        allowed = {m for m in harness for c in contracts if m == c or m.startswith(f"{c}.")}
        assert harness == allowed, path
    for name in ("schema", "tuning"):  # and they import nothing of either side
        found = imports(ROOT / "benchmarks" / f"{name}.py")
        assert not any(m.startswith(("optbench", ".")) for m in found), (name, found)


def test_the_harness_never_imports_the_reports():
    for path in modules("benchmarks"):
        if "cli" in path.relative_to(ROOT / "benchmarks").parts:
            continue
        assert not any(m.startswith("optbench.reports") for m in imports(path)), path


def test_the_cli_is_where_harness_and_reports_meet():
    both = set()
    for path in modules("benchmarks/cli"):
        both |= imports(path)
    assert any(m.startswith("optbench.reports") for m in both)
    assert any(m.startswith("optbench.benchmarks.harness") for m in both)


def test_optimizers_and_problems_import_neither_the_harness_nor_the_reports():
    for folder in ("optimizers", "problems"):
        for path in modules(folder):
            assert not any(
                m.startswith(("optbench.benchmarks", "optbench.reports")) for m in imports(path)
            ), path
