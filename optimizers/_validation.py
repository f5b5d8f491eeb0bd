"""Checks of hyperparameters, parameters and gradients, run before any work.

Every failure raises ``ValueError`` (a bad value) or ``TypeError`` (a bad type) whose message
names the argument and what is allowed, so that a typo in a sweep fails loudly at construction
instead of producing a silently wrong curve.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def describe(lo: float, hi: float, lo_open: bool, hi_open: bool) -> str:
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    return f"{left}{lo:g}, {hi:g}{right}"


def hyperparameter(
    name: str,
    value,
    lo: float = 0.0,
    hi: float = np.inf,
    *,
    lo_open: bool = False,
    hi_open: bool = True,
) -> float | np.ndarray:
    """A real scalar or an ``(R,)`` array with every entry in the interval ``lo..hi``.

    Returns a Python float, or a read-only float64 array of shape ``(R,)``.
    """
    allowed = describe(lo, hi, lo_open, hi_open)
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a real number or an (R,) array in {allowed}, got a bool")
    if isinstance(value, numbers.Real):
        arr = np.asarray(float(value))
    elif isinstance(value, np.ndarray | list | tuple):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf" or arr.dtype.kind == "b":
            raise TypeError(f"{name} must hold real numbers in {allowed}, got dtype {arr.dtype}")
        if arr.ndim > 1 or arr.size == 0:
            raise ValueError(f"{name} must be a scalar or an (R,) array, got shape {arr.shape}")
        arr = arr.astype(np.float64)
    else:
        raise TypeError(
            f"{name} must be a real number or an (R,) array in {allowed}, "
            f"got {type(value).__name__}"
        )
    below = arr <= lo if lo_open else arr < lo
    above = arr >= hi if hi_open else arr > hi
    bad = ~np.isfinite(arr) | below | above
    if np.any(bad):
        if arr.ndim == 0:
            raise ValueError(f"{name} must be finite and in {allowed}, got {value!r}")
        runs = np.flatnonzero(bad)
        raise ValueError(
            f"{name} must be finite and in {allowed}, got {arr[runs[0]]!r} (run {runs[0]} of an "
            f"({arr.size},) array; {runs.size} such run{'s' if runs.size > 1 else ''})"
        )
    if arr.ndim == 0:
        return float(arr)
    arr.setflags(write=False)
    return arr


def flag(name: str, value) -> bool:
    """A scalar bool (structural options are per batch, not per run)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool (one value for the whole batch), got {value!r}")
    return bool(value)


def choice(name: str, value, allowed: Sequence[str]) -> str:
    """One of the strings ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")
    return value


def runs(hparams: dict) -> int | None:
    """The common length R of the ``(R,)`` hyperparameters, or None if all are scalars."""
    lengths = {k: v.shape[0] for k, v in hparams.items() if isinstance(v, np.ndarray)}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"(R,) hyperparameters must share one length R, got {lengths}")
    return next(iter(lengths.values()), None)


def params(params, R: int | None, hparams: dict) -> list[np.ndarray]:
    """A non-empty list of writeable float32/float64 arrays, with leading axis R if R is set."""
    if isinstance(params, np.ndarray) or not isinstance(params, Sequence):
        raise TypeError(
            "params must be a list of NumPy arrays (wrap a single array as [W]), "
            f"got {type(params).__name__}"
        )
    if len(params) == 0:
        raise ValueError("params must contain at least one array, got an empty list")
    out = []
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray):
            raise TypeError(f"params[{i}] must be a NumPy array, got {type(p).__name__}")
        if p.dtype not in FLOAT_DTYPES:
            raise TypeError(f"params[{i}] must have dtype float32 or float64, got {p.dtype}")
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] is read-only; the optimizer updates it in place")
        if R is not None and (p.ndim == 0 or p.shape[0] != R):
            names = sorted(k for k, v in hparams.items() if isinstance(v, np.ndarray))
            raise ValueError(
                f"{', '.join(names)} have shape ({R},), so every parameter needs leading axis "
                f"R={R}; params[{i}] has shape {p.shape}"
            )
        for j, q in enumerate(out):
            if np.shares_memory(p, q):
                raise ValueError(
                    f"params[{j}] and params[{i}] share memory; each element must belong to "
                    "one parameter (it would be updated twice)"
                )
        out.append(p)
    return out


def grads(grads, params: list[np.ndarray]) -> list[np.ndarray]:
    """Gradients matching ``params`` one to one in count, shape and dtype."""
    if isinstance(grads, np.ndarray) or not isinstance(grads, Sequence):
        raise TypeError(f"grads must be a list of NumPy arrays, got {type(grads).__name__}")
    if len(grads) != len(params):
        raise ValueError(f"grads must hold one array per param ({len(params)}), got {len(grads)}")
    for i, (g, p) in enumerate(zip(grads, params, strict=True)):
        if not isinstance(g, np.ndarray):
            raise TypeError(f"grads[{i}] must be a NumPy array, got {type(g).__name__}")
        if g.shape != p.shape:
            raise ValueError(
                f"grads[{i}] must have shape {p.shape} like params[{i}], got {g.shape}"
            )
        if g.dtype != p.dtype:
            raise TypeError(f"grads[{i}] must have dtype {p.dtype} like params[{i}], got {g.dtype}")
    return list(grads)


def scheduled_lr(schedule, t: int, R: int | None):
    """``schedule(t)``, the lr of step ``t``, checked: a finite float >= 0, or such an ``(R,)``
    array (read-only); ``ValueError`` naming the step and the value."""
    value = schedule(t)
    if isinstance(value, np.ndarray) and value.ndim == 1:
        lr = np.array(value, dtype=np.float64)
    elif isinstance(value, float | int | np.floating | np.integer) and not isinstance(
        value, bool | np.bool_
    ):
        lr = float(value)
    elif isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        lr = float(value)
    else:
        raise TypeError(
            f"the lr schedule {schedule!r} returned {value!r} at step {t}: a learning rate is "
            "a real number or an (R,) array"
        )
    bad = ~np.isfinite(lr) | (np.asarray(lr) < 0)
    if np.any(bad):
        where = "" if np.ndim(lr) == 0 else f" (run {int(np.flatnonzero(bad)[0])})"
        shown = lr if np.ndim(lr) == 0 else lr[np.flatnonzero(bad)[0]]
        raise ValueError(
            f"the lr schedule {schedule!r} returned lr={shown!r}{where} at step {t}: a learning "
            "rate must be finite and >= 0"
        )
    if isinstance(lr, np.ndarray):
        if t > 1 and lr.shape != (R,):  # (at step 1, its shape sets R)
            raise ValueError(
                f"the lr schedule {schedule!r} returned shape {lr.shape} at step {t}, but "
                f"there are R={R} runs"
            )
        lr.setflags(write=False)
    return lr
