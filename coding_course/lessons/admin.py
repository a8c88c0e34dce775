"""Admin for the course. Instructors edit lesson Markdown here; the preview and the
lesson pages sanitise it on render, so an edit cannot run script in a learner's page."""

from __future__ import annotations

from django.contrib import admin
from django.utils.safestring import SafeString

from coding_course.lessons.markdown import render_lesson_markdown
from coding_course.lessons.models import (
    Course,
    Enrollment,
    Lesson,
    LessonCompletion,
    Module,
    PracticeAnswer,
)
from coding_course.lessons.selectors import lesson_code_describer


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "codes_as_of"]
    prepopulated_fields = {"slug": ["title"]}


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "position"]
    list_filter = ["course"]
    filter_horizontal = ["prerequisites"]
    ordering = ["course", "position"]


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["title", "module", "position", "minutes"]
    list_filter = ["module__course", "module"]
    search_fields = ["title", "slug", "body_md"]
    ordering = ["module__position", "position"]
    readonly_fields = ["preview", "source_hash"]
    fields = [
        "module",
        "position",
        "slug",
        "title",
        "summary",
        "objectives",
        "tags",
        "practice_types",
        "minutes",
        "body_md",
        "preview",
        "source_hash",
    ]

    @admin.display(description="Preview (sanitised, as learners see it)")
    def preview(self, lesson: Lesson) -> SafeString | str:
        if not lesson.pk:
            return "Save the lesson to see a preview."
        describe = lesson_code_describer(course=lesson.module.course, texts=[lesson.body_md])
        return render_lesson_markdown(lesson.body_md, describe)


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "enrolled_at"]
    list_filter = ["course"]
    raw_id_fields = ["user"]


@admin.register(LessonCompletion)
class LessonCompletionAdmin(admin.ModelAdmin):
    list_display = ["user", "lesson", "completed_at"]
    raw_id_fields = ["user", "lesson"]


@admin.register(PracticeAnswer)
class PracticeAnswerAdmin(admin.ModelAdmin):
    list_display = ["user", "lesson", "position", "exercise_type", "correct", "answered_at"]
    list_filter = ["correct", "exercise_type"]
    raw_id_fields = ["user", "lesson"]
