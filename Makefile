# Fairhour: `make run` sets everything up and serves the app; `make test` runs the suite.
# With no environment: SQLite and eager Celery. DATABASE_URL / REDIS_URL switch to
# PostgreSQL and Redis.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` is the zero-setup demo: it writes a local .env (debug on, a random secret key)
# that settings read, so `manage.py` works in this folder afterwards. Production sets its
# own environment and has no .env: there, settings refuse to start without SECRET_KEY.

.PHONY: install run serve migrate seed test lint format worker beat clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

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
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: install .env
	$(VENV)/bin/celery -A config worker --loglevel=info

beat: install .env
	$(VENV)/bin/celery -A config beat --loglevel=info

clean:
	rm -rf $(VENV) db.sqlite3 .env .pytest_cache .mypy_cache .ruff_cache .hypothesis media staticfiles celerybeat-schedule*
