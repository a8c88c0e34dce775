"""Attempts whose time is up: reading a page never submits or grades; the write paths
and the periodic task do, once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quizzes.attempts import services
from quizzes.models import Attempt, AttemptStatus, QuizMode, ReviewPolicy, Score
from quizzes.tasks import attempts_expire_task
from tests.quizzes.factories import quiz_with_items
from tests.quizzes.test_quiz_services import CYSTITIS, RIGHT_ANSWER


@pytest.fixture
def overdue(library, student):
    """A timed exam attempt with a saved right answer, its deadline passed a minute ago."""
    quiz = quiz_with_items(
        encounters=[library[CYSTITIS]],
        students=[student],
        mode=QuizMode.EXAM,
        review_policy=ReviewPolicy.AFTER_SUBMIT,
        time_limit_minutes=10,
    )
    started = timezone.now() - dt.timedelta(minutes=11)
    attempt = services.attempt_start(quiz=quiz, user=student, now=started)
    services.response_save(attempt=attempt, item=quiz.items.get(), answer=RIGHT_ANSWER, now=started)
    attempt.refresh_from_db()
    assert attempt.deadline is not None
    assert attempt.deadline < timezone.now()
    client = Client()
    client.force_login(student)
    return attempt, client


def _untouched(attempt: Attempt) -> bool:
    attempt.refresh_from_db()
    scored = Score.objects.filter(response__attempt=attempt).exists()
    return attempt.status == AttemptStatus.IN_PROGRESS and not scored


def test_the_take_page_after_the_deadline_shows_time_up_and_grades_nothing(overdue):
    attempt, client = overdue
    page = client.get(reverse("quizzes:attempt_take", args=[attempt.pk]))
    assert page.status_code == 200
    assert b"Time is up" in page.content
    submit_url = reverse("quizzes:attempt_submit", args=[attempt.pk])
    assert f'action="{submit_url}"'.encode() in page.content
    assert _untouched(attempt)


def test_the_review_page_of_an_overdue_attempt_leads_to_the_take_page(overdue):
    attempt, client = overdue
    review = client.get(reverse("quizzes:attempt_review", args=[attempt.pk]))
    assert review.status_code == 302
    assert review["Location"] == reverse("quizzes:attempt_take", args=[attempt.pk])
    assert _untouched(attempt)


def test_the_time_up_button_submits_at_the_deadline(overdue):
    attempt, client = overdue
    response = client.post(reverse("quizzes:attempt_submit", args=[attempt.pk]))
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.finished_at == attempt.deadline
    assert attempt.percent == 100.0


def test_the_expiry_task_submits_overdue_attempts_once(overdue, library, student):
    attempt, _ = overdue
    running = services.attempt_start(
        quiz=quiz_with_items(
            encounters=[library[CYSTITIS]], students=[student], time_limit_minutes=30
        ),
        user=student,
    )
    assert attempts_expire_task.delay().get() == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.finished_at == attempt.deadline
    assert attempt.percent == 100.0
    scores = list(Score.objects.filter(response__attempt=attempt).values())
    assert len(scores) == 1
    assert _untouched(running)
    # A second run finds nothing due and changes nothing.
    assert attempts_expire_task.delay().get() == 0
    assert list(Score.objects.filter(response__attempt=attempt).values()) == scores
    before = (attempt.status, attempt.finished_at, attempt.score, attempt.percent)
    attempt.refresh_from_db()
    assert (attempt.status, attempt.finished_at, attempt.score, attempt.percent) == before
    assert _untouched(running)
