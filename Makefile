# Two commands: `make run` installs and starts vigil; `make test` installs and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[gesture]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,gesture,objects-large,clip]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/vigil serve

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check vigil tests benchmarks

typecheck: install-test
	$(BIN)/mypy

test: install-test lint typecheck
	sh scripts/ensure-postgres.sh
	sh scripts/ensure-chromium.sh
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
