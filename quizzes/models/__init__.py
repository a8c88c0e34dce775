"""Models of the quizzes app, one module per area."""

from quizzes.models.bulk import (
    BulkJob,
    BulkJobChange,
    BulkJobChunk,
    BulkJobKind,
    BulkJobStatus,
    ChangeOutcome,
    ChunkStatus,
)
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
    "BulkJob",
    "BulkJobChange",
    "BulkJobChunk",
    "BulkJobKind",
    "BulkJobStatus",
    "ChangeOutcome",
    "ChunkStatus",
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
