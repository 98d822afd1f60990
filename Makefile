# Shortcuts for the README's commands. `make setup run` is the whole first screen.
PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: setup run test bench bench-memory clean
setup:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -e '.[dev]'

run:
	$(BIN)/dvc repro

test:
	$(BIN)/pytest

bench:
	$(BIN)/python benchmarks/bench.py

bench-memory:
	$(BIN)/python benchmarks/split_memory.py
