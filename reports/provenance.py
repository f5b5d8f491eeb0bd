"""Where the shown runs' code and data came from, and which batches failed.

- :func:`used_plugins`: the rows of the store's ``plugins`` table (docs/contracts.md §3) the
  shown runs used: a user's optimizer or problem by ``(ref, sha256)`` of the runs'
  ``optimizer_ref``/``optimizer_sha256`` and ``problem_ref``/``problem_sha256``, a data file
  (kind ``"dataset"``) by the ``dataset_sha256`` of the runs' ``problem_config``.
- :func:`plugin_parts`: their display table and their sources (shown collapsed, verbatim).
- :func:`failures_section`: the failed batches of the shown invocations (``failures`` table),
  with their tracebacks.

Plain strings only: the renderers escape every one (a plugin's name, reference and source
are a user's text).
"""

from __future__ import annotations

import json

import pandas as pd

from optbench.reports.render import Section, Table
from optbench.reports.style import plugin_tag

PLUGIN_COLUMNS = ["kind", "ref", "sha256", "name", "path", "source", "invocation_id"]
_KINDS = {"optimizer": 0, "problem": 1, "dataset": 2}


def used_plugins(runs: pd.DataFrame, plugins: pd.DataFrame | None) -> pd.DataFrame:
    """The ``plugins`` rows that ``runs`` used, optimizers first, then problems and data."""
    if plugins is None or plugins.empty or runs.empty:
        return pd.DataFrame(columns=PLUGIN_COLUMNS)
    keys = set()
    for kind in ("optimizer", "problem"):
        ref, sha = f"{kind}_ref", f"{kind}_sha256"
        if ref in runs.columns:
            pairs = runs[[ref, sha]].dropna().drop_duplicates()
            keys |= {(kind, r, s) for r, s in pairs.itertuples(index=False)}
    data = {s for s in runs["problem_config"].map(dataset_sha256) if s}
    key = list(zip(plugins["kind"], plugins["ref"], plugins["sha256"], strict=True))
    used = pd.Series([k in keys for k in key], index=plugins.index)
    used |= (plugins["kind"] == "dataset") & plugins["sha256"].isin(data)
    rows = plugins[used]
    order = rows["kind"].map(_KINDS).fillna(len(_KINDS))
    return rows.assign(_o=order).sort_values(["_o", "name", "ref"]).drop(columns="_o")


def plugin_parts(used: pd.DataFrame) -> tuple[list[Table], list[tuple[str, str]]]:
    """``(tables, details)``: the table of the user's code and data (kind, name, reference,
    SHA-256 prefix) and one ``(title, source)`` per code file, for the metadata section."""
    if used.empty:
        return [], []
    display = pd.DataFrame(
        {
            "kind": used["kind"].astype(str),
            "name": used["name"].astype(str),
            "reference": used["ref"].astype(str),
            "sha256": used["sha256"].astype(str).str[:12],
        }
    )
    title = "User code and data used by these runs (reference as the matrix wrote it)"
    details = [
        (f"source of {row.kind} {row.name}: {row.ref} {plugin_tag(row.sha256)}", str(row.source))
        for row in used.itertuples(index=False)
        if isinstance(row.source, str)
    ]
    return [Table("plugins", title, display.reset_index(drop=True))], details


def failures_section(failures: pd.DataFrame, several: bool) -> Section | None:
    """The failed batches (``several``: of several invocations, named in a column), or None."""
    if failures is None or failures.empty:
        return None
    display = pd.DataFrame(
        {
            "optimizer": failures["optimizer"].astype(str),
            "problem": failures["problem"].astype(str),
            "runs": failures["runs"].map(lambda n: str(int(n))),
            "error": failures["error"].astype(str),
        }
    )
    if several:
        display.insert(0, "invocation", failures["invocation_id"].astype(str))
    n = int(failures["runs"].sum())
    section = Section(
        "failures",
        "Failed batches",
        [
            f"{len(failures)} batch{'es' if len(failures) != 1 else ''} raised an error; their "
            f"{n} runs are not in the store and not in any table or figure. Rerunning the same "
            "command retries them (the finished runs are kept)."
        ],
        tables=[Table("failures", "Failed batches (optimizer, problem, runs, error)", display)],
    )
    for row in failures.itertuples(index=False):
        if isinstance(row.traceback, str) and row.traceback:
            section.details.append((f"traceback: {row.optimizer} on {row.problem}", row.traceback))
    return section


def dataset_sha256(config) -> str | None:
    """The ``dataset_sha256`` of a ``problem_config`` JSON, or None."""
    try:
        value = json.loads(config)
    except (TypeError, ValueError):
        return None
    sha = value.get("dataset_sha256") if isinstance(value, dict) else None
    return sha if isinstance(sha, str) else None
