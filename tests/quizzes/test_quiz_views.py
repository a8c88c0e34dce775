"""Quiz pages: key secrecy, no-store, ownership, CSRF, query counts, CSV, demo seed."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from coding_course.accounts.models import Role
from quizzes.attempts import services
from quizzes.encounters import services as encounter_services
from quizzes.grading.exercises import audit_fix_text
from quizzes.models import Attempt, Quiz, QuizMode, Response, ReviewPolicy
from tests.factories import StudentFactory, UserFactory
from tests.quizzes.factories import quiz_with_items
from tests.quizzes.test_quiz_services import CYSTITIS, RIGHT_ANSWER


def _key_secrets(encounter) -> list[str]:
    """Every key code and a distinctive slice of every rationale of the encounter."""
    lines = [*encounter.key["diagnoses"], *encounter.key.get("procedures", [])]
    secrets = [line["code"] for line in lines]
    secrets += [" ".join(line["why"].split()[:6]) for line in lines if line.get("why")]
    return secrets


def _leaks(body: bytes, secrets: list[str]) -> list[str]:
    text = " ".join(body.decode().split())
    return [secret for secret in secrets if secret in text]


def _post_json(client: Client, url: str, data: dict) -> object:
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def exam_setup(library, student):
    encounter = library[CYSTITIS]
    quiz = quiz_with_items(
        encounters=[encounter],
        students=[student],
        mode=QuizMode.EXAM,
        review_policy=ReviewPolicy.NEVER,
    )
    client = Client()
    client.force_login(student)
    return quiz, encounter, client


@pytest.mark.parametrize("mode", [QuizMode.PRACTICE, QuizMode.EXAM])
def test_no_key_reaches_the_student_before_review(library, student, mode):
    encounter = library[CYSTITIS]
    secrets = _key_secrets(encounter)
    quiz = quiz_with_items(
        encounters=[encounter], students=[student], mode=mode, review_policy=ReviewPolicy.NEVER
    )
    client = Client()
    client.force_login(student)
    pages = [client.get(reverse("quizzes:quiz_list")), client.get(quiz.get_absolute_url())]
    start = client.post(quiz.get_absolute_url())
    attempt = Attempt.objects.get(user=student)
    item = quiz.items.get()
    save_url = reverse("quizzes:response_save", args=[attempt.pk, item.pk])
    check_url = reverse("quizzes:response_check", args=[attempt.pk, item.pk])
    wrong = {"diagnoses": ["N30.00", "R31.9"], "procedures": [{"code": "99214", "units": 2}]}
    pages += [
        client.get(start["Location"]),
        _post_json(client, save_url, {"answer": wrong, "flagged": True}),
        _post_json(client, check_url, {"answer": wrong}),
        client.get(start["Location"]),
    ]
    # After submission too, because this quiz never reveals its key.
    pages.append(client.post(reverse("quizzes:attempt_submit", args=[attempt.pk]), follow=True))
    for page in pages:
        assert page.status_code in (200, 403), page
        assert _leaks(page.content, secrets) == []
        assert "no-store" in page["Cache-Control"]


def test_review_shows_key_and_rationale_once_allowed(library, student):
    encounter = library[CYSTITIS]
    quiz = quiz_with_items(encounters=[encounter], students=[student])
    attempt = services.attempt_start(quiz=quiz, user=student)
    services.response_save(attempt=attempt, item=quiz.items.get(), answer={"diagnoses": ["N30.00"]})
    services.attempt_submit(attempt=attempt)
    client = Client()
    client.force_login(student)
    page = client.get(reverse("quizzes:attempt_review", args=[attempt.pk]))
    assert page.status_code == 200
    assert sorted(_leaks(page.content, _key_secrets(encounter))) == sorted(_key_secrets(encounter))
    assert b"Near miss" in page.content  # the near miss is labelled and explained on its line


def test_practice_check_is_refused_past_the_try_limit(library, student):
    quiz = quiz_with_items(encounters=[library[CYSTITIS]], students=[student], tries_per_item=3)
    attempt = services.attempt_start(quiz=quiz, user=student)
    client = Client()
    client.force_login(student)
    url = reverse("quizzes:response_check", args=[attempt.pk, quiz.items.get().pk])
    statuses = [
        _post_json(client, url, {"answer": {"diagnoses": [f"N30.0{n % 10}"]}}).status_code
        for n in range(200)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert set(statuses[3:]) == {429}
    assert Response.objects.get().tries == 3


def test_exam_check_is_forbidden(exam_setup):
    quiz, _, client = exam_setup
    client.post(quiz.get_absolute_url())
    attempt = Attempt.objects.get()
    url = reverse("quizzes:response_check", args=[attempt.pk, quiz.items.get().pk])
    assert _post_json(client, url, {"answer": RIGHT_ANSWER}).status_code == 403


def test_another_students_attempt_is_a_404_everywhere(exam_setup):
    quiz, _, owner_client = exam_setup
    owner_client.post(quiz.get_absolute_url())
    attempt = Attempt.objects.get()
    item = quiz.items.get()
    intruder = StudentFactory()
    services.assignment_ensure(quiz=quiz, student=intruder)
    client = Client()
    client.force_login(intruder)
    responses = [
        client.get(reverse("quizzes:attempt_take", args=[attempt.pk])),
        client.get(reverse("quizzes:attempt_review", args=[attempt.pk])),
        _post_json(
            client, reverse("quizzes:response_save", args=[attempt.pk, item.pk]), {"answer": {}}
        ),
        _post_json(
            client, reverse("quizzes:response_check", args=[attempt.pk, item.pk]), {"answer": {}}
        ),
        client.post(reverse("quizzes:attempt_submit", args=[attempt.pk])),
    ]
    assert [r.status_code for r in responses] == [404] * 5
    attempt.refresh_from_db()
    assert not attempt.is_submitted


def test_unassigned_quiz_is_a_404(exam_setup):
    quiz, _, _ = exam_setup
    client = Client()
    client.force_login(StudentFactory())
    assert client.get(quiz.get_absolute_url()).status_code == 404
    assert client.post(quiz.get_absolute_url()).status_code == 404
    assert not Attempt.objects.exists()


def test_submit_and_save_need_the_csrf_token(exam_setup, student):
    quiz, _, _ = exam_setup
    attempt = services.attempt_start(quiz=quiz, user=student)
    client = Client(enforce_csrf_checks=True)
    client.force_login(student)
    save_url = reverse("quizzes:response_save", args=[attempt.pk, quiz.items.get().pk])
    submit_url = reverse("quizzes:attempt_submit", args=[attempt.pk])
    assert _post_json(client, save_url, {"answer": RIGHT_ANSWER}).status_code == 403
    assert client.post(submit_url).status_code == 403
    client.get(reverse("quizzes:attempt_take", args=[attempt.pk]))
    token = client.cookies["csrftoken"].value
    saved = client.post(
        save_url,
        json.dumps({"answer": RIGHT_ANSWER}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert saved.status_code == 200
    assert client.post(submit_url, {"csrfmiddlewaretoken": token}).status_code == 302
    attempt.refresh_from_db()
    assert attempt.percent == 100.0


def test_save_after_the_deadline_is_refused_and_submits(exam_setup, student):
    quiz, _, client = exam_setup
    quiz.time_limit_minutes = 5
    quiz.save()
    attempt = services.attempt_start(quiz=quiz, user=student)
    item = quiz.items.get()
    services.response_save(attempt=attempt, item=item, answer=RIGHT_ANSWER)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=attempt.started_at)
    url = reverse("quizzes:response_save", args=[attempt.pk, item.pk])
    late = _post_json(client, url, {"answer": {"diagnoses": ["J02.0"]}})
    assert late.status_code == 409
    assert late.json()["redirect"] == reverse("quizzes:attempt_review", args=[attempt.pk])
    attempt.refresh_from_db()
    assert (attempt.is_submitted, attempt.percent) == (True, 100.0)
    take = client.get(reverse("quizzes:attempt_take", args=[attempt.pk]))
    assert take.status_code == 302


def test_take_page_of_a_20_exercise_quiz_has_bounded_queries(
    library, student, django_assert_max_num_queries
):
    encounters = sorted(library.values(), key=lambda e: e.slug)[:20]
    quiz = quiz_with_items(encounters=encounters, students=[student], time_limit_minutes=60)
    attempt = services.attempt_start(quiz=quiz, user=student)
    for item in quiz.items.all()[:10]:
        services.response_save(attempt=attempt, item=item, answer=RIGHT_ANSWER, flagged=True)
    client = Client()
    client.force_login(student)
    url = reverse("quizzes:attempt_take", args=[attempt.pk])
    for position in (1, 20):
        with django_assert_max_num_queries(8):
            page = client.get(url, {"q": position})
        assert page.status_code == 200
        assert page.content.count(b'data-nav href="?q=') >= 20
    with django_assert_max_num_queries(8):
        assert client.get(reverse("quizzes:quiz_list")).status_code == 200


@pytest.mark.parametrize(
    ("username", "cell"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("plain", "plain"),
    ],
)
def test_gradebook_csv_defuses_formulas(library, instructor, username, cell):
    learner = UserFactory(username=username, role=Role.STUDENT)
    quiz = quiz_with_items(encounters=[library[CYSTITIS]], students=[learner], owner=instructor)
    services.attempt_submit(attempt=services.attempt_start(quiz=quiz, user=learner))
    client = Client()
    client.force_login(instructor)
    response = client.get(reverse("quizzes:gradebook_csv", args=[quiz.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][0] == cell
    assert client.get(reverse("quizzes:gradebook", args=[quiz.pk])).status_code == 200


def test_gradebook_is_the_owners_only(library, instructor, student):
    quiz = quiz_with_items(encounters=[library[CYSTITIS]])
    client = Client()
    client.force_login(instructor)
    assert client.get(reverse("quizzes:gradebook", args=[quiz.pk])).status_code == 404
    client.force_login(student)
    # A role that cannot use an object's page is told nothing about the object.
    assert client.get(reverse("quizzes:gradebook", args=[quiz.pk])).status_code == 404


def test_override_view_records_the_reason(library, instructor, student):
    quiz = quiz_with_items(encounters=[library[CYSTITIS]], students=[student], owner=instructor)
    attempt = services.attempt_submit(attempt=services.attempt_start(quiz=quiz, user=student))
    response = Response.objects.get(attempt=attempt)
    client = Client()
    client.force_login(instructor)
    url = reverse("quizzes:score_override", args=[response.pk])
    assert client.post(url, {"score": 99, "reason": "too much"}).status_code == 200
    assert client.post(url, {"score": 1.5, "reason": "N30.00 accepted"}).status_code == 302
    attempt.refresh_from_db()
    assert attempt.score == 1.5
    assert response.overrides.get().reason == "N30.00 accepted"


def test_seed_demo_quizzes_is_idempotent(library):
    # The accounts seed_demo makes (without its password file beside the database).
    student = StudentFactory(username="demo_student")
    UserFactory(username="demo_instructor", role=Role.INSTRUCTOR)
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        call_command("seed_demo_quizzes", stdout=out)
        outputs.append(json.loads(out.getvalue()))
    assert Quiz.objects.count() == 5
    assert all(entry["created"] for entry in outputs[0]["quizzes"])
    assert not any(entry["created"] or entry["items_added"] for entry in outputs[1]["quizzes"])
    exam = Quiz.objects.get(demo_key="exam-timed")
    attempt = services.attempt_start(quiz=exam, user=student)
    assert len(attempt.item_ids) == 8
    assert attempt.deadline is not None


def _learner_answer(kind: str, answer: object) -> dict:
    """The exercise's own answer in the shape the take page sends."""
    if kind == "sequencing":
        return {"order": answer}
    if kind == "linkage":
        return {"links": answer}
    if kind == "audit":
        return {"fixes": {e["line"]: audit_fix_text(e["fix"]) for e in answer}}
    return {"value": answer}


