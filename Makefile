# Seedboard developer commands. `make run` and `make test` do all the set-up they need.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# The test suite runs on PostgreSQL and Redis by default (as CI does); `make test-sqlite` runs it embedded.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/seedboard
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-sqlite lint bench install

$(VENV)/.installed: pyproject.toml clients/python_sdk/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]" -e "clients/python_sdk[pandas]"
	touch $@

install: $(VENV)/.installed

# A developer's machine keeps a generated SECRET_KEY in var/; production must set one.
LOCAL := SEEDBOARD_LOCAL_SECRET_KEY=true

run: $(VENV)/.installed
	$(LOCAL) $(PY) manage.py up

test: $(VENV)/.installed
	$(LOCAL) DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

test-sqlite: $(VENV)/.installed
	DATABASE_URL= REDIS_URL= $(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check server workers tests bench
	$(VENV)/bin/ruff format --check server workers tests bench
	$(VENV)/bin/mypy server workers

bench: $(VENV)/.installed
	$(LOCAL) DATABASE_URL=$(TEST_DATABASE_URL) $(PY) bench/ingest.py
	$(LOCAL) DATABASE_URL=$(TEST_DATABASE_URL) $(PY) bench/history.py
	$(LOCAL) DATABASE_URL=$(TEST_DATABASE_URL) $(PY) bench/recompute.py
	$(PY) bench/stats.py
