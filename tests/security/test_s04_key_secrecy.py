"""S4: no answer key reaches a student before the quiz allows it (ASVS 8.2.3, 14.3.2).

A student opens every page, fragment and JSON answer of a practice quiz and an exam
quiz, before and after submitting (both quizzes never reveal their keys). No key code,
no rationale and no expected value may appear in any body, attribute or embedded
JSON, and every response is ``no-store``.
"""

from __future__ import annotations

import html
import json

import pytest
from django.urls import reverse

from quizzes.models import Attempt
from tests.security.conftest import WRONG_ANSWER, signed_in

pytestmark = pytest.mark.django_db


def key_secrets(encounter) -> list[str]:
    """Every key code and a distinctive run of words from every rationale."""
    lines = [*encounter.key["diagnoses"], *encounter.key.get("procedures", [])]
    secrets = [line["code"] for line in lines]
    secrets += [" ".join(line["why"].split()[:6]) for line in lines if line.get("why")]
    return secrets


def readable(response) -> str:
    """The body as a reader or a script would see it: entities decoded, JSON strings
    unescaped, whitespace collapsed."""
    text = html.unescape(response.content.decode())
    if response.get("Content-Type", "").startswith("application/json"):
        text = json.dumps(response.json(), ensure_ascii=False)
    text = text.replace("\\u003C", "<").replace("\\u003E", ">").replace("\\u0026", "&")
    return " ".join(text.split())


def _post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def student_pages(world) -> list:
    student = world.a.students[0]
    client = signed_in(student)
    practice, exam = world.a.practice_quiz, world.a.exam_quiz
    attempt = world.a.attempts[0]
    item = practice.items.get()
    save = reverse("quizzes:response_save", args=[attempt.pk, item.pk])
    check = reverse("quizzes:response_check", args=[attempt.pk, item.pk])
    pages = [
        client.get(reverse("quizzes:quiz_list")),
        client.get(practice.get_absolute_url()),
        client.get(exam.get_absolute_url()),
        client.get(attempt.get_absolute_url()),
        _post_json(client, save, {"answer": WRONG_ANSWER, "flagged": True}),
        _post_json(client, check, {"answer": WRONG_ANSWER}),
        _post_json(client, check, {"answer": {"diagnoses": ["N30.00"], "procedures": []}}),
        client.get(attempt.get_absolute_url()),
    ]
    client.post(exam.get_absolute_url())
    exam_attempt = Attempt.objects.get(quiz=exam, user=student)
    exam_item = exam.items.get()
    pages += [
        client.get(exam_attempt.get_absolute_url()),
        _post_json(
            client,
            reverse("quizzes:response_save", args=[exam_attempt.pk, exam_item.pk]),
            {"answer": WRONG_ANSWER},
        ),
        _post_json(
            client,
            reverse("quizzes:response_check", args=[exam_attempt.pk, exam_item.pk]),
            {"answer": WRONG_ANSWER},
        ),
        # After submission: these quizzes never reveal the key.
        client.post(reverse("quizzes:attempt_submit", args=[exam_attempt.pk]), follow=True),
        client.post(reverse("quizzes:attempt_submit", args=[attempt.pk]), follow=True),
        client.get(reverse("quizzes:attempt_review", args=[attempt.pk])),
        client.get(reverse("progress:mine")),
    ]
    return pages


def test_no_key_code_rationale_or_hint_reaches_the_student(world):
    secrets = key_secrets(world.encounter)
    assert len(secrets) == 8
    for page in student_pages(world):
        assert page.status_code in (200, 403), page
        text = readable(page)
        assert [secret for secret in secrets if secret in text] == [], page.request["PATH_INFO"]
        assert '"expected"' not in text  # the grader's expected values stay server-side


def test_every_student_page_and_fragment_is_no_store(world):
    for page in student_pages(world):
        assert "no-store" in page["Cache-Control"], page.request["PATH_INFO"]


def test_the_check_says_which_lines_are_wrong_without_the_right_code(world):
    """The allowed practice feedback: a verdict on the learner's own line, no key."""
    client = signed_in(world.a.students[0])
    attempt = world.a.attempts[0]
    url = reverse("quizzes:response_check", args=[attempt.pk, world.a.practice_quiz.items.get().pk])
    body = _post_json(client, url, {"answer": WRONG_ANSWER}).json()
    assert body["allCorrect"] is False
    assert {finding["code"] for finding in body["findings"]} <= {"R69", None}


def test_the_review_shows_the_key_once_the_quiz_allows(world):
    """The control: the same search finds the key where it may be shown."""
    from quizzes.models import ReviewPolicy

    quiz = world.a.practice_quiz
    quiz.review_policy = ReviewPolicy.AFTER_SUBMIT
    quiz.save()
    client = signed_in(world.a.students[1])
    page = client.get(reverse("quizzes:attempt_review", args=[world.a.attempts[1].pk]))
    text = readable(page)
    assert [s for s in key_secrets(world.encounter) if s in text] == key_secrets(world.encounter)
