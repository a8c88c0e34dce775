"""Demo quizzes from the bundled library, so a new user can take one at once.

Idempotent: each quiz is found again by its ``demo_key``; settings are refreshed,
missing exercises added, nothing deleted (attempts may already point at the items).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from quizzes.attempts.services import assignment_ensure, quiz_item_add
from quizzes.encounters.services import encounter_library_load, exercises_generate
from quizzes.models import Encounter, ExerciseType, Quiz, QuizMode, ReviewPolicy

PER_FAMILY_QUIZ = 6
# The mixed quiz draws from this many encounters' exercises of every type.
MIXED_POOL = 20
ALL_TYPES = tuple(ExerciseType.values)
# The exam draws from the whole library.
LIBRARY_POOL = 1000


@dataclass(frozen=True)
class DemoQuiz:
    key: str
    title: str
    description: str
    settings: dict[str, Any]
    family: str | None = None
    blueprint: tuple[dict[str, Any], ...] = ()
    types: tuple[str, ...] = (ExerciseType.FULL_CODING,)
    pool: int = PER_FAMILY_QUIZ


DEMO_QUIZZES = (
    DemoQuiz(
        key="practice-icd-10-cm",
        title="Practice: ICD-10-CM diagnoses",
        description="Diagnosis coding: specificity, 7th characters, sequencing.",
        family="icd-10-cm",
        types=(ExerciseType.FULL_CODING, ExerciseType.BEST_CODE, ExerciseType.SPECIFICITY),
        settings={"mode": QuizMode.PRACTICE, "attempts_allowed": 0, "tries_per_item": 3},
    ),
    DemoQuiz(
        key="practice-cpt",
        title="Practice: CPT procedures",
        description="Encounters with CPT lines: E/M levels, modifiers, units and pointers.",
        family="cpt",
        types=(ExerciseType.FULL_CODING, ExerciseType.LINKAGE),
        settings={"mode": QuizMode.PRACTICE, "attempts_allowed": 0, "tries_per_item": 3},
    ),
    DemoQuiz(
        key="practice-hcpcs",
        title="Practice: HCPCS Level II supplies and services",
        description="Encounters with HCPCS Level II lines: drugs, supplies, DME.",
        family="hcpcs",
        settings={"mode": QuizMode.PRACTICE, "attempts_allowed": 0, "tries_per_item": 3},
    ),
    DemoQuiz(
        key="practice-mixed",
        title="Practice: mixed encounters",
        description="Eight exercises of every kind, drawn for you from twenty encounters.",
        types=ALL_TYPES,
        pool=MIXED_POOL,
        settings={
            "mode": QuizMode.PRACTICE,
            "attempts_allowed": 0,
            "tries_per_item": 3,
            "shuffle": True,
        },
        blueprint=(
            {"by": "type", "value": ExerciseType.FULL_CODING, "count": 2},
            {"by": "type", "value": ExerciseType.BEST_CODE, "count": 1},
            {"by": "type", "value": ExerciseType.CODE_FAMILY, "count": 1},
            {"by": "type", "value": ExerciseType.SPECIFICITY, "count": 1},
            {"by": "type", "value": ExerciseType.SEQUENCING, "count": 1},
            {"by": "type", "value": ExerciseType.LINKAGE, "count": 1},
            {"by": "type", "value": ExerciseType.AUDIT, "count": 1},
        ),
    ),
    DemoQuiz(
        key="exam-timed",
        title="Timed exam: code eight encounters",
        description="Exam mode: no feedback until you submit; 40 minutes, one attempt.",
        pool=LIBRARY_POOL,
        settings={
            "mode": QuizMode.EXAM,
            "attempts_allowed": 1,
            "time_limit_minutes": 40,
            "pass_mark_percent": 70,
            "review_policy": ReviewPolicy.AFTER_SUBMIT,
            "shuffle": True,
        },
        blueprint=(
            {"by": "family", "value": "hcpcs", "count": 2},
            {"by": "family", "value": "cpt", "count": 3},
            {"by": "difficulty", "value": 3, "count": 1},
            {"by": "family", "value": "icd-10-cm", "count": 2},
        ),
    ),
)


def _encounters_for(demo: DemoQuiz, encounters: list[Encounter]) -> list[Encounter]:
    if demo.family is None:
        # An even spread over the library rather than its easiest encounters.
        step = max(len(encounters) // demo.pool, 1)
        return encounters[::step][: demo.pool]
    chosen = [e for e in encounters if demo.family in e.tags]
    if demo.family == "icd-10-cm":
        # Diagnosis-only practice: encounters whose key has no procedure line first.
        chosen.sort(key=lambda e: (bool(e.key.get("procedures")), e.difficulty, e.slug))
    else:
        chosen.sort(key=lambda e: (e.difficulty, e.slug))
    return chosen[: demo.pool]


def _add_missing_items(quiz: Quiz, demo: DemoQuiz, encounters: list[Encounter]) -> int:
    """Add the exercises of each wanted type the quiz lacks (one per encounter and type)."""
    have = set(quiz.items.values_list("encounter_id", "exercise_type"))
    added = 0
    for encounter in _encounters_for(demo, encounters):
        for kind in demo.types:
            if (encounter.pk, kind) in have:
                continue
            if kind == ExerciseType.FULL_CODING:
                quiz_item_add(quiz=quiz, encounter=encounter)
                added += 1
                continue
            generated = exercises_generate(encounter=encounter, types=[kind])
            if generated:
                quiz_item_add(
                    quiz=quiz, encounter=encounter, exercise_type=kind, exercise=generated[0]
                )
                added += 1
    return added


class Command(BaseCommand):
    help = "Create the demo quizzes (idempotent) for demo_student, owned by demo_instructor."

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects
        instructor = users.filter(username="demo_instructor").first()
        student = users.filter(username="demo_student").first()
        if instructor is None or student is None:
            raise CommandError("demo accounts are missing: run `manage.py seed_demo` first")
        encounter_library_load()
        encounters = list(Encounter.objects.order_by("difficulty", "slug"))
        if not encounters:
            raise CommandError("the encounter library is empty")
        summary = []
        with transaction.atomic():
            for demo in DEMO_QUIZZES:
                quiz, created = Quiz.objects.update_or_create(
                    demo_key=demo.key,
                    defaults={
                        "title": demo.title,
                        "description": demo.description,
                        "owner": instructor,
                        "blueprint": list(demo.blueprint),
                        **demo.settings,
                    },
                )
                added = _add_missing_items(quiz, demo, encounters)
                assignment_ensure(quiz=quiz, student=student, by=instructor)
                summary.append(
                    {
                        "quiz": demo.key,
                        "created": created,
                        "items_added": added,
                        "items": quiz.items.count(),
                    }
                )
        self.stdout.write(json.dumps({"quizzes": summary}))
