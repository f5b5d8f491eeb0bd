"""The pytest-benchmark suites of ``optbench bench``, and how to run them.

Each ``bench_*.py`` file here is a suite (``dense``, ``gemm``, ``mlp``, ``optimizers``,
``sweep``); ``conftest.py`` holds their options, fixtures and the JSON post-processing
(:mod:`.derived`). :func:`run` executes suites in a fresh ``python -m pytest`` process whose
settings do not depend on any project configuration: a generated ini file, ``--rootdir`` this
folder, pytest's importlib import mode, no cache, a temporary working directory. The plain
``pytest`` of ``tests/`` never collects them (its ``testpaths`` is ``tests/``).

This module stays light (no NumPy, no pytest): the CLI imports it to parse its options.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

DIR = Path(__file__).resolve().parent
DEFAULT_SHAPES: tuple[tuple[int, int, int], ...] = (
    (64, 784, 256),
    (256, 1024, 1024),
    (1024, 512, 512),
    (4096, 256, 10),
)
DTYPE_CHOICES = {"float32": ("float32",), "float64": ("float64",), "both": ("float32", "float64")}
CLOCKS = {"wall": "time.perf_counter", "cpu": "time.thread_time"}
TIME_BUDGET = {False: ("0.5", "5"), True: ("0.05", "3")}  # quick -> (max_time s, min_rounds)
INI = """[pytest]
python_files = bench_*.py
python_classes =
python_functions = test_*
addopts =
markers =
    quick: cheap case run by `optbench bench --quick`
"""


def parse_shapes(text: str) -> list[tuple[int, int, int]]:
    """``"8,16,4 32,64,8"`` -> ``[(8, 16, 4), (32, 64, 8)]``; ValueError on anything else."""
    shapes = []
    for item in text.split():
        parts = item.split(",")
        try:
            dims = tuple(int(p) for p in parts)
        except ValueError:
            dims = ()
        if len(dims) != 3 or min(dims) < 1:
            raise ValueError(f"{item!r} is not 'm,n_in,n_out' (three positive integers)")
        shapes.append(dims)
    return shapes


def suite_files() -> list[Path]:
    return sorted(DIR.glob("bench_*.py"))


def suite_names() -> list[str]:
    return [p.stem.removeprefix("bench_") for p in suite_files()]


def select(names: list[str] | None) -> list[Path]:
    """The files of the suites ``names`` (all of them for None); ValueError naming unknowns."""
    files = suite_files()
    if not names:
        return files
    known = {p.stem.removeprefix("bench_"): p for p in files}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"--suites: unknown {unknown}; choose from {sorted(known)}")
    return [known[n] for n in names]


def run(
    files: list[Path],
    json_path: Path,
    *,
    quick: bool = False,
    dtype: str = "both",
    shapes: list[tuple[int, int, int]] = (),
    threads: int | None = None,
    clock: str = "wall",
    keyword: str | None = None,
) -> int:
    """Run ``files`` under pytest-benchmark, saving its JSON at ``json_path``; pytest's exit
    code. ``quick`` keeps the ``quick`` cases and a short time budget per case."""
    max_time, min_rounds = TIME_BUDGET[bool(quick)]
    with tempfile.TemporaryDirectory(prefix="optbench-bench-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text(INI)
        cmd = [sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(DIR)]
        cmd += ["-p", "no:cacheprovider", "--import-mode=importlib", "-q", *map(str, files)]
        cmd += ["--benchmark-only", f"--benchmark-json={json_path}", "--benchmark-disable-gc"]
        cmd += [f"--benchmark-max-time={max_time}", f"--benchmark-min-rounds={min_rounds}"]
        cmd.append(f"--benchmark-timer={CLOCKS[clock]}")
        cmd.append("--benchmark-quiet")  # its table is replaced by optbench's, read from the JSON
        cmd += [f"--optbench-dtype={dtype}", f"--optbench-shapes={format_shapes(shapes)}"]
        if threads:
            cmd.append(f"--optbench-threads={threads}")
        if quick:
            cmd += ["-m", "quick", "--optbench-quick"]
        if keyword:
            cmd += ["-k", keyword]
        return subprocess.run(cmd, cwd=tmp, check=False).returncode


def format_shapes(shapes) -> str:
    """The inverse of :func:`parse_shapes`."""
    return " ".join(",".join(map(str, s)) for s in shapes)
