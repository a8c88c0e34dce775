"""Quiz pages for learners (list, take, check, submit, review) and instructors
(gradebook, overrides, quiz settings).

Every learner page is ``never_cache``: answers and scores are personal, and a shared or
back-button cache must not replay them. JSON endpoints take JSON bodies and rely on
Django's CSRF check through the ``X-CSRFToken`` header. Reading a page never submits
or grades: an attempt whose time is up is shown as such, with a button that submits it.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from coding_course.accounts.models import Role
from coding_course.accounts.permissions import role_required
from quizzes.attempts import selectors, services
from quizzes.attempts.forms import AssignForm, QuizForm, ScoreOverrideForm
from quizzes.errors import (
    AttemptClosed,
    CheckNotAllowed,
    InvalidOverride,
    QuizError,
    TriesExhausted,
)
from quizzes.imports.csv_export import SafeCsvWriter
from quizzes.scoring import findings_without_key


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _position(request: HttpRequest) -> int:
    """The exercise asked for in ``?q=`` (1 when absent or not a number)."""
    try:
        return int(request.GET.get("q", "1"))
    except ValueError:
        return 1


@never_cache
@login_required
@require_GET
def quiz_list_view(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"assigned": selectors.quizzes_for_student(user=request.user)}
    if request.user.role in (Role.INSTRUCTOR, Role.STAFF) or request.user.is_site_staff:
        context["owned"] = selectors.quizzes_owned(user=request.user)
    return render(request, "quizzes/quiz_list.html", context)


@never_cache
@login_required
def quiz_detail_view(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = selectors.quiz_get_for_learner(quiz_id=quiz_id, user=request.user)
    if request.method == "POST":
        try:
            attempt = services.attempt_start(quiz=quiz, user=request.user)
        except QuizError as refusal:
            messages.error(request, str(refusal))
            return redirect(quiz)
        return redirect(attempt)
    attempts = list(quiz.attempts.filter(user=request.user))
    return render(
        request,
        "quizzes/quiz_detail.html",
        {"quiz": quiz, "attempts": attempts, "item_count": quiz.items.count()},
    )


@never_cache
@login_required
@require_GET
def attempt_take_view(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_get_for_learner(attempt_id=attempt_id, user=request.user)
    if attempt.is_submitted:
        return redirect("quizzes:attempt_review", attempt_id=attempt.pk)
    if selectors.attempt_time_up(attempt=attempt):
        return render(
            request,
            "quizzes/attempt_time_up.html",
            {
                "attempt": attempt,
                "quiz": attempt.quiz,
                "submit_url": reverse("quizzes:attempt_submit", args=[attempt.pk]),
            },
        )
    context = selectors.attempt_take_page(attempt=attempt, position=_position(request))
    return render(request, "quizzes/attempt_take.html", context)


def _closed(attempt: Any) -> JsonResponse:
    return JsonResponse(
        {
            "error": AttemptClosed.code,
            "message": "This attempt is submitted; answers can no longer change.",
            "redirect": reverse("quizzes:attempt_review", args=[attempt.pk]),
        },
        status=409,
    )


@never_cache
@login_required
@require_POST
def response_save_view(request: HttpRequest, attempt_id: int, item_id: int) -> JsonResponse:
    attempt = selectors.attempt_get_for_learner(attempt_id=attempt_id, user=request.user)
    item = selectors.attempt_item_get(attempt=attempt, item_id=item_id)
    body = _json_body(request)
    flagged = body.get("flagged")
    try:
        response = services.response_save(
            attempt=attempt,
            item=item,
            answer=body.get("answer"),
            flagged=flagged if isinstance(flagged, bool) else None,
        )
    except AttemptClosed:
        return _closed(attempt)
    return JsonResponse(
        {
            "saved": True,
            "savedAt": response.updated_at.isoformat(),
            "secondsLeft": selectors.attempt_seconds_left(attempt=attempt),
        }
    )


@never_cache
@login_required
@require_POST
def response_check_view(request: HttpRequest, attempt_id: int, item_id: int) -> JsonResponse:
    """Practice feedback without the key: per-line verdicts and safe messages only."""
    attempt = selectors.attempt_get_for_learner(attempt_id=attempt_id, user=request.user)
    item = selectors.attempt_item_get(attempt=attempt, item_id=item_id)
    try:
        result = services.response_check(
            attempt=attempt, item=item, answer=_json_body(request).get("answer")
        )
    except AttemptClosed:
        return _closed(attempt)
    except CheckNotAllowed as refusal:
        return JsonResponse({"error": refusal.code, "message": str(refusal)}, status=403)
    except TriesExhausted as refusal:
        return JsonResponse({"error": refusal.code, "message": str(refusal)}, status=429)
    grade = result.grade
    return JsonResponse(
        {
            "score": grade.score,
            "maxScore": grade.max_score,
            "percent": grade.percent,
            "allCorrect": grade.max_score > 0 and grade.score >= grade.max_score,
            "findings": findings_without_key(grade.findings),
            "triesLeft": result.tries_left,
        }
    )


@never_cache
@login_required
@require_POST
def attempt_submit_view(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_get_for_learner(attempt_id=attempt_id, user=request.user)
    services.attempt_submit(attempt=attempt)
    return redirect("quizzes:attempt_review", attempt_id=attempt.pk)


@never_cache
@login_required
@require_GET
def attempt_review_view(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_get_for_learner(attempt_id=attempt_id, user=request.user)
    if not attempt.is_submitted:
        # The take page: the exercises, or (time up) the button that submits them.
        return redirect(attempt)
    reveal = selectors.review_allowed(attempt=attempt)
    return render(
        request,
        "quizzes/attempt_review.html",
        {
            "attempt": attempt,
            "quiz": attempt.quiz,
            "reveal": reveal,
            "passed": (attempt.percent or 0) >= attempt.quiz.pass_mark_percent,
            "rows": selectors.attempt_review_rows(attempt=attempt, reveal=reveal),
        },
    )


# ---------------------------------------------------------------------------
# Instructors


@never_cache
@role_required(Role.INSTRUCTOR)
@require_GET
def gradebook_view(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = selectors.quiz_get_for_owner(quiz_id=quiz_id, user=request.user)
    return render(
        request,
        "quizzes/gradebook.html",
        {
            "quiz": quiz,
            "rows": selectors.quiz_gradebook(quiz=quiz),
            "item_stats": selectors.quiz_item_analysis(quiz=quiz),
        },
    )


@never_cache
@role_required(Role.INSTRUCTOR)
@require_GET
def gradebook_csv_view(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = selectors.quiz_get_for_owner(quiz_id=quiz_id, user=request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="quiz-{quiz.pk}-gradebook.csv"'
    writer = SafeCsvWriter(response)
    writer.writerow(["username", "name", "attempt", "status", "score", "max", "percent", "minutes"])
    for row in selectors.quiz_gradebook(quiz=quiz):
        attempt = row.attempt
        writer.writerow(
            [
                attempt.user.username,
                attempt.user.get_full_name(),
                attempt.number,
                attempt.status,
                attempt.score,
                attempt.max_score,
                attempt.percent,
                row.minutes,
            ]
        )
    return response


@never_cache
@role_required(Role.INSTRUCTOR)
def score_override_view(request: HttpRequest, response_id: int) -> HttpResponse:
    response = selectors.response_get_for_owner(response_id=response_id, user=request.user)
    quiz = response.attempt.quiz
    form = ScoreOverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.score_override(
                response=response,
                score=form.cleaned_data["score"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except InvalidOverride as problem:
            form.add_error("score", str(problem))
        else:
            messages.success(request, "Score overridden.")
            return redirect("quizzes:gradebook", quiz_id=quiz.pk)
    return render(
        request,
        "quizzes/score_override.html",
        {"form": form, "response": response, "quiz": quiz, "overrides": response.overrides.all()},
    )


@never_cache
@role_required(Role.INSTRUCTOR)
def quiz_manage_view(request: HttpRequest, quiz_id: int | None = None) -> HttpResponse:
    """Create a quiz or change its settings, see its exercises and assign students."""
    quiz = selectors.quiz_get_for_owner(quiz_id=quiz_id, user=request.user) if quiz_id else None
    action = request.POST.get("action") if request.method == "POST" else None
    form = QuizForm(request.POST if action == "settings" else None, instance=quiz)
    assign = AssignForm(request.POST if action == "assign" else None)
    if action == "settings" and form.is_valid():
        saved = form.save(commit=False)
        if quiz is None:
            saved.owner = request.user
        saved.save()
        messages.success(request, "Quiz saved.")
        return redirect("quizzes:quiz_manage", quiz_id=saved.pk)
    if quiz is not None and action == "assign" and assign.is_valid():
        names = set(assign.cleaned_data["usernames"].replace(",", " ").split())
        students = list(get_user_model().objects.filter(username__in=names, role=Role.STUDENT))
        for student in students:
            services.assignment_ensure(quiz=quiz, student=student, by=request.user)
        unknown = sorted(names - {s.username for s in students})
        if unknown:
            messages.warning(request, f"Not students here: {', '.join(unknown)}.")
        messages.success(request, f"Assigned to {len(students)} student(s).")
        return redirect("quizzes:quiz_manage", quiz_id=quiz.pk)
    return render(
        request,
        "quizzes/quiz_manage.html",
        {
            "quiz": quiz,
            "form": form,
            "assign": assign,
            "items": quiz.items.select_related("encounter") if quiz else [],
            "assignments": quiz.assignments.select_related("student") if quiz else [],
        },
    )
