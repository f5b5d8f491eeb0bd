"""A finished batch -> rows of the store (one ``runs`` row per run, plus its child rows).

The derived columns, per run r with T steps, batch size R and batch wall time W:

* ``status`` = "diverged" if r diverged (``diverged_step`` = the step it did), else "finished";
* ``grad_evals`` = T, or ``diverged_step + 1`` for a diverged run;
* ``final_subopt`` = ``final_loss - f_star``, ``best_subopt`` = ``best_loss - f_star``
  (NULL when ``f_star`` is unknown);
* ``time_per_step`` = W / (T R), the cost of one step of one run inside its batch.

Curves and paths keep the rows before the divergence step; a target never reached has a NULL
step.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .plan import Run
from .runner import BatchResult
from .schema import METRICS


def batch_rows(result: BatchResult, runs: dict[str, Run], invocation_id: str):
    """``(rows, children)`` for :func:`optbench.benchmarks.store.write_batch`."""
    spec = result.spec
    R, T = spec.size, spec.steps
    time_per_step = result.wall_time / (max(T, 1) * R)
    index = {run_id: i for i, run_id in enumerate(spec.run_ids)}
    rows = [
        _run_row(runs[run_id], result, i, invocation_id, time_per_step)
        for run_id, i in index.items()
    ]
    curves = np.stack([result.curves[m] for m in METRICS], axis=-1)  # (n, R, 5)
    steps = result.record_steps.tolist()
    targets = list(spec.targets) if runs[spec.run_ids[0]].problem.f_star is not None else []

    def children(run_id: str):
        i = index[run_id]
        stop = int(result.diverged_step[i])
        keep = len(steps) if stop < 0 else int(np.searchsorted(result.record_steps, stop))
        curve_rows = [(s, *vals) for s, vals in zip(steps, curves[:keep, i].tolist(), strict=False)]
        path_rows = []
        if result.paths is not None:
            pkeep = len(result.path_steps) if stop < 0 else np.searchsorted(result.path_steps, stop)
            xy = result.paths[:pkeep, i].tolist()
            pairs = zip(result.path_steps.tolist(), xy, strict=False)
            path_rows = [(s, x0, x1) for s, (x0, x1) in pairs]
        hit = result.target_steps[:, i].tolist()
        target_rows = [(tau, None if s < 0 else s) for tau, s in zip(targets, hit, strict=True)]
        return curve_rows, path_rows, target_rows

    return rows, children


def _run_row(run: Run, result: BatchResult, i: int, invocation_id: str, tps: float) -> dict:
    info = run.problem
    stop = int(result.diverged_step[i])
    final = {m: _num(result.final[m][i]) for m in METRICS}
    best = _num(result.best_loss[i])
    lr = run.hparams.get("lr", run.config["hparams"].get("lr"))
    return {
        "run_id": run.run_id,
        "invocation_id": invocation_id,
        "optimizer": run.optimizer,
        "convention": run.convention,
        "setting": run.setting,
        "lr": float(lr) if isinstance(lr, (int, float)) else None,
        "hparams": json.dumps(run.config["hparams"], sort_keys=True),
        "problem": info.label,
        "problem_name": info.name,
        "problem_config": json.dumps(info.config, sort_keys=True),
        "seed": run.seed,
        "status": "diverged" if stop >= 0 else "finished",
        "diverged_step": stop if stop >= 0 else None,
        "steps": result.spec.steps,
        "epochs": info.epochs,
        "steps_per_epoch": info.steps_per_epoch,
        "grad_evals": stop + 1 if stop >= 0 else result.spec.steps,
        "final_loss": final["loss"],
        "best_loss": best,
        "f_star": info.f_star,
        "final_subopt": _minus(final["loss"], info.f_star),
        "best_subopt": _minus(best, info.f_star),
        "time_per_step": tps,
        "batch_size": result.spec.size,
        "final_train_loss": final["train_loss"],
        "final_test_loss": final["test_loss"],
        "final_train_acc": final["train_acc"],
        "final_test_acc": final["test_acc"],
        "config": json.dumps(run.config, sort_keys=True),
        "optimizer_ref": run.optimizer_ref,
        "optimizer_sha256": run.config.get("optimizer_sha256"),
        "problem_ref": info.ref,
        "problem_sha256": run.config.get("problem_sha256"),
        "role": run.role,
        "trial": run.trial,
        "steps_to_target": _last_target(result, i),
    }


def _last_target(result: BatchResult, i: int) -> int | None:
    """The first step run ``i`` reached the smallest target (None: never, or no targets)."""
    if not result.target_steps.shape[0]:
        return None
    step = int(result.target_steps[-1, i])
    return step if step >= 0 else None


def _num(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def _minus(x: float | None, f_star: float | None) -> float | None:
    return None if x is None or f_star is None else x - f_star
