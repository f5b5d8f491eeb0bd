"""``check_gradient``: a problem's analytic gradient against central finite differences.

For every parameter array ``P`` (R, *shape) and each checked coordinate j of it (all of them,
or ``max_coords`` of them drawn once with a fixed seed), in every run r at once:

.. math::

    n_{rj} = \\frac{L_r(P + h e_j) - L_r(P - h e_j)}{(p_{rj} + h) - (p_{rj} - h)},
    \\qquad |g_{rj} - n_{rj}| \\le atol + rtol\\,|n_{rj}| + 16 u \\frac{\\max |L_r(P \\pm h e_j)|}
    {2 h}

with ``h = eps``, ``g`` the gradient from ``loss_and_grad`` and ``u = 2^-52``; the last term is
the rounding error of the quotient itself (a function of size 1e6 cannot be differenced to
better than ~1e-4 with h = 1e-6). Everything is evaluated in float64, on float64 copies of the
points (a float32 problem is rebuilt with ``dtype="float64"``).

``L`` is the loss that ``loss_and_grad`` returns, and the streams are reset with
``init_params(seeds)`` before every evaluation: a stochastic problem is differenced on the
same draw, so for the MLP with minibatches the check is of the gradient of the first
minibatch's loss. A problem whose gradient is on purpose not that of its loss (additive
gradient noise, ``Quadratic(noise=0.1)``) fails: check it without the noise.
"""

from dataclasses import dataclass

import numpy as np

from . import rng
from .base import check_choice, check_float, check_int

ROUNDING = 16 * np.finfo(np.float64).eps
POINTS = ("start", "random")
_STOCHASTIC = (
    "\n  (a stochastic problem: its gradient must be that of the loss loss_and_grad returns, on"
    " the same draw; additive gradient noise is not, so check such a problem without noise)"
)


@dataclass(frozen=True)
class ArrayCheck:
    """The comparison for one parameter array; indices are into the (R, *shape) array."""

    name: str  # "X", or "params[i]"
    shape: tuple  # (R, *shape)
    coords: int  # coordinates checked per run
    failures: int  # (run, coordinate) pairs outside the tolerance
    max_abs_error: float  # max |g - n|
    max_rel_error: float  # max |g - n| / |n| over n != 0 (large where n ~ 0: atol rules there)
    worst: tuple  # the index with the largest |g - n| / allowed
    seed: int  # the seed of its run (worst[0])
    analytic: float  # g there
    numeric: float  # n there
    allowed: float  # the tolerance there

    @property
    def ok(self):
        return self.failures == 0

    def __str__(self):
        where = f"{self.name}[{', '.join(map(str, self.worst))}]"
        return (
            f"{self.name}: {self.coords} of {int(np.prod(self.shape[1:]))} coordinates x "
            f"{self.shape[0]} runs, max abs error {self.max_abs_error:.2g}, max rel error "
            f"{self.max_rel_error:.2g}; worst {where} (seed {self.seed}): analytic "
            f"{self.analytic:.12g}, central difference {self.numeric:.12g}, |error| "
            f"{abs(self.analytic - self.numeric):.2g} {'<=' if self.ok else '>'} allowed "
            f"{self.allowed:.2g}"
        )


@dataclass(frozen=True)
class GradientCheck:
    """What ``check_gradient`` found: one ``ArrayCheck`` per parameter array."""

    problem: str  # its label
    seeds: tuple
    eps: float
    arrays: tuple

    @property
    def ok(self):
        return all(a.ok for a in self.arrays)

    @property
    def max_abs_error(self):
        return max(a.max_abs_error for a in self.arrays)

    @property
    def max_rel_error(self):
        return max(a.max_rel_error for a in self.arrays)

    def __str__(self):
        lines = [f"check_gradient({self.problem}, seeds={list(self.seeds)}, eps={self.eps:g}):"]
        return "\n  ".join(lines + [str(a) for a in self.arrays])


def check_gradient(
    problem,
    seeds=(0, 1, 2),
    points="random",
    *,
    eps=1e-6,
    rtol=1e-5,
    atol=1e-8,
    max_coords=100,
):
    """Compare ``problem.loss_and_grad``'s gradient with central differences (module docstring).

    - ``problem``: any problem of docs/contracts.md §2 (a ``TestFunction``, the MLP, ...);
    - ``seeds``: the runs, checked all at once;
    - ``points``: ``"start"`` (``init_params(seeds)``), ``"random"`` (the problem's random
      starts when it has a ``start`` argument, else ``init_params``, e.g. the MLP's random
      weights), or a list of arrays like ``params`` (R = len(seeds) runs);
    - ``eps``: the step h; ``rtol``, ``atol``: the tolerance;
    - ``max_coords``: at most this many coordinates per array (None: all of them).

    Returns a ``GradientCheck`` (``print`` it); raises ``AssertionError`` naming the problem,
    the array and its worst coordinate (run, index) if any coordinate is outside the
    tolerance, and ``ValueError`` for bad arguments or a non-finite or non-reproducible loss.
    """
    eps = check_float("eps", eps, 0.0, low_open=True)
    rtol, atol = check_float("rtol", rtol, 0.0), check_float("atol", atol, 0.0)
    if max_coords is not None:
        max_coords = check_int("max_coords", max_coords, 1)
    if isinstance(points, str):
        check_choice("points", points, POINTS)
    elif not isinstance(points, (list, tuple)):
        raise ValueError(f"points must be one of {list(POINTS)} or a list of arrays")
    seeds = tuple(int(s) for s in rng.as_seeds(seeds))
    p = _float64_problem(problem, points)
    params = _points(p, seeds, points)
    grads = _gradient(p, seeds, params, problem.label)
    names = getattr(p, "param_names", ())
    if len(names) != len(params):
        names = [f"params[{i}]" for i in range(len(params))]
    arrays = []
    for i, (name, g) in enumerate(zip(names, grads, strict=True)):
        coords = _coordinates(g[0].size, max_coords, i)
        n, rounding = _central(p, seeds, params, i, coords, eps)
        a = g.reshape(len(seeds), -1)[:, coords]
        allowed = atol + rtol * np.abs(n) + rounding
        arrays.append(_compare(name, g.shape, coords, a, n, allowed, seeds))
    result = GradientCheck(problem.label, seeds, eps, tuple(arrays))
    if not result.ok:
        bad = next(a for a in arrays if not a.ok)
        raise AssertionError(
            f"check_gradient({problem.label}): the gradient of {bad.name} disagrees with "
            f"central differences at {bad.failures} of {bad.coords * bad.shape[0]} checked "
            f"coordinates (seeds {list(seeds)}, eps {eps:g}, rtol {rtol:g}, atol {atol:g}).\n"
            f"  {bad}" + (_STOCHASTIC if p.stochastic else "")
        )
    return result


