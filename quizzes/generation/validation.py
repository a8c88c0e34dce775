"""Answer-key validation: a key a learner is graded against must itself grade clean.

A wrong key is worse than no key: every learner who codes the encounter correctly is
marked down. So before an encounter reaches learners (``validate_encounters``, the
authoring UI, the template variants) its key is checked against the releases in force
on its date of service: every code exists and is reportable, diagnosis pointers are in
range, and the key graded against itself by the engine raises no finding other than
``correct``. Codes are classified by the engine's own classifier, so an author sees the
very message a learner would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from codesets.domain.catalog import Catalog
from codesets.domain.shapes import procedure_system
from codesets.domain.systems import System
from quizzes.generation.encounters import EncounterSpec
from quizzes.grading.engine import grade
from quizzes.grading.entries import EntryClassifier
from quizzes.grading.kinds import FindingKind
from quizzes.grading.types import AnswerKey, AnswerProcedure, AnswerSheet

NO_RELEASE = "no_release"
POINTER_OUT_OF_RANGE = "pointer_out_of_range"
RULE_FINDING = "rule_finding"
INVALID_FORMAT = "invalid_format"
CORRECT = FindingKind.CORRECT


@dataclass(frozen=True, slots=True)
class KeyProblem:
    """One reason a key cannot be used. ``kind`` is stable: ``unknown_code``,
    ``not_billable``, ``wrong_family``, ``invalid_format``,
    ``missing_seventh_character``, ``pointer_out_of_range``, ``rule_finding`` or
    ``no_release``; ``rule`` holds the engine's finding kind for a ``rule_finding``."""

    kind: str
    line: str
    code: str | None
    message: str
    rule: str = ""

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {"kind": self.kind, "line": self.line, "code": self.code}
        if self.rule:
            data["rule"] = self.rule
        data["message"] = self.message
        return data


def check_key(spec: EncounterSpec, catalog: Catalog) -> list[KeyProblem]:
    """Every problem of ``spec``'s key against ``catalog`` (the releases in force on its
    date of service); an empty list means the key is usable."""
    problems = list(_release_problems(spec, catalog))
    if problems:
        # Codes cannot be judged against a release that does not apply on the day.
        return problems
    problems.extend(_code_problems(spec.key, catalog))
    problems.extend(_pointer_problems(spec.key))
    if not problems:
        problems.extend(_rule_problems(spec, catalog))
    return problems


def self_graded_sheets(key: AnswerKey) -> Iterator[AnswerSheet]:
    """The sheets a perfect learner may hand in: the key's main codes with every
    optional line, then the same with each alternative swapped in, one at a time."""
    base = key_answer_sheet(key)
    yield base
    for index, line in enumerate(key.diagnoses):
        for alternative in line.alternatives:
            diagnoses = list(base.diagnoses)
            diagnoses[index] = alternative
            yield AnswerSheet(diagnoses=tuple(diagnoses), procedures=base.procedures)
    for index, procedure in enumerate(key.procedures):
        for alternative in procedure.alternatives:
            procedures = list(base.procedures)
            procedures[index] = AnswerProcedure(
                code=alternative,
                modifiers=procedure.modifiers,
                units=procedure.units,
                dx_pointers=procedure.dx_pointers,
            )
            yield AnswerSheet(diagnoses=base.diagnoses, procedures=tuple(procedures))


def key_answer_sheet(key: AnswerKey) -> AnswerSheet:
    """The key as an answer: main codes, optional lines included, in key order (so the
    key's diagnosis pointers stay valid)."""
    return AnswerSheet(
        diagnoses=tuple(line.code for line in key.diagnoses),
        procedures=tuple(
            AnswerProcedure(
                code=line.code,
                modifiers=line.modifiers,
                units=line.units,
                dx_pointers=line.dx_pointers,
            )
            for line in key.procedures
        ),
    )


def _release_problems(spec: EncounterSpec, catalog: Catalog) -> Iterator[KeyProblem]:
    day = spec.date_of_service
    needed = [System.ICD10CM]
    for line in spec.key.procedures:
        for code in line.accepted:
            system = procedure_system(code)
            if system is not None and system not in needed:
                needed.append(system)
    for system in needed:
        release = catalog.release(system)
        if release is None:
            detail = "no release of it is loaded"
        elif not release.in_force(day):
            until = release.effective_to.isoformat() if release.effective_to else "open"
            detail = (
                f"the loaded release {release.version} runs from "
                f"{release.effective_from.isoformat()} to {until}"
            )
        else:
            continue
        yield KeyProblem(
            kind=NO_RELEASE,
            line="date_of_service",
            code=None,
            message=f"No {system.value} release is in force on {day.isoformat()}: {detail}.",
        )


def _code_problems(key: AnswerKey, catalog: Catalog) -> Iterator[KeyProblem]:
    classifier = EntryClassifier(catalog)
    for index, diagnosis in enumerate(key.diagnoses):
        line = f"key.diagnoses[{index}]"
        for code in diagnosis.accepted:
            entry = classifier.diagnosis(code)
            if not entry.valid:
                yield KeyProblem(entry.kind, line, code, entry.message)
    for index, procedure in enumerate(key.procedures):
        line = f"key.procedures[{index}]"
        for code in procedure.accepted:
            entry = classifier.procedure(code)
            if not entry.valid:
                yield KeyProblem(entry.kind, line, code, entry.message)
        for modifier in procedure.modifiers:
            if classifier.modifier(modifier) is None:
                yield KeyProblem(
                    INVALID_FORMAT,
                    line,
                    procedure.code,
                    f"Modifier {modifier!r} is not two letters or digits.",
                )


def _pointer_problems(key: AnswerKey) -> Iterator[KeyProblem]:
    count = len(key.diagnoses)
    for index, procedure in enumerate(key.procedures):
        for pointer in procedure.dx_pointers:
            if not 1 <= pointer <= count:
                yield KeyProblem(
                    POINTER_OUT_OF_RANGE,
                    f"key.procedures[{index}]",
                    procedure.code,
                    f"Diagnosis pointer {pointer} of {procedure.code} points outside the "
                    f"key's {count} diagnosis line(s); pointers are 1-based.",
                )


def _rule_problems(spec: EncounterSpec, catalog: Catalog) -> Iterator[KeyProblem]:
    seen: set[tuple[str, str, str | None]] = set()
    for sheet in self_graded_sheets(spec.key):
        result = grade(key=spec.key, answer=sheet, encounter=spec.encounter(), catalog=catalog)
        for finding in result.findings:
            if finding.kind == CORRECT:
                continue
            line = str(finding.line) if finding.line.is_key_line else f"key.{finding.line}"
            marker = (finding.kind, line, finding.code)
            if marker in seen:
                continue
            seen.add(marker)
            yield KeyProblem(
                kind=RULE_FINDING,
                line=line,
                code=finding.code,
                message=f"The key graded against itself gives {finding.kind.value}: "
                f"{finding.message}",
                rule=finding.kind.value,
            )
