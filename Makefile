# Two commands do all the set-up on a fresh machine (see README):
#   make demo   - install into .venv, build the Chaoyang demo database, run an optimization
#   make test   - install into .venv (with test extras), run the gates (make lint), then the whole
#                 suite (SQLite and a PostgreSQL server the tests start themselves)
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# One pytest worker per core; a test file stays on one worker (its module fixtures, e.g. one live
# server or browser per file, are built once). PYTEST_PARALLEL= runs the suite in one process.
PYTEST_PARALLEL ?= -n auto --dist loadfile

.PHONY: install demo lint test bench bench-deps serve

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/matcher demo

# The gates (configured in pyproject.toml): lint and format over the whole tree, types over
# app/, bench/, migrations/. Any finding fails the target, and with it `make test` and CI.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	bash scripts/ensure-test-deps
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_PARALLEL)

bench: install
	$(BIN)/python -m bench

# The async drivers `python -m bench drivers` compares against (the optional `bench` extra).
bench-deps: install
	$(BIN)/pip install -q -e '.[test,bench]'

serve: install
	$(BIN)/matcher serve
