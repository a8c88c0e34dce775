"""Fixtures for the bulk tests: code sets once per session, the encounter library per
test, small worlds of submitted attempts, and tasks run in-process."""

from __future__ import annotations

import pytest

from tests.conftest import ensure_bundled_codesets


@pytest.fixture(scope="session")
def bulk_codesets(django_db_setup, django_db_blocker) -> None:
    with django_db_blocker.unblock():
        ensure_bundled_codesets()


@pytest.fixture
def encounters(bulk_codesets, db):
    from quizzes.encounters.services import encounter_library_load
    from quizzes.models import Encounter

    encounter_library_load()
    return list(Encounter.objects.order_by("slug"))


@pytest.fixture
def small_chunks(settings):
    """Chunks of three responses, so a small world still spans several chunks."""
    settings.BULK_CHUNK_SIZE = 3
    return 3


@pytest.fixture
def world(encounters, instructor, small_chunks):
    from tests.bulk.world import build_world

    return build_world(owner=instructor, encounters=encounters[:4], learners=5, prefix="w")


@pytest.fixture(autouse=True)
def no_retry_backoff(settings):
    """In-process retries need not wait in tests."""
    settings.BULK_RETRY_BACKOFF_SECONDS = 0
