# realty — two commands: `make run` (set up and start) and `make test` (set up and pass every test).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: set up and start the product on its embedded defaults (terminal chat for now)
run: $(STAMP)
	$(BIN)/realty chat

## test: set up, then ruff, mypy (strict, src/) and the whole pytest suite
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

unit: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term:skip-covered

## bench: the parser/turn benchmark (prints a table)
bench: $(STAMP)
	$(BIN)/python benchmarks/parser.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage
