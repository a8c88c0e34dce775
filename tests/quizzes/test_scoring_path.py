"""The one scoring path: every exercise type as an instructor builds it, query bounds on
the paths that grade, and a rescore right after a submit changing no score."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizzes.attempts import services
from quizzes.bulk import services as bulk_services
from quizzes.encounters import services as encounter_services
from quizzes.grading.exercises import audit_fix_text
from quizzes.grading.policy import RULES_VERSION
from quizzes.models import (
    Attempt,
    BulkJobKind,
    BulkJobStatus,
    ChangeOutcome,
    QuizItem,
    QuizMode,
    Response,
    Score,
)
from tests.factories import StudentFactory
from tests.quizzes.factories import QuizFactory, quiz_with_items
from tests.quizzes.test_quiz_services import RIGHT_ANSWER

pytestmark = pytest.mark.django_db

TYPES = ("full_coding", "best_code", "code_family", "specificity", "sequencing", "linkage", "audit")


def _every_type_quiz(library, student, **settings_: Any):
    """A quiz with one generated exercise of every type, added the way the authoring page
    adds them (the generators' payloads, full coding included)."""
    quiz = QuizFactory(**settings_)
    found: dict[str, tuple[Any, dict[str, Any]]] = {}
    for encounter in sorted(library.values(), key=lambda e: e.slug):
        for exercise in encounter_services.exercises_generate(encounter=encounter, types=TYPES):
            found.setdefault(exercise["type"], (encounter, exercise))
        if len(found) == len(TYPES):
            break
    for kind in TYPES:
        encounter, exercise = found[kind]
        services.quiz_item_add(
            quiz=quiz, encounter=encounter, exercise_type=kind, exercise=exercise
        )
    services.assignment_ensure(quiz=quiz, student=student, by=quiz.owner)
    return quiz


def _own_answer(item: QuizItem) -> dict[str, Any]:
    """The exercise's own answer in the shape the take page sends."""
    answer = item.exercise["answer"]
    kind = item.exercise_type
    if kind == "full_coding":
        return {"diagnoses": [line["code"] for line in answer["diagnoses"]],
                "procedures": answer["procedures"]}  # fmt: skip
    if kind == "sequencing":
        return {"order": answer}
    if kind == "linkage":
        return {"links": answer}
    if kind == "audit":
        return {"fixes": {e["line"]: audit_fix_text(e["fix"]) for e in answer}}
    return {"value": answer}


def test_an_instructor_built_quiz_of_every_type_checks_submits_and_reviews(library, student):
    quiz = _every_type_quiz(library, student, mode=QuizMode.PRACTICE, tries_per_item=5)
    client = Client()
    client.force_login(student)
    client.post(quiz.get_absolute_url())
    attempt = Attempt.objects.get(quiz=quiz)
    for item in quiz.items.all():
        url = reverse("quizzes:response_check", args=[attempt.pk, item.pk])
        body = {"answer": _own_answer(item)}
        checked = client.post(url, json.dumps(body), content_type="application/json")
        assert checked.status_code == 200, (item.exercise_type, checked.content[:300])
        assert checked.json()["percent"] == 100.0, item.exercise_type
    submitted = client.post(reverse("quizzes:attempt_submit", args=[attempt.pk]))
    assert submitted.status_code == 302
    attempt.refresh_from_db()
    assert attempt.is_submitted
    assert attempt.percent == 100.0
    assert Score.objects.filter(response__attempt=attempt).count() == len(TYPES)
    review = client.get(reverse("quizzes:attempt_review", args=[attempt.pk]))
    assert review.status_code == 200
    assert review.content.count(b'class="list-group-item finding') >= len(TYPES)


def test_a_payload_that_cannot_be_graded_is_refused_when_saved(library):
    quiz = QuizFactory()
    encounter = next(iter(library.values()))
    with pytest.raises(ValidationError, match="cannot be graded"):
        services.quiz_item_add(
            quiz=quiz,
            encounter=encounter,
            exercise_type="full_coding",
            exercise={"type": "full_coding", "answer": {"diagnoses": [{"codes": "J02.0"}]}},
        )
    assert not QuizItem.objects.filter(quiz=quiz).exists()


def test_a_full_coding_key_of_bare_codes_is_stored_as_objects(library):
    quiz = QuizFactory()
    encounter = next(iter(library.values()))
    item = services.quiz_item_add(
        quiz=quiz,
        encounter=encounter,
        exercise_type="full_coding",
        exercise={"type": "full_coding", "answer": {"diagnoses": ["J02.0"], "procedures": []}},
    )
    item.refresh_from_db()
    assert item.exercise["answer"]["diagnoses"] == [{"code": "J02.0"}]


def test_submit_of_a_20_item_attempt_runs_at_most_15_queries(
    library, student, django_assert_max_num_queries
):
    encounters = sorted(library.values(), key=lambda e: e.slug)[:20]
    quiz = quiz_with_items(encounters=encounters, students=[student], mode=QuizMode.EXAM)
    attempt = services.attempt_start(quiz=quiz, user=student)
    for item in quiz.items.all()[:12]:
        services.response_save(attempt=attempt, item=item, answer=RIGHT_ANSWER)
    with django_assert_max_num_queries(15):
        services.attempt_submit(attempt=attempt)
    assert Score.objects.filter(response__attempt=attempt).count() == 20


def test_the_practice_check_and_the_review_have_bounded_queries(
    library, student, django_assert_max_num_queries
):
    quiz = _every_type_quiz(library, student, mode=QuizMode.PRACTICE, tries_per_item=9)
    client = Client()
    client.force_login(student)
    client.post(quiz.get_absolute_url())
    attempt = Attempt.objects.get(quiz=quiz)
    for item in quiz.items.all():
        url = reverse("quizzes:response_check", args=[attempt.pk, item.pk])
        body = json.dumps({"answer": _own_answer(item)})
        with django_assert_max_num_queries(16):
            assert client.post(url, body, content_type="application/json").status_code == 200
    client.post(reverse("quizzes:attempt_submit", args=[attempt.pk]))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("quizzes:attempt_review", args=[attempt.pk])).status_code == 200


