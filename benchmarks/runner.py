"""Execute one batch of R runs: the hot loop of the harness.

Step ``t`` means the parameters after ``t`` optimizer updates (step 0 is the initial point).
For ``t = 0 .. T-1`` the loop calls ``loss_and_grad`` (the loss at step t), tracks it, records
at the recording steps, and updates. After the loop, ``evaluate`` gives the loss at step T.

Per step, the only work besides the problem and the optimizer is a few passes over the ``(R,)``
losses (no Python work per run):

* divergence: run r diverges at the first step with ``not (L_r <= bound * max(1, |L_r(0)|))``
  (non-finite or exploding loss). It is frozen: its curve, path, best loss and targets stop
  there, and its ``final_loss`` is the loss that tripped the check. Arithmetic is per run, so a
  diverged run never touches the others' numbers.
* best loss: ``best_r = min_t L_r(t)`` (NaN-ignoring). For stochastic problems, whose step
  losses are minibatch estimates, ``best_loss`` is instead the minimum of the exact losses at
  the recording steps.
* targets (COCO-style, nested): each run waits for its next target ``tau_k``; one comparison
  ``L_r(t) <= f* + tau_k`` per step. A hit (rare for a run, but a sweep of thousands of runs
  has one on most steps) moves the run's next target past every level its loss reached; the
  hits are kept and turned into first-hit steps for all targets once, after the loop.
* the divergence test costs one max-reduction while no run has diverged:
  ``max_r L_r <= min_r limit_r`` clears every run at once (a NaN fails it).

Metrics of ``evaluate`` (the exact loss, and MLP train/test loss and accuracy) are computed only
at the recording steps; for 2-D problems the iterates are copied at the (denser) path steps.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .plan import BatchSpec
from .preflight import make_optimizer
from .schema import METRICS


@dataclass
class BatchResult:
    """Everything the store keeps of a batch; arrays have the run axis last (or alone)."""

    spec: BatchSpec
    diverged_step: np.ndarray  # (R,) int64, -1 when the run did not diverge
    final: dict[str, np.ndarray]  # metric -> (R,) at the last step (see module docstring)
    best_loss: np.ndarray  # (R,)
    record_steps: np.ndarray  # (n,) int64, from 0 to T
    curves: dict[str, np.ndarray]  # metric -> (n, R); NaN from the divergence step on
    path_steps: np.ndarray | None  # (p,) for 2-D problems
    paths: np.ndarray | None  # (p, R, 2); NaN from the divergence step on
    target_steps: np.ndarray  # (K, R) int64: first step with loss <= f* + target, -1 never
    wall_time: float  # seconds for the whole batch (setup excluded)


def recording_steps(steps: int, points: int, spacing: str) -> np.ndarray:
    """Distinct steps in [0, T] holding 0 and T: ``points`` log- or linearly spaced steps."""
    if spacing == "log":
        inner = np.geomspace(1, max(steps, 1), num=max(points - 1, 1))
    else:
        inner = np.linspace(0, steps, num=points)
    return np.unique(np.concatenate([[0, steps], np.rint(inner)]).astype(np.int64))


def path_steps(steps: int, points: int) -> np.ndarray:
    """Steps at which 2-D iterates are kept, about ``points`` + ``points // 2`` of them: every
    step up to ``points // 5``, log-spaced steps (the early turns of a trajectory) and linearly
    spaced ones (its slow end)."""
    early = np.arange(min(steps, points // 5) + 1)
    log = recording_steps(steps, points, "log")
    lin = recording_steps(steps, max(points // 2, 2), "linear")
    return np.union1d(np.union1d(early, log), lin)


def run_batch(spec: BatchSpec) -> BatchResult:
    """Run the R runs of ``spec`` as one vectorized batch and return their results."""
    problem = _problem(spec)
    R, T = spec.size, spec.steps
    params = problem.init_params(np.asarray(spec.seeds, dtype=np.int64))
    opt = make_optimizer(spec.optimizer_code, params, spec.convention, spec.static, spec.arrays)
    rec = recording_steps(T, spec.recording["points"], spec.recording["spacing"])
    two_d = problem.dim == 2 and len(params) == 1
    pth = path_steps(T, spec.recording["path_points"]) if two_d else np.zeros(0, np.int64)
    tracker = _Tracker(R, problem.f_star, spec.targets, spec.bound)
    recorder = _Recorder(problem, rec, pth, R)
    event = np.zeros(T + 1, dtype=bool)
    event[rec] = True
    event[pth] = True
    event = event.tolist()

    start = time.perf_counter()
    with np.errstate(all="ignore"):
        losses, grads = problem.loss_and_grad(params)
        tracker.start(losses)
        for t in range(T):
            if t:
                losses, grads = problem.loss_and_grad(params)
            tracker.update(t, losses)
            if event[t]:
                recorder.capture(t, params, tracker.dead if tracker.any_dead else None)
            opt.step(grads)
        final = problem.evaluate(params)
        tracker.update(T, final["loss"])
        recorder.capture(T, params, tracker.dead if tracker.any_dead else None, final)
    wall = time.perf_counter() - start
    return _result(spec, problem, tracker, recorder, final, wall)


# --- per-step bookkeeping ------------------------------------------------------------------


class _Tracker:
    """Divergence, best loss and first target hits, updated with a few (R,) passes a step."""

    def __init__(self, R: int, f_star: float | None, targets: tuple[float, ...], bound: float):
        self.f_star = f_star
        self.targets = np.asarray(targets if f_star is not None else (), dtype=np.float64)
        self.levels = (f_star or 0.0) + self.targets  # loss levels, descending
        self.bound = bound
        self.limit = np.full(R, np.inf)
        self.ok = np.ones(R, dtype=bool)
        self.hit = np.zeros(R, dtype=bool)
        self.dead = np.zeros(R, dtype=bool)
        self.any_dead = False
        self.diverged_step = np.full(R, -1, dtype=np.int64)
        self.diverged_loss = np.full(R, np.nan)
        self.best = np.full(R, np.inf)
        self.best_frozen = np.full(R, np.nan)
        self.next = np.zeros(R, dtype=np.int64)  # index of each run's next target
        self.threshold = np.full(R, self.levels[0] if self.levels.size else -np.inf)
        self.ascending = self.levels[::-1].copy()
        self.after = np.append(self.levels, -np.inf)  # threshold once k targets are reached
        self.hits: list[tuple] = []  # (t, runs, next before, next after), resolved at the end

    def start(self, losses: np.ndarray) -> None:
        """Fix each run's divergence limit from its initial loss L(0)."""
        scale = np.fmax(np.abs(losses.astype(np.float64)), 1.0)
        np.multiply(scale, self.bound, out=self.limit)
        self.lowest_limit = np.minimum.reduce(self.limit, initial=np.inf)

    def update(self, t: int, losses: np.ndarray) -> None:
        # max_r L_r <= min_r limit_r (a NaN max fails it) clears every run with one pass
        if self.any_dead or not np.maximum.reduce(losses, initial=-np.inf) <= self.lowest_limit:
            np.less_equal(losses, self.limit, out=self.ok)
            if self.any_dead:
                np.logical_or(self.ok, self.dead, out=self.ok)
            if not self.ok.all():
                self._diverge(t, losses)
        np.fmin(self.best, losses, out=self.best)
        if self.levels.size:
            np.less_equal(losses, self.threshold, out=self.hit)
            if self.hit.any():
                self._reach(t, losses)

    def _diverge(self, t: int, losses: np.ndarray) -> None:
        new = ~self.ok
        self.dead |= new
        self.any_dead = True
        self.diverged_step[new] = t
        self.diverged_loss[new] = losses[new]
        self.best_frozen[new] = self.best[new]
        self.threshold[new] = -np.inf

    def _reach(self, t: int, losses: np.ndarray) -> None:
        idx = np.flatnonzero(self.hit)
        # Levels descend, so the targets a run has reached are a prefix 0 .. count-1:
        # count = #{k : L <= levels[k]} = K - (first ascending level >= L). A hit has
        # L <= levels[next] (count > next) or L = -inf (count = K >= next).
        count = self.levels.size - np.searchsorted(self.ascending, losses[idx], side="left")
        self.hits.append((t, idx, self.next[idx], count))
        self.next[idx] = count
        self.threshold[idx] = self.after[count]  # the next level, -inf after the last

    def target_steps(self) -> np.ndarray:
        """(K, R): first step with loss <= f* + target_k, -1 never; run r reached targets
        nxt .. count-1 at the step t of each of its hits (t, runs, nxt, count)."""
        K, R = self.levels.size, self.best.size
        out = np.full((K, R), -1, dtype=np.int64)
        if self.hits:
            sizes = [h[1].size for h in self.hits]
            t = np.repeat([h[0] for h in self.hits], sizes)
            idx, nxt, count = (np.concatenate([h[i] for h in self.hits]) for i in (1, 2, 3))
            ks = np.arange(K)
            rows, k = np.nonzero((ks >= nxt[:, None]) & (ks < count[:, None]))
            out[k, idx[rows]] = t[rows]
        return out

    def best_loss(self) -> np.ndarray:
        return np.where(self.dead, self.best_frozen, self.best)


