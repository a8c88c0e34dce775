"""The quizzes domain errors, each with a stable ``code`` for views and tests.

They derive from :mod:`coding_course.accounts.errors`, so a view that does not handle
one itself gets the shared mapping to a response (404, 403, 409 or 400).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coding_course.accounts.errors import Conflict, Forbidden, NotFound, Refused

# ---------------------------------------------------------------------------
# Quizzes and attempts


class QuizError(Refused):
    """A refused quiz action."""

    code = "quiz_error"


class QuizNotOpen(QuizError):
    code = "quiz_not_open"


class NotAssigned(QuizError):
    code = "not_assigned"


class NoAttemptsLeft(QuizError):
    code = "no_attempts_left"


class AttemptClosed(Conflict, QuizError):
    """The attempt is submitted (or its time ran out and it was submitted now)."""

    code = "attempt_closed"


class CheckNotAllowed(Forbidden, QuizError):
    code = "check_not_allowed"


class TriesExhausted(QuizError):
    code = "tries_exhausted"


class InvalidOverride(QuizError, ValueError):
    """An instructor's override without a reason or outside the item's points."""

    code = "invalid_override"


class ItemNotInAttempt(NotFound):
    """The exercise is not one the attempt asks (answered like a missing one)."""

    code = "not_found"


# ---------------------------------------------------------------------------
# Authoring encounters


@dataclass(frozen=True)
class AuthoringProblem:
    """Why an authored encounter was not saved; ``line`` is "key.diagnoses[0]" and the
    like, "date_of_service", "slug" or "" for the document as a whole."""

    kind: str
    line: str
    message: str


class EncounterRejected(Refused):
    code = "encounter_rejected"

    def __init__(self, problems: list[AuthoringProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


# ---------------------------------------------------------------------------
# Bulk jobs


class BulkJobError(Refused):
    """A refused bulk action."""

    code = "bulk_error"


class ScopeBusy(Conflict, BulkJobError):
    """A job over the same scope is running; ``running`` is that job (409)."""

    code = "scope_busy"

    def __init__(self, running: Any | None) -> None:
        super().__init__("A job over this scope is already running.")
        self.running = running


class InvalidScope(BulkJobError):
    code = "invalid_scope"


class AlreadyImported(Conflict, BulkJobError):
    code = "already_imported"

    def __init__(self, earlier: Any) -> None:
        super().__init__(f"This file was already imported into this quiz (job {earlier.pk}).")
        self.earlier = earlier


class NotApplicable(BulkJobError):
    code = "not_applicable"