def _mutations(item: QuizItem) -> st.SearchStrategy[dict[str, Any]]:
    """Answers to one item: its own, an empty one, and plausible wrong ones."""
    own = _own_answer(item)
    kind = item.exercise_type
    if kind == "full_coding":
        codes = [line["code"] for line in item.exercise["answer"]["diagnoses"]]
        pool = [*codes, "J02.9", "R50.9", "S52.532", "zz", "99213"]
        return st.builds(
            lambda dx, procs: {"diagnoses": dx, "procedures": procs},
            st.lists(st.sampled_from(pool), max_size=4),
            st.sampled_from([own["procedures"], own["procedures"][:1], []]),
        )
    if kind == "sequencing":
        return st.permutations(own["order"]).map(lambda order: {"order": list(order)})
    if kind == "linkage":
        labels = list(own["links"])
        codes = sorted({code for linked in own["links"].values() for code in linked})
        return st.fixed_dictionaries(
            {label: st.lists(st.sampled_from(codes), unique=True) for label in labels}
        ).map(lambda links: {"links": links})
    if kind == "audit":
        return st.sampled_from([own, {"fixes": {}}, {"fixes": {"diagnoses[0]": "delete"}}])
    choices = item.exercise.get("choices") or [own["value"], "J02.9"]
    return st.sampled_from([*choices, ""]).map(lambda value: {"value": value})


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_rescore_right_after_a_submit_changes_no_score(
    library, django_capture_on_commit_callbacks, data
):
    learner = StudentFactory()
    quiz = _every_type_quiz(library, learner, mode=QuizMode.EXAM, attempts_allowed=0)
    attempt = services.attempt_start(quiz=quiz, user=learner)
    for item in quiz.items.all():
        answer = data.draw(_mutations(item), label=item.exercise_type)
        services.response_save(attempt=attempt, item=item, answer=answer)
    services.attempt_submit(attempt=attempt)
    before = dict(
        Score.objects.filter(response__attempt=attempt, rules_version=RULES_VERSION).values_list(
            "response_id", "score"
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = bulk_services.bulk_job_start(
            kind=BulkJobKind.COHORT, user=quiz.owner, scope={"quiz": quiz.pk}, dry_run=True
        )
    job.refresh_from_db()
    assert job.status == BulkJobStatus.SUCCEEDED
    assert not job.changes.filter(
        outcome__in=[ChangeOutcome.CHANGED, ChangeOutcome.FAILED]
    ).exists(), list(job.changes.values_list("outcome", "reason", "before_score", "after_score"))
    assert len(before) == Response.objects.filter(attempt=attempt).count() == len(TYPES)
