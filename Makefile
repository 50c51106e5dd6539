# pbc: the two commands a new user types are `make demo` and `make test`.
# Each bootstraps what it needs on a fresh machine: a pinned uv in .tools/, then the locked virtual environment.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.pbc-synced
PBC := $(VENV)/bin/pbc
ASSETS := src/pbc/web/static/vendor/.copied

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_LINK_MODE := copy

.PHONY: help demo test lint format bench clean setup java chromium

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	@echo "==> bootstrapping uv $(UV_VERSION) into $(TOOLS)/"
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	@echo "==> installing pbc and its locked dependencies into $(VENV)/"
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	@touch $@

$(ASSETS): frontend/package.json frontend/package-lock.json scripts/copy-assets.sh
	@echo "==> installing the web application's styles and scripts (NHS design system, Vega-Lite) from npm"
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	bash scripts/copy-assets.sh
	@touch $@

setup: $(STAMP) $(ASSETS) ## Create the virtual environment from the lock file, and the web assets

java: ## Make sure Java 17+ is present for the Spark engine
	@bash scripts/ensure-java.sh

demo: setup ## Set everything up, run the demo, and serve the web app on http://127.0.0.1:8000
	$(PBC) demo --serve

chromium: ## Make sure Debian's Chromium is present for the browser tests
	@bash scripts/ensure-chromium.sh

test: setup java chromium ## Set everything up and run the whole test suite (web tests on SQLite, then PostgreSQL)
	$(VENV)/bin/pytest
	PBC_DATABASE_URL=$${PBC_TEST_POSTGRES:-postgresql://postgres@127.0.0.1:5432/test} $(VENV)/bin/pytest tests/web

lint: setup ## ruff: lint and formatting check
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

format: setup ## ruff: fix what can be fixed and format
	$(VENV)/bin/ruff check --fix src tests
	$(VENV)/bin/ruff format src tests

bench: setup ## Measure speed and memory; writes bench-results/*.json
	@bash scripts/ensure-wrk.sh
	$(VENV)/bin/python -m pbc.bench

clean: ## Remove the environments and demo data (keeps nothing generated)
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .ruff_cache test-artifacts bench-results frontend/node_modules \
		src/pbc/web/static/vendor
