"""Encounters (clinical notes with answer keys) and what is built from them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from quizzes.grading.exercises import ExerciseSchemaError, answer_key_from_json


class EncounterSource(models.TextChoices):
    LIBRARY = "library", "Bundled library"
    AUTHORED = "authored", "Authored by an instructor"
    TEMPLATE = "template", "Generated from a template"


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"


class Encounter(models.Model):
    """A fictional clinical encounter and its answer key.

    ``key`` holds the answer key in the library's file shape (diagnoses in reporting
    order, procedure lines with modifiers, units and pointers, each with its rationale).
    ``key_version`` goes up whenever the key changes, so scores computed against an
    older key can be found and rescored.
    """

    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    setting = models.CharField(max_length=200)
    specialty = models.CharField(max_length=40)
    date_of_service = models.DateField()
    patient_age_years = models.PositiveSmallIntegerField()
    patient_sex = models.CharField(max_length=1, choices=Sex.choices)
    difficulty = models.PositiveSmallIntegerField()
    tags = models.JSONField(default=list)
    note = models.TextField()
    key = models.JSONField()
    key_version = models.PositiveIntegerField(default=1)
    source = models.CharField(
        max_length=10, choices=EncounterSource.choices, default=EncounterSource.LIBRARY
    )
    # SHA-256 of the canonical JSON of the encounter: reloading an unchanged file is a no-op.
    content_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(difficulty__gte=1, difficulty__lte=3),
                name="encounter_difficulty_1_to_3",
                violation_error_message="Difficulty is 1, 2 or 3.",
            ),
            models.CheckConstraint(
                condition=models.Q(patient_age_years__lte=124),
                name="encounter_age_in_range",
                violation_error_message="Patient age is 0 to 124 years.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug}: {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.clean_key()
        super().save(*args, **kwargs)

    def clean_key(self) -> None:
        """The key can be read by the grader (its codes are checked against the release
        by the library and authoring checks): exercises copy it, so a key that cannot be
        graded is refused here, never when a learner's answer is graded."""
        try:
            answer_key_from_json(self.key)
        except ExerciseSchemaError as error:
            raise ValidationError(
                {"key": f"This answer key cannot be graded: {error}."}, code="invalid_key"
            ) from None
