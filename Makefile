# Seedboard developer commands. `make run` and `make test` do all the set-up they need.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# The test suite runs on PostgreSQL and Redis by default (as CI does); `make test-sqlite` runs it embedded.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/seedboard
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

# The SDK promises Python 3.9+: its tests and type check also run on that Python.
SDK_PYTHON ?= $(shell for python in $$(ls -d $$HOME/.pyenv/versions/3.9.*/bin/python 2>/dev/null) python3.9; do \
	$$python -c 'import sys; assert sys.version_info[:2] == (3, 9)' 2>/dev/null && { command -v $$python; break; }; done)
SDK_VENV ?= .venv-sdk-oldest
SDK_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/seedboard_sdk_oldest
SDK_TEST_REDIS_URL ?= redis://127.0.0.1:6379/14
# The load benchmark's Celery broker: bench/load.py flushes this Redis database.
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/13

.PHONY: run test test-sqlite test-sdk-oldest lint bench install

$(VENV)/.installed: pyproject.toml clients/python_sdk/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]" -e "clients/python_sdk[pandas,parquet]"
	touch $@

install: $(VENV)/.installed

# A developer's machine keeps a generated SECRET_KEY in var/; production must set one.
LOCAL := SEEDBOARD_LOCAL_SECRET_KEY=true

# `make run PORT=8001` when port 8000 is taken.
PORT ?= 8000

run: $(VENV)/.installed
	$(LOCAL) $(PY) manage.py up --port $(PORT)

test: $(VENV)/.installed
	$(LOCAL) DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

test-sqlite: $(VENV)/.installed
	DATABASE_URL= REDIS_URL= $(PY) -m pytest $(PYTEST_ARGS)

$(SDK_VENV)/.installed: clients/python_sdk/pyproject.toml Makefile
	@test -n "$(SDK_PYTHON)" || { echo "No Python 3.9 found: set SDK_PYTHON=/path/to/python3.9"; exit 1; }
	$(SDK_PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/python -m pip install -q --upgrade pip
	$(SDK_VENV)/bin/python -m pip install -q -e "clients/python_sdk[pandas,parquet]" pytest hypothesis numpy scipy mypy ipython
	touch $@

# The SDK's tests on its oldest Python, against a server run by the main virtualenv's Python.
test-sdk-oldest: $(VENV)/.installed $(SDK_VENV)/.installed
	SEEDBOARD_SERVER_PYTHON=$(abspath $(PY)) DATABASE_URL=$(SDK_TEST_DATABASE_URL) REDIS_URL=$(SDK_TEST_REDIS_URL) \
		$(SDK_VENV)/bin/python -m pytest --confcutdir tests/sdk -p no:cacheprovider -W "ignore:Unknown config option" tests/sdk $(PYTEST_ARGS)

lint: $(VENV)/.installed $(SDK_VENV)/.installed
	$(VENV)/bin/ruff check server workers tests bench
	$(VENV)/bin/ruff format --check server workers tests bench
	$(VENV)/bin/mypy server workers
	cd clients/python_sdk && ../../$(VENV)/bin/ruff check . && ../../$(VENV)/bin/ruff format --check .
	# mypy run by the SDK's oldest Python checks the SDK against that version.
	cd clients/python_sdk && ../../$(SDK_VENV)/bin/mypy --python-version 3.9

bench: $(VENV)/.installed
	$(LOCAL) DATABASE_URL=$(TEST_DATABASE_URL) $(PY) bench/ingest.py
	$(LOCAL) DATABASE_URL=$(TEST_DATABASE_URL) $(PY) bench/history.py
	$(LOCAL) DATABASE_URL=$(TEST_DATABASE_URL) $(PY) bench/recompute.py
	$(LOCAL) DATABASE_URL=$(TEST_DATABASE_URL) $(PY) bench/runlist.py
	$(LOCAL) DATABASE_URL=$(TEST_DATABASE_URL) $(PY) bench/ui.py
	$(LOCAL) DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) bench/load.py
	$(PY) bench/stats.py
