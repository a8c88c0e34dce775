"""Progress pages: a student's own progress, an instructor's groups, each group's summary
and each member's progress.

Students see only their own page (it takes no learner id). Instructors reach a learner
only through their groups: any other id is a 404. Pages are personal, so never cached.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coding_course.accounts.models import Role
from coding_course.accounts.permissions import role_required
from coding_course.progress import selectors, services
from coding_course.progress.charts import progress_charts

instructor_required = role_required(Role.INSTRUCTOR)


class GroupForm(forms.Form):
    name = forms.CharField(max_length=120, label="Group name")


class AddStudentForm(forms.Form):
    username = forms.CharField(max_length=150, label="Student's username")


def _render_learner(request: HttpRequest, learner: object, *, own: bool) -> HttpResponse:
    progress = selectors.learner_progress(learner=learner)
    context = {
        "progress": progress,
        "report": progress.report,
        "charts": progress_charts(report=progress.report),
        "own": own,
    }
    return render(request, "progress/learner.html", context)


@never_cache
@role_required(Role.STUDENT)
@require_GET
def my_progress_view(request: HttpRequest) -> HttpResponse:
    return _render_learner(request, request.user, own=True)


@never_cache
@instructor_required
@require_GET
def learner_progress_view(request: HttpRequest, learner_id: int) -> HttpResponse:
    learner = selectors.learner_get_for_viewer(learner_id=learner_id, viewer=request.user)
    return _render_learner(request, learner, own=False)


@never_cache
@instructor_required
@require_http_methods(["GET", "POST"])
def group_list_view(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(owner=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error("name", error)
        else:
            messages.success(request, f"Group {group.name} created. Add its students below.")
            return redirect(group)
    groups = selectors.groups_visible(viewer=request.user)
    return render(request, "progress/group_list.html", {"groups": groups, "form": form})


@never_cache
@instructor_required
@require_http_methods(["GET", "POST"])
def group_detail_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.group_get_for_viewer(group_id=group_id, viewer=request.user)
    form = AddStudentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            student = services.group_student_add(
                group=group, username=form.cleaned_data["username"]
            )
        except ValidationError as error:
            form.add_error("username", error)
        else:
            messages.success(request, f"{student.username} is now in {group.name}.")
            return redirect(group)
    summary = selectors.group_summary(group=group)
    context = {
        "group": group,
        "summary": summary,
        "report": summary.pooled,
        "charts": progress_charts(report=summary.pooled, prefix="group"),
        "form": form,
    }
    return render(request, "progress/group_detail.html", context)


@instructor_required
@require_POST
def group_student_remove_view(request: HttpRequest, group_id: int, student_id: int) -> HttpResponse:
    group = selectors.group_get_for_viewer(group_id=group_id, viewer=request.user)
    services.group_student_remove(group=group, student_id=student_id)
    messages.success(request, "Student removed from the group.")
    return redirect(group)