@pytest.mark.parametrize(
    "kind", ["best_code", "code_family", "specificity", "sequencing", "linkage", "audit"]
)
def test_generated_exercises_render_without_their_answer_and_grade(library, student, kind):
    for encounter in sorted(library.values(), key=lambda e: e.slug):
        generated = encounter_services.exercises_generate(encounter=encounter, types=[kind], seed=3)
        if generated:
            break
    exercise = generated[0]
    quiz = quiz_with_items(encounters=[], students=[student], review_policy=ReviewPolicy.NEVER)
    item = services.quiz_item_add(
        quiz=quiz, encounter=encounter, exercise_type=kind, exercise=exercise
    )
    client = Client()
    client.force_login(student)
    client.post(quiz.get_absolute_url())
    attempt = Attempt.objects.get()
    page = client.get(reverse("quizzes:attempt_take", args=[attempt.pk]))
    assert page.status_code == 200
    explanation_start = " ".join(exercise["explanation"].split()[:8])
    assert explanation_start not in " ".join(page.content.decode().split())

    check_url = reverse("quizzes:response_check", args=[attempt.pk, item.pk])
    wrong = _post_json(client, check_url, {"answer": {}}).json()
    right = _post_json(
        client, check_url, {"answer": _learner_answer(kind, exercise["answer"])}
    ).json()
    assert wrong["percent"] < 100
    assert right["percent"] == 100
    assert explanation_start not in json.dumps(right)


def test_quiz_pages_keep_to_the_content_security_policy(library, student, instructor):
    """No inline script, event handler or style attribute: the CSP would block them."""
    quiz = quiz_with_items(encounters=[library[CYSTITIS]], students=[student], owner=instructor)
    attempt = services.attempt_start(quiz=quiz, user=student)
    client = Client()
    client.force_login(student)
    pages = [client.get(reverse("quizzes:attempt_take", args=[attempt.pk]))]
    services.attempt_submit(attempt=attempt)
    pages.append(client.get(reverse("quizzes:attempt_review", args=[attempt.pk])))
    client.force_login(instructor)
    pages += [
        client.get(reverse("quizzes:encounter_new")),
        client.get(reverse("quizzes:quiz_manage", args=[quiz.pk])),
        client.get(reverse("quizzes:encounter_exercises", args=[CYSTITIS])),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert " style=" not in html
        assert not re.search(r"<[^>]+\son[a-z]+=", html)
        scripts = re.findall(r"<script\b([^>]*)>", html)
        assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
