# partnerbot — `make run` serves on embedded defaults; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo run test lint bench system-deps clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "partnerbot needs Python 3.11+ (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The whole product end to end, offline, in under a minute (local Slack, SMTP and CRM).
demo: $(STAMP)
	$(BIN)/partnerbot demo

## Serve Slack, /healthz and /metrics on http://127.0.0.1:3000 (SQLite ./partnerbot.db, local CRM).
run: $(STAMP)
	$(BIN)/partnerbot serve

## Run the whole suite (SQLite and PostgreSQL, Dovecot, SMTP); installs what is missing first.
test: $(STAMP) system-deps
	$(BIN)/python -m pytest

## Lint, format check and type check, as CI runs them.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Ack-latency benchmark: partnerbot serve vs a bare Bolt app.
bench: $(STAMP)
	$(BIN)/python bench/ack_latency.py

## Dovecot and PostgreSQL for the tests (needs root and apt; skipped when already present).
system-deps:
	@bash .ci/system-deps

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
