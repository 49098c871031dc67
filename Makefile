# The project's commands. Each is idempotent: run twice, it reuses what is there.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test bench lint stop-db clean

install: $(STAMP)

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml scripts/system-deps.sh
	./scripts/system-deps.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The demo runs in development mode (runserver serves the static files); production is the default.
demo: export DJANGO_DEBUG ?= 1
demo: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py demo
	@echo "Serving 360 on http://$(HOST):$(PORT)/360/  (Ctrl-C to stop; sign in with a login printed above, the code is in var/mail/)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	./scripts/browser-deps.sh
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	@set -e; for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script; done

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Stop the embedded PostgreSQL (it is left running between commands so they start fast).
stop-db: install
	$(PY) -c "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','payex_ledger.settings'); \
	from django.conf import settings; from payex_ledger.embedded_db import embedded_server_stop; \
	print('stopped' if embedded_server_stop(settings.LEDGER_DATA_DIR) else 'not running')"

clean: stop-db
	rm -rf $(VENV) var