class _Recorder:
    """Metrics at the recording steps and 2-D iterates at the path steps.

    The iterates are stored as ``(p, 2, R)`` and handed out as its ``(p, R, 2)`` transpose: a
    path step then copies the structure-of-arrays parameters (each coordinate contiguous
    across runs) with two contiguous copies instead of an element-by-element transposition.
    ``dead`` is None while no run has diverged (nothing to blank out).
    """

    def __init__(self, problem, record_steps: np.ndarray, path_steps: np.ndarray, R: int):
        self.problem = problem
        self.record_index = {int(s): i for i, s in enumerate(record_steps)}
        self.path_index = {int(s): i for i, s in enumerate(path_steps)}
        self.record_steps, self.path_steps = record_steps, path_steps
        self.curves = {m: np.full((len(record_steps), R), np.nan) for m in METRICS}
        # every path step is captured (rows written whole): no NaN pass over ~100 MB first
        self.xy = np.empty((len(path_steps), 2, R)) if len(path_steps) else None
        self.paths = self.xy.transpose(0, 2, 1) if self.xy is not None else None

    def capture(self, t: int, params: list, dead, metrics: dict | None = None):
        i = self.record_index.get(t)
        if i is not None:
            metrics = metrics if metrics is not None else self.problem.evaluate(params)
            for name, values in metrics.items():
                if name in self.curves:
                    row = self.curves[name][i]
                    row[:] = values
                    if dead is not None:
                        row[dead] = np.nan
        j = self.path_index.get(t)
        if j is not None:
            xy = self.xy[j]
            xy[...] = params[0].T
            if dead is not None:
                xy[:, dead] = np.nan


