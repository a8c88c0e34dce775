"""Courses, modules and lessons, and each learner's enrolment, completions and practice.

The course itself lives in data files (``content/``) and is loaded by ``load_course``;
instructors may then edit lesson Markdown in the admin. Lesson ``tags`` use the same
vocabulary as the encounter library (``chapter-19``, ``cpt-em``, ``laterality``) plus
the grading finding kinds (``missing_seventh_character``, ``modifier_error``), so the
progress pages can point from a weak area to the lessons that teach it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Course(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    # Code links and the code-existence check read the releases in force on this date,
    # so a lesson's examples stay consistent while the yearly code sets change.
    codes_as_of = models.DateField(
        help_text="Code links show the descriptors of the releases in force on this date."
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("lessons:course_detail", args=[self.slug])


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    prerequisites = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="unlocks",
        help_text="Every lesson of these modules must be complete before this one opens.",
    )

    class Meta:
        ordering = ["course", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="module_slug_unique_in_course")
        ]

    def __str__(self) -> str:
        return self.title


class Lesson(models.Model):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    # Unique across the site: lesson URLs and recommendations name a lesson by slug alone.
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    objectives = models.JSONField(default=list, blank=True)
    body_md = models.TextField(
        "body (Markdown)",
        help_text="Markdown; HTML is sanitised when shown. Write codes as [[S93.401A]].",
    )
    tags = models.JSONField(default=list, blank=True)
    # Exercise types (quizzes.generation) the practice set draws from, in preference order.
    practice_types = models.JSONField(default=list, blank=True)
    minutes = models.PositiveIntegerField(default=15)
    position = models.PositiveIntegerField(default=0)
    # Hash of the content as last loaded from the files: a differing current hash means
    # an instructor edited the lesson, and load_course keeps the edit.
    source_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["module__position", "position", "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("lessons:lesson_detail", args=[self.module.course.slug, self.slug])


class Enrollment(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    enrolled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="enrollment_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.course}"


class LessonCompletion(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_completions"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "lesson"], name="completion_unique_per_user")
        ]
        indexes = [models.Index(fields=["user", "completed_at"])]

    def __str__(self) -> str:
        return f"{self.user} completed {self.lesson}"


class PracticeAnswer(models.Model):
    """A learner's answer to one exercise of a lesson's practice set (the first answer
    stands: the explanation is shown once it is given)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_answers"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="practice_answers")
    position = models.PositiveSmallIntegerField()
    encounter = models.CharField(max_length=120)
    exercise_type = models.CharField(max_length=40)
    line = models.CharField(max_length=60, blank=True)
    chosen = models.CharField(max_length=40)
    correct = models.BooleanField()
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "lesson", "position"], name="practice_answer_unique_per_item"
            )
        ]
        indexes = [models.Index(fields=["user", "answered_at"])]

    def __str__(self) -> str:
        return f"{self.user} on {self.lesson} #{self.position}"
