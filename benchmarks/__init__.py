"""The command line, the harness that runs a matrix into the results store, and the timing suites.

==================  ===========================================================================
``cli/``            the ``optbench`` command, one module per subcommand: the only layer that
                    imports both the harness and :mod:`optbench.reports`
``matrix``          the TOML matrix, validated (``matrix_values``: grids and typed values)
``matrix_search``   a seeded quasi-random search over a declared space (``search = {trials}``)
``matrix_protocol`` held-out tuning seeds (``tuning = {seeds}``), an optimizer's ``problems``
``plan``            matrix -> runs (each identified by a hash of its configuration) -> batches
``tuning``          the tuning rule, shared with the report (imports nothing of optbench)
``protocol``        held-out tuning: choose on the stored tuning runs, plan the evaluation
``runner``          one batch of R runs, vectorized: the hot loop
``executors``       where batches run: this process, worker processes, a Dask cluster
``harness``         plan, skip what is stored, execute, store each batch (``run_matrix``)
``records``         a finished batch -> rows of the store
``schema``          the store's format (file, tables, columns, dtypes): with ``tuning``, all
                    that the reports import of the harness
``ceilings``        the memory and compute ceilings of every timing (suites and compare/)
``store``           writing the store: one transaction per batch, insert-if-absent
``environment``     what an invocation records of the machine and the software
``suites/``         the pytest-benchmark suites of ``optbench bench``, and how to run them
``compare/``        the same kernels timed against torch and JAX (separate environments)
==================  ===========================================================================
"""
