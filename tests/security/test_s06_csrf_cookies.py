"""S6: state-changing POSTs need the CSRF token, and cookies are locked down in
production (ASVS 3.3.2, 3.3.4).

Each POST is sent twice from a client that enforces CSRF checks: without a token it is
refused with 403 and changes nothing; with the token it does what it is for.
"""

from __future__ import annotations

import importlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coding_course.assessments.models import Candidate
from quizzes.models import Attempt, AttemptStatus, BulkJob
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db


def csrf_client(user, page: str):
    """A CSRF-enforcing client signed in as ``user``, and the token from ``page``."""
    client = signed_in(user, csrf=True)
    assert client.get(page).status_code == 200
    return client, client.cookies["csrftoken"].value


def _open_attempt(world):
    attempt = world.a.attempts[0]
    return world.a.students[0], attempt, attempt.get_absolute_url()


def test_submitting_an_attempt_needs_the_token(world):
    student, attempt, page = _open_attempt(world)
    client, token = csrf_client(student, page)
    url = reverse("quizzes:attempt_submit", args=[attempt.pk])
    assert client.post(url).status_code == 403
    attempt.refresh_from_db()
    assert attempt.status != AttemptStatus.SUBMITTED
    assert client.post(url, {"csrfmiddlewaretoken": token}).status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED


def test_saving_an_answer_needs_the_token_header(world):
    student, attempt, page = _open_attempt(world)
    client, token = csrf_client(student, page)
    url = reverse("quizzes:response_save", args=[attempt.pk, world.a.practice_quiz.items.get().pk])
    body = json.dumps({"answer": {"diagnoses": ["J02.9"]}})
    assert client.post(url, body, content_type="application/json").status_code == 403
    saved = client.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert saved.status_code == 200
    assert saved.json()["saved"] is True


def test_an_answer_sheet_import_needs_the_token(world):
    quiz = world.a.practice_quiz
    student = world.a.students[0].username
    client, token = csrf_client(world.a.instructor, reverse("bulk:quiz", args=[quiz.pk]))
    url = reverse("bulk:import", args=[quiz.pk])

    def sheet():
        content = f"learner,exercise,line,code\n{student},1,dx,N30.01\n".encode()
        return SimpleUploadedFile("sheet.csv", content, content_type="text/csv")

    # The instructor's cohort job is running over this quiz; cancel it to free the scope.
    world.a.instructor_job.status = "cancelled"
    world.a.instructor_job.save()
    attempts = Attempt.objects.filter(quiz=quiz).count()
    assert client.post(url, {"sheet": sheet()}).status_code == 403
    assert Attempt.objects.filter(quiz=quiz).count() == attempts
    jobs = BulkJob.objects.count()
    accepted = client.post(url, {"sheet": sheet(), "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302
    assert BulkJob.objects.count() == jobs + 1


def test_an_invitation_list_import_needs_the_token(world):
    assessment = world.a.assessment
    client, token = csrf_client(
        world.a.manager, reverse("assessments:detail", args=[assessment.pk])
    )
    url = reverse("assessments:invite_list", args=[assessment.pk])

    def listing():
        return SimpleUploadedFile("list.csv", b"email,name\nnew@side-a.test,New One\n")

    before = Candidate.objects.count()
    assert client.post(url, {"file": listing()}).status_code == 403
    assert Candidate.objects.count() == before
    accepted = client.post(url, {"file": listing(), "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302
    assert Candidate.objects.filter(email="new@side-a.test").exists()


def test_starting_a_rescore_needs_the_token(world):
    client, token = csrf_client(world.a.instructor, reverse("bulk:home"))
    data = {"kind": "cohort", "quiz": world.a.exam_quiz.pk}
    jobs = BulkJob.objects.count()
    assert client.post(reverse("bulk:rescore"), data).status_code == 403
    assert BulkJob.objects.count() == jobs
    started = client.post(reverse("bulk:rescore"), {**data, "csrfmiddlewaretoken": token})
    assert started.status_code == 302
    assert BulkJob.objects.count() == jobs + 1


@pytest.fixture
def production_cookies(settings, monkeypatch):
    """The cookie settings of coding_course.settings.production, on the test site."""
    monkeypatch.setenv("SECRET_KEY", "a-test-only-secret-key-long-enough-to-look-real-1234")
    production = importlib.import_module("coding_course.settings.production")
    for name in (
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
    ):
        setattr(settings, name, getattr(production, name))
    return settings


def test_production_cookies_are_secure_httponly_and_samesite_lax(client, production_cookies):
    from tests.factories import TEST_PASSWORD, StudentFactory

    user = StudentFactory()
    login_page = client.get("/accounts/login/", secure=True)
    csrf = login_page.cookies["csrftoken"]
    assert csrf["secure"] is True
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": TEST_PASSWORD},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
