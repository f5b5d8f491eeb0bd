"""The processes that draw the report's figures (:class:`Renderer`), and drawing one figure.

This module imports only the standard library, so that the command line can start the workers
first: their imports of matplotlib and pandas then overlap everything the parent does.
"""

from __future__ import annotations

import importlib
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Job:
    """One figure to draw, saved as ``<name>.png``: the function ``draw`` names
    (``"module:function"``, imported where the figure is drawn, so the process that only plans
    the figures never imports matplotlib) called on ``args``."""

    name: str
    draw: str
    args: tuple


def draw_and_save(job: Job, directory: Path, svg: bool) -> tuple[str, float]:
    """Draw ``job`` and save it under ``directory``; ``(name, seconds)``."""
    from optbench.reports.drawing import save_figure

    start = time.perf_counter()
    save_figure(resolve(job.draw)(*job.args), directory, job.name, svg=svg)
    return job.name, time.perf_counter() - start


def resolve(target: str) -> Callable[..., Any]:
    """The function a ``"module:function"`` string names."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


class Renderer:
    """Draws and saves figures in ``jobs`` worker processes (in this process when 1)::

        renderer = Renderer(jobs=2)          # the workers start, and import, now
        renderer.start(todo, directory)      # each job is submitted as ``todo`` yields it
        ...                                  # the caller's own work, while they draw
        renderer.finish()                    # every figure saved (a worker's error raised)

    ``progress(done, total, name, seconds)`` is called as each figure is saved. Use it as a
    context manager (the workers stop on exit), or call :meth:`close`.
    """

    def __init__(self, jobs: int = 1):
        self.jobs = max(1, int(jobs))
        self.pool = None
        self.futures: list = []
        self._spawning = None
        if self.jobs > 1:  # spawning waits for the server's imports: not on the caller's time
            self._spawning = threading.Thread(target=self._spawn, name="optbench-renderer")
            self._spawning.start()

    def _spawn(self) -> None:
        from multiprocessing import get_all_start_methods, get_context

        method = "forkserver" if "forkserver" in get_all_start_methods() else "spawn"
        context = get_context(method)
        if method == "forkserver":  # imported once, by the server the workers fork from
            context.set_forkserver_preload(list(_DRAWING_MODULES))
        self.pool = ProcessPoolExecutor(self.jobs, mp_context=context, initializer=_worker_start)
        for _ in range(self.jobs):  # a worker is spawned per submission while none is idle
            self.pool.submit(_warm)

    def _ready(self) -> None:
        if self._spawning is not None:
            self._spawning.join()
            self._spawning = None

    def start(
        self,
        todo: Iterable[Job],
        directory: Path,
        *,
        svg: bool = False,
        progress: Callable[[int, int, str, float], None] | None = None,
    ) -> None:
        """Submit every job of ``todo`` to the workers as it comes (without workers: draw them
        all now)."""
        directory.mkdir(parents=True, exist_ok=True)
        report = progress or (lambda *_: None)
        self._ready()
        if self.pool is None:
            todo = list(todo)
            for done, job in enumerate(todo, 1):
                report(done, len(todo), *draw_and_save(job, directory, svg))
            return
        submitted = [self.pool.submit(draw_and_save, job, directory, svg) for job in todo]
        self.futures += submitted
        finished = []

        def saved(future) -> None:  # in the pool's thread, as each figure is saved
            if not future.exception():
                finished.append(future)
                report(len(finished), len(submitted), *future.result())

        for future in submitted:
            future.add_done_callback(saved)

    def finish(self) -> None:
        """Wait until every started figure is saved; raise the first error of a worker."""
        futures, self.futures = self.futures, []
        for future in futures:
            future.result()

    def close(self) -> None:
        self._ready()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _worker_start() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the workers already fill the cores, and idle BLAS threads that spin
    # waiting for work take cycles from the other workers.
    threadpool_limits(limits=1)  # holds for the process (it is not restored on collection)


_DRAWING_MODULES = ("optbench.reports.drawing", "optbench.reports.plots",
                    "optbench.reports.landscape", "optbench.reports.timing")  # fmt: skip


def _warm() -> None:
    """Import what drawing needs (in a worker, while the parent reads the store), unless the
    worker was forked from a server that has it already."""
    for module in _DRAWING_MODULES:
        importlib.import_module(module)
