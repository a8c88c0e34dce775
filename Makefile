# The README's commands. Everything installs into .venv from requirements.lock.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.lock | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: install setup run test worker beat bench lint typecheck-baseline lock

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

# The periodic tasks (settings.CELERY_BEAT_SCHEDULE); its state file lives in var/ (git-ignored).
beat: install
	mkdir -p var
	$(VENV)/bin/celery -A coding_course beat --loglevel INFO --schedule var/celerybeat-schedule

bench: install
	$(PY) benchmarks/grading.py
	$(PY) benchmarks/codesets.py
	$(PY) benchmarks/bulk_scoring.py

# mypy: the strict pure packages must be clean; the whole tree may not add an error to
# mypy-baseline.txt (tools/mypy_baseline.py prints the new ones and counts the fixed ones).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy codesets/domain quizzes/grading quizzes/generation
	$(PY) tools/mypy_baseline.py

# Rewrite mypy-baseline.txt from the current tree: after fixing errors, or a refactor.
typecheck-baseline: install
	$(PY) tools/mypy_baseline.py --update

lock: install
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock requirements.in
