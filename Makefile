# Two commands set everything up: `make run` and `make test`. The virtualenv is made on first use and
# filled from the lock files in requirements/ (exact versions, checked hashes): `make run` installs what
# the bot needs to run, `make test` adds the test, lint and type-check tools. `make lock` refreshes both
# lock files after a change to the dependencies in pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP     := $(VENV)/.dev-installed
UV_VERSION    := 0.13.8
LOCK_FLAGS    := --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" --quiet
SOURCES       := bot cogs tests bench

.PHONY: run test lint format typecheck unit stress bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The compiled part (setup.py) is rebuilt when its source changes.
$(RUNTIME_STAMP): requirements/runtime.txt pyproject.toml $(wildcard setup.py bot/*/*.c) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/runtime.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(DEV_STAMP): requirements/dev.txt $(RUNTIME_STAMP)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	touch $@

run: $(RUNTIME_STAMP)
	$(BIN)/paperbot start

lint: $(DEV_STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

format: $(DEV_STAMP)
	$(BIN)/ruff format $(SOURCES)
	$(BIN)/ruff check --fix $(SOURCES)

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

unit: $(DEV_STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

# Only the property tests (pytest -m hypothesis), each with ten times its examples and no deadline
# (HYPOTHESIS_PROFILE=stress, tests/conftest.py), at the lowest CPU priority. Not part of `make test`:
# run it after changing a parser, a strategy or a rule the emulator checks, with a few seeds.
# `make stress SEED=3 STRESS_TESTS=tests/domain` replays one seed over one folder.
STRESS_TESTS ?= tests
stress: $(DEV_STAMP)
	HYPOTHESIS_PROFILE=stress nice -n 19 $(BIN)/pytest -q -m hypothesis $(if $(SEED),--hypothesis-seed=$(SEED)) $(STRESS_TESTS)

bench: $(DEV_STAMP)
	$(BIN)/python -m bench all

# Re-resolve both lock files from pyproject.toml (newest versions its ranges allow), for every
# platform and Python >= 3.11. Review the diff, then `make test`.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements/runtime.txt
	$(BIN)/uv pip compile pyproject.toml --extra test $(LOCK_FLAGS) -o requirements/dev.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
