# Blagis — the two commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
export BLAGIS_ENV ?= development
# Port of `make run` (`make run PORT=8080`); the links in the mail it shows lead back to it.
PORT ?= 5000
BASE_URL = $(or $(BLAGIS_BASE_URL),http://127.0.0.1:$(PORT))

.PHONY: run test setup translations messages lint e2e-deps clean audit

$(BIN)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Compiled catalogues are build output, never committed: installing the package makes them
# (setup.py); this target remakes them after a change to a .po.
translations: $(BIN)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d blagis/translations

setup: $(BIN)/.installed translations

# (a) set up and serve the site on SQLite with the contract and demo content. No mail server
# in development: the outbox worker runs beside the server (stopped with it) and prints each
# message here; /dev/mail shows them with their links (docs/mail.md, "Development").
run: setup
	$(BIN)/flask --app blagis db upgrade
	$(BIN)/flask --app blagis load-contract
	BLAGIS_BASE_URL=$(BASE_URL) $(BIN)/flask --app blagis demo --if-empty
	BLAGIS_BASE_URL=$(BASE_URL) $(BIN)/flask --app blagis refresh-figures
	@echo "Blagis: $(BASE_URL)  -  mail sent by the site: $(BASE_URL)/dev/mail"
	BLAGIS_BASE_URL=$(BASE_URL) $(BIN)/flask --app blagis send-mail --loop --interval 2 & \
	worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	BLAGIS_BASE_URL=$(BASE_URL) $(BIN)/flask --app blagis run --host 127.0.0.1 --port $(PORT)

# (b) set up and run the whole test suite (PostgreSQL too when TEST_DATABASE_URL is set).
test: setup e2e-deps
	$(BIN)/ruff check blagis tests bench
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)
	$(MAKE) --no-print-directory audit

# Security checks: bandit fails on medium or high severity; .ci/audit.py on any known
# vulnerability of an installed dependency (pip-audit as the engine; when PyPI's per-release API
# is not served, as on our CI machines, PyPI's project API audits the packages installed at their
# latest release). It fails on an out-of-date package that could be upgraded (not auditable
# here) and names the others it could not audit; AUDIT_STRICT=1 makes those fail too.
# docs/security.md, "Static checks".
audit: $(BIN)/.installed
	$(BIN)/bandit -q -r blagis -ll
	AUDIT_STRICT=$(AUDIT_STRICT) $(BIN)/python .ci/audit.py

# Browser tests need Debian's Chromium (Playwright cannot download browsers here) and
# axe-core from npm (package-lock.json pins it; node_modules/ is not committed).
e2e-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Chromium first: sudo apt-get install chromium"; exit 1; fi; }
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	  else echo "Install npm first: sudo apt-get install npm"; exit 1; fi; }
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; \
	  else npm install --no-audit --no-fund --loglevel=error; fi

# Re-extract the strings after changing the code, then translate the new French entries.
# --ignore-dirs: pybabel skips folders starting with "_" by default, i.e. templates/_macros.
messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --ignore-dirs '.* node_modules' -o blagis/translations/messages.pot .
	$(BIN)/pybabel update -i blagis/translations/messages.pot -d blagis/translations \
	  --no-fuzzy-matching --ignore-obsolete -w 100

lint: $(BIN)/.installed
	$(BIN)/ruff check blagis tests bench
	$(BIN)/ruff format --check blagis tests bench

clean:
	rm -rf $(VENV) instance
