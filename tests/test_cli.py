"""The ``optbench`` entry point: dispatch, help, and ``optbench list``."""

import json
import subprocess
import sys

import pytest

from optbench.benchmarks import cli
from optbench.optimizers import REGISTRY as OPTIMIZERS
from optbench.problems import REGISTRY as PROBLEMS


def test_every_command_has_a_module_with_configure_and_main():
    required = {"new": ["optimizer", "lion"]}  # its positional arguments
    for name in cli.COMMANDS:
        parser = cli.build_parser(name)
        args = parser.parse_args([name, *required.get(name, [])])
        assert callable(args._module.main), name


def test_top_level_help_imports_no_command_module():
    code = (
        "import sys; from optbench.benchmarks import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('pandas', 'matplotlib', 'optbench.benchmarks.cli.run')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_missing_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as excinfo:
        cli.main([])
    assert excinfo.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_list_prints_every_optimizer_and_problem(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in [*OPTIMIZERS, *PROBLEMS]:
        assert f"  {name} " in out


def test_list_json_gives_each_hyperparameter_default(capsys):
    assert cli.main(["list", "optimizers", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["optimizers"]
    assert set(listed) == set(OPTIMIZERS)
    assert listed["adam"]["arguments"]["lr"] == 1e-3
    assert listed["adam"]["arguments"]["betas"] == [0.9, 0.999]
    assert listed["momentum"]["arguments"]["momentum"] == 0.9
