"""Account services: demo accounts for a fresh install."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from coding_course.accounts.models import Organisation, Role, User


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str | None  # None when the account already existed (password unchanged)


DEMO_ORGANISATION = ("Riverbend Health Billing", "riverbend-health-billing")
DEMO_USERS = (
    ("demo_student", Role.STUDENT, "Dana", "Student"),
    ("demo_instructor", Role.INSTRUCTOR, "Ivan", "Instructor"),
    ("demo_employer", Role.EMPLOYER, "Erin", "Employer"),
    ("demo_staff", Role.STAFF, "Sam", "Staff"),
)


def demo_accounts_ensure() -> list[DemoAccount]:
    """Create the demo organisation and one account per role, once.

    New accounts get a random password, returned so the caller can print it; existing
    accounts are left alone (their password is not reset behind the user's back).
    """
    created: list[DemoAccount] = []
    with transaction.atomic():
        organisation, _ = Organisation.objects.get_or_create(
            slug=DEMO_ORGANISATION[1], defaults={"name": DEMO_ORGANISATION[0]}
        )
        for username, role, first, last in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is not None:
                created.append(DemoAccount(username, role, None))
                continue
            password = secrets.token_urlsafe(12)
            user = User(
                username=username,
                email=f"{username}@example.test",
                first_name=first,
                last_name=last,
                role=role,
                organisation=organisation if role == Role.EMPLOYER else None,
                is_staff=role == Role.STAFF,
                is_superuser=role == Role.STAFF,
            )
            user.set_password(password)
            user.save()
            created.append(DemoAccount(username, role, password))
    return created
