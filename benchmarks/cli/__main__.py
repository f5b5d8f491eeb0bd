"""``python -m optbench.benchmarks.cli``: the ``optbench`` command."""

import sys

from optbench.benchmarks.cli import main

if __name__ == "__main__":  # not when multiprocessing's spawn imports it again as __mp_main__
    sys.exit(main())
