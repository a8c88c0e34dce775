"""One score writer for submission and bulk scoring: the same facts stored both ways,
and the key-version guard inside the upsert itself."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from codesets.selectors import releases_in_force
from quizzes import scoring
from quizzes.attempts import services as attempt_services
from quizzes.bulk import services as bulk_services
from quizzes.grading.policy import RULES_VERSION
from quizzes.models import BulkJobKind, BulkJobStatus, Quiz, Score
from tests.bulk.world import VARIANTS


@pytest.fixture
def submitted(encounters, instructor, student):
    """One attempt submitted in-process: three full-coding exercises answered right,
    with a diagnosis missing and with a wrong first code."""
    quiz = Quiz.objects.create(title="submitted", owner=instructor, attempts_allowed=0)
    items = [attempt_services.quiz_item_add(quiz=quiz, encounter=e) for e in encounters[:3]]
    attempt_services.assignment_ensure(quiz=quiz, student=student)
    attempt = attempt_services.attempt_start(quiz=quiz, user=student)
    for variant, item in zip(VARIANTS, items, strict=False):
        answer = variant(item.exercise["answer"])
        attempt_services.response_save(attempt=attempt, item=item, answer=answer)
    return attempt_services.attempt_submit(attempt=attempt)


def _stored(attempt):
    return {
        score.response_id: (
            score.score,
            score.max_score,
            score.percent,
            score.findings,
            score.key_version,
            score.releases,
        )
        for score in Score.objects.filter(response__attempt=attempt, rules_version=RULES_VERSION)
    }


def test_a_submitted_attempt_records_key_version_and_releases(submitted):
    scores = list(
        Score.objects.filter(response__attempt=submitted).select_related(
            "response__item__encounter"
        )
    )
    assert len(scores) == 3
    for score in scores:
        item = score.response.item
        in_force = releases_in_force(day=item.encounter.date_of_service)
        assert score.key_version == item.key_version == item.encounter.key_version
        assert score.releases == {system.value: r.version for system, r in in_force.items()}
        assert score.releases["ICD-10-CM"] == "2026-04"


@pytest.mark.parametrize(
    ("kind", "scope"),
    [
        (BulkJobKind.COHORT, "quiz"),
        (BulkJobKind.RESCORE_KEY, "quiz"),
        (BulkJobKind.RESCORE_KEY, "item"),
    ],
)
def test_a_bulk_rescore_after_submission_finds_nothing_to_change(
    submitted, instructor, kind, scope, django_capture_on_commit_callbacks
):
    before = _stored(submitted)
    first_item = submitted.item_ids[0]
    named = {"quiz": submitted.quiz_id, "item": first_item}[scope]
    with django_capture_on_commit_callbacks(execute=True):
        job = bulk_services.bulk_job_start(kind=kind, user=instructor, scope={scope: named})
    job.refresh_from_db()
    assert job.status == BulkJobStatus.SUCCEEDED
    assert job.total == (3 if scope == "quiz" else 1)
    assert job.changes.count() == 0
    assert _stored(submitted) == before


@pytest.mark.parametrize(
    ("stored_version", "incoming_version", "written"),
    [
        (None, 1, True),  # no score yet
        (1, 1, True),  # the same key: recomputed
        (1, 2, True),  # a newer key replaces an older one
        (3, 2, False),  # an older key never replaces a newer one
    ],
)
def test_the_upsert_keeps_a_score_of_a_newer_key(
    submitted, stored_version, incoming_version, written
):
    response_id = min(_stored(submitted))
    if stored_version is None:
        Score.objects.filter(response_id=response_id).delete()
    else:
        Score.objects.filter(response_id=response_id).update(key_version=stored_version, score=-1)
    grade = scoring.ItemGrade(
        score=0.5, max_score=2.0, findings=[{"kind": "correct"}], releases={"CPT": "2026"}
    )
    row = scoring.score_row(response_id=response_id, grade=grade, key_version=incoming_version)
    with transaction.atomic():
        result = scoring.scores_upsert([row], rules_version=RULES_VERSION, graded_at=timezone.now())
    assert result == ({response_id} if written else set())
    stored = Score.objects.get(response_id=response_id, rules_version=RULES_VERSION)
    if written:
        assert (stored.score, stored.percent, stored.key_version, stored.releases) == (
            0.5,
            25.0,
            incoming_version,
            {"CPT": "2026"},
        )
        assert stored.findings == [{"kind": "correct"}]
    else:
        assert (stored.score, stored.key_version) == (-1, stored_version)
