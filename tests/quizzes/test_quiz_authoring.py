"""Instructor authoring: encounters checked like the library, exercises, quizzes, stats."""

from __future__ import annotations

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from quizzes.attempts import services
from quizzes.attempts.selectors import quiz_item_analysis
from quizzes.models import Encounter, EncounterSource, Quiz, QuizItem
from tests.factories import StudentFactory
from tests.quizzes.factories import quiz_with_items
from tests.quizzes.test_quiz_services import CYSTITIS, RIGHT_ANSWER

NEW = reverse("quizzes:encounter_new")


def _encounter_post(**changes: str) -> dict[str, str]:
    data = {
        "slug": "authored-strep",
        "title": "Sore throat with a positive rapid strep test",
        "setting": "physician office",
        "specialty": "primary-care",
        "date_of_service": "2026-05-15",
        "patient_age_years": "34",
        "patient_sex": "F",
        "difficulty": "1",
        "tags": "icd-10-cm, cpt",
        "note": "Sore throat for two days. Rapid strep antigen positive. Strep pharyngitis.",
        "dx-TOTAL_FORMS": "2",
        "dx-INITIAL_FORMS": "0",
        "dx-0-code": "J02.0",
        "dx-0-why": "Streptococcal pharyngitis confirmed by the rapid test.",
        "proc-TOTAL_FORMS": "2",
        "proc-INITIAL_FORMS": "0",
        "proc-0-code": "87880",
        "proc-0-units": "1",
        "proc-0-dx_pointers": "1",
    }
    data.update(changes)
    return data


@pytest.fixture
def instructor_client(library, instructor):
    client = Client()
    client.force_login(instructor)
    return client


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dx-0-code": "J02"}, "category heading, not a reportable code"),
        ({"proc-0-dx_pointers": "3"}, "points outside the key"),
        ({"date_of_service": "2019-01-01"}, "Releases available: ICD-10-CM 2026-04"),
        ({"slug": CYSTITIS}, "is taken"),
    ],
)
def test_a_bad_key_is_refused_with_the_problem_beside_its_line(instructor_client, changes, message):
    response = instructor_client.post(NEW, _encounter_post(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Encounter.objects.filter(slug="authored-strep").exists()


def test_header_code_error_sits_on_its_line(instructor_client):
    response = instructor_client.post(NEW, _encounter_post(**{"dx-0-code": "J02"}))
    line_form = response.context["diagnoses"].forms[0]
    assert "category heading" in " ".join(line_form.errors["code"])


def test_a_valid_encounter_is_saved_then_exported_and_reimported(instructor_client, instructor):
    new_form = instructor_client.get(NEW)
    assert new_form.context["form"].initial["date_of_service"].isoformat() >= "2026-04-01"
    response = instructor_client.post(NEW, _encounter_post())
    assert response.status_code == 302
    encounter = Encounter.objects.get(slug="authored-strep")
    assert (encounter.source, encounter.created_by) == (EncounterSource.AUTHORED, instructor)
    assert encounter.key["procedures"][0]["dx_pointers"] == [1]

    exported = instructor_client.get(reverse("quizzes:encounter_export", args=[encounter.slug]))
    document = yaml.safe_load(exported.content)
    assert document["key"]["diagnoses"][0]["code"] == "J02.0"
    document["title"] = "Renamed on import"
    upload = SimpleUploadedFile("strep.yaml", yaml.safe_dump(document).encode())
    imported = instructor_client.post(reverse("quizzes:author_home"), {"file": upload})
    assert imported.status_code == 302
    encounter.refresh_from_db()
    assert encounter.title == "Renamed on import"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (b"id: x\ntitle: only a title\n", "missing"),
    ],
)
def test_import_refuses_unreadable_files(instructor_client, content, message):
    upload = SimpleUploadedFile("bad.yaml", content)
    response = instructor_client.post(reverse("quizzes:author_home"), {"file": upload})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_library_encounters_are_not_editable(instructor_client):
    url = reverse("quizzes:encounter_edit", args=[CYSTITIS])
    assert instructor_client.get(url).status_code == 404


def test_generate_preview_and_add_to_a_quiz(instructor_client, instructor, library):
    created = instructor_client.post(
        reverse("quizzes:quiz_new"),
        {
            "action": "settings",
            "title": "Urinary tract",
            "mode": "practice",
            "attempts_allowed": "0",
            "pass_mark_percent": "70",
            "tries_per_item": "3",
            "review_policy": "after_submit",
        },
    )
    quiz = Quiz.objects.get(title="Urinary tract")
    assert created["Location"] == reverse("quizzes:quiz_manage", args=[quiz.pk])
    url = reverse("quizzes:encounter_exercises", args=[CYSTITIS])
    preview = instructor_client.get(url, {"seed": 2})
    assert b"N30.01" in preview.content  # instructors see answers
    count = len(preview.context["exercises"])
    assert count >= 3
    added = instructor_client.post(
        url + "?seed=2", {"quiz": quiz.pk, "picks": ["0", str(count - 1)]}
    )
    assert added.status_code == 302
    assert QuizItem.objects.filter(quiz=quiz).count() == 2

    student = StudentFactory(username="learner7")
    instructor_client.post(
        reverse("quizzes:quiz_manage", args=[quiz.pk]),
        {"action": "assign", "usernames": "learner7, nobody"},
    )
    assert quiz.assignments.get().student == student


def test_authoring_is_for_instructors(library, student):
    client = Client()
    client.force_login(student)
    assert client.get(reverse("quizzes:author_home")).status_code == 403
    assert client.post(NEW, _encounter_post()).status_code == 403


def test_item_analysis_reports_facility_discrimination_and_wrong_codes(library, instructor):
    other = library["a-card-paroxysmal-afib-new-ecg"]
    students = StudentFactory.create_batch(4)
    quiz = quiz_with_items(
        encounters=[library[CYSTITIS], other], students=students, owner=instructor
    )
    cystitis_item, other_item = quiz.items.order_by("position")
    for index, student in enumerate(students):
        attempt = services.attempt_start(quiz=quiz, user=student)
        strong = index >= 2
        services.response_save(
            attempt=attempt,
            item=cystitis_item,
            answer=RIGHT_ANSWER if strong else {"diagnoses": ["N30.00"]},
        )
        if strong:
            key = other.key
            services.response_save(
                attempt=attempt,
                item=other_item,
                answer={
                    "diagnoses": [line["code"] for line in key["diagnoses"]],
                    "procedures": key.get("procedures", []),
                },
            )
        services.attempt_submit(attempt=attempt)
    stats = {s.item.pk: s for s in quiz_item_analysis(quiz=quiz)}
    cystitis = stats[cystitis_item.pk]
    assert cystitis.responses == 4
    assert 0 < cystitis.facility < 1
    assert cystitis.discrimination > 0.5
    assert cystitis.wrong_codes[0] == ("N30.00", 2)
    client = Client()
    client.force_login(instructor)
    page = client.get(reverse("quizzes:gradebook", args=[quiz.pk]))
    assert b"N30.00" in page.content
