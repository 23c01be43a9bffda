# The daily moves. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
ARGS   ?=

# Exact versions with hashes, made from pyproject.toml by `make lock` (uv pip compile):
# base.lock is the production image's, dev.lock adds the tools and tests (same versions).
LOCKS  := requirements/base.lock requirements/dev.lock
UV_VERSION := 0.13.9
UV_COMPILE := $(VENV)/bin/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock"

.PHONY: run test install install-dev lint typecheck lock lock-check bench worker clean messages compilemessages

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements/dev.lock pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
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
	  $(VENV)/bin/celery -A klimop worker --beat --loglevel=warning --concurrency=2 -Q celery -n default@%h & \
	  $(VENV)/bin/celery -A klimop worker --loglevel=warning --concurrency=1 -Q mail -n mail@%h & \
	  $(PY) manage.py runserver 0.0.0.0:$(PORT)

## test: the whole suite; PostgreSQL and Redis on localhost when reachable
test: install
	$(PY) tests/run.py $(ARGS)

## bench: the demo school served as in production (gunicorn, PostgreSQL, Redis, Celery) under load;
## BENCH_SIZE=demo|1000, BENCH_USERS, BENCH_SECONDS, BENCH_PARTS=pages,post,rush; results in var/bench/
bench: install
	$(PY) -m tests.bench $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

## typecheck: mypy with django-stubs on the core and every services/selectors module
typecheck: install
	$(VENV)/bin/mypy

## lock: regenerate requirements/*.lock after changing pyproject.toml's dependencies; keeps the
## pinned versions that still fit (UPGRADE="--upgrade" or "--upgrade-package NAME" to move them)
lock: | $(PY)
	$(PY) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV_COMPILE) $(UPGRADE) -o requirements/base.lock
	$(UV_COMPILE) $(UPGRADE) --extra dev -c requirements/base.lock -o requirements/dev.lock

## lock-check: the lock files still say what pyproject.toml asks for (names and versions; CI).
## Hashes are left out of the comparison: a release may gain a wheel after it was locked.
lock-check: | $(PY)
	$(PY) -m pip install --quiet "uv==$(UV_VERSION)"
	@set -e; tmp=$$(mktemp -d); cp $(LOCKS) $$tmp/; \
	$(UV_COMPILE) -o $$tmp/base.lock; \
	$(UV_COMPILE) --extra dev -c requirements/base.lock -o $$tmp/dev.lock; \
	for f in base dev; do \
	  grep -E '^[A-Za-z0-9]' requirements/$$f.lock > $$tmp/$$f.want; \
	  grep -E '^[A-Za-z0-9]' $$tmp/$$f.lock > $$tmp/$$f.got; \
	  if ! diff -u $$tmp/$$f.want $$tmp/$$f.got; then \
	    echo "requirements/$$f.lock is out of date with pyproject.toml: run make lock"; exit 1; fi; \
	done; rm -rf $$tmp; echo "lock files match pyproject.toml"

## worker: both queues in one worker with beat (production runs two workers: docker-compose.yml)
worker: install
	$(VENV)/bin/celery -A klimop worker --beat --loglevel=info -Q celery,mail

clean:
	rm -rf var/ .pytest_cache .ruff_cache

## translations: extract strings (then translate locale/nl/LC_MESSAGES/django.po) and compile
messages: install
	$(PY) manage.py makemessages -l nl -l en --ignore=.venv --ignore=var --ignore=docs
compilemessages: install
	$(PY) manage.py compilemessages --ignore=.venv
