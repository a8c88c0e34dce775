"""Guideline rules: Excludes1, manifestation first, age and sex edits."""

from __future__ import annotations

import datetime as dt

import pytest

from codesets.domain.systems import System
from quizzes.grading.kinds import key_diagnosis_line
from quizzes.grading.rules import NoteIndex, ReportedDiagnosis, excludes1_conflicts
from quizzes.grading.types import Patient
from tests.domain.grading_catalog import CATALOG, grade_answer, key_of, kinds, only, sheet_of


@pytest.mark.parametrize(
    ("first", "second", "owner", "note"),
    [
        # "code" reference at the code itself.
        ("R50.82", "R50.84", "R50.82", "posttransfusion fever (R50.84)"),
        # "code" reference at an ancestor (J06 says: not with J02.0).
        ("J02.0", "J06.9", "J06", "streptococcal pharyngitis (J02.0)"),
        # "code" reference at an ancestor, the other way (J02 says: not with J06.0).
        ("J06.0", "J02.9", "J02", "acute laryngopharyngitis (J06.0)"),
        # "prefix" reference at the code.
        ("N39.0", "N30.00", "N39.0", "cystitis (N30.-)"),
        # "prefix" reference at an ancestor.
        ("R50.9", "R56.00", "R50", "febrile convulsions (R56.0-)"),
        # "range" reference at the code.
        ("I10", "O13.3", "I10", "(O10-O11, O13-O16)"),
        # "range" references at an ancestor.
        ("E78.5", "E75.22", "E78", "sphingolipidosis (E75.0-E75.3)"),
        ("R73.9", "E11.9", "R73", "diabetes mellitus (E08-E13)"),
    ],
)
def test_excludes1_notes_at_the_code_or_an_ancestor_conflict_in_either_order(
    first: str, second: str, owner: str, note: str
):
    for order in ((first, second), (second, first)):
        result = grade_answer(key_of(list(order)), sheet_of(list(order)))
        conflict = only(result, "excludes1_conflict")
        assert (conflict.code, str(conflict.line)) == (order[1], "diagnoses[1]")
        assert f"Excludes1 note at {owner} (" in conflict.message
        assert note in conflict.message
        assert "I.A.12.a" in conflict.message
        for code in order:
            info = CATALOG.get(System.ICD10CM, code)
            assert info is not None
            assert info.description in conflict.message


@pytest.mark.parametrize(
    ("first", "second"),
    [("J02.0", "R50.9"), ("E11.9", "E78.5"), ("S93.491A", "S06.0X0A"), ("I10", "E11.65")],
)
def test_codes_without_an_excludes1_note_between_them_do_not_conflict(first: str, second: str):
    result = grade_answer(key_of([first, second]), sheet_of([first, second]))
    assert result.percent == 100.0


def test_a_rule_finding_comes_in_addition_to_the_match_findings():
    result = grade_answer(key_of(["E10.9", "E11.9"]), sheet_of(["E10.9", "E11.9"]))
    assert [f.kind for f in result.findings] == ["correct", "correct", "excludes1_conflict"]
    assert result.score == pytest.approx(4.0 - 0.5)


def test_excludes1_rule_is_usable_on_its_own():
    notes = NoteIndex(CATALOG)
    reported = [
        ReportedDiagnosis(key_diagnosis_line(i), info)
        for i, code in enumerate(["E78.5", "J02.0", "E75.22"])
        if (info := CATALOG.get(System.ICD10CM, code)) is not None
    ]
    found = list(excludes1_conflicts(reported, notes))
    # Rules detect without pricing: the policy gives the points.
    assert [(f.code, str(f.line), f.points) for f in found] == [("E75.22", "key.diagnoses[2]", 0.0)]


