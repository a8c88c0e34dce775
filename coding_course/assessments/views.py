"""Assessment pages: managers build, invite, score and read results; candidates accept
an invitation and sit the assessment.

Manager pages look every id up through the organisation-scoped selectors, so another
organisation's ids are 404 (never 403: no existence oracle); so are they for a user of
any other role, since the scoped selectors give them nothing. Id routes look the id up
first and refuse a wrong method after, so a GET or POST of another organisation's id
is always a 404, never a 405 that would say the route matched. Candidate pages look
ids up among the signed-in person's own candidacies. Every page is ``never_cache``:
they show people's results or a running exam.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from coding_course.accounts.errors import Forbidden
from coding_course.accounts.models import Role
from coding_course.accounts.permissions import role_required
from coding_course.assessments import selectors, services
from coding_course.assessments.forms import (
    AccommodationForm,
    AssessmentForm,
    InviteForm,
    InviteListForm,
    NewCandidateAccountForm,
)
from coding_course.assessments.invitation_csv import (
    MAX_BYTES,
    InvitationFileRefused,
    InvitationRowsRefused,
)
from coding_course.assessments.models import Assessment, AssessmentSource, Candidate
from quizzes import api as quizzes
from quizzes.api import AttemptStatus, SafeCsvWriter

# Room for the multipart envelope and the CSRF field around a file at the limit.
_ENVELOPE_BYTES = 16 * 1024


def _method_refused(request: HttpRequest, allowed: str) -> HttpResponse | None:
    """405 for the wrong method, asked only after the id was found in the user's scope."""
    return None if request.method == allowed else HttpResponseNotAllowed([allowed])


def _link_builder(request: HttpRequest) -> services.LinkBuilder:
    def build(signed: str) -> str:
        return request.build_absolute_uri(reverse("assessments:invitation", args=[signed]))

    return build


def _manager_page(
    request: HttpRequest, assessment: Any, status: int = 200, **extra: Any
) -> HttpResponse:
    now = timezone.now()
    candidates = list(assessment.candidates.select_related("attempt", "user"))
    rows = [
        {
            "candidate": candidate,
            "status": selectors.candidate_status(candidate, now),
            "form": AccommodationForm(initial={"extra_minutes": candidate.extra_minutes}),
        }
        for candidate in candidates
    ]
    items = list(assessment.quiz.items.select_related("encounter"))
    mix: dict[tuple[str, int], int] = {}
    for item in items:
        section = next((label for label in item.labels if label.startswith("section-")), "")
        family = section.removeprefix("section-").upper() or "Exercises"
        key = (family, item.encounter.difficulty)
        mix[key] = mix.get(key, 0) + 1
    context = {
        "assessment": assessment,
        "quiz": assessment.quiz,
        "rows": rows,
        "item_count": len(items),
        "mix": sorted(mix.items()),
        "stale_items": sum(1 for item in items if item.encounter.key_version > item.key_version),
        "invite_form": InviteForm(),
        "list_form": InviteListForm(),
        "max_kb": MAX_BYTES // 1024,
    }
    context.update(extra)
    return render(request, "assessments/detail.html", context, status=status)


def _refused(
    request: HttpRequest, title: str, text: str, status: int, job: Any = None
) -> HttpResponse:
    return render(
        request,
        "assessments/refused.html",
        {"title": title, "text": text, "job": job},
        status=status,
    )


# ---------------------------------------------------------------------------
# Managers


