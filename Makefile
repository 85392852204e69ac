# Toolkit Exchange. `make run` serves the site on the embedded defaults (PORT=5000 and
# HOST=127.0.0.1 unless given); `make test` runs every test. Both set up the virtualenv from pyproject.toml the first time.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export EXCHANGE_TEST_DATABASE_URL ?=

.PHONY: run test test-fast test-load lint audit translations bench bench-search bench-load bench-credit bench-ocr stack-up stack-down clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# `make run PORT=8000 HOST=0.0.0.0`: where the development server listens. Links in emails
# lead to the same port (EXCHANGE_SITE_URL, unless set), on 127.0.0.1 when HOST is 0.0.0.0.
HOST ?= 127.0.0.1
PORT ?= 5000
SITE_HOST = $(if $(filter 0.0.0.0,$(HOST))$(findstring :,$(HOST)),127.0.0.1,$(HOST))
RUN_ENV = EXCHANGE_ENV=$${EXCHANGE_ENV:-development} EXCHANGE_SITE_URL=$${EXCHANGE_SITE_URL:-http://$(SITE_HOST):$(PORT)}

run: $(STAMP)
	$(RUN_ENV) $(BIN)/exchange init
	$(RUN_ENV) $(BIN)/exchange run --host $(HOST) --port $(PORT)

test: $(STAMP) lint audit
	$(BIN)/pytest -n 2 --dist loadgroup -m "not load"

test-fast: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup -m "not slow and not browser and not load"

# Long load tests (a share storm against gunicorn on PostgreSQL and S3); CI runs them too.
test-load: $(STAMP)
	$(BIN)/pytest -m load

lint: $(STAMP)
	$(BIN)/ruff check exchange tests infra wsgi.py
	$(BIN)/ruff format --check exchange tests infra wsgi.py
	$(BIN)/lint-imports --no-cache

# bandit: every finding is fixed or carries a "# nosec <id>: reason" beside it.
# pip-audit (through infra/audit.py): fails on any known vulnerability; passes only when
# packages were really checked; says SKIPPED, and why, when no vulnerability data is reachable.
audit: $(STAMP)
	$(BIN)/bandit -q -r exchange
	$(BIN)/python infra/audit.py

# Finds the messages the code and templates use (exchange/translations/messages.pot) and adds
# the new ones, untranslated, to each language's .po; tests/test_translations.py fails until
# they are translated. The catalogues are read from the .po files at start-up (no .mo).
translations: $(STAMP)
	$(BIN)/python infra/translations.py

# The production-like stack on this machine (PostgreSQL and Redis already running here;
# SeaweedFS and gunicorn started by infra/stack.py). State and logs under STACK_DIR.
STACK_DIR ?= instance/stack

stack-up: $(STAMP)
	$(BIN)/python infra/stack.py start --dir $(STACK_DIR)

stack-down:
	$(BIN)/python infra/stack.py stop --dir $(STACK_DIR)

# Builds 1k, 10k and 100k-resource corpora under /tmp, measures search and reindexing
# beside bare Whoosh, writes infra/bench/results/search-DATE.{json,md}.
bench-search: $(STAMP)
	$(BIN)/python infra/bench/search_bench.py

# Starts its own stack, seeds it, measures, writes infra/bench/results/, stops it.
bench-load: $(STAMP)
	$(BIN)/python infra/bench/load.py

# Times crediting a 10-page PDF and a 20-page docx with and without the credit on the page;
# writes infra/bench/results/credit-DATE.md and renders docs/credit-on-the-page.png.
bench-credit: $(STAMP)
	$(BIN)/python infra/bench/credit_bench.py --picture docs/credit-on-the-page.png

# Scanned pages read per minute per core (Tesseract, eng+fra+spa, one thread), and word
# recall; writes infra/bench/results/ocr-DATE.md.
bench-ocr: $(STAMP)
	$(BIN)/python infra/bench/ocr_bench.py

bench: bench-search bench-load bench-credit bench-ocr

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts
