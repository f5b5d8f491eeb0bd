"""``python -m optbench.benchmarks.cli``: the ``optbench`` command."""

import sys

from optbench.benchmarks.cli import main

sys.exit(main())
