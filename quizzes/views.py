"""Quiz pages for learners (list, take, check, submit, review) and instructors.

Every learner page is ``never_cache``: answers and scores are personal, and a shared or
back-button cache must not replay them. JSON endpoints take JSON bodies and rely on
Django's CSRF check through the ``X-CSRFToken`` header.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from typing import Any

import yaml
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from coding_course.accounts.models import Role
from coding_course.accounts.permissions import role_required
from quizzes import quiz_services as services
from quizzes import selectors
from quizzes.forms import (
    AddExercisesForm,
    AssignForm,
    DiagnosisFormSet,
    EncounterForm,
    EncounterImportForm,
    ProcedureFormSet,
    QuizForm,
    ScoreOverrideForm,
)
from quizzes.models import Attempt, Encounter, EncounterSource, ExerciseType, QuizItem, Response

# Spreadsheets run cells starting with these as formulas (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _seconds_left(attempt: Any) -> int | None:
    if attempt.deadline is None:
        return None
    return max(int((attempt.deadline - timezone.now()).total_seconds()), 0)


def _learner_item(attempt: Any, item_id: int) -> QuizItem:
    if item_id not in attempt.item_ids:
        raise QuizItem.DoesNotExist
    return QuizItem.objects.select_related("encounter").get(pk=item_id)


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
        except services.QuizError as refusal:
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
    if services.attempt_expire_if_due(attempt=attempt):
        messages.info(request, "Time is up: the attempt was submitted with your saved answers.")
        return redirect("quizzes:attempt_review", attempt_id=attempt.pk)
    return render(request, "quizzes/attempt_take.html", take_page_context(request, attempt))


def take_page_context(request: HttpRequest, attempt: Attempt) -> dict[str, Any]:
    """What a take page renders for the exercise asked for in ``?q=``: the quiz page
    and an assessment sitting share it, so both show the same inputs and settings."""
    try:
        position = int(request.GET.get("q", "1"))
    except ValueError:
        position = 1
    view = selectors.attempt_take_view(attempt=attempt, position=position)
    response = view.response
    practice = attempt.quiz.is_practice
    config = {
        "attemptId": attempt.pk,
        "itemId": view.item.pk,
        "type": view.item.exercise_type,
        "practice": practice,
        "saveUrl": reverse("quizzes:response_save", args=[attempt.pk, view.item.pk]),
        "checkUrl": reverse("quizzes:response_check", args=[attempt.pk, view.item.pk]),
        "searchUrl": reverse("codesets:search_api"),
        "browserUrl": reverse("codesets:search"),
        "date": view.public["date_of_service"].isoformat(),
        "secondsLeft": _seconds_left(attempt),
        "triesLeft": (
            attempt.quiz.tries_per_item - (response.tries if response else 0) if practice else 0
        ),
    }
    saved = response.answer if response else {}
    return {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "view": view,
        "exercise": view.public,
        "saved_answer": saved,
        "inputs": _typed_inputs(view.public, saved),
        "flagged": bool(response and response.flagged),
        "config": config,
        "seconds_left": config["secondsLeft"],
        "previous": view.position - 1 if view.position > 1 else None,
        "next": view.position + 1 if view.position < len(view.navigator) else None,
    }


def _typed_inputs(public: dict[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
    """Rows for the sequencing, linkage and audit inputs, with the saved answer filled in."""
    choices = [choice["value"] for choice in public["choices"]]
    saved_order = [code for code in saved.get("order", []) if code in choices]
    order = saved_order + [code for code in choices if code not in saved_order]
    links = saved.get("links", {})
    fixes = saved.get("fixes", {})
    return {
        "order": order,
        "links": [
            {
                "label": label,
                "options": [
                    {"code": code, "checked": code in links.get(label, [])} for code in choices
                ],
            }
            for label in public.get("link_lines", [])
        ],
        "claim": [{**line, "fix": fixes.get(line["ref"], "")} for line in public.get("claim", [])],
    }


def _closed(attempt: Any) -> JsonResponse:
    return JsonResponse(
        {
            "error": "attempt_closed",
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
    try:
        item = _learner_item(attempt, item_id)
    except QuizItem.DoesNotExist:
        return JsonResponse({"error": "not_found"}, status=404)
    body = _json_body(request)
    flagged = body.get("flagged")
    try:
        response = services.response_save(
            attempt=attempt,
            item=item,
            answer=body.get("answer"),
            flagged=flagged if isinstance(flagged, bool) else None,
        )
    except services.AttemptClosed:
        return _closed(attempt)
    return JsonResponse(
        {
            "saved": True,
            "savedAt": response.updated_at.isoformat(),
            "secondsLeft": _seconds_left(attempt),
        }
    )


@never_cache
@login_required
@require_POST
def response_check_view(request: HttpRequest, attempt_id: int, item_id: int) -> JsonResponse:
    """Practice feedback without the key: per-line verdicts and safe messages only."""
    attempt = selectors.attempt_get_for_learner(attempt_id=attempt_id, user=request.user)
    try:
        item = _learner_item(attempt, item_id)
    except QuizItem.DoesNotExist:
        return JsonResponse({"error": "not_found"}, status=404)
    try:
        result = services.response_check(
            attempt=attempt, item=item, answer=_json_body(request).get("answer")
        )
    except services.AttemptClosed:
        return _closed(attempt)
    except services.CheckNotAllowed as refusal:
        return JsonResponse({"error": refusal.code, "message": str(refusal)}, status=403)
    except services.TriesExhausted as refusal:
        return JsonResponse({"error": refusal.code, "message": str(refusal)}, status=429)
    grade = result.grade
    return JsonResponse(
        {
            "score": grade.score,
            "maxScore": grade.max_score,
            "percent": grade.percent,
            "allCorrect": grade.max_score > 0 and grade.score >= grade.max_score,
            "findings": services.findings_without_key(grade.findings),
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
        services.attempt_expire_if_due(attempt=attempt)
        attempt.refresh_from_db()
    if not attempt.is_submitted:
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


def spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@never_cache
@role_required(Role.INSTRUCTOR)
@require_GET
def gradebook_csv_view(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = selectors.quiz_get_for_owner(quiz_id=quiz_id, user=request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="quiz-{quiz.pk}-gradebook.csv"'
    writer = csv.writer(response)
    writer.writerow(["username", "name", "attempt", "status", "score", "max", "percent", "minutes"])
    for row in selectors.quiz_gradebook(quiz=quiz):
        attempt = row.attempt
        writer.writerow(
            [
                spreadsheet_safe(attempt.user.username),
                spreadsheet_safe(attempt.user.get_full_name()),
                attempt.number,
                attempt.status,
                "" if attempt.score is None else attempt.score,
                "" if attempt.max_score is None else attempt.max_score,
                "" if attempt.percent is None else attempt.percent,
                "" if row.minutes is None else row.minutes,
            ]
        )
    return response


@never_cache
@role_required(Role.INSTRUCTOR)
def score_override_view(request: HttpRequest, response_id: int) -> HttpResponse:
    response = get_object_or_404(
        Response.objects.select_related("attempt__quiz", "attempt__user", "item"), pk=response_id
    )
    quiz = selectors.quiz_get_for_owner(quiz_id=response.attempt.quiz_id, user=request.user)
    form = ScoreOverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.score_override(
                response=response,
                score=form.cleaned_data["score"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValueError as problem:
            form.add_error("score", str(problem))
        else:
            messages.success(request, "Score overridden.")
            return redirect("quizzes:gradebook", quiz_id=quiz.pk)
    return render(
        request,
        "quizzes/score_override.html",
        {"form": form, "response": response, "quiz": quiz, "overrides": response.overrides.all()},
    )


# ---------------------------------------------------------------------------
# Authoring: encounters, exercises, quizzes

_LINE_REF = re.compile(r"(diagnoses|procedures)\[(\d+)\]")


def _icd_windows() -> list[tuple[str, dt.date, dt.date | None]]:
    return selectors.icd10cm_release_windows()


def _default_date(windows: list[tuple[str, dt.date, dt.date | None]]) -> dt.date | None:
    """Today when the newest release covers it, else the first day of that release."""
    if not windows:
        return None
    _, start, end = windows[0]
    today = timezone.localdate()
    return today if start <= today and (end is None or today <= end) else start


def _line_forms(formset: Any) -> tuple[list[dict[str, Any]], dict[int, Any]]:
    """The non-blank lines and, by line index, the form each came from."""
    lines: list[dict[str, Any]] = []
    forms_by_line: dict[int, Any] = {}
    for form in formset.forms:
        line = form.line()
        if line is not None:
            forms_by_line[len(lines)] = form
            lines.append(line)
    return lines, forms_by_line


def _initial_lines(encounter: Any, kind: str) -> list[dict[str, Any]]:
    lines = []
    for line in encounter.key.get(kind, []):
        row = dict(line)
        row["alternatives"] = ", ".join(line.get("alternatives", []))
        if kind == "procedures":
            row["modifiers"] = ", ".join(line.get("modifiers", []))
            row["dx_pointers"] = ", ".join(str(p) for p in line.get("dx_pointers", []))
        lines.append(row)
    return lines


@never_cache
@role_required(Role.INSTRUCTOR)
def author_home_view(request: HttpRequest) -> HttpResponse:
    """Encounters to author and the instructor's quizzes, with the encounter import."""
    import_form = EncounterImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and import_form.is_valid():
        raw = import_form.cleaned_data["file"].read()
        try:
            document = yaml.safe_load(raw.decode("utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError):
            import_form.add_error("file", "The file is not UTF-8 YAML or JSON.")
        else:
            try:
                encounter = services.encounter_author_save(
                    document=document if isinstance(document, dict) else {}, user=request.user
                )
            except services.EncounterRejected as rejection:
                for problem in rejection.problems:
                    where = f"{problem.line}: " if problem.line else ""
                    import_form.add_error("file", f"{where}{problem.message}")
            else:
                messages.success(request, f"Imported {encounter.slug}.")
                return redirect("quizzes:encounter_edit", slug=encounter.slug)
    return render(
        request,
        "quizzes/author_home.html",
        {
            "encounters": selectors.encounters_for_authoring(),
            "quizzes": selectors.quizzes_owned(user=request.user),
            "import_form": import_form,
        },
        status=_import_status(import_form),
    )


def _import_status(import_form: EncounterImportForm) -> int:
    """413 for a file over the size limit (as every upload answers), 400 for any other
    problem with it."""
    if import_form.has_error("file", "too_big"):
        return 413
    return 400 if import_form.errors else 200


@never_cache
@role_required(Role.INSTRUCTOR)
def encounter_edit_view(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Create or edit an authored encounter; the key is checked before anything is saved."""
    existing = None
    if slug is not None:
        existing = get_object_or_404(Encounter, slug=slug, source=EncounterSource.AUTHORED)
    windows = _icd_windows()
    if request.method == "POST":
        form = EncounterForm(request.POST, windows=windows)
        diagnoses = DiagnosisFormSet(request.POST, prefix="dx")
        procedures = ProcedureFormSet(request.POST, prefix="proc")
    else:
        initial: dict[str, Any] = {"date_of_service": _default_date(windows)}
        if existing is not None:
            initial = {
                "slug": existing.slug,
                "title": existing.title,
                "setting": existing.setting,
                "specialty": existing.specialty,
                "date_of_service": existing.date_of_service,
                "patient_age_years": existing.patient_age_years,
                "patient_sex": existing.patient_sex,
                "difficulty": existing.difficulty,
                "tags": ", ".join(existing.tags),
                "note": existing.note,
            }
        form = EncounterForm(initial=initial, windows=windows)
        diagnoses = DiagnosisFormSet(
            prefix="dx", initial=_initial_lines(existing, "diagnoses") if existing else None
        )
        procedures = ProcedureFormSet(
            prefix="proc", initial=_initial_lines(existing, "procedures") if existing else None
        )
    if existing is not None:
        form.fields["slug"].disabled = True
    if request.method == "POST" and all(f.is_valid() for f in (form, diagnoses, procedures)):
        dx_lines, dx_forms = _line_forms(diagnoses)
        proc_lines, proc_forms = _line_forms(procedures)
        try:
            encounter = services.encounter_author_save(
                document=form.document(dx_lines, proc_lines), user=request.user, existing=existing
            )
        except services.EncounterRejected as rejection:
            for problem in rejection.problems:
                match = _LINE_REF.search(problem.line)
                line_forms = dx_forms if match and match[1] == "diagnoses" else proc_forms
                target = line_forms.get(int(match[2])) if match else None
                if target is not None:
                    target.add_error("code", problem.message)
                elif problem.line in form.fields:
                    form.add_error(problem.line, problem.message)
                else:
                    form.add_error(None, problem.message)
        else:
            messages.success(request, f"Saved {encounter.slug}: its key passed every check.")
            return redirect("quizzes:encounter_exercises", slug=encounter.slug)
    return render(
        request,
        "quizzes/encounter_form.html",
        {
            "form": form,
            "diagnoses": diagnoses,
            "procedures": procedures,
            "encounter": existing,
            "windows": windows,
        },
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@role_required(Role.INSTRUCTOR)
def encounter_export_view(request: HttpRequest, slug: str) -> HttpResponse:
    from quizzes.generation.encounters import encounter_to_yaml

    encounter = get_object_or_404(Encounter, slug=slug)
    response = HttpResponse(
        encounter_to_yaml(services.encounter_spec(encounter)),
        content_type="application/yaml; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{encounter.slug}.yaml"'
    return response


@never_cache
@role_required(Role.INSTRUCTOR)
def encounter_exercises_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Generate every exercise type for an encounter, preview them, add picks to a quiz."""
    encounter = get_object_or_404(Encounter, slug=slug)
    try:
        seed = int(request.GET.get("seed", "1"))
    except ValueError:
        seed = 1
    exercises = services.exercises_generate(
        encounter=encounter, types=list(ExerciseType.values), seed=seed
    )
    quizzes = selectors.quizzes_owned(user=request.user)
    form = AddExercisesForm(request.POST or None, quizzes=quizzes, count=len(exercises))
    if request.method == "POST" and form.is_valid():
        quiz = form.cleaned_data["quiz"]
        for pick in form.cleaned_data["picks"]:
            exercise = exercises[int(pick)]
            services.quiz_item_add(
                quiz=quiz,
                encounter=encounter,
                exercise_type=exercise["type"],
                exercise=exercise,
                seed=seed,
            )
        messages.success(request, f"Added {len(form.cleaned_data['picks'])} exercise(s).")
        return redirect("quizzes:quiz_manage", quiz_id=quiz.pk)
    return render(
        request,
        "quizzes/encounter_exercises.html",
        {
            "encounter": encounter,
            "exercises": list(enumerate(exercises)),
            "seed": seed,
            "form": form,
        },
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
