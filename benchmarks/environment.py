"""What an invocation records about the machine and the software it ran on."""

from __future__ import annotations

import datetime as dt
import os
import platform
import socket
import subprocess
from pathlib import Path

from optbench import __version__


def now() -> str:
    """UTC time, ISO 8601 with seconds (what the ``started``/``ended`` columns hold)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def metadata(argv: list[str]) -> dict:
    """Versions, host, CPU count and git commit, as the ``invocations`` columns."""
    import numpy as np

    return {
        "started": now(),
        "optbench_version": __version__,
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


def git_commit() -> str | None:
    """The commit of the optbench source tree when it is a git checkout (plus "-dirty")."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}-dirty" if dirty else head
