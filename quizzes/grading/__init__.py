"""Pure grading: answer sheets against answer keys on a date of service.

Nothing here imports Django, Celery or any models or services module; the caller loads
the key, the answer and the catalog in force on the date of service, and stores the
result with its ``rules_version``.
"""

from quizzes.grading.cases import Case, CaseError, grade_case, parse_case, render_result
from quizzes.grading.engine import Grader, grade, grader_for
from quizzes.grading.kinds import KIND_FACTS, FindingKind, KindFacts, LineList, LineRef
from quizzes.grading.policy import DEFAULT_POLICY, RULES_VERSION, ScoringPolicy
from quizzes.grading.rules import (
    RULES,
    NoteIndex,
    ReportedDiagnosis,
    Rule,
    age_conflicts,
    excludes1_conflicts,
    manifestation_first,
    sex_conflicts,
)
from quizzes.grading.types import (
    AnswerKey,
    AnswerProcedure,
    AnswerSheet,
    Encounter,
    Finding,
    GradeResult,
    KeyDiagnosis,
    KeyProcedure,
    Patient,
)

__all__ = [
    "DEFAULT_POLICY",
    "KIND_FACTS",
    "RULES",
    "RULES_VERSION",
    "AnswerKey",
    "AnswerProcedure",
    "AnswerSheet",
    "Case",
    "CaseError",
    "Encounter",
    "Finding",
    "FindingKind",
    "GradeResult",
    "Grader",
    "KeyDiagnosis",
    "KeyProcedure",
    "KindFacts",
    "LineList",
    "LineRef",
    "NoteIndex",
    "Patient",
    "ReportedDiagnosis",
    "Rule",
    "ScoringPolicy",
    "age_conflicts",
    "excludes1_conflicts",
    "grade",
    "grade_case",
    "grader_for",
    "manifestation_first",
    "parse_case",
    "render_result",
    "sex_conflicts",
]
