"""Fixtures for the assessment tests: the encounter library, and a world of two
employer organisations, each with a manager, an assessment and submitted candidates.

Invitation links are read from the e-mails the services send (the raw token exists
nowhere else), with on-commit callbacks executed so the e-mail goes out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core import mail

from tests.factories import EmployerFactory, OrganisationFactory, StudentFactory

LINK = re.compile(r"https?://\S+/assessments/invitations/(?P<signed>[^/\s]+)/")


def link_for(signed: str) -> str:
    return f"https://testserver/assessments/invitations/{signed}/"


def last_signed_link(to: str) -> str:
    """The signed part of the newest invitation link e-mailed to ``to``."""
    for message in reversed(mail.outbox):
        if to in message.to:
            match = LINK.search(message.body)
            assert match, message.body
            return match["signed"]
    raise AssertionError(f"no invitation e-mail to {to}")


@pytest.fixture
def library(db):
    from quizzes.encounters.services import encounter_library_load
    from quizzes.models import Encounter

    encounter_library_load()
    return {encounter.slug: encounter for encounter in Encounter.objects.all()}


def small_blueprint(manager: Any, *, title: str = "Coder hiring test", seed: int = 7, **options):
    """Two ICD-10-CM, one CPT and one HCPCS encounter at difficulty 2-3."""
    from coding_course.assessments import services

    values = {"time_limit_minutes": 30, "pass_mark_percent": 60, **options}
    return services.assessment_create_from_blueprint(
        user=manager,
        settings=services.AssessmentSettings(title=title, **values),
        sections={"ICD-10-CM": 2, "CPT": 1, "HCPCS": 1},
        difficulty_min=2,
        difficulty_max=3,
        seed=seed,
    )


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """invite(assessment, email, **options) -> (candidate, signed link value)."""
    from coding_course.assessments import services

    def invite_one(assessment: Any, email: str, **options: Any) -> tuple[Any, str]:
        with django_capture_on_commit_callbacks(execute=True):
            candidate = services.candidate_invite(
                assessment=assessment,
                email=email,
                by=assessment.created_by,
                link_for=link_for,
                **options,
            )
        return candidate, last_signed_link(email.strip().lower())

    return invite_one


@pytest.fixture
def accepted(invite):
    """accepted(assessment, email, **options) -> a candidate whose account accepted."""
    from coding_course.assessments import services

    def accept(assessment: Any, email: str, **options: Any) -> Any:
        _candidate, signed = invite(assessment, email, **options)
        user = StudentFactory(email=email)
        return services.invitation_accept(signed=signed, user=user)

    return accept


def first_diagnoses_answer(item: Any) -> dict[str, Any]:
    """The key's diagnoses and no procedures: a partly right answer."""
    return {
        "diagnoses": [line["code"] for line in item.exercise["answer"]["diagnoses"]],
        "procedures": [],
    }


def exact_answer(item: Any) -> dict[str, Any]:
    key = item.exercise["answer"]
    return {
        "diagnoses": [line["code"] for line in key["diagnoses"]],
        "procedures": [
            {
                "code": line["code"],
                "modifiers": list(line.get("modifiers", [])),
                "units": int(line.get("units", 1)),
                "dx_pointers": list(line.get("dx_pointers", [])),
            }
            for line in key.get("procedures", [])
        ],
    }


@dataclass
class OrgWorld:
    organisation: Any
    manager: Any
    assessment: Any
    candidates: list[Any] = field(default_factory=list)


@dataclass
class World:
    a: OrgWorld
    b: OrgWorld


def sit(candidate: Any, answers: int) -> Any:
    """Start, answer the first ``answers`` exercises exactly, submit."""
    from coding_course.assessments import services
    from quizzes.attempts.services import response_save
    from quizzes.models import QuizItem

    attempt = services.sitting_start(candidate=candidate)
    for item_id in attempt.item_ids[:answers]:
        item = QuizItem.objects.get(pk=item_id)
        response_save(attempt=attempt, item=item, answer=exact_answer(item))
    services.sitting_submit(candidate=candidate)
    candidate.refresh_from_db()
    return candidate


@pytest.fixture
def world(library, accepted) -> World:
    """Two organisations, each with one assessment and two submitted candidates."""

    def organisation(slug: str, emails: list[str]) -> OrgWorld:
        org = OrganisationFactory(name=f"Org {slug}", slug=slug)
        manager = EmployerFactory(organisation=org, username=f"manager-{slug}")
        assessment = small_blueprint(manager, title=f"Assessment {slug}")
        candidates = [
            sit(accepted(assessment, email), answers=answers)
            for answers, email in zip((4, 2), emails, strict=True)
        ]
        return OrgWorld(org, manager, assessment, candidates)

    return World(
        a=organisation("org-a", ["ann@a.test", "abe@a.test"]),
        b=organisation("org-b", ["bea@b.test", "bob@b.test"]),
    )
