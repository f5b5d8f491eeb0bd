"""The base class shared by the six optimizers: parameters, state, validation, step counter.

A subclass contributes only

- ``CONVENTIONS`` and ``PRESETS`` (finer options each convention selects),
- ``_coefficients(t)``: the float64 coefficients of step ``t`` (scalars or ``(R,)`` arrays),
- ``_state_init()``: the names and initial values of its per-parameter state arrays,
- ``_update(w, g, st, s, c)``: the update of one block, written with ``_primitives``.

The base validates everything before any work, allocates state and scratch once, and runs
``_update`` block by block (``_blocks.py``), so a step allocates nothing of a parameter's size.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import _blocks
from . import _validation as check


class Optimizer:
    """Base of the optimizers; see the subclasses for the update rules."""

    CONVENTIONS: ClassVar[tuple[str, ...]] = ("torch",)
    PRESETS: ClassVar[dict[str, dict]] = {"torch": {}}
    #: Scratch arrays one block needs.
    N_SCRATCH = 2

    def __init__(self, params, hparams: dict, options: dict):
        self.hparams = dict(hparams)
        self.options = dict(options)
        self.R = check.runs(self.hparams)
        self.params = check.params(params, self.R, self.hparams)
        self.step_count = 0
        self.state = [self._new_state(p) for p in self.params]
        self._static = {dt: self._cast_static(dt) for dt in check.FLOAT_DTYPES}
        self._layout = [self._lay_out(i) for i in range(len(self.params))]
        self._scratch: dict = {}
        for dtype in {p.dtype for p in self.params}:
            for worker in range(_blocks.get_num_threads()):
                self._allocate_scratch(worker, dtype)

    # -- construction helpers -------------------------------------------------------------
    @classmethod
    def _resolve(cls, convention: str, **options) -> dict:
        """The finer options: the given ones, the rest from the convention's preset."""
        check.choice("convention", convention, cls.CONVENTIONS)
        preset = cls.PRESETS[convention]
        resolved = {k: (preset[k] if v is None else v) for k, v in options.items()}
        return {"convention": convention, **resolved}

    def _state_init(self) -> dict:
        """State name -> initial value (float or ``(R,)`` array); override."""
        return {}

    def _new_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        state = {}
        for name, value in self._state_init().items():
            arr = np.empty_like(p)  # the parameter's memory order (F-ordered (R, d) too)
            arr[...] = self._column(value, p.ndim)
            state[name] = arr
        return state

    @staticmethod
    def _column(value, ndim: int):
        """An ``(R,)`` array shaped to broadcast along axis 0 of an ``ndim``-array."""
        if isinstance(value, np.ndarray):
            return value.reshape(value.shape + (1,) * (ndim - 1))
        return value

    def _lay_out(self, i: int):
        """Blocks and their views of parameter ``i`` (None: not C-contiguous, update whole)."""
        p = self.params[i]
        arrays = [p, *self.state[i].values()]
        if not all(a.flags.c_contiguous for a in arrays) or p.size == 0:
            return None
        rows = self.R if self.R is not None else 1
        blocks = _blocks.plan(p.size, rows, self.R is not None, _blocks.chunk_elements(p.dtype))
        p2 = p.reshape(rows, -1)
        st2 = {k: v.reshape(rows, -1) for k, v in self.state[i].items()}
        return [(b, p2[b.index], {k: v[b.index] for k, v in st2.items()}) for b in blocks]

    # -- coefficients -----------------------------------------------------------------------
    def _coefficients(self, t: int | None) -> dict:
        """Float64 coefficients: static ones for ``t=None``, else those of step ``t``."""
        return {}

    def _cast_static(self, dtype) -> dict:
        """The static coefficients in ``dtype``, with what ``_derive`` computes from them."""
        c = self._cast(self._coefficients(None), dtype)
        c.update(self._derive(c))
        return c

    def _derive(self, c: dict) -> dict:
        """Values derived once from the dtype-cast static coefficients ``c``; override."""
        return {}

    @staticmethod
    def _cast(coefs: dict, dtype) -> dict:
        """Round float64 coefficients to the parameter dtype, as torch does for its scalars.

        Scalars become 0-d arrays: NumPy takes them in a ufunc call faster than scalars.
        """
        dtype = np.dtype(dtype)
        out = {}
        for k, v in coefs.items():
            if isinstance(v, np.ndarray | float):
                out[k] = np.asarray(v, dtype=dtype)
            else:
                out[k] = v
        return out

    # -- the step -----------------------------------------------------------------------------
    def step(self, grads) -> None:
        """One update of every parameter in place, from ``grads`` (read during the call only)."""
        grads = check.grads(grads, self.params)
        self.step_count += 1
        per_step = self._coefficients(self.step_count)
        casts = {}
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if p.dtype not in casts:
                casts[p.dtype] = self._cast(per_step, p.dtype)
            self._step_param(i, g, casts[p.dtype])

    def _step_param(self, i: int, g: np.ndarray, per_step: dict) -> None:
        p, layout = self.params[i], self._layout[i]
        if layout is None or not g.flags.c_contiguous:
            s = self._whole_scratch(i)
            sel = (slice(None),) + (None,) * (p.ndim - 1) if self.R is not None else None
            static = self._static_selected(p.dtype, p.ndim, sel)
            c = {**static, **self._select(per_step, sel)}
            self._update(p, g, self.state[i], s, c)
            return
        c = {**self._static[p.dtype], **per_step}
        g2 = g.reshape(self.R or 1, -1)

        def task(items, worker):
            for b, pv, stv in items:
                s = self._scratch_views(worker, p.dtype, b.shape)
                cb = c if b.sel is None else self._select(c, b.sel)
                self._update(pv, g2[b.index], stv, s, cb)

        _blocks.run_split(task, layout, p.size)

    def _static_selected(self, dtype, ndim: int, sel) -> dict:
        """The static coefficients of ``dtype`` with ``sel`` (the selection for ``ndim``-arrays)
        applied, cached: the whole-array path then selects only the per-step ones each step."""
        key = ("static", dtype, ndim)
        c = self._scratch.get(key)
        if c is None:
            c = self._scratch[key] = self._select(self._static[dtype], sel)
        return c

    @staticmethod
    def _select(c: dict, sel) -> dict:
        if sel is None:
            return c
        return {k: (v[sel] if isinstance(v, np.ndarray) and v.ndim else v) for k, v in c.items()}

    def _scratch_views(self, worker: int, dtype, shape: tuple) -> list[np.ndarray]:
        views = self._scratch.get((worker, dtype, shape))
        if views is None:  # a thread added after construction (set_num_threads)
            self._allocate_scratch(worker, dtype)
            views = self._scratch[(worker, dtype, shape)]
        return views

    def _allocate_scratch(self, worker: int, dtype) -> None:
        """``N_SCRATCH`` arrays as large as the largest block of ``dtype``, and their views
        shaped like each block, for one thread (done at construction: steps allocate nothing)."""
        shapes = {
            b.shape
            for p, layout in zip(self.params, self._layout, strict=True)
            if layout is not None and p.dtype == dtype
            for b, _, _ in layout
        }
        if not shapes:
            return
        n = max(int(np.prod(shape)) for shape in shapes)
        flat = [np.empty(n, dtype) for _ in range(self.N_SCRATCH)]
        for shape in shapes:
            size = int(np.prod(shape))
            self._scratch[(worker, dtype, shape)] = [a[:size].reshape(shape) for a in flat]

    def _whole_scratch(self, i: int) -> list[np.ndarray]:
        key = ("whole", i)
        if key not in self._scratch:
            p = self.params[i]
            self._scratch[key] = [np.empty_like(p) for _ in range(self.N_SCRATCH)]
        return self._scratch[key]

    def _update(self, w, g, st, s, c) -> None:
        raise NotImplementedError

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"step": int, "state": [{name: array}, ...], "hparams": {...}, "options": {...}}``.

        Arrays are copies; loading the dict into an optimizer built with the same arguments
        on the same parameter values continues the exact same sequence of iterates.
        """
        return {
            "step": self.step_count,
            "state": [{k: v.copy() for k, v in st.items()} for st in self.state],
            "hparams": {
                k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.hparams.items()
            },
            "options": dict(self.options),
        }

    def load_state_dict(self, d: dict) -> None:
        """Copy the step count and state arrays of ``d`` into this optimizer's buffers.

        Hyperparameters are not loaded: they stay those given at construction (``d`` carries
        them under ``"hparams"`` and ``"options"`` for the record).
        Raises ``ValueError`` if the state does not fit, before changing anything.
        """
        if not isinstance(d, dict) or "step" not in d or "state" not in d:
            raise ValueError("state dict must have keys 'step' and 'state'")
        step, states = d["step"], d["state"]
        if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
            raise ValueError(f"state dict 'step' must be an int >= 0, got {step!r}")
        if len(states) != len(self.state):
            raise ValueError(f"state dict holds {len(states)} states, expected {len(self.state)}")
        for i, (mine, theirs) in enumerate(zip(self.state, states, strict=True)):
            if set(mine) != set(theirs):
                raise ValueError(f"state[{i}] must have keys {sorted(mine)}, got {sorted(theirs)}")
            for k, v in mine.items():
                t = np.asarray(theirs[k])
                if t.shape != v.shape or t.dtype != v.dtype:
                    raise ValueError(
                        f"state[{i}][{k!r}] must have shape {v.shape} and dtype {v.dtype}, "
                        f"got {t.shape} {t.dtype}"
                    )
        for mine, theirs in zip(self.state, states, strict=True):
            for k, v in mine.items():
                np.copyto(v, theirs[k])
        self.step_count = int(step)

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v!r}" for k, v in {**self.hparams, **self.options}.items())
        shapes = ", ".join(str(p.shape) for p in self.params)
        return f"{type(self).__name__}([{shapes}], {hp})"
