"""Models of the quizzes app, one module per area."""

from quizzes.models.encounters import Encounter, EncounterSource, Sex
from quizzes.models.quizzes import (
    Assignment,
    Attempt,
    AttemptStatus,
    ExerciseType,
    Quiz,
    QuizItem,
    QuizMode,
    Response,
    ReviewPolicy,
    Score,
    ScoreOverride,
)

__all__ = [
    "Assignment",
    "Attempt",
    "AttemptStatus",
    "Encounter",
    "EncounterSource",
    "ExerciseType",
    "Quiz",
    "QuizItem",
    "QuizMode",
    "Response",
    "ReviewPolicy",
    "Score",
    "ScoreOverride",
    "Sex",
]
