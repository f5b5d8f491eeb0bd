"""optbench: a benchmark suite that compares gradient-descent optimizers, in pure NumPy.

The distribution installs this one package. ``pyproject.toml`` maps it to the root of the
repository, so that its sub-packages are the folders beside this file::

    optbench.optimizers   optimizers/   the optimizers, their public base and a name registry
    optbench.problems     problems/     test functions, quadratics, the softmax MLP and its data
    optbench.benchmarks   benchmarks/   the CLI, the harness and its results store, the timing
                                        suites, the torch and JAX comparisons
    optbench.reports      reports/      results store -> DataFrames -> tables, figures, report

Always import the sub-packages by their full name (``from optbench.optimizers import Adam``):
the bare names ``optimizers``, ``reports`` ... belong to the user. ``import optbench`` imports
nothing else, so that the command line starts fast.
"""

__version__ = "0.1.0"
