"""Synthetic frames of the shape of docs/contracts.md §3, for the report's unit tests.

``synthetic_frames()`` builds a small store without running anything: three optimizers, a 2-D
quadratic, a 2-D Rosenbrock and an MLP, a learning-rate grid (the largest lr diverges for SGD),
three seeds. Curves decay geometrically at a known rate per (optimizer, lr), so tests know which
setting must win. The tests in this file check the frames themselves against the contract.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

RUN_COLUMNS = (
    "run_id optimizer convention setting lr hparams problem problem_name problem_config seed "
    "status diverged_step steps epochs grad_evals final_loss best_loss f_star final_subopt "
    "best_subopt time_per_step batch_size final_train_loss final_test_loss final_train_acc "
    "final_test_acc invocation_id"
).split()
CURVE_COLUMNS = (
    "run_id optimizer convention setting lr problem problem_name seed status step epoch loss "
    "subopt train_loss test_loss train_acc test_acc"
).split()
TARGETS = (1e-1, 1e-3, 1e-6)
STEPS = 60
MATRIX = '[[problems]]\nname = "quadratic"\n# <script>alert(1)</script>\n'
# per-step contraction of the objective by (optimizer, lr); None = diverges
RATES = {
    "sgd": {0.01: 0.97, 0.1: 0.8, 1.0: None},
    "momentum": {0.01: 0.9, 0.1: 0.7, 1.0: 0.95},
    "adam": {0.01: 0.85, 0.1: 0.75, 1.0: 0.99},
}
PROBLEMS = {
    "quadratic(dim=2, kappa=1e1)": ("quadratic", {"dim": 2, "condition_number": 10.0}, 0.0),
    "rosenbrock(dim=2)": ("rosenbrock", {"dim": 2}, 0.0),
    "mlp(hidden=8)": ("mlp", {"hidden": 8}, None),
}


def _curve(f0, rate, seed_factor, diverged_step):
    steps = np.arange(STEPS + 1)
    if rate is None:
        values = f0 * 1.5**steps
        return steps[: diverged_step + 1], values[: diverged_step + 1]
    return steps, f0 * seed_factor ** np.minimum(steps, 1) * rate**steps


def _run(i, opt, lr, problem, seed, rng):
    name, config, f_star = PROBLEMS[problem]
    rate = RATES[opt][lr]
    diverged = rate is None
    f0 = 2.3 if name == "mlp" else 10.0
    steps, obj = _curve(f0, rate, 1.0 + 0.1 * seed, 5)
    loss = obj + (f_star or 0.0)
    values = [
        f"r{i:04d}", opt, "torch", f"lr={lr:g}", lr, json.dumps({"lr": lr}), problem, name,
        json.dumps(config), seed, "diverged" if diverged else "finished",
        5.0 if diverged else np.nan, STEPS, np.nan, STEPS, np.nan if diverged else loss[-1],
        loss.min(), np.nan if f_star is None else f_star, np.nan, np.nan,
        1e-5 * (1 + 0.1 * rng.random()), 9, np.nan, np.nan, np.nan, np.nan, "inv1",
    ]  # fmt: skip
    run = dict(zip(RUN_COLUMNS, values, strict=True))
    if f_star is not None:
        run["final_subopt"] = np.nan if diverged else obj[-1]
        run["best_subopt"] = obj.min()
    curve = pd.DataFrame(
        {
            "step": steps,
            "epoch": steps / 10.0,
            "loss": loss,
            "subopt": obj if f_star is not None else np.nan,
        }
    )
    for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
        curve[key] = np.nan
    if name == "mlp":
        curve["train_loss"], curve["test_loss"] = loss, loss * 1.2 + 0.05
        curve["train_acc"] = 1 - 0.9 * obj / f0
        curve["test_acc"] = curve["train_acc"] * 0.95
        run.update(
            final_train_loss=run["final_loss"],
            final_test_loss=curve["test_loss"].iat[-1],
            final_train_acc=curve["train_acc"].iat[-1],
            final_test_acc=curve["test_acc"].iat[-1],
        )
    for key in (
        "run_id",
        "optimizer",
        "convention",
        "setting",
        "lr",
        "problem",
        "problem_name",
        "seed",
        "status",
    ):
        curve[key] = run[key]
    return run, curve[CURVE_COLUMNS]


def _paths(curve, seed):
    start = np.array([-1.2, 1.0]) + 0.0 * seed
    shrink = np.sqrt(curve["subopt"].to_numpy() / curve["subopt"].iat[0])
    angle = 0.3 * np.arange(len(curve))
    x = 1.0 + (start[0] - 1.0) * shrink * np.cos(angle)
    y = 1.0 + (start[1] - 1.0) * shrink * np.cos(angle) + 0.2 * shrink * np.sin(angle)
    frame = curve[["run_id", "optimizer", "setting", "lr", "problem", "seed", "step"]].copy()
    frame["x0"], frame["x1"] = x, y
    return frame


def synthetic_frames(partial: bool = False, label_suffix: str = "") -> dict[str, pd.DataFrame]:
    """``{table: DataFrame}`` for runs, curves, paths, targets and invocations."""
    rng = np.random.default_rng(0)
    runs, curves, paths, targets = [], [], [], []
    i = 0
    for problem in PROBLEMS:
        for opt in RATES:
            for lr in RATES[opt]:
                for seed in range(3):
                    run, curve = _run(i, opt, lr, problem, seed, rng)
                    i += 1
                    run["problem"] = curve["problem"] = problem + label_suffix
                    runs.append(run)
                    curves.append(curve)
                    if PROBLEMS[problem][2] is None:
                        continue
                    paths.append(_paths(curve, seed))
                    for target in TARGETS:
                        hit = curve.loc[curve["subopt"] <= target, "step"]
                        targets.append(
                            {
                                **{
                                    k: run[k]
                                    for k in (
                                        "run_id",
                                        "optimizer",
                                        "setting",
                                        "lr",
                                        "problem",
                                        "seed",
                                    )
                                },
                                "target": target,
                                "step": hit.iat[0] if len(hit) else np.nan,
                            }
                        )
    frames = {
        "runs": pd.DataFrame(runs),
        "curves": pd.concat(curves, ignore_index=True),
        "paths": pd.concat(paths, ignore_index=True),
        "targets": pd.DataFrame(targets),
        "invocations": pd.DataFrame(
            [
                {
                    "invocation_id": "inv1",
                    "started": pd.Timestamp("2026-11-29 12:00"),
                    "ended": pd.NaT if partial else pd.Timestamp("2026-11-29 12:05"),
                    "optbench_version": "0.1.0",
                    "python_version": "3.11.2",
                    "numpy_version": "2.4.0",
                    "blas": "openblas",
                    "host": "<b>host</b>",
                    "cpu_count": 2,
                    "git_commit": "abc123",
                    "matrix_toml": MATRIX,
                    "planned_runs": i + (5 if partial else 0),
                    "finished_runs": i,
                }
            ]
        ),
    }
    for frame in frames.values():
        frame.attrs.update(partial=partial, store="synthetic.sqlite")
    return frames


CRAFTED = "<script>alert(1)</script>"


def bowl(problem_name: str, problem_config: str):
    """A stand-in for problems.REGISTRY in the trajectory background: ``|x - 1|^2``."""
    return (lambda x: ((x - 1.0) ** 2).sum(axis=1)), np.array([1.0, 1.0])


@functools.cache
def crafted_report() -> Path:
    """report.html of a partial synthetic store whose problem labels end in :data:`CRAFTED`;
    built once per test session (shared by the build and browser tests), removed at exit."""
    from optbench.reports.build import write_report

    out = Path(tempfile.mkdtemp(prefix="optbench-report-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    frames = synthetic_frames(partial=True, label_suffix=CRAFTED)
    return write_report(frames, out, landscape=bowl, n_boot=200)


def test_synthetic_frames_follow_the_contract():
    frames = synthetic_frames()
    assert list(frames["runs"].columns) == RUN_COLUMNS
    assert list(frames["curves"].columns) == CURVE_COLUMNS
    assert (frames["curves"].groupby("run_id")["step"].min() == 0).all()
    assert set(frames["paths"]["problem"]) == {"quadratic(dim=2, kappa=1e1)", "rosenbrock(dim=2)"}
    assert frames["runs"]["status"].eq("diverged").sum() == 3 * 3  # sgd at lr=1, 3 problems


def test_diverged_runs_keep_their_curve_up_to_the_divergence_step():
    frames = synthetic_frames()
    diverged = frames["runs"].loc[frames["runs"]["status"] == "diverged", "run_id"]
    last = frames["curves"][frames["curves"]["run_id"].isin(diverged)].groupby("run_id")["step"]
    assert (last.max() == 5).all()
