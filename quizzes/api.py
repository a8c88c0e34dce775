"""What other apps may use of quizzes: the one way in for the course apps
(``coding_course.lessons``, ``.progress``, ``.assessments``) and the project's home page.

Everything here is re-exported from the module that owns it; an import contract keeps
the course apps from reaching past this module (the pure ``quizzes.grading`` and
``quizzes.generation`` packages excepted).
"""

from quizzes.attempts.selectors import (
    attempt_take_page,
    attempt_time_up,
    quiz_item_analysis,
    quizzes_for_student,
)
from quizzes.attempts.services import (
    attempt_deadline,
    attempt_expire_if_due,
    attempt_start,
    attempt_submit,
    draw_items,
    quiz_is_open,
    quiz_item_add,
)
from quizzes.bulk.services import bulk_job_start
from quizzes.errors import QuizNotOpen, ScopeBusy
from quizzes.imports.csv_export import SafeCsvWriter
from quizzes.models import (
    Attempt,
    AttemptStatus,
    BulkJob,
    BulkJobChange,
    BulkJobKind,
    BulkJobStatus,
    ChangeOutcome,
    Encounter,
    EncounterSource,
    ExerciseType,
    Quiz,
    QuizItem,
    QuizMode,
    Response,
    ReviewPolicy,
    Score,
    ScoreOverride,
)
from quizzes.scoring import practice_choice_grade

__all__ = [
    "Attempt",
    "AttemptStatus",
    "BulkJob",
    "BulkJobChange",
    "BulkJobKind",
    "BulkJobStatus",
    "ChangeOutcome",
    "Encounter",
    "EncounterSource",
    "ExerciseType",
    "Quiz",
    "QuizItem",
    "QuizMode",
    "QuizNotOpen",
    "Response",
    "ReviewPolicy",
    "SafeCsvWriter",
    "ScopeBusy",
    "Score",
    "ScoreOverride",
    "attempt_deadline",
    "attempt_expire_if_due",
    "attempt_start",
    "attempt_submit",
    "attempt_take_page",
    "attempt_time_up",
    "bulk_job_start",
    "draw_items",
    "practice_choice_grade",
    "quiz_is_open",
    "quiz_item_add",
    "quiz_item_analysis",
    "quizzes_for_student",
]
