"""S8: code search is limited to 120 requests a minute per user (ASVS 2.4.1)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_minute(monkeypatch):
    """Keep every request inside one window, so a minute boundary cannot reset it."""
    import coding_course.accounts.ratelimit

    monkeypatch.setattr(coding_course.accounts.ratelimit, "clock", lambda: 1_800_000_000.0)


@pytest.mark.parametrize("path", ["/codes/api/search?q=J02", "/codes/?q=J02"])
def test_the_121st_search_in_a_minute_is_refused(client, student, path):
    client.force_login(student)
    statuses = [client.get(path).status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120
    assert statuses[120] == 429
    refused = client.get(path)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


def test_the_limit_is_per_user(client, student, instructor):
    client.force_login(student)
    for _ in range(121):
        client.get("/codes/api/search?q=J02")
    client.force_login(instructor)
    assert client.get("/codes/api/search?q=J02").status_code == 200


def test_a_second_rescore_of_a_running_scope_is_409_and_starts_no_job(world):
    """The world's cohort job over instructor A's practice quiz is still running."""
    from django.urls import reverse

    from quizzes.models import BulkJob
    from tests.security.conftest import signed_in

    assert world.a.instructor_job.is_running
    jobs = BulkJob.objects.count()
    response = signed_in(world.a.instructor).post(
        reverse("bulk:rescore"), {"kind": "cohort", "quiz": world.a.practice_quiz.pk}
    )
    assert response.status_code == 409
    assert BulkJob.objects.count() == jobs
    assert world.a.instructor_job.get_absolute_url() in response.content.decode()
