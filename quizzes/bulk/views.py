"""Pages and endpoints for bulk jobs: start, import, watch, cancel, apply, export.

Ids in URLs are looked up through the bulk selectors, which raise NotFound (a 404) for anything
outside the user's reach (another instructor's quiz, another organisation's job), so
a URL never confirms that someone else's object exists. Every page is ``never_cache``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from itertools import chain
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from codesets.models import Release
from coding_course.accounts.errors import Forbidden
from quizzes.bulk import selectors, services
from quizzes.bulk.forms import AnswerSheetForm, RescoreForm
from quizzes.errors import AlreadyImported, InvalidScope, NotApplicable, ScopeBusy
from quizzes.grading.policy import RULES_VERSION
from quizzes.imports.csv_export import SafeCsvWriter
from quizzes.imports.csv_import import (
    MAX_BYTES,
    MAX_ROWS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    SheetRefused,
)

# Room for the multipart envelope and the CSRF field around a file at the limit.
_ENVELOPE_BYTES = 64 * 1024


def _require_bulk_role(request: HttpRequest) -> None:
    if not selectors.may_run_bulk_jobs(request.user):
        raise Forbidden("Bulk jobs are for instructors, employers and staff.")


def _message(
    request: HttpRequest, title: str, text: str, status: int, job: Any = None
) -> HttpResponse:
    return render(
        request,
        "bulk/refused.html",
        {"title": title, "text": text, "job": job},
        status=status,
    )


@never_cache
@login_required
@require_GET
def bulk_home_view(request: HttpRequest) -> HttpResponse:
    _require_bulk_role(request)
    return render(
        request,
        "bulk/home.html",
        {
            "jobs": selectors.bulk_jobs_for_user(user=request.user)[:50],
            "quizzes": selectors.quizzes_in_reach(user=request.user).order_by("title", "id"),
            "releases": Release.objects.order_by("system", "-effective_from"),
            "rules_version": RULES_VERSION,
        },
    )


@never_cache
@login_required
@require_GET
def bulk_quiz_view(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = selectors.quiz_get_for_bulk(quiz_id=quiz_id, user=request.user)
    return render(
        request,
        "bulk/quiz.html",
        {
            "quiz": quiz,
            "items": selectors.quiz_items_numbered(quiz=quiz),
            "form": AnswerSheetForm(),
            "required_columns": REQUIRED_COLUMNS,
            "optional_columns": OPTIONAL_COLUMNS,
            "max_mb": MAX_BYTES // (1024 * 1024),
            "max_rows": MAX_ROWS,
        },
    )


@never_cache
@login_required
@require_POST
def bulk_rescore_view(request: HttpRequest) -> HttpResponse:
    _require_bulk_role(request)
    form = RescoreForm(request.POST)
    if not form.is_valid():
        return _message(request, "Not started", "The request was incomplete.", 400)
    try:
        job = services.bulk_job_start(
            kind=form.cleaned_data["kind"],
            user=request.user,
            scope=form.scope(),
            dry_run=form.cleaned_data["dry_run"],
        )
    except ScopeBusy as busy:
        return _message(
            request,
            "Already running",
            "A job over this scope is running; wait for it or cancel it first.",
            409,
            job=busy.running,
        )
    except InvalidScope as problem:
        return _message(request, "Not started", str(problem), 400)
    return redirect(job)


@never_cache
@login_required
@require_POST
def bulk_import_view(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = selectors.quiz_get_for_bulk(quiz_id=quiz_id, user=request.user)
    limit_text = f"The file is over the {MAX_BYTES // (1024 * 1024)} MB limit."
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BYTES + _ENVELOPE_BYTES:
        return _message(request, "File refused", limit_text, 413)
    form = AnswerSheetForm(request.POST, request.FILES)
    if not form.is_valid():
        return _message(request, "File refused", "Choose a CSV file to upload.", 400)
    upload = form.cleaned_data["sheet"]
    if upload.size > MAX_BYTES:
        return _message(request, "File refused", limit_text, 413)
    try:
        job = services.answer_sheets_import(
            quiz=quiz, user=request.user, data=upload.read(), filename=upload.name
        )
    except SheetRefused as refused:
        return _message(request, "File refused", refused.message, refused.status)
    except AlreadyImported as again:
        return _message(request, "Already imported", str(again), 409, job=again.earlier)
    except ScopeBusy as busy:
        return _message(request, "Already running", str(busy), 409, job=busy.running)
    return redirect(job)


@never_cache
@login_required
@require_GET
def bulk_job_detail_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.bulk_job_get_for_user(job_id=job_id, user=request.user)
    return render(
        request,
        "bulk/job_detail.html",
        {
            "job": job,
            "progress": selectors.bulk_job_progress(job=job),
            "learners": selectors.bulk_job_learner_changes(job=job) if not job.is_running else [],
            "problems": selectors.bulk_job_problems(job=job) if not job.is_running else [],
            "applied": job.applications.first(),
        },
    )


@never_cache
@login_required
@require_GET
def bulk_job_progress_view(request: HttpRequest, job_id: int) -> JsonResponse:
    job = selectors.bulk_job_get_for_user(job_id=job_id, user=request.user)
    return JsonResponse(selectors.bulk_job_progress(job=job).as_json())


@never_cache
@login_required
@require_GET
def bulk_job_changes_csv_view(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    job = selectors.bulk_job_get_for_user(job_id=job_id, user=request.user)
    header = [
        "outcome",
        "row",
        "learner",
        "response",
        "attempt",
        "exercise",
        "encounter",
        "before",
        "before_max",
        "after",
        "after_max",
        "reason_code",
        "reason",
        "value",
    ]

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = SafeCsvWriter(buffer)
        changes = selectors.bulk_job_changes_for_export(job=job)
        fields = selectors.CHANGE_EXPORT_FIELDS
        for row in chain([header], ([change[name] for name in fields] for change in changes)):
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bulk-job-{job.pk}-changes.csv"'
    return response


@never_cache
@login_required
@require_POST
def bulk_job_cancel_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.bulk_job_get_for_user(job_id=job_id, user=request.user)
    services.bulk_job_cancel(job=job, by=request.user)
    return redirect(job)


@never_cache
@login_required
@require_POST
def bulk_job_apply_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.bulk_job_get_for_user(job_id=job_id, user=request.user)
    try:
        applied = services.bulk_job_apply(job=job, by=request.user)
    except ScopeBusy as busy:
        return _message(
            request, "Already running", "A job over this scope is running.", 409, busy.running
        )
    except NotApplicable as problem:
        return _message(request, "Not applied", str(problem), 400, job=job)
    return redirect(applied)
