"""Where batches execute: in this process, in local worker processes, or on a Dask cluster.

Every executor maps an iterator of :class:`~optbench.benchmarks.plan.BatchSpec` to an iterator of
:class:`~optbench.benchmarks.runner.BatchResult`, in completion order; a batch whose code raised
(a user's optimizer, say) comes back as a :class:`BatchFailure` instead, and the others go on.
Specs are pulled lazily, one per free worker, so the caller can drop runs that another
invocation finished meanwhile. Workers only compute and return results; the parent process
alone writes the store.
"""

from __future__ import annotations

import signal
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing import connection, get_context

from .plan import BatchSpec
from .plugins import describe_error
from .runner import BatchResult, run_batch

# Batched problems multiply many small matrices: one BLAS thread per worker is fastest, and
# threaded BLAS on busy cores is pathological (measured: a digits-MLP evaluation took 0.04 s
# with one thread, 1.3 s with two on a loaded 2-core machine). Parallelism comes from --jobs.
BLAS_THREADS = 1
DASK_CONNECT_TIMEOUT = "20s"


class WorkerError(RuntimeError):
    """A worker died, or the cluster is unreachable: the invocation cannot go on."""


@dataclass
class BatchFailure:
    """A batch whose code raised: ``error`` is one line (the user's file and line first),
    ``traceback`` the whole of it."""

    spec: BatchSpec
    error: str
    traceback: str

    @property
    def label(self) -> str:
        n = self.spec.size
        return f"{_label(self.spec)}, {n} run{'s' if n != 1 else ''}"

    @classmethod
    def of(cls, spec: BatchSpec, exc: BaseException) -> BatchFailure:
        return cls(spec, describe_error(exc), traceback.format_exc())


def serial(specs: Iterator[BatchSpec]) -> Iterator[BatchResult | BatchFailure]:
    """Run each batch here, one after the other (``--jobs 1``), with one BLAS thread."""
    for spec in specs:
        try:
            result = run_one_thread(spec)
        except Exception as exc:
            result = BatchFailure.of(spec, exc)
        yield result


def run_one_thread(spec: BatchSpec) -> BatchResult:
    """``run_batch`` with BLAS limited to ``BLAS_THREADS`` threads."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=BLAS_THREADS):
        return run_batch(spec)


def local_processes(
    specs: Iterator[BatchSpec], jobs: int, salvage: list | None = None
) -> Iterator[BatchResult]:
    """Run batches in ``jobs`` worker processes; closing the iterator stops the workers.

    Workers start from a clean fork server (no inherited signal handlers, threads, pipes or
    database handles). They ignore SIGINT: on Ctrl-C the parent decides (it stops them, then
    reports what the store kept). Results that workers had already sent but the parent had not
    read when it stopped them are appended to ``salvage``, for the caller to store. A worker
    whose parent dies sees its pipe close and exits after at most its current batch. A worker
    that dies mid-batch raises :class:`WorkerError`.
    """
    ctx = get_context("forkserver" if "forkserver" in _methods() else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(
            ["optbench.benchmarks.runner", "optbench.optimizers", "optbench.problems"]
        )
    workers = []
    try:
        for _ in range(jobs):
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(target=_work, args=(child_end, BLAS_THREADS), daemon=True)
            proc.start()
            child_end.close()
            workers.append((proc, parent_end))
        yield from _dispatch(specs, workers)
    finally:
        _stop(workers, salvage)


def _stop(workers: list, salvage: list | None = None) -> None:
    """Keep finished results still in the pipes (into ``salvage``), close the pipes (idle
    workers exit), terminate busy workers, kill what still lingers."""
    for proc, conn in workers:
        if salvage is not None:
            salvage.extend(_sent_result(conn))
        conn.close()
        if proc.is_alive():
            proc.terminate()
    for proc, _ in workers:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()


def _dispatch(specs: Iterator[BatchSpec], workers: list) -> Iterator[BatchResult]:
    idle = list(range(len(workers)))
    busy: dict[int, BatchSpec] = {}
    exhausted = False
    while True:
        while idle and not exhausted:
            spec = next(specs, None)
            if spec is None:
                exhausted = True
                break
            i = idle.pop()
            workers[i][1].send(spec)
            busy[i] = spec
        if not busy:
            return
        waiting = {workers[i][1]: i for i in busy} | {workers[i][0].sentinel: i for i in busy}
        for ready in connection.wait(list(waiting)):
            i = waiting[ready]
            if i not in busy:
                continue
            proc, conn = workers[i]
            if not conn.poll():
                raise WorkerError(f"worker {proc.pid} died (exit code {proc.exitcode})")
            kind, payload = conn.recv()
            del busy[i]
            idle.append(i)
            yield BatchFailure(*payload) if kind == "error" else payload


def _sent_result(conn) -> list[BatchResult | BatchFailure]:
    """The result a worker has sent on ``conn`` and nobody read yet ([] if none)."""
    try:
        if conn.poll():
            kind, payload = conn.recv()
            return [BatchFailure(*payload) if kind == "error" else payload]
    except (EOFError, OSError):
        pass
    return []


def _label(spec: BatchSpec) -> str:
    convention = f" ({spec.convention})" if spec.convention else ""
    return f"{spec.optimizer}{convention} on {spec.problem_name}"


def _work(conn, threads: int) -> None:
    """Worker loop: receive a spec, send back ("ok", result) or ("error", (spec, error line,
    traceback)).

    Returns when the parent closes its end of the pipe (or dies).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        while True:
            try:
                spec = conn.recv()
            except (EOFError, OSError):
                return
            try:
                message = ("ok", run_batch(spec))
            except Exception as exc:
                failure = BatchFailure.of(spec, exc)
                message = ("error", (spec, failure.error, failure.traceback))
            try:
                conn.send(message)
            except OSError:
                return


def dask_cluster(specs: Iterator[BatchSpec], address: str) -> Iterator[BatchResult]:
    """Run batches on the Dask cluster at ``address`` (needs the ``dask`` extra installed)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise WorkerError(
            "--scheduler needs dask.distributed: pip install 'optbench[dask]'"
        ) from None
    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
    except OSError as exc:
        raise WorkerError(f"cannot reach the dask scheduler at {address}: {exc}") from None
    try:
        slots = max(2 * sum(client.nthreads().values()), 2)
        pending = as_completed()
        submitted = {}

        def submit(spec):
            future = client.submit(run_one_thread, spec, pure=False)
            submitted[future.key] = spec
            pending.add(future)

        for _ in range(slots):
            spec = next(specs, None)
            if spec is None:
                break
            submit(spec)
        for future in pending:
            spec = submitted.pop(future.key)
            try:
                result = future.result()
            except Exception as exc:  # raised by the batch's code, re-raised here by dask
                result = BatchFailure.of(spec, exc)
            future.release()
            yield result
            spec = next(specs, None)
            if spec is not None:
                submit(spec)
    finally:
        client.close()


def _methods() -> list[str]:
    from multiprocessing import get_all_start_methods

    return get_all_start_methods()
