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
.PHONY: console web-check browser-deps node-check

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

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

# The web console (web/): npm ci when the lock file changed (npm's own node_modules/
# .package-lock.json is the stamp), vite build into the Python package when a source is
# newer than the built index.html.
WEB := web
NPM := npm --prefix $(WEB)
NODE_STAMP := $(WEB)/node_modules/.package-lock.json
CONSOLE_DIR := src/fustgo/server/console
CONSOLE_INDEX := $(CONSOLE_DIR)/index.html
CONSOLE_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
	$(WEB)/index.html $(WEB)/package.json $(wildcard $(WEB)/vite.config.* $(WEB)/tsconfig*.json)

node-check:
	@bash scripts/check-node.sh

# vite stays at 8.3: 8.4 adds an optional Windows-only package that our registry does not
# serve, so its lock file cannot be complete and `npm ci` refuses it.
$(NODE_STAMP): $(WEB)/package-lock.json $(WEB)/package.json | node-check
	$(NPM) ci --no-audit --no-fund
	@touch $@

$(CONSOLE_INDEX): $(NODE_STAMP) $(CONSOLE_SOURCES)
	$(NPM) run build
	@touch $@

console: $(CONSOLE_INDEX) ## Build the web console (web/ → src/fustgo/server/console/) if stale

web-check: $(NODE_STAMP) ## Type-check the web console and run its unit tests (vitest)
	$(NPM) run typecheck
	$(NPM) test

browser-deps: ## Install Chromium (and a CJK font) for the console's browser tests, if missing
	bash scripts/ensure-browser.sh

run: install console ## Start the server with the console at http://127.0.0.1:8080/ and a sample job; Ctrl-C stops it
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

test: lint web-check console browser-deps services ## Lint, console checks and build, start services, then every test (unit, integration, e2e, browser)
	$(BIN)/pytest $(PYTEST_ARGS)

docs: install ## Regenerate the plugin reference (docs/reference/) from the config models
	$(BIN)/fustgo plugins docs --output docs/reference

bench: install services ## Benchmarks against their references (prints rows/s and ratios)
	$(UV) sync --frozen --inexact --group bench
	$(BIN)/python -m bench.csv_to_parquet
	$(BIN)/python -m bench.processor_chain
	$(BIN)/python -m bench.database_copy
	$(BIN)/python -m bench.kafka

clean: ## Remove the virtualenvs, node_modules, the console build, caches and run state
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache .fustgo examples/out
	rm -rf $(WEB)/node_modules $(CONSOLE_DIR) tests/e2e/artifacts
