# Markbook: the few commands a developer or CI needs.
#
#   make serve   install (uv sync --frozen) and run the API with the demo trust on SQLite
#   make test    install and run the test suite on every core (PostgreSQL when
#                MARKBOOK_TEST_DATABASE_URL is set)
#   make lint    ruff check + ruff format --check + lint-imports (the import contracts)
#   make openapi regenerate openapi/openapi.json
#   make bench   run the benchmarks (see bench/README.md)
#
# Only python3 (3.11+) with pip, make and git are needed: uv is used from PATH, else as
# `python3 -m uv`, else installed with pip (into a cache directory if the Python environment
# refuses packages, as Debian's externally-managed python3 does).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
UV_TARGET ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/markbook/uv-$(UV_VERSION)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# pytest-xdist workers for `make test`: auto is one per core; 0 runs in one process.
TEST_WORKERS ?= auto
BENCH_ARGS ?= --size small
LINT_PATHS := $(wildcard app tests bench migrations)

# Shell snippet: set $uv to a working uv command, installing uv first if there is none.
ENSURE_UV = \
	if command -v uv >/dev/null 2>&1; then uv=uv; \
	elif $(PYTHON) -m uv --version >/dev/null 2>&1; then uv="$(PYTHON) -m uv"; \
	elif "$(UV_TARGET)/bin/uv" --version >/dev/null 2>&1; then uv="$(UV_TARGET)/bin/uv"; \
	else \
		echo ">> uv not found: installing uv==$(UV_VERSION) with pip" >&2; \
		if $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)" \
			&& $(PYTHON) -m uv --version >/dev/null 2>&1; then \
			uv="$(PYTHON) -m uv"; \
		else \
			echo ">> installing uv into $(UV_TARGET) instead" >&2; \
			$(PYTHON) -m pip install --quiet --upgrade --target "$(UV_TARGET)" "uv==$(UV_VERSION)"; \
			uv="$(UV_TARGET)/bin/uv"; \
		fi; \
	fi; \
	echo ">> using $$($$uv --version) ($$uv)" >&2

.PHONY: help
help:
	@echo "make serve    install and start Markbook with the demo trust on http://$(HOST):$(PORT)"
	@echo "              (HOST=... PORT=... to change; SQLite file ./markbook.db by default)"
	@echo "make test     install and run the tests (SQLite; PostgreSQL with"
	@echo "              MARKBOOK_TEST_DATABASE_URL=postgresql+asyncpg://...; PYTEST_ARGS=...),"
	@echo "              one worker per core (TEST_WORKERS=$(TEST_WORKERS); 0 for one process)"
	@echo "make lint     ruff check, ruff format --check and lint-imports"
	@echo "make openapi  regenerate openapi/openapi.json"
	@echo "make bench    run the benchmarks (BENCH_ARGS='$(BENCH_ARGS)')"

.PHONY: sync
sync:
	@$(ENSURE_UV); set -x; $$uv sync --frozen

.PHONY: serve
serve:
	@$(ENSURE_UV); set -x; $$uv sync --frozen; \
	exec $$uv run --frozen markbook serve --demo --host "$(HOST)" --port "$(PORT)"

.PHONY: test
test:
	@$(ENSURE_UV); set -x; $$uv sync --frozen; \
	$$uv run --frozen pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

.PHONY: lint
lint:
	@$(ENSURE_UV); set -x; $$uv sync --frozen; status=0; \
	$$uv run --frozen ruff check $(LINT_PATHS) || status=1; \
	$$uv run --frozen ruff format --check $(LINT_PATHS) || status=1; \
	$$uv run --frozen lint-imports || status=1; \
	exit $$status

.PHONY: openapi
openapi:
	@$(ENSURE_UV); set -x; $$uv sync --frozen; \
	$$uv run --frozen markbook openapi

.PHONY: bench
bench:
	@$(ENSURE_UV); set -x; $$uv sync --frozen; \
	$$uv run --frozen python -m bench.run $(BENCH_ARGS)
