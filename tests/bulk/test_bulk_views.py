"""Bulk pages: import limits (S9), exports (S10), 409 (S8), reach (S2, S3), CSP."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from quizzes.grading.policy import RULES_VERSION
from quizzes.models import (
    Attempt,
    BulkJob,
    BulkJobKind,
    BulkJobStatus,
    ChangeOutcome,
    Response,
    Score,
)
from tests.factories import (
    EmployerFactory,
    InstructorFactory,
    OrganisationFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db


def _upload(client, quiz, content: bytes, name="sheet.csv"):
    return client.post(
        reverse("bulk:import", args=[quiz.pk]),
        {"sheet": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def _nothing_created(world):
    assert not BulkJob.objects.exists()
    assert Attempt.objects.filter(quiz=world.quiz).count() == len(world.learners)


@pytest.fixture
def owner_client(client, instructor):
    client.force_login(instructor)
    return client


def _sheet(world, extra_rows: str = "") -> bytes:
    first, second = world.learners[0].username, world.learners[1].username
    key = world.items[0].exercise["answer"]
    dx = key["diagnoses"][0]["code"]
    return (
        "learner,exercise,line,code,modifiers,units,dx_pointers\n"
        f"{first},1,dx,{dx},,,\n"
        f"{second},1,dx,{dx},,,\n"
        f"{first},2,dx,E11.9,,,\n"
        "nobody-here,1,dx,J02.0,,,\n"
        f'{second},1,dx,=HYPERLINK("http://evil.test"),,,\n'
        f"{second},1,proc,99213,25 XYZ,,\n"
        f"{first},9,dx,J02.0,,,\n" + extra_rows
    ).encode()


def test_an_import_reports_each_bad_row_and_scores_the_good_ones(
    owner_client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(owner_client, world.quiz, _sheet(world))
    job = BulkJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    job.refresh_from_db()
    assert job.kind == BulkJobKind.CSV_IMPORT
    assert job.status == BulkJobStatus.SUCCEEDED
    refused = {
        change.row_number: (change.reason_code, change.raw)
        for change in job.changes.filter(outcome=ChangeOutcome.REFUSED_ROW)
    }
    assert refused == {
        5: ("unknown_learner", "nobody-here"),
        6: ("bad_code_shape", '=HYPERLINK("http://evil.test")'),
        7: ("bad_modifier", "25 XYZ"),
        8: ("unknown_exercise", "9"),
    }
    assert job.report == {"rows": 7, "rows_refused": 4, "learners": 2}
    # Two new submitted attempts, every exercise present, all scored.
    new_attempts = Attempt.objects.filter(quiz=world.quiz, number=2)
    assert new_attempts.count() == 2
    responses = Response.objects.filter(attempt__in=new_attempts)
    assert responses.count() == 2 * len(world.items)
    assert Score.objects.filter(response__in=responses, rules_version=RULES_VERSION).count() == 8
    first = responses.get(attempt__user=world.learners[0], item=world.items[0])
    assert first.answer["diagnoses"] == [world.items[0].exercise["answer"]["diagnoses"][0]["code"]]
    # The page lists the problems with row numbers; the formula text is shown as text.
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "unknown_learner" in page
    assert "=HYPERLINK(&quot;http://evil.test&quot;)" in page


def test_the_same_file_twice_is_refused(owner_client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _upload(owner_client, world.quiz, _sheet(world))
    response = _upload(owner_client, world.quiz, _sheet(world))
    assert response.status_code == 409
    assert BulkJob.objects.count() == 1


def test_a_file_over_the_size_limit_is_refused_with_413(owner_client, world):
    big = b"learner,exercise,line,code\n" + b"a" * (50 * 1024 * 1024)
    response = _upload(owner_client, world.quiz, big)
    assert response.status_code == 413
    assert "limit" in response.content.decode()
    _nothing_created(world)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"learner,exercise,code\nann,1,J02.0\n", "sheet.csv", "Missing column(s): line"),
        ("learner,exercise,line,code\nJérôme,1,dx,J02.0\n".encode("latin-1"), "s.csv", "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", "binary"),
        (b"PK\x03\x04\x14\x00\x06\x00", "workbook.csv", "binary"),
        (
            b"learner,exercise,line,code\n" + b"ann,1,dx,J02.0\n" * 20_001,
            "long.csv",
            "more than 20,000 rows",
        ),
    ],
)
def test_a_refused_file_gets_a_clear_400_and_creates_nothing(
    owner_client, world, content, name, message
):
    response = _upload(owner_client, world.quiz, content, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    _nothing_created(world)


def test_import_rescore_and_cancel_need_the_csrf_token(instructor, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(instructor)
    assert _upload(client, world.quiz, _sheet(world)).status_code == 403
    response = client.post(reverse("bulk:rescore"), {"kind": "cohort", "quiz": world.quiz.pk})
    assert response.status_code == 403
    assert not BulkJob.objects.exists()


def test_a_second_rescore_while_one_runs_is_409_and_no_second_job(owner_client, world):
    # On-commit callbacks are not run here: the first job stays running.
    data = {"kind": "cohort", "quiz": world.quiz.pk}
    first = owner_client.post(reverse("bulk:rescore"), data)
    assert first.status_code == 302
    second = owner_client.post(reverse("bulk:rescore"), data)
    assert second.status_code == 409
    assert BulkJob.objects.count() == 1
    job = BulkJob.objects.get()
    assert job.get_absolute_url() in second.content.decode()
    # Cancel frees the scope.
    assert owner_client.post(reverse("bulk:job_cancel", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert job.status == BulkJobStatus.CANCELLED
    assert owner_client.post(reverse("bulk:rescore"), data).status_code == 302


def test_dry_run_then_apply_through_the_pages(
    owner_client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("bulk:rescore"), {"kind": "cohort", "quiz": world.quiz.pk})
    encounter = world.items[1].encounter
    encounter.key = {**encounter.key, "diagnoses": [{"code": "R69"}]}
    encounter.key_version += 1
    encounter.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("bulk:rescore"),
            {"kind": "rescore_key", "item": world.items[1].pk, "dry_run": "on"},
        )
    dry = BulkJob.objects.get(dry_run=True)
    page = owner_client.get(response["Location"]).content.decode()
    assert "Apply these changes" in page
    assert world.learners[0].username in page
    with django_capture_on_commit_callbacks(execute=True):
        applied = owner_client.post(reverse("bulk:job_apply", args=[dry.pk]))
    job = BulkJob.objects.get(confirms=dry)
    assert applied["Location"] == job.get_absolute_url()
    assert job.status == BulkJobStatus.SUCCEEDED
    assert "Applied by" in owner_client.get(dry.get_absolute_url()).content.decode()


def test_the_job_page_has_a_live_bar_without_inline_script_or_style(
    owner_client, world, instructor
):
    from quizzes.bulk.services import bulk_job_start

    job = bulk_job_start(kind=BulkJobKind.COHORT, user=instructor, scope={"quiz": world.quiz.pk})
    response = owner_client.get(job.get_absolute_url())
    body = response.content.decode()
    assert '<progress id="job-progress-bar"' in body
    assert 'data-running="true"' in body
    assert "js/bulk_progress.js" in body
    assert " style=" not in body
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), "no inline script"
    assert response["Cache-Control"].startswith("max-age=0")
    progress = owner_client.get(reverse("bulk:job_progress", args=[job.pk])).json()
    assert progress["status"] == "running"
    assert (progress["done"], progress["total"], progress["finished"]) == (0, 20, False)
    assert progress["chunks_total"] == 5


def test_the_changes_csv_escapes_formula_looking_cells(
    owner_client, world, instructor, django_capture_on_commit_callbacks
):
    learner = world.learners[0]
    learner.username = "=HYPERLINK(1)"
    learner.save()
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("bulk:rescore"), {"kind": "cohort", "quiz": world.quiz.pk})
    job = BulkJob.objects.get()
    response = owner_client.get(reverse("bulk:job_changes_csv", args=[job.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["outcome", "row", "learner"]
    assert len(rows) == 1 + len(world.response_ids)
    learners = {row[2] for row in rows[1:]}
    assert "'=HYPERLINK(1)" in learners
    assert "=HYPERLINK(1)" not in learners


@pytest.mark.parametrize(
    "intruder",
    [
        InstructorFactory,
        StudentFactory,
        lambda: EmployerFactory(organisation=OrganisationFactory()),
    ],
)
def test_another_users_job_and_quiz_are_404(client, world, instructor, intruder):
    from quizzes.bulk.services import bulk_job_start

    job = bulk_job_start(kind=BulkJobKind.COHORT, user=instructor, scope={"quiz": world.quiz.pk})
    client.force_login(intruder())
    for name in ("bulk:job_detail", "bulk:job_progress", "bulk:job_changes_csv"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    for name in ("bulk:job_cancel", "bulk:job_apply"):
        assert client.post(reverse(name, args=[job.pk])).status_code == 404
    assert client.get(reverse("bulk:quiz", args=[world.quiz.pk])).status_code == 404
    assert _upload(client, world.quiz, _sheet(world)).status_code == 404
    response = client.post(reverse("bulk:rescore"), {"kind": "cohort", "quiz": world.quiz.pk})
    assert response.status_code in (403, 404)
    job.refresh_from_db()
    assert job.status == BulkJobStatus.RUNNING
    assert BulkJob.objects.count() == 1


def test_employers_see_their_organisations_jobs_only(client, encounters, small_chunks):
    from quizzes.bulk.services import bulk_job_start
    from tests.bulk.world import build_world

    org = OrganisationFactory()
    author, colleague = EmployerFactory(organisation=org), EmployerFactory(organisation=org)
    world = build_world(
        owner=author, encounters=encounters[:2], learners=2, prefix="e", organisation_id=org.pk
    )
    job = bulk_job_start(kind=BulkJobKind.COHORT, user=author, scope={"quiz": world.quiz.pk})
    client.force_login(colleague)
    assert client.get(job.get_absolute_url()).status_code == 200
    assert client.get(reverse("bulk:quiz", args=[world.quiz.pk])).status_code == 200
    client.force_login(EmployerFactory(organisation=OrganisationFactory()))
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.get(reverse("bulk:home")).status_code == 200
