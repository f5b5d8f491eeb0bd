"""One top-level package, ``optbench``: the bare folder names belong to the user.

The repository root is the package (``package-dir = {"optbench" = "."}``), so these tests run
optbench from folders that hold packages of their own named ``optimizers``, ``problems``,
``benchmarks`` and ``reports`` that raise on import: any bare import left in optbench, at the
top of a module, inside a function, in a worker process, would fail here.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import optbench

ROOT = Path(optbench.__file__).resolve().parent
BARE = ("optimizers", "problems", "benchmarks", "reports")
TINY = """
seeds = [0, 1]
budget = { steps = 30 }
[[optimizers]]
name = "sgd"
lr = [0.01, 0.1]
[[optimizers]]
name = "adam"
lr = [0.01]
[[problems]]
name = "rosenbrock"
dim = 2
[[problems]]
name = "quadratic"
dim = 5
condition_number = 10.0
"""


def shadowed_folder(tmp_path: Path) -> Path:
    """A working directory with the user's own packages of the four bare names. Each one, if
    imported, notes it in ``imported.txt`` (an ImportError can be swallowed, e.g. by
    multiprocessing's preloading) and raises."""
    for name in BARE:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(
            f"open({str(tmp_path / 'imported.txt')!r}, 'a').write({name!r} + '\\n')\n"
            f"raise ImportError('the user\\'s own {name!r} package was imported')\n"
        )
    return tmp_path


def imported(folder: Path) -> list[str]:
    """The bare-named packages of ``shadowed_folder`` that something imported."""
    marks = folder / "imported.txt"
    return marks.read_text().split() if marks.exists() else []


def python(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_readme_imports_work_next_to_packages_of_the_bare_names(tmp_path):
    cwd = shadowed_folder(tmp_path)
    code = (
        "from optbench.reports import load_results, build_report\n"
        "from optbench.optimizers import Adam\n"
        "from optbench.problems import Rosenbrock\n"
        "import optbench.benchmarks.cli, optbench.reports.build, optbench.reports.timing\n"
        "print(Adam.__module__, load_results.__module__)"
    )
    done = python(["-c", code], cwd)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["optbench.optimizers.adam", "optbench.reports.load"]
    assert imported(cwd) == []


@pytest.mark.slow
def test_run_with_workers_and_report_next_to_packages_of_the_bare_names(tmp_path):
    cwd = shadowed_folder(tmp_path)
    (cwd / "tiny.toml").write_text(TINY)
    cli = ["-m", "optbench.benchmarks.cli"]
    run = python([*cli, "run", "--config", "tiny.toml", "--out", "res", "--jobs", "2"], cwd)
    assert run.returncode == 0, run.stderr
    assert "12 runs in 4 batches" in run.stdout and (cwd / "res" / "report.html").is_file()
    listing = python([*cli, "list", "optimizers"], cwd)
    assert listing.returncode == 0 and "  adam " in listing.stdout, listing.stderr
    export = python([*cli, "export", "--out", "res"], cwd)
    assert export.returncode == 0 and (cwd / "res" / "export" / "runs.csv").is_file()
    assert imported(cwd) == []


def test_import_optbench_is_light_and_gives_the_one_version():
    code = "import sys, optbench; print(optbench.__version__, 'numpy' in sys.modules)"
    done = python(["-c", code], ROOT.parent)
    assert done.stdout.split() == [optbench.__version__, "False"], done.stderr
    assert importlib.metadata.version("optbench") == optbench.__version__
    cli = python(["-m", "optbench.benchmarks.cli", "--version"], ROOT.parent)
    assert cli.stdout.strip() == f"optbench {optbench.__version__}"


def test_the_package_root_holds_no_python_file_but_its_init():
    """Every ``*.py`` beside ``__init__.py`` would ship as a module ``optbench.<name>``."""
    assert sorted(p.name for p in ROOT.glob("*.py")) == ["__init__.py"]


@pytest.mark.slow
def test_the_wheel_installs_exactly_one_top_level_package(tmp_path):
    """``pip wheel --no-deps .`` on a copy of the tracked tree: one top-level entry, optbench/."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout of optbench (to copy its tracked files)")
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.decode()
    source = tmp_path / "src"
    for name in filter(None, files.split("\0")):
        if (ROOT / name).is_file():  # a tracked file deleted in the work tree is not copied
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    done = python(
        ["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", "dist", "."],
        source,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = (source / "dist").glob("optbench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"optbench", f"optbench-{optbench.__version__}.dist-info"}
    packages = {n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}
    assert {f"optbench/{name}" for name in BARE} <= packages
    assert "optbench/problems/data/digits.npz" in names
    assert "optbench/benchmarks/default_matrix.toml" in names
    assert not any(n.startswith(("optbench/tests", "optbench/docs")) for n in names)
