"""Assessments an employer organisation gives, the candidates it invites, and what the
take page reports about each sitting.

An assessment wraps one exam-mode :class:`~quizzes.models.Quiz` (one attempt, timed,
review never shown) holding a fixed form: every candidate answers the same exercises,
in an order shuffled per candidate. That is what makes the difficulty mix identical for
everyone and lets the report compute a reliability coefficient over one item set.

Every row here belongs to exactly one organisation through its assessment; the
selectors never load one without that filter, so another organisation's ids are 404.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AssessmentSource(models.TextChoices):
    QUIZ = "quiz", "An existing exam quiz"
    BLUEPRINT = "blueprint", "A blueprint (exercises drawn by family and difficulty)"


class Assessment(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="assessments"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=200)
    quiz = models.OneToOneField("quizzes.Quiz", on_delete=models.PROTECT, related_name="assessment")
    source = models.CharField(max_length=10, choices=AssessmentSource.choices)
    # What the manager asked for: the source quiz id, or the blueprint's sections.
    specification = models.JSONField(default=dict, blank=True)
    # The seed of the one draw that built the fixed form (reproducible).
    seed = models.BigIntegerField(default=0)
    invitation_days = models.PositiveSmallIntegerField(
        default=7, help_text="How long an invitation link stays valid."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class Candidate(models.Model):
    """One invited person in one assessment, with their invitation and their sitting.

    The invitation's secret is stored only as a SHA-256 hash: the link in the e-mail
    is the one copy of the token, so a database leak cannot be turned into links.
    """

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="candidates")
    email = models.EmailField()
    name = models.CharField(max_length=150, blank=True)
    extra_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Accommodation: minutes added to the time limit."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessment_candidacies",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    attempt = models.OneToOneField(
        "quizzes.Attempt",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assessment_candidate",
    )

    class Meta:
        ordering = ["assessment", "email"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "email"], name="candidate_once_per_assessment"
            ),
            models.UniqueConstraint(
                fields=["assessment", "user"],
                condition=models.Q(user__isnull=False),
                name="candidate_user_once_per_assessment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} in assessment {self.assessment_id}"

    @property
    def display_name(self) -> str:
        return self.name or self.email


class SittingEventKind(models.TextChoices):
    VIEW = "view", "Opened an exercise"
    HIDDEN = "hidden", "Left the page"
    VISIBLE = "visible", "Came back to the page"


class SittingEvent(models.Model):
    """What the take page reported, stamped with the server's clock (never the
    browser's): time per exercise is the time between an exercise coming into view
    and the next event."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=SittingEventKind.choices)
    item = models.ForeignKey(
        "quizzes.QuizItem", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["candidate", "at", "id"]
        indexes = [models.Index(fields=["candidate", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%H:%M:%S} by candidate {self.candidate_id}"
