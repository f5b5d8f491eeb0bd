"""What an invocation records about the machine and the software it ran on."""

from __future__ import annotations

import datetime as dt
import os
import platform
import socket
import subprocess
from pathlib import Path

import optbench


def now() -> str:
    """UTC time, ISO 8601 with seconds (what the ``started``/``ended`` columns hold)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def metadata(argv: list[str]) -> dict:
    """Versions, host, CPU count and git commit, as the ``invocations`` columns."""
    import numpy as np

    return {
        "started": now(),
        "optbench_version": optbench.__version__,
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "blas": blas(),
        "host": socket.gethostname(),
        "cpu_count": os.cpu_count(),
        "git_commit": git_commit(),
        "argv": " ".join(["optbench", *argv]),
    }


def blas() -> str:
    """``"openblas 0.3.31 (Haswell, 2 threads)"``, from threadpoolctl; "" if none is found."""
    from threadpoolctl import threadpool_info

    parts = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
        f"{i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return "; ".join(parts)


def git_commit(root: Path | None = None) -> str | None:
    """optbench's own commit (plus ``"-dirty"``) when it runs from its own checkout, else None.

    ``root`` is the package's folder (optbench's repository root in a checkout, where the
    editable install of ``make run`` points). It counts as a checkout only when it is itself
    the top of a git work tree: optbench installed under a user's repository (``.venv`` inside
    it) sits in a git work tree too, but that tree and its commit are the user's, so nothing is
    recorded then, and the installed version (``optbench_version``) says what ran.
    """
    root = (Path(optbench.__file__).parent if root is None else Path(root)).resolve()

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip

    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != root:
            return None
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}-dirty" if dirty else head


#: The vector extensions worth naming, in /proc/cpuinfo's spelling -> display name.
VECTOR_FLAGS = {
    "sse4_2": "SSE4.2", "avx": "AVX", "avx2": "AVX2", "fma": "FMA", "avx512f": "AVX-512F",
    "avx512dq": "AVX-512DQ", "avx512bw": "AVX-512BW", "avx512vl": "AVX-512VL",
    "avx512_vnni": "AVX-512VNNI", "avx512_bf16": "AVX-512BF16", "avx512_fp16": "AVX-512FP16",
    "amx_tile": "AMX", "neon": "NEON", "asimd": "ASIMD", "sve": "SVE",
}  # fmt: skip


def cpu_info(cpuinfo: str | None = None) -> dict:
    """``{"model", "vector_extensions", "cores", "logical_cpus", "usable_cpus"}`` of this
    machine, from ``/proc/cpuinfo`` (its text may be given) where it exists: the model name,
    the flags of :data:`VECTOR_FLAGS` it lists, the physical cores (distinct physical id and
    core id pairs); elsewhere the platform's processor name and no extensions."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields: dict[str, str] = {}
    cores: set[tuple[str, str]] = set()
    for block in cpuinfo.split("\n\n"):
        entry = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                entry[key.strip()] = value.strip()
        if "core id" in entry:
            cores.add((entry.get("physical id", "0"), entry["core id"]))
        for key, value in entry.items():
            fields.setdefault(key, value)
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "model": fields.get("model name") or fields.get("Model") or platform.processor() or "",
        "vector_extensions": [name for flag, name in VECTOR_FLAGS.items() if flag in flags],
        "cores": len(cores) or os.cpu_count(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
    }
