"""Held-out tuning: choose each tuned setting on the tuning seeds, then plan its evaluation.

With a ``tuning = { seeds = [...] }`` table, ``optbench run`` runs in two phases (DeepOBS tunes
on one seed and reruns the best setting on ten others; AlgoPerf scores held-out studies):

1. every setting of every (problem, optimizer, convention) on the tuning seeds (role "tune");
2. the setting :data:`optbench.benchmarks.tuning.TUNING_RULE` picks from the stored tuning runs,
   on the evaluation seeds ``seeds`` (role "eval"). For a quasi-random search, also the setting
   it would pick from its first k trials, for every k (the best-of-k curve of the report; its
   k = 0, the defaults, :func:`optbench.benchmarks.plan.expand` plans from the start).

The choice is made from the store, so a re-run chooses again, finds the same evaluation runs
stored, and resumes. A (problem, optimizer, convention) whose tuning runs are not all stored (a
failed batch) is not evaluated: a choice on part of its grid would not be the rule's.
"""

from __future__ import annotations

import json

import pandas as pd

from . import store, tuning
from .matrix import Matrix
from .plan import Run, evaluation

KEYS = ["problem", "optimizer", "convention"]
_STORED = ("status", "final_subopt", "final_loss", "f_star", "steps_to_target")


def plan_evaluation(con, matrix: Matrix, runs: list[Run]) -> tuple[list[Run], list[str]]:
    """``(evaluation runs, notes)`` for the tuning ``runs`` of ``matrix`` (module docstring)."""
    runs = [r for r in runs if r.role == "tune"]
    if not runs:
        return [], []
    frame = _tuning_frame(con, runs)
    missing = frame[frame["status"].isna()]
    incomplete = set(map(tuple, missing[KEYS].drop_duplicates().to_numpy().tolist()))
    notes = [
        f"{optimizer}{'/' + convention if convention else ''} on {problem}: not evaluated, its "
        "tuning runs are not all stored (a failed batch); run the same command again"
        for problem, optimizer, convention in sorted(incomplete)
    ]
    frame = frame[~frame[KEYS].apply(tuple, axis=1).isin(incomplete)]
    if frame.empty:
        return [], notes
    frame = frame.assign(
        objective=tuning.final_objective(frame), is_diverged=frame["status"] == "diverged"
    )
    settings = tuning.setting_table(frame, KEYS)
    chosen = tuning.choose(settings, KEYS)
    prefix = tuning.best_of_first(settings, KEYS)
    picks = pd.concat([chosen, prefix], ignore_index=True).drop_duplicates([*KEYS, "setting"])
    template = {(r.problem.label, r.optimizer, r.convention, r.setting): r for r in runs}
    version = runs[0].config["optbench_version"]
    wanted: list[tuple[Run, int | None]] = []
    for row in picks.itertuples(index=False):
        run = template[(row.problem, row.optimizer, row.convention, row.setting)]
        wanted.append((run, run.trial))
    return evaluation(wanted, matrix, version), notes


def _tuning_frame(con, runs: list[Run]) -> pd.DataFrame:
    """One row per tuning run, with its stored results (NaN ``status``: not stored)."""
    ids = [r.run_id for r in runs]
    stored = {row[0]: row[1:] for row in store.stored_rows(con, ids, ("run_id", *_STORED))}
    rows = []
    for run in runs:
        values = stored.get(run.run_id, (None,) * len(_STORED))
        lr = run.hparams.get("lr", run.config["hparams"].get("lr"))
        rows.append(
            {
                "problem": run.problem.label, "optimizer": run.optimizer,
                "convention": run.convention, "setting": run.setting, "seed": run.seed,
                "trial": run.trial, "lr": float(lr) if isinstance(lr, (int, float)) else None,
                "hparams": json.dumps(run.config["hparams"], sort_keys=True),
                **dict(zip(_STORED, values, strict=True)),
            }
        )  # fmt: skip
    frame = pd.DataFrame(rows)
    for name in ("final_subopt", "final_loss", "f_star", "steps_to_target", "lr", "trial"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return frame
