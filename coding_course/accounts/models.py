"""Users, their role, and the employer organisations they may belong to."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    STUDENT = "student", "Student"
    INSTRUCTOR = "instructor", "Instructor"
    EMPLOYER = "employer", "Employer"
    STAFF = "staff", "Staff"


class Organisation(models.Model):
    """An employer organisation: its members and candidates see only its objects."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person using the site. ``role`` decides what the server lets them do."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STUDENT)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        help_text="Required for employers (hiring managers).",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="employer") | models.Q(organisation__isnull=False),
                name="employer_has_organisation",
                violation_error_message="An employer must belong to an organisation.",
            )
        ]

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    @property
    def is_instructor(self) -> bool:
        return self.role == Role.INSTRUCTOR

    @property
    def is_employer(self) -> bool:
        return self.role == Role.EMPLOYER

    @property
    def is_site_staff(self) -> bool:
        return self.role == Role.STAFF or self.is_superuser

    @property
    def is_privileged(self) -> bool:
        """Roles whose sessions time out when idle (ASVS 7.3.1)."""
        return self.role in {Role.STAFF, Role.EMPLOYER, Role.INSTRUCTOR} or self.is_staff
