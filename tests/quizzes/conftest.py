"""Fixtures for the quiz tests: code sets imported once, the library loaded per test."""

from __future__ import annotations

import pytest
from pytest_django import DjangoDbBlocker

from tests.conftest import ensure_bundled_codesets


@pytest.fixture(scope="session")
def quiz_codesets(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> None:
    with django_db_blocker.unblock():
        ensure_bundled_codesets()


@pytest.fixture
def library(quiz_codesets, db):
    """Every library encounter, by slug."""
    from quizzes.encounters.services import encounter_library_load
    from quizzes.models import Encounter

    encounter_library_load()
    return {encounter.slug: encounter for encounter in Encounter.objects.all()}
