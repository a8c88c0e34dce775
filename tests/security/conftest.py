"""The one fixture world of the security suite.

Two sides, A and B, mirror each other: an employer organisation with a manager, an
assessment and three candidates who sat it; an instructor with a practice quiz and an
exam quiz (answer keys from the encounter library), two assigned students with one
attempt each, a learner group and a running bulk job; and a running bulk job of the
organisation. Tests sign in as side A and reach for side B's objects.

B's candidates carry distinctive names and addresses so a leak is a plain substring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from tests.assessments.conftest import (  # noqa: F401  (fixtures used by ``world``)
    accepted,
    invite,
    library,
    sit,
    small_blueprint,
)
from tests.factories import (
    EmployerFactory,
    InstructorFactory,
    OrganisationFactory,
    StaffFactory,
    StudentFactory,
)

# An encounter whose key has a diagnosis and a procedure, each with a rationale.
CYSTITIS = "a-pc-acute-cystitis-hematuria"
WRONG_ANSWER = {"diagnoses": ["R69"], "procedures": []}


@dataclass
class Side:
    """Everything one side owns."""

    organisation: Any
    manager: Any
    assessment: Any
    candidates: list[Any]
    instructor: Any
    practice_quiz: Any
    exam_quiz: Any
    students: list[Any]
    attempts: list[Any]
    group: Any
    instructor_job: Any
    organisation_job: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def candidate_texts(self) -> list[str]:
        """The names and addresses of this side's candidates, as they would leak."""
        texts = []
        for candidate in self.candidates:
            texts += [candidate.email, candidate.name]
        return texts


@dataclass
class World:
    a: Side
    b: Side
    staff: Any
    encounter: Any


def signed_in(user: Any, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def _side(letter: str, encounters: dict[str, Any], accept: Any, capture: Any) -> Side:
    from coding_course.progress import services as progress_services
    from quizzes.attempts import services as attempt_services
    from quizzes.bulk import services as bulk_services
    from quizzes.models import BulkJobKind, QuizMode, ReviewPolicy
    from tests.quizzes.factories import quiz_with_items

    organisation = OrganisationFactory(name=f"Org {letter.upper()}", slug=f"sec-org-{letter}")
    manager = EmployerFactory(organisation=organisation, username=f"manager-{letter}")
    assessment = small_blueprint(manager, title=f"Assessment {letter.upper()}")
    candidates = [
        sit(
            accept(
                assessment,
                f"cand{number}-{letter}@side-{letter}.test",
                name=f"Candidate{number} Side{letter.upper()}",
            ),
            answers=number,
        )
        for number in (1, 2, 3)
    ]

    instructor = InstructorFactory(username=f"instructor-{letter}")
    students = [StudentFactory(username=f"student-{letter}{n}") for n in (1, 2)]
    encounter = encounters[CYSTITIS]
    practice = quiz_with_items(
        encounters=[encounter],
        students=students,
        owner=instructor,
        title=f"Practice {letter.upper()}",
        mode=QuizMode.PRACTICE,
        tries_per_item=3,
        review_policy=ReviewPolicy.NEVER,
    )
    exam = quiz_with_items(
        encounters=[encounter],
        students=students,
        owner=instructor,
        title=f"Exam {letter.upper()}",
        mode=QuizMode.EXAM,
        review_policy=ReviewPolicy.NEVER,
    )
    # The first student's practice attempt stays open; the second's is submitted.
    attempts = [attempt_services.attempt_start(quiz=practice, user=student) for student in students]
    attempt_services.response_save(
        attempt=attempts[1], item=practice.items.get(), answer=WRONG_ANSWER
    )
    attempt_services.attempt_submit(attempt=attempts[1])

    group = progress_services.group_create(owner=instructor, name=f"Group {letter.upper()}")
    for student in students:
        progress_services.group_student_add(group=group, username=student.username)

    # On-commit callbacks are captured and not run: both jobs stay running.
    with capture(execute=False):
        instructor_job = bulk_services.bulk_job_start(
            kind=BulkJobKind.COHORT, user=instructor, scope={"quiz": practice.pk}
        )
        organisation_job = bulk_services.bulk_job_start(
            kind=BulkJobKind.COHORT, user=manager, scope={"quiz": assessment.quiz_id}
        )
    return Side(
        organisation=organisation,
        manager=manager,
        assessment=assessment,
        candidates=candidates,
        instructor=instructor,
        practice_quiz=practice,
        exam_quiz=exam,
        students=students,
        attempts=attempts,
        group=group,
        instructor_job=instructor_job,
        organisation_job=organisation_job,
    )


@pytest.fixture
def world(library, accepted, django_capture_on_commit_callbacks) -> World:  # noqa: F811
    return World(
        a=_side("a", library, accepted, django_capture_on_commit_callbacks),
        b=_side("b", library, accepted, django_capture_on_commit_callbacks),
        staff=StaffFactory(username="site-staff"),
        encounter=library[CYSTITIS],
    )
