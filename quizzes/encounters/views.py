"""Authoring pages: the encounter list and import, the encounter editor, its export,
and the exercises generated from an encounter (added to an instructor's quiz)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from coding_course.accounts.models import Role
from coding_course.accounts.permissions import role_required
from quizzes.attempts.selectors import quizzes_owned
from quizzes.attempts.services import quiz_item_add
from quizzes.encounters import selectors, services
from quizzes.encounters.forms import (
    AddExercisesForm,
    DiagnosisFormSet,
    EncounterForm,
    EncounterImportForm,
    ProcedureFormSet,
)
from quizzes.errors import EncounterRejected
from quizzes.generation.encounters import encounter_to_yaml
from quizzes.models import ExerciseType

_LINE_REF = re.compile(r"(diagnoses|procedures)\[(\d+)\]")


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
            except EncounterRejected as rejection:
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
            "quizzes": quizzes_owned(user=request.user),
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
        existing = selectors.encounter_get_authored(slug=slug)
    windows = selectors.icd10cm_release_windows()
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
        except EncounterRejected as rejection:
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
    encounter = selectors.encounter_get(slug=slug)
    response = HttpResponse(
        encounter_to_yaml(selectors.encounter_spec(encounter)),
        content_type="application/yaml; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{encounter.slug}.yaml"'
    return response


@never_cache
@role_required(Role.INSTRUCTOR)
def encounter_exercises_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Generate every exercise type for an encounter, preview them, add picks to a quiz."""
    encounter = selectors.encounter_get(slug=slug)
    try:
        seed = int(request.GET.get("seed", "1"))
    except ValueError:
        seed = 1
    exercises = services.exercises_generate(
        encounter=encounter, types=list(ExerciseType.values), seed=seed
    )
    quizzes = quizzes_owned(user=request.user)
    form = AddExercisesForm(request.POST or None, quizzes=quizzes, count=len(exercises))
    if request.method == "POST" and form.is_valid():
        quiz = form.cleaned_data["quiz"]
        for pick in form.cleaned_data["picks"]:
            exercise = exercises[int(pick)]
            quiz_item_add(
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
