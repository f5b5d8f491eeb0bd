"""`optbench run --matrix modern`: every built-in optimizer on the default problems, and a
report that tells twelve methods apart."""

import tomllib

from optbench.benchmarks import matrix as mx
from optbench.benchmarks.cli import main as cli
from optbench.optimizers import REGISTRY
from optbench.reports.style import MARKED_ABOVE, markers, palette

SIX = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def test_the_modern_matrix_is_the_default_one_with_every_optimizer(capsys):
    assert cli(["run", "--matrix", "modern", "--print-config"]) == 0
    modern = tomllib.loads(capsys.readouterr().out)
    default = tomllib.loads(mx.builtin_source("default"))

    def names(tables):  # momentum and nesterov have a second table, on the quadratics
        return list(dict.fromkeys(t["name"] if isinstance(t, dict) else t.name for t in tables))

    assert names(modern["optimizers"]) == list(REGISTRY)
    assert modern["problems"] == default["problems"] and modern["seeds"] == default["seeds"]
    assert names(default["optimizers"]) == SIX  # the mission's six stay the default
    assert names(mx.load(builtin="modern").optimizers) == list(REGISTRY)


def test_run_help_lists_the_built_in_matrices(capsys):
    assert cli(["run", "--matrix", "modern", "--dry-run"]) == 0
    assert "8316 tuning runs in 176 batches" in capsys.readouterr().out
    try:
        cli(["run", "--help"])
    except SystemExit:
        pass
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the help text
    assert "--matrix {default,modern}" in out and "all twelve built-in optimizers" in out


def test_twelve_methods_get_distinct_colors_and_markers_six_get_lines_alone():
    colors, marks = palette(REGISTRY), markers(REGISTRY)
    assert len(set(colors.values())) == len(REGISTRY) == 12
    assert len(set(marks.values())) == 12 and None not in marks.values()
    assert set(markers(SIX).values()) == {None} and len(SIX) <= MARKED_ABOVE
    assert {m: palette(SIX)[m] for m in SIX} == {m: colors[m] for m in SIX}  # colours kept
