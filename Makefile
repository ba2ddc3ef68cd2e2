# FustGo: every target bootstraps what it needs on a fresh machine (only python3 is assumed).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: help install system-deps services run test lint format docs bench clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

# mysqlclient (the MySQL/MariaDB driver) builds from source against these Debian packages.
SYSTEM_PACKAGES := libmariadb-dev pkg-config
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

system-deps: ## Install the system packages the Python dependencies build against
	@if ! pkg-config --exists mariadb 2>/dev/null && ! pkg-config --exists mysqlclient 2>/dev/null; then \
	  if command -v apt-get >/dev/null; then \
	    echo "Installing $(SYSTEM_PACKAGES) (mysqlclient builds against them)"; \
	    $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(SYSTEM_PACKAGES); \
	  else \
	    echo "Install the MariaDB or MySQL client headers and pkg-config, then run make again."; \
	    exit 1; \
	  fi; \
	fi

$(VENV)/.synced: $(UV) pyproject.toml uv.lock | system-deps
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced ## Create .venv with FustGo and its dev tools (uv, locked versions)

run: install ## Start the server (http://127.0.0.1:8080/) with a sample job ready to run; Ctrl-C stops it
	$(BIN)/fustgo serve --sample

lint: install ## ruff (lint + format check) and the import layering contract
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

services: ## Start the local servers the integration tests use, if one is down
	bash scripts/ensure-services.sh

test: lint services ## Lint, start services, then every test (unit, integration, e2e)
	$(BIN)/pytest $(PYTEST_ARGS)

docs: install ## Regenerate the plugin reference (docs/reference/) from the config models
	$(BIN)/fustgo plugins docs --output docs/reference

bench: install services ## Benchmarks against their references (prints rows/s and ratios)
	$(UV) sync --frozen --inexact --group bench
	$(BIN)/python -m bench.csv_to_parquet
	$(BIN)/python -m bench.processor_chain
	$(BIN)/python -m bench.database_copy
	$(BIN)/python -m bench.kafka

clean: ## Remove the virtualenvs, caches and run state
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache .fustgo examples/out
