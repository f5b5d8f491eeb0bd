# The two commands of the quick start: `make run` and `make test`.
# Each creates .venv (once) with the interpreter in $(PYTHON) and installs optbench into it.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench report wheel clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dask,parquet]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run          ## the default matrix, then the report
	$(BIN)/optbench run

test: $(VENV)/.installed-test        ## lint, then the test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(VENV)/.installed-run        ## time the dense backward pass and the optimizer steps
	$(BIN)/optbench bench

report: $(VENV)/.installed-run
	$(BIN)/optbench report

wheel: $(BIN)/python                 ## dist/optbench-*.whl: one top-level package, optbench/
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	$(BIN)/python -m zipfile -l dist/optbench-*.whl | awk 'NR > 1 {split($$1, p, "/"); print p[1]}' | sort -u

clean:
	rm -rf $(VENV) results .pytest_cache .benchmarks build dist *.egg-info
