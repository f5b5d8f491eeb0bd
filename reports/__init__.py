"""Results store -> pandas DataFrames -> tables, seaborn plots, one self-contained HTML report.

``load_results(path, table)`` (:mod:`optbench.reports.load`) is the only way this package reads the
store; ``build_report(out_dir)`` (:mod:`optbench.reports.build`) writes ``report.html``,
``report.md``, ``figures/`` and ``tables/`` (docs/contracts.md §3-4). Both are imported on first
use, so that ``import optbench.benchmarks.cli.report`` (the CLI) stays light.
"""

from __future__ import annotations

__all__ = ["build_report", "load_results"]


def __getattr__(name: str):
    if name == "load_results":
        from optbench.reports.load import load_results

        return load_results
    if name == "build_report":
        from optbench.reports.build import build_report

        return build_report
    raise AttributeError(f"module 'optbench.reports' has no attribute {name!r}")