@never_cache
@role_required(Role.EMPLOYER)
@require_GET
def assessment_list_view(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    assessments = list(selectors.assessments_for_user(user=request.user))
    counts = {
        row["assessment_id"]: row
        for row in selectors.candidate_counts(assessment_ids=[a.pk for a in assessments])
    }
    return render(
        request,
        "assessments/list.html",
        {
            "assessments": [(a, counts.get(a.pk, {})) for a in assessments],
            "organisation": request.user.organisation,  # type: ignore[union-attr]
            "now": now,
        },
    )


@never_cache
@role_required(Role.EMPLOYER)
@require_http_methods(["GET", "POST"])
def assessment_create_view(request: HttpRequest) -> HttpResponse:
    if request.user.organisation_id is None:  # type: ignore[union-attr]
        raise Forbidden("Assessments belong to an organisation; you are in none.")
    form = AssessmentForm(
        request.POST or None, quizzes=selectors.source_quizzes_for_user(user=request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["source"] == AssessmentSource.QUIZ:
                assessment = services.assessment_create_from_quiz(
                    user=request.user, settings=form.settings(), source=data["quiz"]
                )
            else:
                assessment = services.assessment_create_from_blueprint(
                    user=request.user,
                    settings=form.settings(),
                    sections=form.sections(),
                    difficulty_min=data["difficulty_min"],
                    difficulty_max=data["difficulty_max"],
                )
        except services.AssessmentError as problem:
            form.add_error(None, str(problem))
        else:
            messages.success(request, "Assessment created. Invite your candidates.")
            return redirect("assessments:detail", assessment_id=assessment.pk)
    return render(
        request,
        "assessments/create.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def assessment_detail_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = selectors.assessment_get_for_user(assessment_id=assessment_id, user=request.user)
    if refused := _method_refused(request, "GET"):
        return refused
    return _manager_page(request, assessment)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def candidate_invite_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = selectors.assessment_get_for_user(assessment_id=assessment_id, user=request.user)
    if refused := _method_refused(request, "POST"):
        return refused
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            services.candidate_invite(
                assessment=assessment,
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                extra_minutes=form.cleaned_data["extra_minutes"],
                by=request.user,
                link_for=_link_builder(request),
            )
        except services.AlreadyInvited as problem:
            form.add_error("email", str(problem))
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("assessments:detail", assessment_id=assessment.pk)
    return _manager_page(request, assessment, status=400, invite_form=form)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def candidate_invite_list_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = selectors.assessment_get_for_user(assessment_id=assessment_id, user=request.user)
    if refused := _method_refused(request, "POST"):
        return refused
    too_large = f"The file is over the {MAX_BYTES // 1024} KB limit; nobody was invited."
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BYTES + _ENVELOPE_BYTES:
        return _manager_page(request, assessment, status=413, list_problem=too_large)
    form = InviteListForm(request.POST, request.FILES)
    if not form.is_valid():
        return _manager_page(request, assessment, status=400, list_form=form)
    upload = form.cleaned_data["file"]
    if upload.size > MAX_BYTES:
        return _manager_page(request, assessment, status=413, list_problem=too_large)
    try:
        invited = services.candidates_invite_csv(
            assessment=assessment,
            data=upload.read(),
            by=request.user,
            link_for=_link_builder(request),
        )
    except InvitationFileRefused as refused:
        return _manager_page(
            request,
            assessment,
            status=refused.status,
            list_problem=f"{refused} Nobody was invited.",
        )
    except InvitationRowsRefused as refused:
        return _manager_page(
            request,
            assessment,
            status=400,
            list_problem="Some rows are wrong; nobody was invited. Fix them and upload again.",
            row_problems=refused.problems,
        )
    messages.success(request, f"Invitations sent to {len(invited)} candidate(s).")
    return redirect("assessments:detail", assessment_id=assessment.pk)


def _managed_candidate(
    request: HttpRequest, assessment_id: int, candidate_id: int
) -> tuple[Assessment, Candidate]:
    """The manager's assessment and one of its candidates; 404 outside their reach."""
    assessment = selectors.assessment_get_for_user(assessment_id=assessment_id, user=request.user)
    candidate = selectors.candidate_get_for_assessment(
        assessment=assessment, candidate_id=candidate_id
    )
    return assessment, candidate


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def candidate_resend_view(
    request: HttpRequest, assessment_id: int, candidate_id: int
) -> HttpResponse:
    assessment, candidate = _managed_candidate(request, assessment_id, candidate_id)
    if refused := _method_refused(request, "POST"):
        return refused
    try:
        services.candidate_reinvite(
            candidate=candidate, by=request.user, link_for=_link_builder(request)
        )
    except services.AssessmentError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, f"A new invitation link was sent to {candidate.email}.")
    return redirect("assessments:detail", assessment_id=assessment.pk)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def candidate_accommodation_view(
    request: HttpRequest, assessment_id: int, candidate_id: int
) -> HttpResponse:
    assessment, candidate = _managed_candidate(request, assessment_id, candidate_id)
    if refused := _method_refused(request, "POST"):
        return refused
    form = AccommodationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Extra minutes must be a whole number from 0 to 600.")
        return redirect("assessments:detail", assessment_id=assessment.pk)
    try:
        services.accommodation_set(
            candidate=candidate, extra_minutes=form.cleaned_data["extra_minutes"]
        )
    except services.SittingClosed as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, f"Extra time for {candidate.email} saved.")
    return redirect("assessments:detail", assessment_id=assessment.pk)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def cohort_score_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = selectors.assessment_get_for_user(assessment_id=assessment_id, user=request.user)
    if refused := _method_refused(request, "POST"):
        return refused
    try:
        job = services.cohort_score(assessment=assessment, user=request.user)
    except quizzes.ScopeBusy as busy:
        return _refused(
            request, "Already running", "Scoring of this cohort is running.", 409, busy.running
        )
    return redirect(job)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def rescore_preview_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = selectors.assessment_get_for_user(assessment_id=assessment_id, user=request.user)
    if refused := _method_refused(request, "POST"):
        return refused
    try:
        job = services.key_rescore_preview(assessment=assessment, user=request.user)
    except quizzes.ScopeBusy as busy:
        return _refused(
            request,
            "Already running",
            "A rescore of this assessment is running.",
            409,
            busy.running,
        )
    return redirect(job)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def results_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = selectors.assessment_get_for_user(assessment_id=assessment_id, user=request.user)
    if refused := _method_refused(request, "GET"):
        return refused
    results = selectors.assessment_results(assessment=assessment)
    top = max((band.count for band in results.distribution), default=0)
    return render(
        request,
        "assessments/results.html",
        {"assessment": assessment, "results": results, "top_band": max(top, 1)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def results_csv_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = selectors.assessment_get_for_user(assessment_id=assessment_id, user=request.user)
    if refused := _method_refused(request, "GET"):
        return refused
    results = selectors.assessment_results(assessment=assessment)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="assessment-{assessment.pk}.csv"'
    writer = SafeCsvWriter(response)
    families = list(selectors.FAMILIES)
    writer.writerow(
        [
            "rank",
            "name",
            "email",
            "status",
            "score",
            "max_score",
            "percent",
            "passed",
            "percentile",
            "minutes",
            "extra_minutes",
            "left_page",
            *(f"{family} %" for family in families),
        ]
    )
    ordered = results.ranking + [row for row in results.rows if not row.submitted]
    for row in ordered:
        writer.writerow(
            [
                row.rank,
                row.candidate.name,
                row.candidate.email,
                row.status,
                row.score,
                row.max_score,
                row.percent,
                "" if row.passed is None else ("yes" if row.passed else "no"),
                row.percentile,
                row.minutes,
                row.candidate.extra_minutes,
                row.left_page,
                *(row.by_family.get(family) for family in families),
            ]
        )
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def candidate_report_view(
    request: HttpRequest, assessment_id: int, candidate_id: int
) -> HttpResponse:
    assessment, candidate = _managed_candidate(request, assessment_id, candidate_id)
    if refused := _method_refused(request, "GET"):
        return refused
    results = selectors.assessment_results(assessment=assessment)
    row = next(row for row in results.rows if row.candidate.pk == candidate.pk)
    exercises = [
        {
            "number": item_row.number,
            "title": item_row.item.encounter.title,
            "difficulty": item_row.item.encounter.difficulty,
            "share": row.shares.get(item_row.item.pk),
            "seconds": row.seconds_by_item.get(item_row.item.pk),
            "cohort_facility": item_row.facility,
        }
        for item_row in results.items
    ]
    skills = [
        {
            "skill": skill,
            "errors": row.skill_errors.get(skill, 0),
            "cohort": results.skill_means.get(skill),
        }
        for skill in selectors.SKILLS
    ]
    return render(
        request,
        "assessments/report.html",
        {
            "assessment": assessment,
            "candidate": candidate,
            "row": row,
            "results": results,
            "exercises": exercises,
            "skills": skills,
            "score_changes": selectors.candidate_score_changes(
                assessment=assessment, candidate=candidate
            ),
            "generated_at": timezone.now(),
        },
    )


# ---------------------------------------------------------------------------
# Candidates


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_view(request: HttpRequest, signed: str) -> HttpResponse:
    """Open an invitation: new candidates choose a password, known ones sign in; the
    link is used (once) by the POST that links the account, never by a GET, so a mail
    scanner that follows links cannot spend it."""
    try:
        candidate = services.invitation_check(signed=signed)
    except services.InvitationInvalid as invalid:
        status = 400 if invalid.code == "tampered" else 410
        return render(
            request,
            "assessments/invitation_problem.html",
            {"problem": invalid.code, "message": str(invalid)},
            status=status,
        )
    users = get_user_model().objects
    user = request.user
    if user.is_authenticated:
        mismatch = (user.email or "").lower() != candidate.email  # type: ignore[union-attr]
        if mismatch:
            return render(
                request,
                "assessments/invitation.html",
                {"candidate": candidate, "mode": "other_account"},
                status=403,
            )
        if request.method == "POST":
            return _accept(request, signed, user)
        return render(
            request, "assessments/invitation.html", {"candidate": candidate, "mode": "accept"}
        )
    if users.filter(email__iexact=candidate.email).exists():
        login_url = f"{reverse('accounts:login')}?{urlencode({'next': request.path})}"
        return render(
            request,
            "assessments/invitation.html",
            {"candidate": candidate, "mode": "login", "login_url": login_url},
        )
    form = NewCandidateAccountForm(
        request.POST or None, email=candidate.email, initial={"name": candidate.name}
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                account = services.candidate_account_create(
                    email=candidate.email,
                    name=form.cleaned_data["name"],
                    password=form.cleaned_data["password1"],
                )
                accepted = services.invitation_accept(signed=signed, user=account)
        except services.AssessmentError as problem:
            form.add_error(None, str(problem))
        else:
            login(request, account, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Your account is ready.")
            return redirect("assessments:sitting", candidate_id=accepted.pk)
    return render(
        request,
        "assessments/invitation.html",
        {"candidate": candidate, "mode": "new", "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _accept(request: HttpRequest, signed: str, user: Any) -> HttpResponse:
    try:
        candidate = services.invitation_accept(signed=signed, user=user)
    except services.InvitationInvalid as invalid:
        return render(
            request,
            "assessments/invitation_problem.html",
            {"problem": invalid.code, "message": str(invalid)},
            status=410,
        )
    except services.AssessmentError as problem:
        messages.error(request, str(problem))
        return redirect("assessments:mine")
    return redirect("assessments:sitting", candidate_id=candidate.pk)


@never_cache
@login_required
@require_GET
def my_assessments_view(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    candidacies = [
        (candidate, selectors.candidate_status(candidate, now))
        for candidate in selectors.candidacies_for_user(user=request.user)
    ]
    return render(request, "assessments/mine.html", {"candidacies": candidacies})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def sitting_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The candidate's page: instructions and Start, or Continue, or (time up) Submit,
    or done."""
    candidate = selectors.candidate_get_for_candidate(candidate_id=candidate_id, user=request.user)
    if request.method == "POST":
        try:
            services.sitting_start(candidate=candidate)
        except services.SittingNotOpen as problem:
            messages.error(request, str(problem))
            return redirect("assessments:sitting", candidate_id=candidate.pk)
        return redirect("assessments:sitting_take", candidate_id=candidate.pk)
    attempt = candidate.attempt
    quiz = candidate.assessment.quiz
    return render(
        request,
        "assessments/sitting.html",
        {
            "candidate": candidate,
            "assessment": candidate.assessment,
            "quiz": quiz,
            "attempt": attempt,
            # Time up but not yet submitted: the page offers the submit (a POST); reading
            # it changes nothing.
            "time_up": attempt is not None and quizzes.attempt_time_up(attempt=attempt),
            "submit_url": reverse("assessments:sitting_submit", args=[candidate.pk]),
            "minutes": (quiz.time_limit_minutes or 0) + candidate.extra_minutes,
            "item_count": quiz.items.count(),
            "open": quizzes.quiz_is_open(quiz, timezone.now()),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def sitting_take_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The quizzes take page for this sitting, with the page-activity script added."""
    candidate = selectors.candidate_get_for_candidate(candidate_id=candidate_id, user=request.user)
    if refused := _method_refused(request, "GET"):
        return refused
    attempt = candidate.attempt
    if attempt is None or attempt.status == AttemptStatus.SUBMITTED:
        return redirect("assessments:sitting", candidate_id=candidate.pk)
    if quizzes.attempt_time_up(attempt=attempt):
        return redirect("assessments:sitting", candidate_id=candidate.pk)
    try:
        position = int(request.GET.get("q", "1"))
    except ValueError:
        position = 1
    context = quizzes.attempt_take_page(attempt=attempt, position=position)
    context["tracking"] = {
        "eventUrl": reverse("assessments:sitting_event", args=[candidate.pk]),
        "submitUrl": reverse("assessments:sitting_submit", args=[candidate.pk]),
        "itemId": context["view"].item.pk,
    }
    return render(request, "assessments/take.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def sitting_event_view(request: HttpRequest, candidate_id: int) -> JsonResponse:
    candidate = selectors.candidate_get_for_candidate(candidate_id=candidate_id, user=request.user)
    if refused := _method_refused(request, "POST"):
        return refused
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        body = {}
    body = body if isinstance(body, dict) else {}
    item = body.get("item")
    recorded = services.sitting_event_record(
        candidate=candidate,
        kind=str(body.get("kind", "")),
        item_id=item if isinstance(item, int) else None,
    )
    return JsonResponse({"recorded": recorded}, status=200 if recorded else 409)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def sitting_submit_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = selectors.candidate_get_for_candidate(candidate_id=candidate_id, user=request.user)
    if refused := _method_refused(request, "POST"):
        return refused
    try:
        services.sitting_submit(candidate=candidate)
    except services.SittingClosed as problem:
        messages.error(request, str(problem))
    return redirect("assessments:sitting", candidate_id=candidate.pk)
