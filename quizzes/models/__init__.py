"""Models of the quizzes app, one module per area."""

from quizzes.models.encounters import Encounter, EncounterSource, Sex

__all__ = ["Encounter", "EncounterSource", "Sex"]
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

__all__ += [
    "Assignment",
    "Attempt",
    "AttemptStatus",
    "ExerciseType",
    "Quiz",
    "QuizItem",
    "QuizMode",
    "Response",
    "ReviewPolicy",
    "Score",
    "ScoreOverride",
]
from quizzes.models.bulk import (  # noqa: E402 (after the __all__ of the modules above)
    BulkJob,
    BulkJobChange,
    BulkJobChunk,
    BulkJobKind,
    BulkJobStatus,
    ChangeOutcome,
    ChunkStatus,
)

__all__ += [
    "BulkJob",
    "BulkJobChange",
    "BulkJobChunk",
    "BulkJobKind",
    "BulkJobStatus",
    "ChangeOutcome",
    "ChunkStatus",
]
