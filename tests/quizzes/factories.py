"""Factories for quizzes: a quiz with full-coding items, assigned to learners."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import factory

from quizzes.attempts import services as attempt_services
from quizzes.models import Encounter, Quiz, QuizMode
from tests.factories import InstructorFactory


class QuizFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quiz

    title = factory.Sequence(lambda n: f"Quiz {n}")
    owner = factory.SubFactory(InstructorFactory)
    mode = QuizMode.PRACTICE
    attempts_allowed = 0


def quiz_with_items(
    *, encounters: Iterable[Encounter], students: Iterable[Any] = (), **settings: Any
) -> Quiz:
    """A quiz of one full-coding exercise per encounter, assigned to ``students``."""
    quiz = QuizFactory(**settings)
    for encounter in encounters:
        attempt_services.quiz_item_add(quiz=quiz, encounter=encounter)
    for student in students:
        attempt_services.assignment_ensure(quiz=quiz, student=student, by=quiz.owner)
    return quiz
