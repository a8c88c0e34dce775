"""A lesson's practice set: three single-choice exercises from the exercise generators.

Encounters from the library that share the most tags with the lesson come first; the
seed (one per learner and lesson) shuffles encounters with the same overlap and seeds the
generators, so a learner sees the same set on every visit and the server can check an
answer by building the set again: the answer never has to leave the server before the
learner has chosen.

Three generator types are single-choice and are used here: ``best_code`` and
``code_family`` as generated, and ``sequencing`` asked as "which diagnosis is listed
first". Each item takes the first type, in the lesson's preference order rotated by the
item's position, that its encounter supports: the set mixes types when it can.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from codesets.domain.catalog import Catalog, NoReleaseInForce
from codesets.domain.systems import System
from quizzes.generation.answers import BEST_CODE, CODE_FAMILY, SEQUENCING
from quizzes.generation.encounters import EncounterSpec
from quizzes.generation.generators import Exercise, generate

PRACTICE_SIZE = 3
SINGLE_CHOICE_TYPES = (BEST_CODE, CODE_FAMILY, SEQUENCING)
# The lesson tag that names each code family (the same words the encounter library uses).
FAMILY_TAGS = {
    System.ICD10CM.value: "icd-10-cm",
    System.CPT.value: "cpt",
    System.HCPCS.value: "hcpcs",
}
# Beyond this many candidate encounters a lesson's set is already found or cannot be.
_MAX_CANDIDATES = 24


@dataclass(frozen=True, slots=True)
class PracticeChoice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class PracticeItem:
    """One exercise as the lesson page shows it. ``key`` identifies the exercise so an
    answer posted against a set that has since changed is refused, not misgraded."""

    position: int
    encounter: str
    exercise_type: str
    line: str
    question: str
    case: str
    choices: tuple[PracticeChoice, ...]
    answer: str
    explanation: str
    # The encounter's date of service: the answer is graded against the releases then.
    date_of_service: dt.date | None = None

    @property
    def key(self) -> str:
        return f"{self.encounter}|{self.exercise_type}|{self.line}"

    def choice_label(self, value: str) -> str:
        return next((choice.label for choice in self.choices if choice.value == value), value)


def practice_seed(user_id: int, lesson_slug: str) -> int:
    """A stable seed per learner and lesson (Python's ``hash`` changes per process)."""
    digest = hashlib.sha256(f"{user_id}|{lesson_slug}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def choose_practice(
    *,
    tags: Iterable[str],
    types: Sequence[str],
    library: Sequence[EncounterSpec],
    catalog_for: Callable[[dt.date], Catalog],
    seed: int,
    size: int = PRACTICE_SIZE,
) -> list[PracticeItem]:
    """Up to ``size`` items, one per encounter, from encounters sharing ``tags``."""
    wanted = set(tags)
    preferred = [name for name in types if name in SINGLE_CHOICE_TYPES] or list(SINGLE_CHOICE_TYPES)
    candidates = [spec for spec in library if wanted & set(spec.tags)]
    rng = random.Random(seed)
    rng.shuffle(candidates)
    # A stable sort keeps the shuffled order among encounters with equal overlap.
    candidates.sort(key=lambda spec: -len(wanted & set(spec.tags)))
    items: list[PracticeItem] = []
    for spec in candidates[:_MAX_CANDIDATES]:
        if len(items) == size:
            break
        try:
            catalog = catalog_for(spec.date_of_service)
        except NoReleaseInForce:
            continue
        shift = len(items) % len(preferred)
        rotated = preferred[shift:] + preferred[:shift]
        offered = [
            item
            for exercise in generate(spec, catalog, types=rotated, seed=seed)
            if (
                item := practice_item(
                    exercise, catalog, position=len(items), date_of_service=spec.date_of_service
                )
            )
            is not None
        ]
        if offered:
            items.append(next((item for item in offered if _fits(item, wanted)), offered[0]))
    return items


def _fits(item: PracticeItem, tags: set[str]) -> bool:
    """A code-family question fits a lesson that teaches that family (a CPT lesson asks
    about the CPT code of an encounter, not its diagnosis)."""
    return item.exercise_type != CODE_FAMILY or FAMILY_TAGS[item.answer] in tags


def practice_item(
    exercise: Exercise,
    catalog: Catalog,
    *,
    position: int,
    date_of_service: dt.date | None = None,
) -> PracticeItem | None:
    """The single-choice form of a generated exercise, or None for other types."""
    question, _, case = exercise.prompt.partition("\n\n")
    if exercise.type == BEST_CODE and isinstance(exercise.answer, str):
        answer = exercise.answer
        choices = exercise.choices
    elif exercise.type == CODE_FAMILY and isinstance(exercise.answer, str):
        answer, choices, case = exercise.answer, exercise.choices, ""
    elif exercise.type == SEQUENCING and isinstance(exercise.answer, list) and exercise.answer:
        answer = str(exercise.answer[0])
        choices = exercise.choices
        question = (
            "Which of these diagnoses is listed first on the claim for this encounter "
            "(the main reason for the visit)?"
        )
    else:
        return None
    labelled = tuple(
        PracticeChoice(value=value, label=_label(value, catalog, exercise.type))
        for value in choices
    )
    return PracticeItem(
        position=position,
        encounter=exercise.encounter,
        exercise_type=exercise.type,
        line=exercise.line,
        question=question.strip(),
        case=case.strip(),
        choices=labelled,
        answer=answer,
        explanation=exercise.explanation,
        date_of_service=date_of_service,
    )


def _label(value: str, catalog: Catalog, exercise_type: str) -> str:
    """A choice as the learner reads it: the family name, or a diagnosis code (the
    single-choice code questions are all about diagnoses) with its descriptor."""
    if exercise_type == CODE_FAMILY:
        return value
    info = catalog.get(System.ICD10CM, value)
    return f"{value} {info.description}" if info is not None else value
