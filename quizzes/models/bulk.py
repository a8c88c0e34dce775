"""Bulk jobs: rescoring, cohort scoring and answer-sheet imports, done in chunks.

The database is the source of truth for a job's progress: each chunk row says whether
its responses are scored, and the job's counters move in the same transaction as the
scores a chunk writes, so a chunk delivered twice is counted once. The broker only
carries "please run chunk N"; losing or repeating such a message is recoverable.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class BulkJobKind(models.TextChoices):
    RESCORE_KEY = "rescore_key", "Rescore after a key change"
    RESCORE_RULES = "rescore_rules", "Rescore scores of older grading rules"
    RESCORE_RELEASE = "rescore_release", "Rescore against a new code-set release"
    COHORT = "cohort", "Score a cohort"
    CSV_IMPORT = "csv_import", "Import answer sheets"


class BulkJobStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Finished with failed chunks"
    CANCELLED = "cancelled", "Cancelled"


class BulkJob(models.Model):
    """One bulk run over a scope of responses.

    ``scope`` names what was asked (``{"quiz": 3}``, ``{"encounter": 7}``,
    ``{"rules_version": "2025.1"}``, ``{"release": 12}``, ...); ``scope_key`` is its
    canonical text, and at most one running job may hold a scope key (a database
    constraint, so two simultaneous requests cannot both start). ``total``, ``done``
    and ``failed`` count responses; the chunk counters are the completion barrier.
    """

    kind = models.CharField(max_length=20, choices=BulkJobKind.choices)
    status = models.CharField(
        max_length=12, choices=BulkJobStatus.choices, default=BulkJobStatus.RUNNING
    )
    dry_run = models.BooleanField(default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bulk_jobs"
    )
    # Set for employers: the job may only touch quizzes and learners of this organisation.
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bulk_jobs",
    )
    scope = models.JSONField(default=dict)
    scope_key = models.CharField(max_length=200)
    rules_version = models.CharField(max_length=20)
    # The dry run whose changes this job applies.
    confirms = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="applications"
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    chunks_failed = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When a chunk last finished: a running job whose progress stalls can be requeued.
    progress_at = models.DateTimeField(null=True, blank=True)
    error_summary = models.TextField(blank=True)
    # Kind-specific facts: refused import rows, keys a new release invalidates, ...
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scope_key"],
                condition=models.Q(status="running"),
                name="bulk_job_one_running_per_scope",
                violation_error_message="A job over this scope is already running.",
            )
        ]
        indexes = [models.Index(fields=["started_by", "-created_at"], name="bulk_job_user_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("bulk:job_detail", args=[self.pk])

    @property
    def is_running(self) -> bool:
        return self.status == BulkJobStatus.RUNNING


class ChunkStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (job cancelled)"


class BulkJobChunk(models.Model):
    """A few hundred response ids scored in one transaction by one task.

    ``runs`` counts every execution (retries and redeliveries alike); past a cap the
    chunk is failed instead of being tried for ever by a worker it keeps killing.
    """

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    response_ids = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=ChunkStatus.choices, default=ChunkStatus.PENDING
    )
    runs = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="bulk_chunk_unique_number")
        ]
        indexes = [models.Index(fields=["job", "status"], name="bulk_chunk_status_idx")]

    def __str__(self) -> str:
        return f"chunk {self.number} of job {self.job_id} ({self.status})"


class ChangeOutcome(models.TextChoices):
    SCORED = "scored", "Scored (no earlier score)"
    CHANGED = "changed", "Score changed"
    KEPT_NEWER = "kept_newer", "Kept: a newer key's score is stored"
    FAILED = "failed", "Failed"
    REFUSED_ROW = "refused_row", "Import row refused"


class BulkJobChange(models.Model):
    """What a job did to one response, or why one import row was refused.

    Unchanged responses get no row; a dry run's rows are the changes the instructor
    confirms. ``raw`` keeps an offending import cell exactly as uploaded (exports
    escape it; nothing here is ever executed).
    """

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="changes")
    outcome = models.CharField(max_length=12, choices=ChangeOutcome.choices)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    response = models.ForeignKey(
        "quizzes.Response", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    item = models.ForeignKey(
        "quizzes.QuizItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    row_number = models.PositiveIntegerField(null=True, blank=True)
    before_score = models.FloatField(null=True, blank=True)
    before_max = models.FloatField(null=True, blank=True)
    after_score = models.FloatField(null=True, blank=True)
    after_max = models.FloatField(null=True, blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "row_number", "id"]
        indexes = [models.Index(fields=["job", "outcome"], name="bulk_change_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.outcome} in job {self.job_id}"
