"""Which runs a report shows: by default, the runs of the latest invocation's matrix.

A store accumulates the runs of every ``optbench run`` pointed at it; after a matrix is edited
(a problem's noise changed, an optimizer dropped) the old runs stay, and ranking them with the
new ones would mix two experiments. So the report shows one matrix (docs/contracts.md §4):

    latest invocation   the invocation with the latest ``started`` (ties: the larger id)
    shown runs          the runs ``planned`` by it that the store holds, whichever invocation
                        wrote them: a rerun of a finished matrix writes nothing, and still
                        shows all of that matrix's runs
    invocation=ID       the same, for that invocation
    all_runs=True       every run of the store (``optbench report --all``)

A store without invocations (none recorded) shows every run. :func:`select_runs` returns a
:class:`Selection`: the shown runs, the invocations they come from, and the counts the report
states (planned, missing, failed, and the store's other runs).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pandas as pd

from optbench.reports.provenance import dataset_sha256
from optbench.reports.style import plugin_tag


@dataclass(frozen=True)
class Selection:
    """The runs a report shows and where they come from.

    ``runs``: the shown rows of the ``runs`` frame; ``invocations``: the invocations the report
    describes (the selected one, or all, and every one that wrote a shown run), oldest first;
    ``invocation_id``: the selected invocation (None: every run), ``latest`` whether it was
    selected as the latest (not named by the caller); ``planned``: runs the
    selected invocation(s) planned; ``missing``: planned runs not in the store, ``failed`` of
    them in a failed batch of those invocations; ``others``: the store's runs not shown;
    ``failures``: the failed batches of the selected invocation(s).
    """

    runs: pd.DataFrame
    invocations: pd.DataFrame
    invocation_id: str | None
    latest: bool
    planned: int
    missing: int
    failed: int
    others: int
    failures: pd.DataFrame

    @property
    def partial(self) -> bool:
        """Some planned run is missing, not because its batch failed (interrupted, running)."""
        return self.missing > self.failed

    @property
    def everything(self) -> bool:
        """Every run of the store is shown (``--all``, or a store without invocations)."""
        return self.invocation_id is None


class UnknownInvocation(LookupError):
    """``invocation=`` names no invocation of the store."""


def select_runs(
    runs: pd.DataFrame,
    invocations: pd.DataFrame,
    planned: pd.DataFrame,
    failures: pd.DataFrame | None = None,
    *,
    all_runs: bool = False,
    invocation: str | None = None,
) -> Selection:
    """The :class:`Selection` of the module docstring, from the store's ``runs``,
    ``invocations``, ``planned`` (``StoreReader.planned()``) and ``failures`` frames.

    Raises :class:`UnknownInvocation` when ``invocation`` is not in ``invocations``.
    """
    failures = _failures_frame(failures)
    if invocation is not None and invocation not in set(invocations["invocation_id"]):
        known = ", ".join(invocations["invocation_id"].astype(str)) or "none"
        raise UnknownInvocation(f"no invocation {invocation!r} in the store (it has: {known})")
    if all_runs or invocations.empty:
        chosen, selected = invocations, None
    else:
        selected = invocation or _latest(invocations)
        chosen = invocations[invocations["invocation_id"] == selected]
    ids = set(chosen["invocation_id"])
    wanted = set(planned.loc[planned["invocation_id"].isin(ids), "run_id"])
    shown = runs if selected is None else runs[runs["run_id"].isin(wanted)]
    failures = failures[failures["invocation_id"].isin(ids)]
    missing = wanted - set(runs["run_id"])
    failed = missing & {r for text in failures["run_ids"] for r in _run_ids(text)}
    writers = set(shown["invocation_id"]) | ids
    described = invocations[invocations["invocation_id"].isin(writers)]
    return Selection(
        runs=_keep_attrs(shown.reset_index(drop=True), runs),
        invocations=described.sort_values(["started", "invocation_id"]).reset_index(drop=True),
        invocation_id=selected,
        latest=invocation is None,
        planned=len(wanted) if ids else len(runs),
        missing=len(missing),
        failed=len(failed),
        others=len(runs) - len(shown),
        failures=failures.reset_index(drop=True),
    )


def everything(runs: pd.DataFrame, invocations: pd.DataFrame | None = None) -> Selection:
    """A selection of every run of ``runs``, partial as ``runs.attrs["partial"]`` says (for
    frames built without a store, as the report's tests do)."""
    invocations = pd.DataFrame() if invocations is None else invocations
    planned = len(runs)
    if "planned_runs" in invocations.columns:
        planned = max(planned, int(invocations["planned_runs"].sum()))
    missing = max(planned - len(runs), 1) if runs.attrs.get("partial", False) else 0
    return Selection(runs, invocations, None, False, len(runs) + missing, missing, 0, 0,
                     _failures_frame(None))  # fmt: skip


def _latest(invocations: pd.DataFrame) -> str:
    order = invocations.sort_values(["started", "invocation_id"])
    return str(order["invocation_id"].iloc[-1])


def _run_ids(text) -> list[str]:
    try:
        value = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _failures_frame(failures: pd.DataFrame | None) -> pd.DataFrame:
    if failures is not None and "invocation_id" in failures.columns:
        return failures
    columns = ["invocation_id", "optimizer", "problem", "runs", "run_ids", "error", "traceback"]
    return pd.DataFrame(columns=columns)


def _keep_attrs(frame: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    frame.attrs = dict(source.attrs)
    return frame


def notice(selection: Selection) -> str | None:
    """The sentence that says which runs the report leaves out, or None when it shows all."""
    n = selection.others
    if selection.everything or n == 0:
        return None
    which = "the latest invocation" if selection.latest else "invocation"
    return (
        f"The report shows the {len(selection.runs)} runs of the matrix of {which} "
        f"{selection.invocation_id}; the store holds {n} other run{'' if n == 1 else 's'}, "
        "which that matrix did not plan: the command optbench report --all includes them."
    )


def distinct_problems(runs: pd.DataFrame) -> pd.Series:
    """Each run's problem label, told apart where one label covers several problems (``--all``
    over an edited plugin file, or two data files of one name): a user's problem by its
    source hash (``" @1a2b3c4d5e6f"``), else a data set by its hash (``" data @..."``), else by
    a hash of the configuration (``" config @..."``). Unchanged where labels are unique."""
    label = runs["problem"].astype(str)
    config = runs["problem_config"].astype(str)
    sha = runs["problem_sha256"] if "problem_sha256" in runs.columns else None
    data = config.map(dataset_sha256)
    key = runs["problem_name"].astype(str) + "\0" + config
    if sha is not None:
        key = key + "\0" + sha.fillna("")
    ambiguous = label.map(key.groupby(label).nunique()) > 1
    if not ambiguous.any():
        return label
    out = label.copy()
    for problem in pd.unique(label[ambiguous]):
        rows = label == problem
        if sha is not None and sha[rows].fillna("").nunique() > 1:
            tag = sha[rows].map(lambda v: "built-in" if pd.isna(v) else plugin_tag(v))
        elif data[rows].fillna("").nunique() > 1:
            tag = data[rows].map(_data_tag)
        else:
            tag = "config " + config[rows].map(lambda c: plugin_tag(_sha256(c)))
        out[rows] = problem + " " + tag
    return out


def relabel(frame: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """``frame`` (a run or child frame, with ``run_id`` and ``problem``) with the problem
    labels ``labels`` (indexed by run id) gives its runs; the same frame when none changes."""
    if frame.empty or "problem" not in frame.columns:
        return frame
    new = frame["run_id"].map(labels)
    if new.isna().any() or new.equals(frame["problem"]):
        return frame
    out = frame.assign(problem=new.to_numpy())
    out.attrs = dict(frame.attrs)
    return out


def _data_tag(sha256) -> str:
    return "data " + (plugin_tag(sha256) if isinstance(sha256, str) else "built-in")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
