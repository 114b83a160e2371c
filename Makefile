# Fairhour: `make run` sets everything up and serves the app; `make test` runs the suite.
# With no DATABASE_URL / REDIS_URL, both use the checkout's embedded PostgreSQL and Redis
# (started on first use, data under .local/; `make stop` stops them).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` is the zero-setup demo: it writes a local .env (debug on, a random secret key)
# that settings read, so `manage.py` works in this folder afterwards. Production sets its
# own environment and has no .env: there, settings refuse to start without SECRET_KEY.
# Tests never read it.

.PHONY: install install-dev run migrate seed test lint format worker beat stop clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

.env:
	@printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "Wrote .env for local development (DEBUG on, a random SECRET_KEY)."

migrate: install .env
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo

run: seed
	@echo "Fairhour on http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"
	$(PY) manage.py serve $(HOST):$(PORT)

test: install-dev
	$(PY) -m pytest

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: install .env
	$(VENV)/bin/celery -A config worker --loglevel=info

beat: install .env
	$(VENV)/bin/celery -A config beat --loglevel=info --schedule .local/celerybeat-schedule

stop:
	@if [ -x $(PY) ]; then $(PY) -c 'from core import embedded; embedded.stop_all()'; fi

clean: stop
	rm -rf $(VENV) .local .env .pytest_cache .mypy_cache .ruff_cache .hypothesis media staticfiles celerybeat-schedule*
