"""Quizzes, the exercises in them, and what learners do with them.

An exercise's answer lives only on the server (``QuizItem.exercise``); what reaches a
learner's browser is built by the selectors from the public fields alone.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from quizzes.grading.exercises import ExerciseSchemaError, canonical_payload
from quizzes.models.encounters import Encounter


class QuizMode(models.TextChoices):
    PRACTICE = "practice", "Practice (feedback on each exercise, several tries)"
    EXAM = "exam", "Exam (feedback after submission)"


class ReviewPolicy(models.TextChoices):
    AFTER_SUBMIT = "after_submit", "After submission"
    AFTER_RELEASE = "after_release", "After the release date"
    NEVER = "never", "Never (score only)"


class ExerciseType(models.TextChoices):
    FULL_CODING = "full_coding", "Code the encounter"
    BEST_CODE = "best_code", "Best code"
    CODE_FAMILY = "code_family", "Code family"
    SPECIFICITY = "specificity", "Specificity"
    SEQUENCING = "sequencing", "Sequencing"
    LINKAGE = "linkage", "Linkage"
    AUDIT = "audit", "Audit a claim"


class Quiz(models.Model):
    """A set of exercises with the rules for taking them.

    ``blueprint`` is empty (every item is asked) or a list of draws
    ``{"by": "tag"|"family"|"chapter"|"difficulty"|"type", "value": ..., "count": N}``
    taken from the items, seeded per attempt so each learner keeps a stable draw.
    """

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_quizzes"
    )
    mode = models.CharField(max_length=10, choices=QuizMode.choices, default=QuizMode.PRACTICE)
    time_limit_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty for untimed."
    )
    attempts_allowed = models.PositiveIntegerField(default=1, help_text="0 for unlimited.")
    pass_mark_percent = models.PositiveSmallIntegerField(default=70)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    shuffle = models.BooleanField(default=False)
    review_policy = models.CharField(
        max_length=16, choices=ReviewPolicy.choices, default=ReviewPolicy.AFTER_SUBMIT
    )
    review_release_at = models.DateTimeField(null=True, blank=True)
    tries_per_item = models.PositiveSmallIntegerField(
        default=3, help_text="Practice mode: how many times an exercise may be checked."
    )
    blueprint = models.JSONField(default=list, blank=True)
    # Marks the quizzes seed_demo_quizzes made, so a second run updates instead of adding.
    demo_key = models.CharField(max_length=60, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pass_mark_percent__lte=100),
                name="quiz_pass_mark_at_most_100",
                violation_error_message="The pass mark is a percentage, 0 to 100.",
            ),
            models.UniqueConstraint(
                fields=["demo_key"], condition=~models.Q(demo_key=""), name="quiz_demo_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("quizzes:quiz_detail", args=[self.pk])

    @property
    def is_practice(self) -> bool:
        return self.mode == QuizMode.PRACTICE


class QuizItem(models.Model):
    """One exercise of a quiz, generated from an encounter and frozen here.

    ``exercise`` holds the whole generated exercise, answer and explanation included;
    it is never rendered as such (see ``selectors.item_public``). ``labels`` are the
    tags the blueprint draws on (encounter tags, ``difficulty-N``, ``type-T``).
    """

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="items")
    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="quiz_items")
    exercise_type = models.CharField(max_length=20, choices=ExerciseType.choices)
    seed = models.PositiveIntegerField(default=1)
    exercise = models.JSONField()
    labels = models.JSONField(default=list)
    # The encounter's key version when the exercise was generated.
    key_version = models.PositiveIntegerField(default=1)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["quiz", "position", "id"]

    def __str__(self) -> str:
        return f"{self.quiz_id}#{self.position} {self.exercise_type} {self.encounter_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """The payload fits its type's schema, stored in canonical form: an exercise
        that cannot be graded is refused here, never at grading time."""
        try:
            self.exercise = canonical_payload(self.exercise, exercise_type=self.exercise_type)
        except ExerciseSchemaError as error:
            raise ValidationError(
                {"exercise": f"This exercise cannot be graded: {error}."}, code="invalid_exercise"
            ) from None


class Assignment(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="assignments")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["quiz", "student"], name="assignment_once_per_student")
        ]

    def __str__(self) -> str:
        return f"quiz {self.quiz_id} for user {self.student_id}"


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"


class Attempt(models.Model):
    """One sitting of a quiz. ``item_ids`` is the drawn, ordered list of QuizItem ids."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    number = models.PositiveIntegerField(default=1)
    seed = models.BigIntegerField()
    item_ids = models.JSONField(default=list)
    status = models.CharField(
        max_length=12, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS
    )
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True)
    percent = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "user", "number"], name="attempt_number_unique")
        ]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"attempt {self.pk} of quiz {self.quiz_id} by {self.user_id}"

    def get_absolute_url(self) -> str:
        if self.status == AttemptStatus.SUBMITTED:
            return reverse("quizzes:attempt_review", args=[self.pk])
        return reverse("quizzes:attempt_take", args=[self.pk])

    @property
    def is_submitted(self) -> bool:
        return self.status == AttemptStatus.SUBMITTED


class Response(models.Model):
    """A learner's answer to one item, autosaved as they type."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    item = models.ForeignKey(QuizItem, on_delete=models.CASCADE, related_name="responses")
    answer = models.JSONField(default=dict)
    flagged = models.BooleanField(default=False)
    # Practice mode: how many times the learner has checked this answer.
    tries = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "item"], name="response_once_per_item")
        ]

    def __str__(self) -> str:
        return f"response to item {self.item_id} in attempt {self.attempt_id}"


class Score(models.Model):
    """A response's grade under one version of the grading rules.

    Unique on (response, rules_version): rescoring upserts, so it is safe to run twice.
    """

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="scores")
    rules_version = models.CharField(max_length=20)
    score = models.FloatField()
    max_score = models.FloatField()
    percent = models.FloatField()
    findings = models.JSONField(default=list)
    graded_at = models.DateTimeField(auto_now=True)
    # The answer key's version this score was computed against: a bulk rescore never
    # replaces a score of a newer key with one of an older key (0: not recorded).
    key_version = models.PositiveIntegerField(default=0)
    # The code-set release versions graded against, by system ({"ICD-10-CM": "2026-04"}),
    # so a new release finds the scores it affects.
    releases = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "rules_version"], name="score_once_per_rules_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.score:g}/{self.max_score:g} under rules {self.rules_version}"


class ScoreOverride(models.Model):
    """An instructor's corrected score for a response; the latest one counts."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="overrides")
    score = models.FloatField()
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"override to {self.score:g} by {self.by_id}"
