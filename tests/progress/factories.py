"""Graded quiz history built directly: encounters, items with chosen labels, submitted
attempts, responses and scores with chosen findings (no grading involved)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from quizzes.grading.policy import RULES_VERSION
from quizzes.models import (
    Attempt,
    AttemptStatus,
    Encounter,
    Quiz,
    QuizItem,
    Response,
    Score,
)

_serial = itertools.count(1)


def encounter_make(*, tags: Sequence[str], title: str = "") -> Encounter:
    number = next(_serial)
    return Encounter.objects.create(
        slug=f"progress-case-{number}",
        title=title or f"Progress case {number}",
        setting="office visit",
        specialty="family medicine",
        date_of_service=dt.date(2026, 5, 4),
        patient_age_years=40,
        patient_sex="F",
        difficulty=2,
        tags=list(tags),
        note="A fictional note.",
        key={"diagnoses": [{"code": "J02.0"}], "procedures": []},
        content_hash=f"{number:064d}",
    )


@dataclass
class Graded:
    """One exercise of an attempt: its labels, type, marks and findings."""

    labels: Sequence[str]
    score: float
    max_score: float
    findings: list[dict[str, Any]] = field(default_factory=list)
    exercise_type: str = "full_coding"


# A gradable payload per type: items must validate when saved (QuizItem.clean); these
# tests read stored scores only, so any valid exercise of the right type will do.
_PAYLOADS: dict[str, dict[str, Any]] = {
    "full_coding": {"answer": {"diagnoses": [{"code": "J02.0"}], "procedures": []}},
    "best_code": {"choices": ["J20.9", "J20.8"], "answer": "J20.9"},
    "code_family": {"choices": ["ICD-10-CM", "CPT", "HCPCS"], "answer": "CPT"},
    "specificity": {"answer": "S52.532A"},
    "sequencing": {"answer": ["E11.42", "I10"]},
    "linkage": {"answer": {"99213": ["J02.0"]}},
    "audit": {
        "claim": {"diagnoses": ["J02.9"]},
        "answer": [{"line": "diagnoses[0]", "fix": "J02.0"}],
    },
}


def exercise_payload(exercise_type: str) -> dict[str, Any]:
    return {"type": exercise_type, **_PAYLOADS[exercise_type]}


def finding(kind: str, line: str, code: str | None, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "line": line, "code": code, "message": "", **extra}


def submitted_attempt(
    *,
    user: Any,
    quiz: Quiz,
    graded: Sequence[Graded],
    started_at: dt.datetime,
    minutes: float,
    number: int = 1,
) -> Attempt:
    """A submitted attempt of ``quiz`` whose responses carry exactly ``graded``."""
    items = []
    for position, entry in enumerate(graded):
        encounter = encounter_make(tags=[t for t in entry.labels if not t.startswith("type-")])
        items.append(
            QuizItem.objects.create(
                quiz=quiz,
                encounter=encounter,
                exercise_type=entry.exercise_type,
                exercise=exercise_payload(entry.exercise_type),
                labels=list(entry.labels),
                position=position,
            )
        )
    total = sum(entry.score for entry in graded)
    maximum = sum(entry.max_score for entry in graded)
    attempt = Attempt.objects.create(
        quiz=quiz,
        user=user,
        number=number,
        seed=1,
        item_ids=[item.pk for item in items],
        status=AttemptStatus.SUBMITTED,
        started_at=started_at,
        finished_at=started_at + dt.timedelta(minutes=minutes),
        score=total,
        max_score=maximum,
        percent=round(100 * total / maximum, 2) if maximum else 100.0,
    )
    for item, entry in zip(items, graded, strict=True):
        response = Response.objects.create(attempt=attempt, item=item, answer={})
        Score.objects.create(
            response=response,
            rules_version=RULES_VERSION,
            score=entry.score,
            max_score=entry.max_score,
            percent=round(100 * entry.score / entry.max_score, 2),
            findings=entry.findings,
        )
    return attempt


def two_quizzes_history(user: Any, owner: Any) -> tuple[Attempt, Attempt]:
    """The known history of the page tests: an injury quiz and a respiratory quiz.

    Checks by area (see tests/progress/test_pages.py for the figures they give):
    chapter 19 wrong twice (a 7th character, a side), chapter 20 right once, CPT surgery
    right once and wrong once (a modifier), E/M right twice, laboratory wrong once
    (linkage), chapter 10 right twice (one line, one best-code exercise), chapter 18
    right once.
    """
    day = timezone.make_aware(dt.datetime(2026, 6, 1, 10, 0))
    injuries = Quiz.objects.create(title="Injuries", owner=owner)
    respiratory = Quiz.objects.create(title="Respiratory and E/M", owner=owner)
    first = submitted_attempt(
        user=user,
        quiz=injuries,
        started_at=day,
        minutes=20,
        graded=[
            Graded(
                labels=["icd-10-cm", "chapter-19", "7th-character", "cpt", "cpt-surgery"],
                score=1.5,
                max_score=2.5,
                findings=[
                    finding(
                        "partial_match",
                        "diagnoses[0]",
                        "S52.521D",
                        expected=["S52.521A"],
                        message="S52.521D is close: the 7th character is not right.",
                    ),
                    finding("missing", "key.diagnoses[0]", "S52.521A"),
                    finding("correct", "procedures[0]", "25600"),
                ],
            ),
            Graded(
                labels=["icd-10-cm", "chapter-19", "chapter-20", "laterality", "cpt"],
                score=3.0,
                max_score=5.0,
                findings=[
                    finding(
                        "partial_match",
                        "diagnoses[0]",
                        "S93.402A",
                        expected=["S93.401A"],
                        message="S93.402A is close: right condition, wrong side.",
                    ),
                    finding("missing", "key.diagnoses[0]", "S93.401A"),
                    finding("correct", "diagnoses[1]", "W10.9XXA"),
                    finding("correct", "procedures[0]", "99283"),
                    finding("modifier_error", "procedures[1]", "29540", expected=["RT"]),
                ],
            ),
        ],
    )
    second = submitted_attempt(
        user=user,
        quiz=respiratory,
        started_at=day + dt.timedelta(days=2),
        minutes=30,
        graded=[
            Graded(
                labels=["icd-10-cm", "chapter-10", "chapter-18", "cpt", "cpt-em", "cpt-lab"],
                score=4.375,
                max_score=5.0,
                findings=[
                    finding("correct", "diagnoses[0]", "J02.0"),
                    finding("correct", "diagnoses[1]", "R50.9"),
                    finding("correct", "procedures[0]", "99213"),
                    finding("linkage_error", "procedures[1]", "87880", expected=["J02.0"]),
                ],
            ),
            Graded(
                labels=["icd-10-cm", "chapter-10", "type-best_code"],
                score=1.0,
                max_score=1.0,
                exercise_type="best_code",
                findings=[finding("correct", "answer", "J20.9")],
            ),
        ],
    )
    return first, second
