"""S3: employer A never sees or touches employer B's objects (ASVS 8.4.1).

Every page, export and JSON endpoint A's manager can open is fetched and searched for
B's candidates' names and addresses and B's assessment; the same pages must show A's
own candidates, so the search is known to look in the right place. Bulk work started
under A's scope refuses B's responses even when they are handed to it directly.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from quizzes.bulk import services as bulk_services
from quizzes.models import (
    Attempt,
    BulkJob,
    BulkJobChange,
    BulkJobChunk,
    BulkJobKind,
    Response,
    Score,
)
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db


def employer_a_urls(world) -> list[str]:
    a = world.a
    assessment_id = a.assessment.pk
    # (accounts:employer_home redirects to assessments:home, listed here.)
    urls = [
        "/",
        reverse("assessments:home"),
        reverse("assessments:detail", args=[assessment_id]),
        reverse("assessments:results", args=[assessment_id]),
        reverse("assessments:results_csv", args=[assessment_id]),
        reverse("bulk:home"),
        reverse("bulk:quiz", args=[a.assessment.quiz_id]),
        reverse("bulk:job_detail", args=[a.organisation_job.pk]),
        reverse("bulk:job_progress", args=[a.organisation_job.pk]),
        reverse("bulk:job_changes_csv", args=[a.organisation_job.pk]),
        "/codes/api/search?q=side",
        "/codes/?q=side",
    ]
    urls += [
        reverse("assessments:candidate_report", args=[assessment_id, candidate.pk])
        for candidate in a.candidates
    ]
    return urls


def body_of(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_none_of_employer_bs_objects_appear_on_employer_as_pages(world):
    client = signed_in(world.a.manager)
    b_texts = [*world.b.candidate_texts, world.b.assessment.title]
    seen_own = set()
    for url in employer_a_urls(world):
        response = client.get(url)
        assert response.status_code == 200, url
        body = body_of(response)
        assert [text for text in b_texts if text in body] == [], url
        seen_own |= {text for text in world.a.candidate_texts if text in body}
    # The control: A's own candidates do show, so B's would have been found.
    assert seen_own == set(world.a.candidate_texts)


def test_employer_a_cannot_start_a_job_over_bs_quiz(world):
    client = signed_in(world.a.manager)
    jobs = BulkJob.objects.count()
    response = client.post(
        reverse("bulk:rescore"), {"kind": "cohort", "quiz": world.b.assessment.quiz_id}
    )
    assert response.status_code == 404
    assert BulkJob.objects.count() == jobs


def test_a_chunk_of_as_job_handed_bs_responses_refuses_them(world):
    job = world.a.organisation_job
    b_responses = list(
        Response.objects.filter(attempt__quiz=world.b.assessment.quiz).values_list("pk", flat=True)
    )
    assert b_responses
    scores_before = list(Score.objects.filter(response_id__in=b_responses).order_by("pk").values())
    forged = BulkJobChunk.objects.create(job=job, number=99, response_ids=b_responses)
    BulkJob.objects.filter(pk=job.pk).update(chunks_total=job.chunks_total + 1)
    bulk_services.bulk_chunk_run(chunk_id=forged.pk)
    refused = BulkJobChange.objects.filter(job=job, reason_code="out_of_reach")
    assert sorted(int(raw) for raw in refused.values_list("raw", flat=True)) == sorted(b_responses)
    assert (
        list(Score.objects.filter(response_id__in=b_responses).order_by("pk").values())
        == scores_before
    )


def test_an_answer_sheet_under_as_scope_naming_bs_candidates_is_refused(world):
    b_usernames = [candidate.user.username for candidate in world.b.candidates]
    sheet = "learner,exercise,line,code\n" + "".join(
        f"{username},1,dx,J02.0\n" for username in b_usernames
    )
    client = signed_in(world.a.manager)
    attempts = Attempt.objects.count()
    client.post(
        reverse("bulk:import", args=[world.a.assessment.quiz_id]),
        {"sheet": SimpleUploadedFile("sheet.csv", sheet.encode(), content_type="text/csv")},
    )
    job = BulkJob.objects.filter(kind=BulkJobKind.CSV_IMPORT).get()
    codes = set(job.changes.values_list("reason_code", flat=True))
    assert codes == {"unknown_learner"}
    assert Attempt.objects.count() == attempts
