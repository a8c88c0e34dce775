"""The grade_cases contract: parsing case objects and rendering results."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from codesets.domain.catalog import Catalog, NoReleaseInForce, ReleaseLibrary
from quizzes.grading.cases import CaseError, grade_case, parse_case, render_result
from quizzes.grading.engine import grade
from quizzes.grading.types import AnswerProcedure, AnswerSheet, KeyDiagnosis, KeyProcedure, Patient
from tests.domain.grading_catalog import (
    CATALOG,
    CPT_CODES,
    CPT_RELEASE,
    HCPCS_CODES,
    HCPCS_RELEASE,
    ICD10CM_CODES,
    ICD_RELEASE,
)

CONTRACT_CASE: dict[str, object] = {
    "id": "c1",
    "date_of_service": "2026-05-15",
    "patient": {"age_years": 34, "sex": "F"},
    "key": {
        "diagnoses": ["J02.0", "R50.9"],
        "procedures": [
            {"code": "99213", "modifiers": ["25"], "units": 1, "dx_pointers": [1, 2]},
            {"code": "87880", "modifiers": [], "units": 1, "dx_pointers": [1]},
        ],
    },
    "answer": {
        "diagnoses": ["j020", "R50.9"],
        "procedures": [{"code": "99213", "modifiers": [], "units": 1, "dx_pointers": [1]}],
    },
}


def _catalog_for(day: dt.date) -> Catalog:
    return CATALOG


def _case(**changes: object) -> dict[str, object]:
    case = copy.deepcopy(CONTRACT_CASE)
    for name, value in changes.items():
        if value is None:
            case.pop(name, None)
        else:
            case[name] = value
    return case


def test_the_contract_case_parses_into_grading_types():
    case_id, encounter, key, answer = parse_case(CONTRACT_CASE)
    assert case_id == "c1"
    assert encounter.date_of_service == dt.date(2026, 5, 15)
    assert encounter.patient == Patient(age_years=34, sex="F")
    assert key.diagnoses == (KeyDiagnosis("J02.0"), KeyDiagnosis("R50.9"))
    assert key.procedures[0] == KeyProcedure("99213", ("25",), 1, (1, 2))
    assert answer.procedures == (AnswerProcedure("99213", (), 1, (1,)),)


def test_key_objects_carry_optional_and_alternatives():
    key_data = {
        "diagnoses": [
            "J02.0",
            {"code": "B95.0", "optional": True},
            {"code": "R50.9", "alternatives": ["R50.81"]},
        ],
        "procedures": [{"code": "87880", "optional": True, "alternatives": ["87651"]}],
    }
    _, _, key, _ = parse_case(_case(key=key_data))
    assert key.diagnoses[1] == KeyDiagnosis("B95.0", optional=True)
    assert key.diagnoses[2].accepted == ("R50.9", "R50.81")
    assert key.procedures[0].optional
    assert key.procedures[0].accepted == ("87880", "87651")


def test_defaults_apply_when_optional_fields_are_absent():
    case = _case(patient=None, answer={"diagnoses": ["J02.0"], "procedures": [{"code": "87880"}]})
    _, encounter, _, answer = parse_case(case)
    assert encounter.patient is None
    assert answer.procedures == (AnswerProcedure("87880"),)
    _, _, _, empty = parse_case(_case(answer=None))
    assert empty == AnswerSheet()


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"key": None}, "no answer key"),
        ({"date_of_service": None}, "no date_of_service"),
        ({"date_of_service": "15/05/2026"}, "YYYY-MM-DD"),
        ({"date_of_service": "2026-13-01"}, "not a calendar date"),
        ({"date_of_service": 20260515}, "YYYY-MM-DD"),
        ({"id": None}, "no id"),
        ({"id": True}, "no id"),
        ({"patient": {"age_years": -1}}, "patient.age_years"),
        ({"patient": {"age_years": True}}, "patient.age_years"),
        ({"patient": {"sex": "F"}}, "patient.age_years"),
        ({"patient": {"age_years": 30, "sex": "X"}}, "patient.sex"),
        ({"patient": "adult"}, "patient must be a JSON object"),
        ({"key": {"diagnoses": "J02.0"}}, "key.diagnoses must be a list"),
        ({"key": {"diagnoses": [7]}}, "key.diagnoses[0] must be a JSON object"),
        ({"key": {"diagnoses": [{"optional": True}]}}, "key.diagnoses[0].code"),
        ({"key": {"diagnoses": [{"code": "J02.0", "optional": "yes"}]}}, "optional"),
        (
            {"key": {"diagnoses": ["J02.0"], "procedures": [{"code": "99213", "units": "1"}]}},
            "key.procedures[0].units",
        ),
        (
            {"key": {"diagnoses": ["J02.0"], "procedures": [{"code": "99213", "units": 0}]}},
            "key.procedures[0].units",
        ),
        (
            {
                "key": {
                    "diagnoses": ["J02.0"],
                    "procedures": [{"code": "99213", "dx_pointers": [2]}],
                }
            },
            "the key lists 1 diagnoses",
        ),
        ({"answer": {"diagnoses": [None]}}, "answer.diagnoses[0] must be a string"),
        (
            {"answer": {"procedures": [{"code": "99213", "dx_pointers": ["1"]}]}},
            "answer.procedures[0].dx_pointers[0]",
        ),
        ({"answer": []}, "answer must be a JSON object"),
    ],
)
def test_unusable_cases_raise_one_clear_sentence(changes: dict[str, object], fragment: str):
    with pytest.raises(CaseError) as raised:
        parse_case(_case(**changes))
    message = str(raised.value)
    assert fragment in message
    assert "\n" not in message


def test_a_case_must_be_an_object():
    with pytest.raises(CaseError, match="JSON object"):
        parse_case(["c1"])


def test_learner_pointers_out_of_range_are_graded_not_rejected():
    case = _case(
        answer={"diagnoses": ["J02.0"], "procedures": [{"code": "87880", "dx_pointers": [9]}]}
    )
    assert parse_case(case).answer.procedures[0].dx_pointers == (9,)


def test_the_output_has_exactly_the_contract_fields():
    output = grade_case(CONTRACT_CASE, catalog_for=_catalog_for, line_number=1)
    assert list(output) == ["id", "score", "max_score", "percent", "release", "findings"]
    assert (output["id"], output["score"], output["max_score"], output["percent"]) == (
        "c1",
        4.25,
        5.0,
        85.0,
    )
    assert output["release"] == {"ICD-10-CM": "2026-04", "CPT": "2026", "HCPCS": "2026-04"}
    findings = output["findings"]
    assert isinstance(findings, list)
    assert findings[0] == {
        "kind": "correct",
        "code": "J02.0",
        "line": "diagnoses[0]",
        "message": "J02.0 (Streptococcal pharyngitis) is correct and correctly listed first.",
    }
    assert list(findings[2]) == ["kind", "code", "line", "expected", "message"]
    assert findings[2]["expected"] == ["25"]
    json.dumps(output)  # serialisable as it stands


def test_render_result_without_an_id_leaves_identity_to_the_caller():
    _, encounter, key, answer = parse_case(CONTRACT_CASE)
    output = grade_case(CONTRACT_CASE, catalog_for=_catalog_for, line_number=1)
    result_only = render_result(grade(key=key, answer=answer, encounter=encounter, catalog=CATALOG))
    assert "id" not in result_only
    assert {**{"id": "c1"}, **result_only} == output


def test_advisory_appears_only_when_true():
    case = _case(
        patient={"age_years": 60, "sex": "F"},
        key={"diagnoses": ["N40.0"]},
        answer={"diagnoses": ["N40.0"]},
    )
    findings = grade_case(case, catalog_for=_catalog_for, line_number=1)["findings"]
    assert isinstance(findings, list)
    assert [f.get("advisory") for f in findings] == [None, True]


def test_a_bad_case_gives_an_error_object_by_id_or_by_line():
    assert grade_case(_case(key=None), catalog_for=_catalog_for, line_number=3) == {
        "id": "c1",
        "error": "The case has no answer key.",
    }
    assert grade_case(_case(id=None), catalog_for=_catalog_for, line_number=3) == {
        "line": 3,
        "error": "The case has no id (a string or a whole number).",
    }


def test_no_release_in_force_is_a_case_error_object():
    library = ReleaseLibrary()
    library.add(ICD_RELEASE, ICD10CM_CODES)
    library.add(CPT_RELEASE, CPT_CODES)
    library.add(HCPCS_RELEASE, HCPCS_CODES)
    with pytest.raises(NoReleaseInForce):
        library.for_date(dt.date(2020, 1, 1))
    output = grade_case(
        _case(date_of_service="2020-01-01"), catalog_for=library.for_date, line_number=1
    )
    assert output["id"] == "c1"
    assert str(output["error"]).startswith("No ICD-10-CM release is in force on 2020-01-01")
    graded = grade_case(CONTRACT_CASE, catalog_for=library.for_date, line_number=1)
    assert graded["score"] == 4.25
