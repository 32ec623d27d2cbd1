# Backstrong: `make run` serves, `make test` checks everything. Both install first.
SHELL := /bin/bash

# The first Python >= 3.11 on PATH, unless PYTHON is given.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format typecheck pytest bench load faults migrate seed migration mutation clean install install-dev

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is required" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-mutation: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	@touch $@ $(VENV)/.installed $(VENV)/.installed-dev

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/backstrong migrate
	$(BIN)/backstrong seed
	$(BIN)/backstrong serve --host $(HOST) --port $(PORT)

migrate: install
	$(BIN)/backstrong migrate

seed: install
	$(BIN)/backstrong seed

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

# SQLite always; PostgreSQL too when TEST_DATABASE_URL is set, without tests/domain (pure
# rules that touch no database, so a second run proves nothing). One worker per core
# (pytest-xdist); each worker has a database of its own.
PYTEST_WORKERS ?= auto
pytest: install-dev
	TEST_DATABASE_URL= $(BIN)/python -m pytest -n $(PYTEST_WORKERS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --ignore=tests/domain; \
	fi

test: lint typecheck pytest

bench: install-dev
	$(BIN)/python -m bench
	$(BIN)/python -m bench.loop
	$(BIN)/python -m bench.rules
	$(BIN)/python -m bench.wearable

# Under fire, on PostgreSQL (see bench/README.md); faults runs its own cluster, as root.
load: install-dev
	$(BIN)/python -m bench.load

faults: install-dev
	$(BIN)/python -m bench.faults

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# make migration m="add sessions table"
migration: install-dev
	@test -n "$(m)" || { echo 'usage: make migration m="what changed"' >&2; exit 1; }
	$(BIN)/backstrong migrate
	$(BIN)/alembic revision --autogenerate -m "$(m)"

# Mutation testing of the rule modules ([tool.mutmut] in pyproject.toml) against
# tests/domain: at least 90% of the mutants must be killed. Not part of `make test`: it
# takes a while on 2 cores, so run it alone. `mutmut results` lists the survivors and
# `mutmut show NAME` shows one.
MUTATION_MIN ?= 90
mutation: $(VENV)/.installed-mutation
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(or $(JOBS),2) >/dev/null || true
	$(BIN)/mutmut export-cicd-stats
	@$(BIN)/mutmut results || true
	$(BIN)/python -m bench.mutation --goal $(MUTATION_MIN)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants
