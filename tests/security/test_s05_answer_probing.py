"""S5: probing the answer check code by code is bounded by the quiz's try policy
(ASVS 2.3.2).

Two hundred single-code probes: a practice quiz answers its allowed tries and then 429
with no verdict; an exam quiz answers none of them (403), and its save endpoint says
nothing about correctness, so before submission nothing separates a right code from a
wrong one.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from quizzes.models import Attempt, Response
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

PROBES = 200
VERDICT_KEYS = {"score", "percent", "allCorrect", "findings"}


def probe_codes(encounter) -> list[str]:
    """The key's first diagnosis among look-alikes, so a verdict would single it out."""
    right = encounter.key["diagnoses"][0]["code"]
    decoys = [f"N30.{n:02d}" for n in range(100)] + [f"R3{n % 10}.{n // 10}" for n in range(100)]
    codes = [right, *(code for code in decoys if code != right)]
    return codes[:PROBES]


def _probe(client, url, code):
    answer = {"diagnoses": [code], "procedures": []}
    return client.post(url, json.dumps({"answer": answer}), content_type="application/json")


def test_practice_checks_stop_after_the_allowed_tries(world):
    quiz, attempt = world.a.practice_quiz, world.a.attempts[0]
    item = quiz.items.get()
    client = signed_in(world.a.students[0])
    url = reverse("quizzes:response_check", args=[attempt.pk, item.pk])
    replies = [_probe(client, url, code) for code in probe_codes(world.encounter)]
    allowed = quiz.tries_per_item
    assert [r.status_code for r in replies[:allowed]] == [200] * allowed
    assert {r.status_code for r in replies[allowed:]} == {429}
    assert all(not VERDICT_KEYS & set(r.json()) for r in replies[allowed:])
    assert Response.objects.get(attempt=attempt, item=item).tries == allowed


def test_an_exam_reveals_nothing_per_code_before_submission(world):
    quiz = world.a.exam_quiz
    student = world.a.students[0]
    client = signed_in(student)
    client.post(quiz.get_absolute_url())
    attempt = Attempt.objects.get(quiz=quiz, user=student)
    item = quiz.items.get()
    check = reverse("quizzes:response_check", args=[attempt.pk, item.pk])
    save = reverse("quizzes:response_save", args=[attempt.pk, item.pk])
    codes = probe_codes(world.encounter)
    checks = [_probe(client, check, code) for code in codes]
    assert {r.status_code for r in checks} == {403}
    assert all(not VERDICT_KEYS & set(r.json()) for r in checks)
    # Saving the right code and a wrong one answers alike.
    right, wrong = (_probe(client, save, code).json() for code in codes[:2])
    assert set(right) == set(wrong) == {"saved", "savedAt", "secondsLeft"}
    assert Response.objects.get(attempt=attempt, item=item).tries == 0
