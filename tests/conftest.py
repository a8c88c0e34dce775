"""Shared fixtures. Django is imported lazily so `pytest -p no:django tests/domain`
can load this file without Django configured."""

from __future__ import annotations

import pytest


@pytest.fixture
def student(db):
    from tests.factories import StudentFactory

    return StudentFactory()


@pytest.fixture
def instructor(db):
    from tests.factories import InstructorFactory

    return InstructorFactory()


@pytest.fixture
def employer(db):
    from tests.factories import EmployerFactory

    return EmployerFactory()


@pytest.fixture
def staff_user(db):
    from tests.factories import StaffFactory

    return StaffFactory()


def ensure_bundled_codesets() -> None:
    """Import the bundled code sets unless the same content is already in this database.

    The import is idempotent and costs about 0.15 s when nothing changed, so callers
    need no memory of their own; a transactional test's flush empties the tables and
    the next call simply imports again.
    """
    from codesets.adapters import clear_memory_catalogs
    from codesets.services import import_bundled

    if any(result.status != "unchanged" for result in import_bundled()):
        clear_memory_catalogs()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database starts with the full bundled code sets, imported once."""
    with django_db_blocker.unblock():
        ensure_bundled_codesets()


@pytest.fixture
def codesets(django_db_blocker):
    """For transactional tests (browser, integration): their flush empties the tables,
    so re-import when needed. Plain tests already have the session import."""
    with django_db_blocker.unblock():
        ensure_bundled_codesets()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached pages live in the cache: start each test clean."""
    from django.conf import settings

    if settings.configured:
        from django.core.cache import cache

        cache.clear()
    return