def _float64_problem(problem, points):
    """The problem itself, or rebuilt from its config in float64 / with random starts."""
    config = problem.config()
    changes = {}
    if config.get("dtype", "float64") != "float64":
        changes["dtype"] = "float64"
    if points == "random" and config.get("start", "random") != "random":
        changes["start"] = "random"
    return type(problem)(**{**config, **changes}) if changes else problem


def _points(problem, seeds, points):
    """float64 C-ordered copies of the points, one row per run."""
    start = problem.init_params(list(seeds))
    params = start if isinstance(points, str) else list(points)
    if len(params) != len(start):
        raise ValueError(f"points must be a list of {len(start)} arrays, like params")
    for i, (a, like) in enumerate(zip(params, start, strict=True)):
        if not isinstance(a, np.ndarray) or a.shape != like.shape:
            raise ValueError(f"points[{i}] must be an array of shape {like.shape}")
    return [np.array(a, dtype=np.float64, order="C") for a in params]


def _gradient(problem, seeds, params, label):
    """The analytic gradient, checked: like params, finite, the same when drawn again."""
    loss, grads = _loss_and_grad(problem, seeds, params)
    if len(grads) != len(params) or any(
        g.shape != a.shape for g, a in zip(grads, params, strict=False)
    ):
        raise ValueError(f"check_gradient({label}): the gradients are not shaped like params")
    if not (np.isfinite(loss).all() and all(np.isfinite(g).all() for g in grads)):
        raise ValueError(f"check_gradient({label}): the loss or gradient is not finite")
    loss2, grads2 = _loss_and_grad(problem, seeds, params)
    if not all(np.array_equal(a, b) for a, b in zip([loss, *grads], [loss2, *grads2], strict=True)):
        raise ValueError(
            f"check_gradient({label}): loss_and_grad is not reproducible after "
            "init_params(seeds) (init_params must reset its randomness)"
        )
    return grads


def _loss_and_grad(problem, seeds, params):
    """Copies of ``loss_and_grad(params)``, drawn right after resetting the streams."""
    problem.init_params(list(seeds))
    loss, grads = problem.loss_and_grad(params)
    return np.array(loss, dtype=np.float64), [np.array(g, dtype=np.float64) for g in grads]


def _coordinates(size, max_coords, i):
    """Flat indices of the coordinates checked in array i: all, or a fixed random sample."""
    if max_coords is None or size <= max_coords:
        return np.arange(size)
    return np.sort(np.random.default_rng(i).choice(size, max_coords, replace=False))


def _central(problem, seeds, params, i, coords, eps):
    """(R, k) central differences of the loss along the coordinates of array i, and their
    rounding allowances; the array is restored afterwards."""
    flat = params[i].reshape(len(seeds), -1)  # a view: params are C-ordered copies
    n = np.empty((len(seeds), len(coords)))
    rounding = np.empty_like(n)
    for k, j in enumerate(coords):
        x = flat[:, j].copy()
        up, down = x + eps, x - eps
        flat[:, j] = up
        f_up = _loss_and_grad(problem, seeds, params)[0]
        flat[:, j] = down
        f_down = _loss_and_grad(problem, seeds, params)[0]
        flat[:, j] = x
        n[:, k] = (f_up - f_down) / (up - down)
        rounding[:, k] = ROUNDING * np.maximum(np.abs(f_up), np.abs(f_down)) / (up - down)
    return n, rounding


def _compare(name, shape, coords, a, n, allowed, seeds):
    """An ``ArrayCheck`` of analytic ``a`` against numeric ``n``, both (R, k)."""
    err = np.abs(a - n)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = err / allowed
    ratio[err == 0] = 0.0
    ratio[np.isnan(err)] = np.inf
    r, k = np.unravel_index(np.argmax(ratio), ratio.shape)
    nonzero = n != 0
    rel = err[nonzero] / np.abs(n[nonzero])
    return ArrayCheck(
        name=name,
        shape=tuple(shape),
        coords=len(coords),
        failures=int(np.count_nonzero(~(err <= allowed))),
        max_abs_error=float(np.max(err)),
        max_rel_error=float(rel.max()) if rel.size else 0.0,
        worst=(int(r), *map(int, np.unravel_index(coords[k], shape[1:]))),
        seed=seeds[r],
        analytic=float(a[r, k]),
        numeric=float(n[r, k]),
        allowed=float(allowed[r, k]),
    )
