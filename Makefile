# Toolkit Exchange. `make run` serves the site on the embedded defaults; `make test` runs
# every test. Both set up the virtualenv from pyproject.toml the first time.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export EXCHANGE_TEST_DATABASE_URL ?=

.PHONY: run test test-fast lint audit bench bench-search bench-load stack-up stack-down clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	EXCHANGE_ENV=$${EXCHANGE_ENV:-development} $(BIN)/exchange init
	EXCHANGE_ENV=$${EXCHANGE_ENV:-development} $(BIN)/exchange run --host 127.0.0.1 --port 5000

test: $(STAMP) lint
	$(BIN)/pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup -m "not slow and not browser"

lint: $(STAMP)
	$(BIN)/ruff check exchange tests infra wsgi.py
	$(BIN)/ruff format --check exchange tests infra wsgi.py

audit: $(STAMP)
	$(BIN)/bandit -q -c pyproject.toml -r exchange
	$(BIN)/pip-audit --skip-editable --progress-spinner off

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts
