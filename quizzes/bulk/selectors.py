"""Read side of bulk jobs: who may touch which quizzes, which responses a scope holds,
and what a job page shows.

Every question about reach goes through :func:`quizzes_in_reach` and
:func:`responses_in_reach`, for the views that start jobs and for the tasks that run
their chunks alike: a chunk handed response ids outside its job's reach scores none
of them (ASVS 8.4.1, check S3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from codesets.models import Release
from coding_course.accounts.errors import NotFound
from coding_course.accounts.models import Role
from quizzes.grading.policy import RULES_VERSION
from quizzes.models import (
    AttemptStatus,
    BulkJob,
    BulkJobChange,
    BulkJobKind,
    ChangeOutcome,
    Quiz,
    QuizItem,
    Response,
    Score,
)


def may_run_bulk_jobs(user: Any) -> bool:
    """Instructors, employers and site staff start bulk jobs; learners never do."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_site_staff or user.role in (Role.INSTRUCTOR, Role.EMPLOYER)


def quizzes_in_reach(*, user: Any, organisation_id: int | None = None) -> QuerySet[Quiz]:
    """The quizzes whose responses ``user`` may score in bulk.

    Site staff: all. Employers: quizzes owned by a member of their organisation.
    Instructors: their own. Anyone else: none.
    """
    quizzes = Quiz.objects.all()
    if not may_run_bulk_jobs(user):
        return quizzes.none()
    if user.is_site_staff:
        return quizzes
    if user.role == Role.EMPLOYER:
        org = organisation_id or user.organisation_id
        return quizzes.filter(owner__organisation_id=org)
    return quizzes.filter(owner_id=user.pk)


def responses_in_reach(*, user: Any, organisation_id: int | None) -> QuerySet[Response]:
    """Submitted responses on quizzes in reach; for an employer job, only its learners
    (or learners of no organisation): a candidate of another employer is never touched."""
    responses = Response.objects.filter(
        attempt__status=AttemptStatus.SUBMITTED,
        attempt__quiz__in=quizzes_in_reach(user=user, organisation_id=organisation_id),
    )
    if organisation_id is not None:
        responses = responses.filter(
            Q(attempt__user__organisation_id=organisation_id)
            | Q(attempt__user__organisation__isnull=True)
        )
    return responses


def quiz_get_for_bulk(*, quiz_id: int, user: Any) -> Quiz:
    quiz = quizzes_in_reach(user=user).filter(pk=quiz_id).first()
    if quiz is None:
        raise NotFound("No such quiz.")
    return quiz


def item_get_for_bulk(*, item_id: int, user: Any) -> QuizItem:
    item = QuizItem.objects.filter(pk=item_id, quiz__in=quizzes_in_reach(user=user)).first()
    if item is None:
        raise NotFound("No such exercise.")
    return item


def quiz_items_numbered(*, quiz: Quiz) -> list[QuizItem]:
    """A quiz's exercises in order; an answer sheet's ``exercise`` column is the
    1-based place in this list."""
    return list(quiz.items.select_related("encounter").order_by("position", "id"))


def scope_response_ids(*, job: BulkJob) -> list[tuple[int, int]]:
    """(attempt id, response id) of every response the job's scope holds, in attempt
    order so that chunks can be cut at attempt boundaries."""
    responses = responses_in_reach(user=job.started_by, organisation_id=job.organisation_id)
    scope = job.scope
    if job.kind == BulkJobKind.RESCORE_KEY:
        if "item" in scope:
            responses = responses.filter(item_id=scope["item"])
        elif "quiz" in scope:
            responses = responses.filter(item__quiz_id=scope["quiz"])
        else:
            responses = responses.filter(item__encounter_id=scope["encounter"])
    elif job.kind == BulkJobKind.COHORT:
        responses = responses.filter(attempt__quiz_id=scope["quiz"])
    elif job.kind == BulkJobKind.RESCORE_RULES:
        graded_before = Score.objects.filter(rules_version=scope["rules_version"])
        responses = responses.filter(pk__in=graded_before.values("response_id"))
    elif job.kind == BulkJobKind.RESCORE_RELEASE:
        responses = responses.filter(pk__in=_graded_under_other_release(scope, RULES_VERSION))
    elif job.kind == BulkJobKind.CSV_IMPORT:
        responses = responses.filter(pk__in=scope["response_ids"])
    return list(responses.order_by("attempt_id", "id").values_list("attempt_id", "id"))


def _graded_under_other_release(scope: dict[str, Any], rules_version: str) -> list[int]:
    """Responses scored under the current rules against another release of the new
    release's system, on dates of service the new release covers."""
    release = Release.objects.get(pk=scope["release"])
    window = {"response__item__encounter__date_of_service__gte": release.effective_from}
    if release.effective_to is not None:
        window["response__item__encounter__date_of_service__lte"] = release.effective_to
    rows = Score.objects.filter(rules_version=rules_version, **window).values_list(
        "response_id", "releases"
    )
    return [
        response_id
        for response_id, releases in rows
        if (releases or {}).get(release.system) != release.version
    ]


def bulk_jobs_for_user(*, user: Any) -> QuerySet[BulkJob]:
    """Jobs the user may see: their own; an employer's organisation's; staff: all."""
    jobs = BulkJob.objects.select_related("started_by")
    if not may_run_bulk_jobs(user):
        return jobs.none()
    if user.is_site_staff:
        return jobs
    if user.role == Role.EMPLOYER:
        return jobs.filter(organisation_id=user.organisation_id)
    return jobs.filter(started_by_id=user.pk)


def bulk_job_get_for_user(*, job_id: int, user: Any) -> BulkJob:
    """A job the user may see; any other id is a 404, never a 403 that confirms it."""
    job = bulk_jobs_for_user(user=user).filter(pk=job_id).first()
    if job is None:
        raise NotFound("No such job.")
    return job


@dataclass(frozen=True)
class Progress:
    """What the progress bar shows; ``rate_per_s`` counts responses, failures too."""

    status: str
    status_label: str
    finished: bool
    dry_run: bool
    total: int
    done: int
    failed: int
    chunks_total: int
    chunks_done: int
    chunks_failed: int
    rate_per_s: float | None
    seconds_left: int | None
    error_summary: str

    @property
    def percent(self) -> float:
        if not self.total:
            return 100.0
        return round(100.0 * (self.done + self.failed) / self.total, 1)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "status_label": self.status_label,
            "finished": self.finished,
            "dry_run": self.dry_run,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "percent": self.percent,
            "chunks_total": self.chunks_total,
            "chunks_done": self.chunks_done,
            "chunks_failed": self.chunks_failed,
            "rate_per_s": self.rate_per_s,
            "seconds_left": self.seconds_left,
            "error_summary": self.error_summary,
        }


def bulk_job_progress(*, job: BulkJob, now: dt.datetime | None = None) -> Progress:
    now = now or timezone.now()
    processed = job.done + job.failed
    end = job.finished_at or now
    elapsed = (end - job.started_at).total_seconds() if job.started_at else 0.0
    rate = round(processed / elapsed, 1) if elapsed > 0 and processed else None
    left = None
    if job.is_running and rate:
        left = int((job.total - processed) / rate)
    return Progress(
        status=job.status,
        status_label=job.get_status_display(),
        finished=not job.is_running,
        dry_run=job.dry_run,
        total=job.total,
        done=job.done,
        failed=job.failed,
        chunks_total=job.chunks_total,
        chunks_done=job.chunks_done,
        chunks_failed=job.chunks_failed,
        rate_per_s=rate,
        seconds_left=left,
        error_summary=job.error_summary,
    )


@dataclass(frozen=True)
class LearnerChange:
    """A learner's responses a job changed, with their summed scores before and after."""

    learner_id: int
    username: str
    responses: int
    before: float
    after: float

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 4)


def bulk_job_learner_changes(*, job: BulkJob, limit: int = 500) -> list[LearnerChange]:
    """Per learner, the score before and after over the responses that changed."""
    rows = (
        job.changes.filter(outcome__in=[ChangeOutcome.CHANGED, ChangeOutcome.SCORED])
        .values("learner_id", "learner__username")
        .annotate(responses=Count("id"), before=Sum("before_score"), after=Sum("after_score"))
        .order_by("learner__username")[:limit]
    )
    return [
        LearnerChange(
            learner_id=row["learner_id"],
            username=row["learner__username"] or "",
            responses=row["responses"],
            before=round(row["before"] or 0.0, 4),
            after=round(row["after"] or 0.0, 4),
        )
        for row in rows
    ]


def bulk_job_problems(*, job: BulkJob, limit: int = 500) -> list[BulkJobChange]:
    """Refused import rows and responses that failed to score, in row order."""
    return list(
        job.changes.filter(outcome__in=[ChangeOutcome.FAILED, ChangeOutcome.REFUSED_ROW])
        .select_related("learner")
        .order_by("row_number", "id")[:limit]
    )


# The change export's columns, in order (the view writes them as the CSV header's keys).
CHANGE_EXPORT_FIELDS = (
    "outcome",
    "row_number",
    "learner__username",
    "response_id",
    "response__attempt_id",
    "item_id",
    "item__encounter__slug",
    "before_score",
    "before_max",
    "after_score",
    "after_max",
    "reason_code",
    "reason",
    "raw",
)


def bulk_job_changes_for_export(*, job: BulkJob) -> Iterable[dict[str, Any]]:
    """Every change row with what a spreadsheet needs, streamed."""
    return (
        job.changes.order_by("row_number", "id")
        .values(*CHANGE_EXPORT_FIELDS)
        .iterator(chunk_size=2000)
    )
