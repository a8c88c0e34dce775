"""Plain data that crosses the grading boundary: keys, answers, findings, results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from quizzes.grading.kinds import FindingKind, LineRef

Sex = Literal["F", "M"]


@dataclass(frozen=True, slots=True)
class Patient:
    age_years: int
    sex: Sex | None = None


@dataclass(frozen=True, slots=True)
class KeyDiagnosis:
    """A key diagnosis: ``code`` or any of ``alternatives`` is correct."""

    code: str
    optional: bool = False
    alternatives: tuple[str, ...] = ()
    rationale: str = ""

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.code, *self.alternatives)


@dataclass(frozen=True, slots=True)
class KeyProcedure:
    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    dx_pointers: tuple[int, ...] = ()
    optional: bool = False
    alternatives: tuple[str, ...] = ()
    rationale: str = ""

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.code, *self.alternatives)


@dataclass(frozen=True, slots=True)
class AnswerKey:
    diagnoses: tuple[KeyDiagnosis, ...] = ()
    procedures: tuple[KeyProcedure, ...] = ()
    # External cause codes (V00-Y99) the key does not list cost nothing unless the
    # exercise requires them: their reporting is not nationally mandated (I.C.20).
    external_causes_required: bool = False


@dataclass(frozen=True, slots=True)
class AnswerProcedure:
    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    dx_pointers: tuple[int, ...] = ()
    # Units given as a fraction (11.6): graded as a units error on the line, never a
    # refused sheet; ``units`` then holds the whole part.
    fractional_units: float | None = None


@dataclass(frozen=True, slots=True)
class AnswerSheet:
    """What the learner reported, as typed (normalisation is the engine's job)."""

    diagnoses: tuple[str, ...] = ()
    procedures: tuple[AnswerProcedure, ...] = ()


@dataclass(frozen=True, slots=True)
class Encounter:
    """The facts a grade depends on besides the key and the answer."""

    date_of_service: dt.date
    patient: Patient | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the grader noticed. ``kind`` is stable (see the contract table).

    Rules and matching detect findings with no points; the policy prices them
    (:func:`quizzes.grading.policy.price`).
    """

    kind: FindingKind
    line: LineRef
    message: str
    code: str | None = None
    expected: tuple[str, ...] | None = None
    advisory: bool = False
    # Points this finding earned (positive) or cost (negative); 0 for advisory ones.
    points: float = 0.0

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "kind": self.kind.value,
            "code": self.code,
            "line": str(self.line),
        }
        if self.expected is not None:
            data["expected"] = list(self.expected)
        if self.advisory:
            data["advisory"] = True
        data["message"] = self.message
        return data


@dataclass(frozen=True, slots=True)
class GradeResult:
    score: float
    max_score: float
    findings: tuple[Finding, ...]
    releases: dict[str, str] = field(default_factory=dict)
    rules_version: str = ""

    @property
    def percent(self) -> float:
        if self.max_score <= 0:
            return 100.0
        return round(100.0 * self.score / self.max_score, 2)
