"""Run a matrix into the store: plan, skip what is done, execute batches, write each one.

    matrix -> runs (``plan.expand``) -> minus runs already stored -> batches -> executor
           -> one store transaction per finished batch

With held-out tuning (a ``tuning`` table), the runs given are the tuning runs; once they are
all stored, :func:`optbench.benchmarks.protocol.plan_evaluation` chooses each tuned setting from
them and the same invocation runs its evaluation runs (planned then, so a report of an
interrupted invocation counts only what it knew it would run).

Resuming is the default: a run whose id is in the store is never run again. Before a batch is
dispatched its runs are checked against the store once more, so that two invocations sharing an
``--out`` split the work instead of repeating it (and the store's insert-if-absent keeps them
from ever recording a run twice).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import protocol, store
from .environment import metadata, now
from .executors import BatchFailure, dask_cluster, local_processes, serial
from .matrix import Matrix
from .plan import BatchSpec, Run, batches, make_spec
from .records import batch_rows


@dataclass
class Outcome:
    """What an invocation did (``kept`` counts the planned runs present in the store)."""

    store: Path
    invocation_id: str
    planned: int
    skipped: int  # already in the store when the invocation started
    written: int = 0
    diverged: int = 0
    batches: int = 0
    kept: int = 0
    interrupted: bool = False
    wall_time: float = 0.0
    messages: list[str] = field(default_factory=list)
    failures: list[BatchFailure] = field(default_factory=list)  # batches whose code raised


def run_matrix(
    matrix: Matrix,
    runs: list[Run],
    out: str | Path,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    max_batch: int | None = None,
    quiet: bool = True,
    argv: tuple[str, ...] = (),
) -> Outcome:
    """Execute the ``runs`` of ``matrix`` that ``out``'s store lacks; returns an Outcome.

    Ctrl-C (KeyboardInterrupt) stops the workers; every batch finished before it stays in the
    store, and the Outcome says ``interrupted``. Raises ``schema.StoreError`` for a bad store.
    """
    import time

    con = store.open_store(out)
    path = store.store_path(out)
    invocation = f"{now()[:19].replace(':', '')}-{uuid.uuid4().hex[:8]}"
    ids = [r.run_id for r in runs]
    done = store.finished(con, ids)
    meta = metadata(list(argv))
    store.begin_invocation(con, invocation, meta, matrix.source, ids, plugin_rows(runs))
    outcome = Outcome(path, invocation, planned=len(runs), skipped=len(done))
    start = time.perf_counter()
    pending = [r for r in runs if r.run_id not in done]
    bar = _progress(len(pending), quiet)
    status = "failed"  # unless the phases end or are interrupted
    try:
        _execute(con, matrix, pending, outcome, bar, jobs, scheduler, max_batch)
        if matrix.held_out and not outcome.interrupted:
            more, notes = protocol.plan_evaluation(con, matrix, runs)
            outcome.messages.extend(notes)
            store.plan_runs(con, invocation, [r.run_id for r in more])
            done = store.finished(con, [r.run_id for r in more])
            outcome.planned += len(more)
            outcome.skipped += len(done)
            pending = [r for r in more if r.run_id not in done]
            if pending:
                bar.total += len(pending)
                bar.refresh()
            _execute(con, matrix, pending, outcome, bar, jobs, scheduler, max_batch)
        status = "completed"
    except KeyboardInterrupt:  # between the phases: nothing is running
        outcome.interrupted = True
    finally:
        if outcome.interrupted:
            status = "interrupted"
        bar.close()
        outcome.wall_time = time.perf_counter() - start
        outcome.kept = store.end_invocation(con, invocation, now(), status)
        con.close()
    return outcome


def _execute(con, matrix, pending, outcome, bar, jobs, scheduler, max_batch) -> None:
    """Run the ``pending`` runs into the store, one transaction per finished batch; a Ctrl-C
    stops the workers, writes the results they finished and sets ``outcome.interrupted``."""
    if not pending:
        return
    invocation = outcome.invocation_id
    by_id = {r.run_id: r for r in pending}
    specs = _still_pending(con, batches(pending, matrix, max_batch), by_id, matrix)
    salvage: list = []  # results finished by workers but unread when Ctrl-C stopped them
    results = _executor(specs, jobs, scheduler, salvage)

    def keep(result) -> None:
        if isinstance(result, BatchFailure):
            store.write_failure(con, failure_row(result, invocation))
            outcome.failures.append(result)
            bar.update(result.spec.size)
            return
        rows, children = batch_rows(result, by_id, invocation)
        written = store.write_batch(con, invocation, rows, children)  # insert-if-absent
        if written:
            outcome.written += written
            outcome.batches += 1
            outcome.diverged += int((result.diverged_step >= 0).sum())
            bar.update(result.spec.size)
            bar.set_postfix(diverged=outcome.diverged, refresh=False)

    current = None  # a result being written when Ctrl-C came is written again (idempotent)
    try:
        for current in results:
            keep(current)
            current = None
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        results.close()  # stops the workers; their unread results land in `salvage`
        if outcome.interrupted:
            for result in [current, *salvage] if current is not None else salvage:
                keep(result)


def plugin_rows(runs: list[Run]) -> list[dict]:
    """The ``plugins`` rows of the user code and data files that ``runs`` use."""
    rows = {}
    for run in runs:
        for code in (run.code, run.problem.code):
            if not code.builtin:
                rows[(code.kind, code.ref, code.sha256)] = {
                    "kind": code.kind, "ref": code.ref, "sha256": code.sha256,
                    "name": code.name, "path": code.path, "source": code.source,
                }  # fmt: skip
        data = run.problem.data
        if data is not None:
            rows[("dataset", data["ref"], data["sha256"])] = {
                "kind": "dataset", "ref": data["ref"] or data["name"], "sha256": data["sha256"],
                "name": data["name"], "path": data["path"], "source": None,
            }  # fmt: skip
    return list(rows.values())


def failure_row(failure: BatchFailure, invocation: str) -> dict:
    spec = failure.spec
    return {
        "invocation_id": invocation,
        "optimizer": spec.optimizer,
        "problem": spec.problem_name,
        "runs": spec.size,
        "run_ids": json.dumps(spec.run_ids),
        "error": failure.error,
        "traceback": failure.traceback,
    }


def _still_pending(con, specs: list[BatchSpec], by_id: dict, matrix: Matrix) -> Iterator:
    """Yield each spec restricted to the runs the store still lacks (skip it if none)."""
    for spec in specs:
        present = store.finished(con, spec.run_ids)
        if not present:
            yield spec
        elif len(present) < spec.size:
            yield make_spec([by_id[i] for i in spec.run_ids if i not in present], matrix)


def _executor(specs: Iterator, jobs: int, scheduler: str | None, salvage: list):
    if scheduler:
        return dask_cluster(specs, scheduler)
    if jobs <= 1:
        return serial(specs)
    return local_processes(specs, jobs, salvage)


def _progress(total: int, quiet: bool):
    import tqdm

    tqdm.tqdm.monitor_interval = 0  # no monitor thread: workers are forked from this process
    return tqdm.tqdm(
        total=total,
        unit="run",
        disable=quiet,
        dynamic_ncols=True,
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} runs [{elapsed}<{remaining}{postfix}]",
    )
