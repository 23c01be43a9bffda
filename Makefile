# The daily moves. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
ARGS   ?=

.PHONY: run test install install-dev lint bench worker clean messages compilemessages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed

## run: the whole portal on SQLite with an embedded Celery broker, demo school loaded
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py demo_school
	@echo ""
	@echo "Klimop runs at http://localhost:$(PORT)/  (Ctrl-C stops web server and Celery)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(VENV)/bin/celery -A klimop worker --beat --loglevel=warning --concurrency=2 & \
	  $(PY) manage.py runserver 0.0.0.0:$(PORT)

## test: the whole suite; PostgreSQL and Redis on localhost when reachable
test: install
	$(PY) tests/run.py $(ARGS)

## bench: time the main pages with the demo school (BENCH_RUNS, DATABASE_URL to choose)
bench: install
	$(PY) tests/bench.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

worker: install
	$(VENV)/bin/celery -A klimop worker --beat --loglevel=info

clean:
	rm -rf var/ .pytest_cache .ruff_cache

## translations: extract strings (then translate locale/nl/LC_MESSAGES/django.po) and compile
messages: install
	$(PY) manage.py makemessages -l nl -l en --ignore=.venv --ignore=var --ignore=docs
compilemessages: install
	$(PY) manage.py compilemessages --ignore=.venv