def _result(spec, problem, tracker, recorder, final, wall) -> BatchResult:
    dead = tracker.dead
    final_metrics = {}
    for name in METRICS:
        values = np.asarray(final.get(name, np.full(spec.size, np.nan)), dtype=np.float64)
        final_metrics[name] = np.where(dead, np.nan, values)
    final_metrics["loss"] = np.where(dead, tracker.diverged_loss, final_metrics["loss"])
    best = tracker.best_loss()
    if problem.stochastic:
        with np.errstate(all="ignore"):
            best = np.fmin.reduce(recorder.curves["loss"], axis=0)
    return BatchResult(
        spec=spec,
        diverged_step=tracker.diverged_step,
        final=final_metrics,
        best_loss=best,
        record_steps=recorder.record_steps,
        curves=recorder.curves,
        path_steps=recorder.path_steps if recorder.paths is not None else None,
        paths=recorder.paths,
        target_steps=tracker.target_steps(),
        wall_time=wall,
    )


_CACHE = threading.local()


def _problem(spec: BatchSpec):
    """A problem instance, cached per worker thread (problems keep per-batch state and
    buffers, so threads never share one; ``init_params`` resets its per-run streams)."""
    cache = _CACHE.__dict__.setdefault("problems", {})
    code = spec.problem_code
    key = json.dumps([code.target, code.sha256, spec.problem_kwargs], sort_keys=True)
    if key not in cache:
        if len(cache) >= 8:
            cache.pop(next(iter(cache)))
        with warnings.catch_warnings():  # (a data file's relabelling: planning said so once)
            warnings.simplefilter("ignore", UserWarning)
            problem = code.load()(**spec.problem_kwargs)
        found = getattr(problem, "data_sha256", None)
        if found != spec.data_sha256:
            raise RuntimeError(
                f"the data file of {problem.label} changed since the matrix was planned "
                f"(sha256 {found} here, {spec.data_sha256} planned); run again"
            )
        cache[key] = problem
    return cache[key]
