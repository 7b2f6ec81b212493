# Markbook: the few commands a developer or CI needs.
#
#   make serve   install what serving needs (uv sync --frozen --no-dev: no test or lint tools)
#                and run the API with the demo trust on SQLite
#   make test    install everything (uv sync --frozen) and run the test suite on every core
#                (PostgreSQL when MARKBOOK_TEST_DATABASE_URL is set; the browser tests in
#                tests/browser need Debian's chromium, and skip without it outside CI)
#   make lint    ruff check + ruff format --check + lint-imports (the import contracts)
#   make openapi regenerate openapi/openapi.json
#   make bench   run the benchmarks (see bench/README.md)
#   make graphiql refresh the GraphQL explorer's files from npm (maintainers only; needs npm)
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
# The GraphQL explorer's files in app/static/graphiql come from these npm packages (make graphiql).
GRAPHIQL_VERSION ?= 3.9.0
REACT_VERSION ?= 18.3.1
LINT_PATHS := $(wildcard app tests bench migrations)

# Exit status 0 when pip may not install into $(PYTHON)'s environment (PEP 668: a system Python
# outside a virtual environment with an EXTERNALLY-MANAGED marker, as Debian's python3 has).
EXTERNALLY_MANAGED = import os, sys, sysconfig; \
	sys.exit(sys.prefix != sys.base_prefix or not os.path.exists( \
	os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))

# Shell snippet: set $uv to a working uv command, installing uv first if there is none. Where pip
# may not install into the Python environment, uv goes into $(UV_TARGET), with one line saying so
# rather than pip's refusal.
PIP_INSTALL = $(PYTHON) -m pip install -qq --disable-pip-version-check --root-user-action=ignore
ENSURE_UV = \
	if command -v uv >/dev/null 2>&1; then uv=uv; \
	elif $(PYTHON) -m uv --version >/dev/null 2>&1; then uv="$(PYTHON) -m uv"; \
	elif "$(UV_TARGET)/bin/uv" --version >/dev/null 2>&1; then uv="$(UV_TARGET)/bin/uv"; \
	else \
		uv=""; \
		if $(PYTHON) -c '$(EXTERNALLY_MANAGED)'; then \
			echo ">> uv not found; $(PYTHON) is externally managed (PEP 668): installing uv==$(UV_VERSION) into $(UV_TARGET)" >&2; \
		else \
			echo ">> uv not found: installing uv==$(UV_VERSION) with pip" >&2; \
			if pip_error=$$($(PIP_INSTALL) "uv==$(UV_VERSION)" 2>&1) \
				&& $(PYTHON) -m uv --version >/dev/null 2>&1; then \
				uv="$(PYTHON) -m uv"; \
			else \
				echo ">> pip could not ($$(printf '%s\n' "$$pip_error" | grep -m1 -i error | cut -c1-160 || echo 'uv does not run')): installing uv into $(UV_TARGET) instead" >&2; \
			fi; \
		fi; \
		if [ -z "$$uv" ]; then \
			$(PIP_INSTALL) --upgrade --target "$(UV_TARGET)" "uv==$(UV_VERSION)"; \
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
	@echo "make graphiql refresh app/static/graphiql from npm (maintainers; needs npm)"

.PHONY: sync
sync:
	@$(ENSURE_UV); set -x; $$uv sync --frozen

.PHONY: serve
serve:
	@$(ENSURE_UV); set -x; $$uv sync --frozen --no-dev --inexact; \
	exec $$uv run --frozen --no-dev markbook serve --demo --host "$(HOST)" --port "$(PORT)"

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

# The explorer's files, taken from the published npm packages (no build): the service serves them
# itself, so `make serve` needs no npm. Prints their checksums for app/static/graphiql/README.md,
# which tests/api/test_graphql_http.py checks.
.PHONY: graphiql
graphiql:
	@set -x; out=app/static/graphiql; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack --silent "graphiql@$(GRAPHIQL_VERSION)" "react@$(REACT_VERSION)" \
		"react-dom@$(REACT_VERSION)" >/dev/null); \
	for name in graphiql react react-dom; do \
		mkdir "$$tmp/$$name" && tar -xzf "$$tmp/$$name"-[0-9]*.tgz -C "$$tmp/$$name"; \
		cp "$$tmp/$$name/package/LICENSE" "$$out/LICENSE.$$name"; \
	done; \
	cp "$$tmp"/graphiql/package/graphiql.min.js "$$tmp"/graphiql/package/graphiql.min.css "$$out/"; \
	cp "$$tmp"/react/package/umd/react.production.min.js "$$out/"; \
	cp "$$tmp"/react-dom/package/umd/react-dom.production.min.js "$$out/"; \
	cd "$$out" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js \
		react-dom.production.min.js
