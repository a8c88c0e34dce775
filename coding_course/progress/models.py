"""Learner groups: an instructor sees the progress of the students of their groups."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class LearnerGroup(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_learner_groups"
    )
    name = models.CharField(max_length=120)
    students = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="learner_groups",
        limit_choices_to={"role": "student"},
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="learner_group_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("progress:group_detail", args=[self.pk])
