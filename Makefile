# Locus — the two commands a newcomer needs are `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: demo test test-postgres lint format bench messages install clean

$(PY):
	$$(bin/find-python) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml requirements.lock
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

## make demo: set up SQLite with demo data and serve Locus (web + worker) on http://127.0.0.1:$(PORT)
demo: install
	LOCUS_DEMO_MODE=true PORT=$(PORT) bin/demo

## make test: lint, then the whole suite (unit, integration, browser, API fuzzing)
test: install lint
	$(PY) -m pytest -n 2 --dist loadgroup -q

## make test-postgres: the same suite against a throwaway PostgreSQL 15 cluster
test-postgres: install
	bin/with-postgres $(PY) -m pytest -n 2 --dist loadgroup -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) bench/run.py

## make messages: refresh the fr/de/sv catalogs after changing strings
messages: install
	$(PY) manage.py makemessages -l fr -l de -l sv --no-obsolete --ignore=.venv --ignore=bench --ignore=tests
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
