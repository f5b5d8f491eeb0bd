"""A plain per-run optimizer class, run as a batch: one instance per run.

Any class ``Cls(params, **hparams)`` whose ``step(grads)`` updates the arrays of ``params`` in
place (torch's shape) can be benchmarked beside optbench's own optimizers. The harness's batch
of R runs holds each parameter as one ``(R, *shape)`` array; :class:`PerRun` gives run r's
instance the views ``p[r]`` of those arrays (writeable, so in-place updates land in the batch)
and its own scalar hyperparameters, and steps the R instances one after the other.

That costs a Python loop over runs per step, where an ``optbench.optimizers.Optimizer``
subclass updates every run with one NumPy call per operation. On the default matrix (60 runs a
batch) a per-run Lion took 5 to 22 times the base's Lion's time on small problems, and about
the same on the MLPs, whose passes dominate (the README's "Benchmark your own optimizer").
"""

from __future__ import annotations

import numpy as np


class PluginStepError(RuntimeError):
    """A per-run optimizer whose ``step`` does not update its parameters in place."""


class PerRun:
    """R instances of ``cls``, instance r on run r's views of ``params``.

    ``hparams``: each value a scalar, an ``(R,)`` array, or a tuple of those (a pair such as
    ``betas``); instance r receives Python scalars (``float(v[r])``), tuples of them, and the
    other values as they are.
    """

    def __init__(self, cls, params: list[np.ndarray], **hparams):
        R = params[0].shape[0]
        self.cls = cls
        self.params = params
        self.instances = [
            cls([p[r] for p in params], **{k: _item(v, r) for k, v in hparams.items()})
            for r in range(R)
        ]
        self._checked = False

    def step(self, grads: list[np.ndarray]) -> None:
        """One ``step`` of every instance, each with its run's gradient views."""
        before = None if self._checked else [p.copy() for p in self.params]
        for r, opt in enumerate(self.instances):
            opt.step([g[r] for g in grads])
        if before is not None:
            self._checked = True
            self._check_moved(before, grads)

    def _check_moved(self, before, grads) -> None:
        """After the first step: some parameter changed, unless every gradient was zero."""
        pairs = zip(before, self.params, strict=True)
        moved = any(not np.array_equal(b, p, equal_nan=True) for b, p in pairs)
        if not moved and any(np.any(g != 0) for g in grads):
            raise PluginStepError(
                f"{self.cls.__name__}.step() left every parameter unchanged after a nonzero "
                "gradient: it must update the arrays of params in place (w -= ..., "
                "np.add(w, u, out=w)), not rebind them (w = w - ...)"
            )


def _item(value, r: int):
    if isinstance(value, np.ndarray):
        return value[r].item() if value.ndim else value.item()
    if isinstance(value, tuple):
        return tuple(_item(v, r) for v in value)
    return value
