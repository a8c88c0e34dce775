"""S10: every CSV export defuses formula-looking text (ASVS 1.2.10).

Names such as ``=HYPERLINK(...)``, ``+1``, ``-2``, ``@SUM(1)`` and a tab or carriage
return before ``=`` reach each export (the gradebook, a bulk job's changes, assessment
results); each must come back, parsed with the csv module, as the same text behind a
single quote, so a spreadsheet shows it as text. Code cells like ``E11.9`` pass
unchanged, and quoting survives commas, quotes and line breaks.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coding_course.assessments.models import Candidate
from quizzes.attempts import services as attempt_services
from quizzes.imports.csv_export import FORMULA_STARTS
from quizzes.models import BulkJob
from tests.factories import StudentFactory
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '=HYPERLINK("http://evil.test/?a,b","click, me")',
    "+1",
    "-2",
    "@SUM(1)",
    "\t=1+2",
    "\r=1+2",
]
CODES = ["E11.9", "99213", "J0696"]


def parse(response) -> list[list[str]]:
    if hasattr(response, "streaming_content"):
        text = b"".join(response.streaming_content).decode()
    else:
        text = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_defused(rows: list[list[str]], expected: list[str]) -> None:
    cells = [cell for row in rows for cell in row]
    live = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert live == [], "cells a spreadsheet would run as formulas"
    missing = [text for text in expected if "'" + text not in cells]
    assert missing == [], "payloads that did not come back verbatim behind a quote"


def test_the_gradebook_export(world):
    quiz = world.a.practice_quiz
    for number, payload in enumerate(PAYLOADS):
        # Stored directly, as the admin could: the sign-up form would refuse such names.
        student = StudentFactory(username=payload, email=f"gradebook{number}@side-a.test")
        attempt_services.assignment_ensure(quiz=quiz, student=student)
        attempt_services.attempt_start(quiz=quiz, user=student)
    response = signed_in(world.a.instructor).get(reverse("quizzes:gradebook_csv", args=[quiz.pk]))
    assert_defused(parse(response), PAYLOADS)


def test_the_bulk_job_changes_export(world):
    quiz = world.a.exam_quiz
    client = signed_in(world.a.instructor)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["learner", "exercise", "line", "code"])
    writer.writerows([payload, 1, "dx", "N30.01"] for payload in PAYLOADS)
    writer.writerows([code, 1, "dx", "N30.01"] for code in CODES)
    writer.writerow(["student-a1", 1, "dx", "N30.01"])
    upload = SimpleUploadedFile("sheet.csv", buffer.getvalue().encode(), content_type="text/csv")
    assert client.post(reverse("bulk:import", args=[quiz.pk]), {"sheet": upload}).status_code == 302
    job = BulkJob.objects.get(kind="csv_import")
    # The import trims cells, so the tab and CR payloads are stored as "=1+2".
    stored = set(job.changes.values_list("raw", flat=True)) - set(CODES)
    assert stored == {payload.strip() for payload in PAYLOADS}
    rows = parse(client.get(reverse("bulk:job_changes_csv", args=[job.pk])))
    assert_defused(rows, sorted(stored))
    raw_values = {row[-1] for row in rows[1:]}
    assert set(CODES) <= raw_values  # code cells pass unchanged
    assert all(len(row) == len(rows[0]) for row in rows)


def test_the_assessment_results_export(world, invite):
    assessment = world.a.assessment
    for number, payload in enumerate(PAYLOADS):
        candidate, _link = invite(assessment, f"payload{number}@side-a.test")
        # Stored directly: the invitation form trims names, an import might not.
        Candidate.objects.filter(pk=candidate.pk).update(name=payload)
    response = signed_in(world.a.manager).get(
        reverse("assessments:results_csv", args=[assessment.pk])
    )
    rows = parse(response)
    assert_defused(rows, PAYLOADS)
    names = {row[1] for row in rows[1:]}
    assert {candidate.name for candidate in world.a.candidates} <= names
    assert all(len(row) == len(rows[0]) for row in rows)
