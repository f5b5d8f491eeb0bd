"""What a run records of the software: optbench's git commit only from optbench's own checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import optbench
from optbench.benchmarks.environment import git_commit, metadata

ROOT = Path(optbench.__file__).resolve().parent
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(cwd: Path, *args: str) -> str:
    identity = ["-c", "user.name=optbench tests", "-c", "user.email=tests@optbench.invalid"]
    done = subprocess.run(["git", *identity, *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def user_repository(tmp_path: Path) -> tuple[Path, str]:
    """A user's git repository with one commit; returns it and its HEAD."""
    repo = tmp_path / "research"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "notes.md").write_text("my experiments\n")
    git(repo, "add", "notes.md")
    git(repo, "commit", "-q", "-m", "first")
    return repo, git(repo, "rev-parse", "HEAD")


def test_the_top_of_a_work_tree_records_its_head_and_a_folder_inside_it_records_none(tmp_path):
    repo, head = user_repository(tmp_path)
    assert git_commit(repo) == head
    (repo / "notes.md").write_text("edited\n")
    assert git_commit(repo) == f"{head}-dirty"
    inside = repo / ".venv" / "lib" / "site-packages" / "optbench"
    inside.mkdir(parents=True)
    assert git_commit(inside) is None
    assert git_commit(tmp_path / "nowhere") is None


def test_optbench_installed_inside_a_users_repository_records_no_commit(tmp_path):
    """The issue's case: optbench in ``.venv`` inside the user's checkout recorded the user's
    HEAD as its own commit."""
    repo, head = user_repository(tmp_path)
    site = repo / ".venv" / "lib" / "python3" / "site-packages"
    ignore = shutil.ignore_patterns(".*", "tests", "docs", "results", "*.egg-info", "__pycache__")
    shutil.copytree(ROOT, site / "optbench", ignore=ignore)
    code = (
        "import optbench; from optbench.benchmarks.environment import git_commit, metadata\n"
        "print(optbench.__file__); print(git_commit()); print(metadata([])['git_commit'])"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    where, commit, recorded = done.stdout.split()
    assert Path(where).is_relative_to(site)  # the copy ran, not the checkout
    assert commit == recorded == "None" != head


def test_optbench_run_from_its_own_checkout_records_its_head():
    if not (ROOT / ".git").exists():
        pytest.skip("optbench does not run from a git checkout here")
    head = git(ROOT, "rev-parse", "HEAD")
    assert git_commit() in (head, f"{head}-dirty")
    assert metadata([])["git_commit"] == git_commit()
