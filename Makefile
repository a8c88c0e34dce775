# The README's commands. Everything installs into .venv from requirements.lock.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.lock | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: install setup run test worker bench lint lock

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools<70" wheel
	# xstatic-bootstrap ships as an sdist whose build needs the setuptools above.
	$(PY) -m pip install --quiet --no-build-isolation -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

setup: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py import_codesets
	$(PY) manage.py load_encounters
	$(PY) manage.py load_course
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_quizzes

run: setup
	$(PY) manage.py runserver 127.0.0.1:8000

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

worker: install
	$(VENV)/bin/celery -A coding_course worker -Q default,bulk_scoring --loglevel INFO --concurrency 2

bench: install
	$(PY) benchmarks/grading.py
	$(PY) benchmarks/codesets.py
	$(PY) benchmarks/bulk_scoring.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy codesets/domain quizzes/grading quizzes/generation

lock: install
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock requirements.in
