"""A world of submitted attempts built with bulk inserts, for the bulk tests, the
integration tests and the benchmark: learners x exercises responses in a few queries.

Answers vary deterministically (right, a diagnosis missing, a wrong first code, no
modifiers, blank) so scores differ between responses and a wrong total shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from coding_course.accounts.models import Role, User
from quizzes import scoring
from quizzes.attempts import services as attempt_services
from quizzes.models import Assignment, Attempt, AttemptStatus, Encounter, Quiz, QuizItem, Response

Answer = dict[str, Any]


def _exact(key: dict[str, Any]) -> Answer:
    return {
        "diagnoses": [line["code"] for line in key.get("diagnoses", [])],
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


def _missing_last_diagnosis(key: dict[str, Any]) -> Answer:
    answer = _exact(key)
    answer["diagnoses"] = answer["diagnoses"][:-1]
    return answer


def _wrong_first_code(key: dict[str, Any]) -> Answer:
    answer = _exact(key)
    answer["diagnoses"] = ["R69", *answer["diagnoses"][1:]]
    return answer


def _no_modifiers(key: dict[str, Any]) -> Answer:
    answer = _exact(key)
    for line in answer["procedures"]:
        line["modifiers"] = []
    return answer


def _blank(key: dict[str, Any]) -> Answer:
    return {"diagnoses": [], "procedures": []}


VARIANTS: tuple[Callable[[dict[str, Any]], Answer], ...] = (
    _exact,
    _missing_last_diagnosis,
    _wrong_first_code,
    _no_modifiers,
    _blank,
)


@dataclass
class World:
    quiz: Quiz
    items: list[QuizItem]
    learners: list[User]
    attempt_ids: list[int]
    response_ids: list[int]
    # (item id, variant index) -> how many responses give that answer.
    answer_counts: Counter[tuple[int, int]]

    def expected_totals(self) -> tuple[float, float]:
        """Score and maximum summed over every response, graded synchronously one
        distinct answer at a time through the in-process submit path."""
        items = {item.pk: item for item in self.items}
        total = maximum = 0.0
        for (item_id, variant), count in self.answer_counts.items():
            item = items[item_id]
            answer = VARIANTS[variant](item.exercise["answer"])
            grade = scoring.response_grade(item=item, answer=answer)
            total += grade.score * count
            maximum += grade.max_score * count
        return total, maximum


def build_world(
    *,
    owner: User,
    encounters: Sequence[Encounter],
    learners: int,
    prefix: str,
    organisation_id: int | None = None,
    quiz: Quiz | None = None,
) -> World:
    """A quiz (or more learners on ``quiz``) with one submitted attempt per learner
    answering every exercise; no scores yet."""
    if quiz is None:
        quiz = Quiz.objects.create(title=f"{prefix} quiz", owner=owner, attempts_allowed=0)
        for encounter in encounters:
            attempt_services.quiz_item_add(quiz=quiz, encounter=encounter)
    items = list(quiz.items.select_related("encounter").order_by("position", "id"))
    password = make_password(None)
    people = User.objects.bulk_create(
        User(
            username=f"{prefix}-learner-{index}",
            role=Role.STUDENT,
            password=password,
            organisation_id=organisation_id,
        )
        for index in range(learners)
    )
    Assignment.objects.bulk_create(Assignment(quiz=quiz, student=person) for person in people)
    now = timezone.now()
    attempts = Attempt.objects.bulk_create(
        Attempt(
            quiz=quiz,
            user=person,
            number=1,
            seed=index,
            item_ids=[item.pk for item in items],
            status=AttemptStatus.SUBMITTED,
            started_at=now,
            finished_at=now,
        )
        for index, person in enumerate(people)
    )
    counts: Counter[tuple[int, int]] = Counter()
    responses = []
    for learner_index, attempt in enumerate(attempts):
        for item_index, item in enumerate(items):
            variant = (learner_index + item_index) % len(VARIANTS)
            counts[(item.pk, variant)] += 1
            responses.append(
                Response(
                    attempt=attempt,
                    item=item,
                    answer=VARIANTS[variant](item.exercise["answer"]),
                )
            )
    created = Response.objects.bulk_create(responses, batch_size=2000)
    return World(
        quiz=quiz,
        items=items,
        learners=people,
        attempt_ids=[attempt.pk for attempt in attempts],
        response_ids=[response.pk for response in created],
        answer_counts=counts,
    )


def full_coding_encounters(count: int) -> list[Encounter]:
    """Library encounters in slug order (each becomes a full-coding exercise)."""
    return list(Encounter.objects.order_by("slug")[:count])
