"""The ``grade_cases`` contract: one JSON case in, one JSON result out.

:func:`parse_case` turns a decoded case object into grading types, raising
:class:`CaseError` with one clear sentence when the case cannot be graded;
:func:`render_result` turns a :class:`GradeResult` into the contract's output object;
:func:`grade_case` does both around :func:`~quizzes.grading.engine.grade`, choosing the
catalog for the date of service through a callable (``ReleaseLibrary.for_date`` or the
Django equivalent), so the management command only reads lines and writes lines.

An absent ``answer`` is graded as an empty answer sheet (the learner reported nothing);
an absent ``key`` is an error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

from codesets.domain.catalog import Catalog, NoReleaseInForce
from quizzes.grading.engine import grade
from quizzes.grading.policy import DEFAULT_POLICY, ScoringPolicy
from quizzes.grading.types import (
    AnswerKey,
    AnswerProcedure,
    AnswerSheet,
    Encounter,
    GradeResult,
    KeyDiagnosis,
    KeyProcedure,
    Patient,
)

CaseId = str | int

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CaseError(ValueError):
    """A case that cannot be graded; the message is one sentence for the operator."""


class Case(NamedTuple):
    case_id: CaseId
    encounter: Encounter
    key: AnswerKey
    answer: AnswerSheet


def case_id_of(data: object) -> CaseId | None:
    """The case's id when it is a string or an integer, else None."""
    if not isinstance(data, Mapping):
        return None
    value = data.get("id")
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def parse_case(data: object) -> Case:
    """Read one decoded case object (see the contract) into grading types."""
    if not isinstance(data, Mapping):
        raise CaseError("the case must be a JSON object")
    case_id = case_id_of(data)
    if case_id is None:
        raise CaseError("the case has no id (a string or a whole number)")
    encounter = Encounter(
        date_of_service=_date(data.get("date_of_service")),
        patient=_patient(data.get("patient")),
    )
    if data.get("key") is None:
        raise CaseError("the case has no answer key")
    key = _key(_object(data["key"], "key"))
    answer_data = data.get("answer")
    answer = AnswerSheet() if answer_data is None else _answer(_object(answer_data, "answer"))
    return Case(case_id, encounter, key, answer)


def render_result(result: GradeResult, case_id: CaseId | None = None) -> dict[str, object]:
    """The contract's output object for a graded case (``id`` first when given)."""
    identity: dict[str, object] = {} if case_id is None else {"id": case_id}
    return {
        **identity,
        "score": result.score,
        "max_score": result.max_score,
        "percent": min(100.0, max(0.0, result.percent)),
        "release": dict(result.releases),
        "findings": [finding.as_json() for finding in result.findings],
    }


def render_error(message: str, *, case_id: CaseId | None, line_number: int) -> dict[str, object]:
    """The contract's output for a case that cannot be graded: by id, else by line."""
    if case_id is not None:
        return {"id": case_id, "error": message}
    return {"line": line_number, "error": message}


def grade_case(
    data: object,
    *,
    catalog_for: Callable[[dt.date], Catalog],
    line_number: int,
    policy: ScoringPolicy = DEFAULT_POLICY,
) -> dict[str, object]:
    """Grade one decoded case, returning its output object or its error object."""
    try:
        case = parse_case(data)
        catalog = catalog_for(case.encounter.date_of_service)
    except (CaseError, NoReleaseInForce) as error:
        return render_error(_sentence(error), case_id=case_id_of(data), line_number=line_number)
    result = grade(
        key=case.key,
        answer=case.answer,
        encounter=case.encounter,
        catalog=catalog,
        policy=policy,
    )
    return render_result(result, case.case_id)


# --- readers -------------------------------------------------------------------------