def test_a_manifestation_code_listed_first_is_flagged_with_its_code_first_note():
    result = grade_answer(key_of(["G00.1", "G01"]), sheet_of(["G01", "G00.1"]))
    finding = only(result, "manifestation_first")
    assert (finding.code, str(finding.line)) == ("G01", "diagnoses[0]")
    assert "Code first underlying disease" in finding.message
    assert "I.A.13" in finding.message
    assert "Meningitis in bacterial diseases classified elsewhere" in finding.message


def test_a_manifestation_code_after_its_etiology_is_fine():
    result = grade_answer(key_of(["G00.1", "G01"]), sheet_of(["G00.1", "G01"]))
    assert result.percent == 100.0


AGES = (0, 17, 18, 64, 65, 124)


@pytest.mark.parametrize(
    ("code", "conflicts_at"),
    [
        ("Z38.00", {17, 18, 64, 65, 124}),  # newborn: 0
        ("Z00.129", {18, 64, 65, 124}),  # pediatric: 0-17
        ("O80", {0, 65, 124}),  # maternity: 9-64
        ("Z00.00", {0}),  # adult: 15-124
    ],
)
@pytest.mark.parametrize("age", AGES)
def test_age_edits_use_inclusive_ranges(code: str, conflicts_at: set[int], age: int):
    result = grade_answer(key_of([code]), sheet_of([code]), patient=Patient(age_years=age))
    found = [f for f in result.findings if f.kind == "age_conflict"]
    assert bool(found) is (age in conflicts_at)
    if found:
        assert f"{age} years old" in found[0].message
        assert found[0].points < 0


@pytest.mark.parametrize(
    ("code", "age", "conflict"),
    [
        ("O80", 8, True),
        ("O80", 9, False),
        ("Z00.00", 14, True),
        ("Z00.00", 15, False),
        ("Z00.00", 125, True),
    ],
)
def test_age_edits_at_the_other_range_ends(code: str, age: int, conflict: bool):
    result = grade_answer(key_of([code]), sheet_of([code]), patient=Patient(age_years=age))
    assert any(f.kind == "age_conflict" for f in result.findings) is conflict


def test_no_age_or_sex_edit_without_a_patient():
    result = grade_answer(key_of(["N40.0", "Z38.00"]), sheet_of(["N40.0", "Z38.00"]))
    assert result.percent == 100.0


@pytest.mark.parametrize(
    ("day", "advisory", "score"),
    [
        (dt.date(2024, 9, 30), False, 1.5),
        (dt.date(2024, 10, 1), True, 2.0),
        (dt.date(2026, 5, 15), True, 2.0),
    ],
)
def test_sex_edit_is_advisory_from_october_2024(day: dt.date, advisory: bool, score: float):
    result = grade_answer(
        key_of(["N40.0"]), sheet_of(["N40.0"]), patient=Patient(age_years=70, sex="F"), day=day
    )
    finding = only(result, "sex_conflict")
    assert finding.advisory is advisory
    assert finding.as_json().get("advisory", False) is advisory
    assert "male patients" in finding.message
    assert result.score == pytest.approx(score)


@pytest.mark.parametrize(("code", "sex"), [("O80", "F"), ("N40.0", "M"), ("J02.0", "F")])
def test_a_code_that_fits_the_patient_sex_is_not_flagged(code: str, sex: str):
    patient = Patient(age_years=30, sex="F" if sex == "F" else "M")
    result = grade_answer(key_of([code]), sheet_of([code]), patient=patient)
    assert not [f for f in result.findings if f.kind == "sex_conflict"]
    assert kinds(result)[0][0] == "correct"


def test_female_code_for_a_male_patient_before_the_retirement_costs():
    result = grade_answer(
        key_of(["D25.9"]),
        sheet_of(["D25.9"]),
        patient=Patient(age_years=40, sex="M"),
        day=dt.date(2023, 3, 1),
    )
    finding = only(result, "sex_conflict")
    assert not finding.advisory
    assert "female patients" in finding.message
    assert result.percent < 100.0
