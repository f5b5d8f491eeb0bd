"""The base's machinery: an update rule run over cache-sized blocks of every parameter, in
threads, with namespaces and scratch built once at construction.

For a parameter whose arrays (parameter and state) are C-contiguous, each block of
``_blocks.plan`` keeps its views, its namespace ``h`` (the coefficients cast to the parameter's
dtype and selected for the block's runs: built once, per-step values written into it each step;
blocks without per-run values share one ``h`` per dtype) and, per worker thread, its namespace
``s`` of state and scratch views. Other parameters, and any step whose gradient is not
C-contiguous, are updated whole, with coefficients shaped ``(R, 1, ..., 1)``.

``maximize`` (gradient ascent, torch's flag) runs first: ``-g`` into a buffer of the engine's
own; with ``maximize`` off nothing is done. Weight decay runs next, before the rule: L2 writes
``g + wd * w`` into a buffer of the engine's own (the rule then sees it as ``g``); decoupled
scales ``w`` by ``1 - lr * wd`` in place.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from . import _blocks
from . import _primitives as P


class _Block:
    """One block of a parameter: views, the selection of its runs, its namespaces."""

    __slots__ = ("h", "index", "s", "sel", "shape", "state", "w", "wd")


class Engine:
    """Runs ``update(w, g, s, h)`` over every parameter; see the module docstring."""

    def __init__(
        self, update, params, states, h: dict, scratch, decay, decay_value, R, maximize=False
    ):
        self.update = update
        self.maximize = bool(maximize)
        self.params, self.states, self.R = params, states, R
        self.scratch_names = tuple(scratch)
        self.decay = decay  # None, "l2" or "decoupled" (None for a scalar weight_decay of 0)
        dtypes = list(dict.fromkeys(p.dtype for p in params))
        self.static = {dt: cast(h, dt) for dt in dtypes}
        self.decay_value = {dt: cast({"wd": decay_value}, dt)["wd"] for dt in dtypes}
        self.shared = {dt: SimpleNamespace(**self.static[dt]) for dt in dtypes}
        self.n_buffers = len(self.scratch_names) + (decay == "l2") + self.maximize
        self.layouts = [self._lay_out(i) for i in range(len(params))]
        self.whole: dict[int, tuple] = {}
        self.scratch: dict[tuple, list[np.ndarray]] = {}
        for dtype in dtypes:
            for worker in range(_blocks.get_num_threads()):
                self._allocate(worker, dtype)

    def set_decay_value(self, value) -> None:
        """A new float64 coefficient of weight decay (``1 - lr wd`` under an lr schedule)."""
        for dt in self.decay_value:
            self.decay_value[dt] = cast({"wd": value}, dt)["wd"]
        for p, layout in zip(self.params, self.layouts, strict=True):
            for b in layout or ():
                b.wd = pick(self.decay_value[p.dtype], b.sel)
        for i, (h, s, buf, neg, _, sel) in self.whole.items():
            self.whole[i] = (h, s, buf, neg, pick(self.decay_value[self.params[i].dtype], sel), sel)

    # -- one step ---------------------------------------------------------------------------
    def run(self, grads: list[np.ndarray], per_step: dict) -> None:
        """Update every parameter from ``grads``, with the float64 per-step values."""
        steps = {}
        if per_step:
            steps = {dt: cast(per_step, dt) for dt in self.static}
            for dt, ns in self.shared.items():
                vars(ns).update(steps[dt])
        for i, g in enumerate(grads):
            layout = self.layouts[i]
            step = steps.get(self.params[i].dtype)
            if layout is None or not g.flags.c_contiguous:
                self._run_whole(i, g, step)
            else:
                self._run_blocks(i, layout, g, step)

    def _run_blocks(self, i: int, layout: list[_Block], g: np.ndarray, step) -> None:
        g2 = g.reshape(self.R or 1, -1)
        update, decay, maximize = self.update, self.decay, self.maximize
        per_run_step = step if self.R is not None else None

        def task(blocks, worker):
            for b in blocks:
                s = b.s.get(worker)
                if s is None:
                    s = self._bind(b, worker)
                if per_run_step is not None:
                    vars(b.h).update(select(per_run_step, b.sel))
                w, gb = b.w, g2[b.index]
                if maximize:
                    gb = np.negative(gb, out=s[2])
                if decay == "l2":
                    gb = P.decayed_grad(gb, w, b.wd, s[1])
                elif decay == "decoupled":
                    np.multiply(w, b.wd, out=w)
                update(w, gb, s[0], b.h)

        _blocks.run_split(task, layout, self.params[i].size)

    def _run_whole(self, i: int, g: np.ndarray, step) -> None:
        entry = self.whole.get(i)
        if entry is None:
            entry = self.whole[i] = self._whole_entry(i)
        h, s, buf, neg, wd, sel = entry
        if step is not None and sel is not None:
            vars(h).update(select(step, sel))
        w = self.params[i]
        if neg is not None:
            g = np.negative(g, out=neg)
        if self.decay == "l2":
            g = P.decayed_grad(g, w, wd, buf)
        elif self.decay == "decoupled":
            np.multiply(w, wd, out=w)
        self.update(w, g, s, h)

    # -- construction -------------------------------------------------------------------------
    def _lay_out(self, i: int) -> list[_Block] | None:
        """The blocks of parameter ``i`` (None: not C-contiguous, or empty: update it whole)."""
        p, state = self.params[i], self.states[i]
        if not all(a.flags.c_contiguous for a in (p, *state.values())) or p.size == 0:
            return None
        rows = self.R if self.R is not None else 1
        plan = _blocks.plan(p.size, rows, self.R is not None, _blocks.chunk_elements(p.dtype))
        p2 = p.reshape(rows, -1)
        st2 = {k: v.reshape(rows, -1) for k, v in state.items()}
        blocks = []
        for piece in plan:
            b = _Block()
            b.w, b.index, b.sel, b.shape = p2[piece.index], piece.index, piece.sel, piece.shape
            b.state = {k: v[piece.index] for k, v in st2.items()}
            if piece.sel is None:
                b.h = self.shared[p.dtype]
            else:
                b.h = SimpleNamespace(**select(self.static[p.dtype], piece.sel))
            b.wd = pick(self.decay_value[p.dtype], piece.sel)
            b.s = {}
            blocks.append(b)
        return blocks

    def _whole_entry(self, i: int) -> tuple:
        """``(h, s, buffer, negated, wd, sel)`` of the whole-array update of parameter ``i``."""
        p = self.params[i]
        sel = (slice(None),) + (None,) * (p.ndim - 1) if self.R is not None else None
        if sel is None:
            h = self.shared[p.dtype]
        else:
            h = SimpleNamespace(**select(self.static[p.dtype], sel))
        scratch = {name: np.empty_like(p) for name in self.scratch_names}
        s = SimpleNamespace(**self.states[i], **scratch)
        buf = np.empty_like(p) if self.decay == "l2" else None
        neg = np.empty_like(p) if self.maximize else None
        return h, s, buf, neg, pick(self.decay_value[p.dtype], sel), sel

    def _bind(self, b: _Block, worker: int) -> tuple:
        """``(s, buffer, negated)`` of block ``b`` in thread ``worker``: state and scratch
        views, the L2 buffer and the buffer of ``-g`` (None when unused)."""
        dtype = b.w.dtype
        views = self.scratch.get((worker, dtype, b.shape))
        if views is None:  # a thread added after construction (set_num_threads)
            self._allocate(worker, dtype)
            views = self.scratch[(worker, dtype, b.shape)]
        n = len(self.scratch_names)
        named = dict(zip(self.scratch_names, views[:n], strict=True))
        buf = views[n] if self.decay == "l2" else None
        neg = views[-1] if self.maximize else None
        s = b.s[worker] = (SimpleNamespace(**b.state, **named), buf, neg)
        return s

    def _allocate(self, worker: int, dtype) -> None:
        """The scratch arrays of one thread, as large as the largest block of ``dtype``, and
        their views shaped like each block (at construction: steps allocate nothing)."""
        shapes = {
            b.shape
            for p, layout in zip(self.params, self.layouts, strict=True)
            if layout is not None and p.dtype == dtype
            for b in layout
        }
        if not shapes:
            return
        n = max(int(np.prod(shape)) for shape in shapes)
        flat = [np.empty(n, dtype) for _ in range(self.n_buffers)]
        for shape in shapes:
            size = int(np.prod(shape))
            self.scratch[(worker, dtype, shape)] = [a[:size].reshape(shape) for a in flat]


# -- coefficients: cast to a dtype, selected for a block's runs -------------------------------
def cast(values: dict, dtype: np.dtype) -> dict:
    """Floats and float arrays rounded to ``dtype`` (as torch rounds its scalars), scalars as
    0-d arrays (NumPy takes them faster than Python floats); other values unchanged."""
    return {k: _cast(v, dtype) for k, v in values.items()}


def _cast(v, dtype: np.dtype):
    kind = type(v)
    if kind is float or kind is np.float64:
        return np.asarray(v, dtype=dtype)
    if kind is np.ndarray:
        return np.asarray(v, dtype=dtype) if v.dtype.kind == "f" else v
    if kind is bool or kind is str or v is None:
        return v
    if kind is tuple:
        return tuple(_cast(x, dtype) for x in v)
    if isinstance(v, np.ndarray):
        return np.asarray(v, dtype=dtype) if v.dtype.kind == "f" else v
    if isinstance(v, float | np.floating):
        return np.asarray(v, dtype=dtype)
    return v


def select(values: dict, sel) -> dict:
    """``(R,)`` arrays indexed by ``sel`` (a run, a ``(k, 1)`` column, ``(R, 1, ..., 1)``)."""
    return {k: pick(v, sel) for k, v in values.items()}


def pick(v, sel):
    if sel is None:
        return v
    if type(v) is np.ndarray:
        return v[sel] if v.ndim else v
    if type(v) is tuple:
        return tuple(pick(x, sel) for x in v)
    return v
