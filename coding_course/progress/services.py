"""Write side of progress: instructors make groups and put students in them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from coding_course.accounts.models import Role, User
from coding_course.progress.models import LearnerGroup


def group_create(*, owner: Any, name: str) -> LearnerGroup:
    name = name.strip()
    if not name:
        raise ValidationError("A group needs a name.", code="name_required")
    if LearnerGroup.objects.filter(owner_id=owner.pk, name=name).exists():
        raise ValidationError(f"You already have a group named {name}.", code="name_taken")
    return LearnerGroup.objects.create(owner=owner, name=name)


def group_student_add(*, group: LearnerGroup, username: str) -> User:
    """Add a student by username. Only student accounts join groups: an instructor can
    then follow them, and nobody else's progress becomes visible that way."""
    username = username.strip()
    student = User.objects.filter(username__iexact=username, role=Role.STUDENT).first()
    if student is None:
        raise ValidationError(f"No student has the username {username}.", code="no_such_student")
    with transaction.atomic():
        group.students.add(student)
    return student


def group_student_remove(*, group: LearnerGroup, student_id: int) -> None:
    group.students.remove(student_id)