def _sentence(error: Exception) -> str:
    text = str(error).strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _object(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise CaseError(f"{where} must be a JSON object")
    return value


def _list(value: object, where: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CaseError(f"{where} must be a list")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise CaseError(f"{where} must be a string")
    return value


def _whole(value: object, where: str, minimum: int) -> int:
    # JSON has one number type: 2.0 is the whole number 2.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CaseError(f"{where} must be a whole number of at least {minimum}")
    return value


def _integer(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CaseError(f"{where} must be a whole number")
    return value


def _flag(value: object, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise CaseError(f"{where} must be true or false")
    return value


def _date(value: object) -> dt.date:
    if value is None:
        raise CaseError("the case has no date_of_service")
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise CaseError(f"date_of_service must be a date written YYYY-MM-DD, not {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CaseError(f"date_of_service {value!r} is not a calendar date") from None


def _patient(value: object) -> Patient | None:
    if value is None:
        return None
    data = _object(value, "patient")
    age = _whole(data.get("age_years"), "patient.age_years", 0)
    sex = data.get("sex")
    if sex is None:
        return Patient(age_years=age)
    if not isinstance(sex, str) or sex.strip().upper() not in ("F", "M"):
        raise CaseError(f'patient.sex must be "F" or "M", not {sex!r}')
    return Patient(age_years=age, sex="F" if sex.strip().upper() == "F" else "M")


def _codes(value: object, where: str) -> tuple[str, ...]:
    return tuple(_text(item, f"{where}[{i}]") for i, item in enumerate(_list(value, where)))


def _key(data: Mapping[str, object]) -> AnswerKey:
    diagnoses = tuple(
        _key_diagnosis(item, f"key.diagnoses[{i}]")
        for i, item in enumerate(_list(data.get("diagnoses"), "key.diagnoses"))
    )
    procedures = tuple(
        _key_procedure(item, f"key.procedures[{i}]", len(diagnoses))
        for i, item in enumerate(_list(data.get("procedures"), "key.procedures"))
    )
    return AnswerKey(
        diagnoses=diagnoses,
        procedures=procedures,
        external_causes_required=_flag(
            data.get("external_causes_required"), "key.external_causes_required"
        ),
    )


def _key_diagnosis(item: object, where: str) -> KeyDiagnosis:
    if isinstance(item, str):
        return KeyDiagnosis(code=item)
    data = _object(item, where)
    return KeyDiagnosis(
        code=_text(data.get("code"), f"{where}.code"),
        optional=_flag(data.get("optional"), f"{where}.optional"),
        alternatives=_codes(data.get("alternatives"), f"{where}.alternatives"),
    )


def _key_procedure(item: object, where: str, diagnoses: int) -> KeyProcedure:
    if isinstance(item, str):
        return KeyProcedure(code=item)
    data = _object(item, where)
    pointers = _pointers(data.get("dx_pointers"), f"{where}.dx_pointers")
    for pointer in pointers:
        if pointer > diagnoses:
            raise CaseError(
                f"{where}.dx_pointers has {pointer} but the key lists {diagnoses} diagnoses"
            )
    units = data.get("units")
    return KeyProcedure(
        code=_text(data.get("code"), f"{where}.code"),
        modifiers=_codes(data.get("modifiers"), f"{where}.modifiers"),
        units=1 if units is None else _whole(units, f"{where}.units", 1),
        dx_pointers=pointers,
        optional=_flag(data.get("optional"), f"{where}.optional"),
        alternatives=_codes(data.get("alternatives"), f"{where}.alternatives"),
    )


def _pointers(value: object, where: str) -> tuple[int, ...]:
    return tuple(_whole(item, f"{where}[{i}]", 1) for i, item in enumerate(_list(value, where)))


def _answer(data: Mapping[str, object]) -> AnswerSheet:
    diagnoses = _codes(data.get("diagnoses"), "answer.diagnoses")
    procedures = tuple(
        _answer_procedure(item, f"answer.procedures[{i}]")
        for i, item in enumerate(_list(data.get("procedures"), "answer.procedures"))
    )
    return AnswerSheet(diagnoses=diagnoses, procedures=procedures)


def _answer_procedure(item: object, where: str) -> AnswerProcedure:
    if isinstance(item, str):
        return AnswerProcedure(code=item)
    data = _object(item, where)
    units = data.get("units")
    # A fraction of a unit is the learner's error on that line (a units finding), not
    # an unreadable case.
    fractional = (
        units if isinstance(units, float) and not units.is_integer() and units >= 0 else None
    )
    return AnswerProcedure(
        code=_text(data.get("code"), f"{where}.code"),
        modifiers=_codes(data.get("modifiers"), f"{where}.modifiers"),
        units=int(fractional)
        if fractional is not None
        else 1
        if units is None
        else _whole(units, f"{where}.units", 0),
        fractional_units=fractional,
        # Learner pointers may be out of range: that is graded (linkage_error), not an
        # error; they must still be whole numbers.
        dx_pointers=tuple(
            _integer(p, f"{where}.dx_pointers[{i}]")
            for i, p in enumerate(_list(data.get("dx_pointers"), f"{where}.dx_pointers"))
        ),
    )
