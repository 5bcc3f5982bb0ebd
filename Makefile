# The two set-up commands of the README. Both create .venv on first use and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HALO_HOME ?= $(CURDIR)/.halo-demo

.PHONY: demo test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The main job on the bundled sample traces: no network, no API key needed.
demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	HALO_HOME=$(HALO_HOME) $(BIN)/halo-local analyze sample_traces/

# The README's "Every command's help" section, rewritten from the CLI (make test checks it is current).
readme: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/cog -r README.md

# The README's reference checked current, lint and strict type checks (configured in pyproject.toml),
# then the tests in parallel (pytest-xdist, one worker per core plus one: the workers wait on the
# processes and servers they start ~10% of the time, and on 2 cores three workers ran the suite in
# 215-217 s against 227-231 s for two), each test file kept on one worker so that its module fixtures
# are built once. The suite starts hundreds of halo-local processes: compileall
# first, so that none of them compiles the package again (with PYTHONDONTWRITEBYTECODE set, each would).
TEST_WORKERS ?= $(shell python3 -c 'import os; print(len(os.sched_getaffinity(0)) + 1)')

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,clickhouse]'
	$(BIN)/cog --check README.md
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m compileall -q halo_local
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile
