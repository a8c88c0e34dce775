"""Learning-path pages: the course outline, enrolment, lessons with their practice set,
and marking a lesson complete.

Pages are personal (completion, answers), so they are ``never_cache``. Prerequisites are
enforced here on every lesson request and again by the completion service: a locked
lesson's URL answers 403 with what to finish first.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from coding_course.accounts.models import Role
from coding_course.accounts.permissions import role_required
from coding_course.lessons import selectors, services
from coding_course.lessons.markdown import render_lesson_markdown
from coding_course.lessons.models import Lesson, PracticeAnswer
from coding_course.lessons.practice import PracticeItem

learner_required = role_required(Role.STUDENT, Role.INSTRUCTOR)


class PracticeAnswerForm(forms.Form):
    choice = forms.CharField(max_length=40)
    item = forms.CharField(max_length=200)


@never_cache
@learner_required
@require_GET
def course_list_view(request: HttpRequest) -> HttpResponse:
    courses = selectors.course_list()
    if len(courses) == 1:
        return redirect(courses[0])
    enrolled = selectors.enrolled_course_ids(user=request.user)
    return render(request, "lessons/course_list.html", {"courses": courses, "enrolled": enrolled})


@never_cache
@learner_required
@require_GET
def course_detail_view(request: HttpRequest, course_slug: str) -> HttpResponse:
    course = selectors.course_get(slug=course_slug)
    outline = selectors.course_outline(course=course, user=request.user)
    return render(request, "lessons/course_detail.html", {"outline": outline})


@learner_required
@require_POST
def enrol_view(request: HttpRequest, course_slug: str) -> HttpResponse:
    course = selectors.course_get(slug=course_slug)
    services.enrollment_create(user=request.user, course=course)
    messages.success(request, f"You are enrolled in {course.title}.")
    return redirect(course)


def _unavailable(
    request: HttpRequest, lesson: Lesson, error: services.LessonUnavailable
) -> HttpResponse:
    course = lesson.module.course
    if error.reason == services.NOT_ENROLLED:
        messages.info(request, "Enrol in the course to open its lessons.")
        return redirect(course)
    return render(
        request,
        "lessons/lesson_locked.html",
        {"lesson": lesson, "course": course, "missing": error.missing},
        status=403,
    )


@never_cache
@learner_required
@require_GET
def lesson_detail_view(request: HttpRequest, course_slug: str, lesson_slug: str) -> HttpResponse:
    lesson = selectors.lesson_get(course_slug=course_slug, lesson_slug=lesson_slug)
    course = lesson.module.course
    outline = selectors.course_outline(course=course, user=request.user)
    module_row, lesson_row = outline.row_for(lesson)
    if outline.enrollment is None:
        return _unavailable(request, lesson, services.LessonUnavailable(services.NOT_ENROLLED))
    if module_row.locked:
        return _unavailable(
            request, lesson, services.LessonUnavailable(services.LOCKED, module_row.missing)
        )
    describe = selectors.lesson_code_describer(course=course, texts=[lesson.body_md])
    items = selectors.lesson_practice(lesson=lesson, user=request.user)
    answers = selectors.practice_answers(lesson=lesson, user=request.user)
    before, after = outline.neighbours(lesson)
    context: dict[str, Any] = {
        "course": course,
        "lesson": lesson,
        "outline": outline,
        "module_row": module_row,
        "done": lesson_row.done,
        "body": render_lesson_markdown(lesson.body_md, describe),
        "practice": [_practice_entry(item, answers.get(item.position)) for item in items],
        "before": before,
        "after": after,
    }
    return render(request, "lessons/lesson_detail.html", context)


@learner_required
@require_POST
def lesson_complete_view(request: HttpRequest, course_slug: str, lesson_slug: str) -> HttpResponse:
    lesson = selectors.lesson_get(course_slug=course_slug, lesson_slug=lesson_slug)
    try:
        services.lesson_complete(user=request.user, lesson=lesson)
    except services.LessonUnavailable as error:
        return _unavailable(request, lesson, error)
    outline = selectors.course_outline(course=lesson.module.course, user=request.user)
    following = outline.next_lesson
    if following is None:
        messages.success(request, "Lesson complete. You have finished every lesson open to you.")
        return redirect(lesson.module.course)
    messages.success(request, f"Lesson complete. Next: {following.title}.")
    return redirect(following)


@learner_required
@require_POST
def practice_answer_view(
    request: HttpRequest, course_slug: str, lesson_slug: str, position: int
) -> HttpResponse:
    lesson = selectors.lesson_get(course_slug=course_slug, lesson_slug=lesson_slug)
    try:
        services.lesson_check_available(user=request.user, lesson=lesson)
    except services.LessonUnavailable as error:
        return _unavailable(request, lesson, error)
    lesson_url = reverse("lessons:lesson_detail", args=[course_slug, lesson_slug])
    anchor = f"{lesson_url}#practice-{position + 1}"
    form = PracticeAnswerForm(request.POST)
    item = _practice_item(lesson, request, position)
    if not form.is_valid() or item is None or form.cleaned_data["item"] != item.key:
        messages.error(request, "This practice exercise has changed; please answer it again.")
        return redirect(anchor)
    try:
        services.practice_answer_record(
            user=request.user, lesson=lesson, item=item, chosen=form.cleaned_data["choice"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(anchor)


def _practice_entry(item: PracticeItem, answer: PracticeAnswer | None) -> dict[str, Any]:
    """What the page shows of one item: the answer only once the learner has answered."""
    entry: dict[str, Any] = {"item": item, "answer": answer}
    if answer is not None:
        entry["chosen_label"] = item.choice_label(answer.chosen)
        entry["answer_label"] = item.choice_label(item.answer)
    return entry


def _practice_item(lesson: Lesson, request: HttpRequest, position: int) -> PracticeItem | None:
    items = selectors.lesson_practice(lesson=lesson, user=request.user)
    return items[position] if 0 <= position < len(items) else None
