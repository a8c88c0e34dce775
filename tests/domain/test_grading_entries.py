"""Normalisation, shape and validity of reported codes (before any key comparison)."""

from __future__ import annotations

import pytest

from codesets.domain.systems import System
from quizzes.grading.entries import EntryClassifier
from tests.domain.grading_catalog import CATALOG, grade_answer, key_of, only, sheet_of

CLASSIFIER = EntryClassifier(CATALOG)


@pytest.mark.parametrize(
    ("text", "kind", "code"),
    [
        ("J02.0", "valid", "J02.0"),
        ("j020", "valid", "J02.0"),
        ("  j02.0 ", "valid", "J02.0"),
        ("s93491a", "valid", "S93.491A"),
        # A letter and four digits that is an ICD-10-CM code is a diagnosis, not HCPCS.
        ("R5081", "valid", "R50.81"),
        ("99213", "wrong_family", "99213"),
        ("3008F", "wrong_family", "3008F"),
        # E0114 is shaped like E01.14 too; ICD-10-CM has no E01.14, HCPCS has E0114.
        ("E0114", "wrong_family", "E0114"),
        ("e0114", "wrong_family", "E0114"),
        # Written with a dot it is an ICD-10-CM attempt.
        ("E01.14", "unknown_code", "E01.14"),
        ("E9999", "unknown_code", "E99.99"),
        ("Z99.999", "unknown_code", "Z99.999"),
        ("J02", "not_billable", "J02"),
        ("S93.49", "not_billable", "S93.49"),
        ("S93.491", "missing_seventh_character", "S93.491"),
        ("S06.0X0", "missing_seventh_character", "S06.0X0"),
        ("T3601A", "missing_seventh_character", "T36.01A"),
        ("S0600A", "missing_seventh_character", "S06.00A"),
        ("S060A", "missing_seventh_character", "S06.0A"),
        ("S9349A", "missing_seventh_character", "S93.49A"),
        # Text not shaped like a code is reported as typed, never reshaped into one.
        ("sore throat", "invalid_format", "sore throat"),
        ("strep", "invalid_format", "strep"),
        ("J00-J06", "invalid_format", "J00-J06"),
        ("J0", "invalid_format", "J0"),
        ("1234", "invalid_format", "1234"),
        ("", "invalid_format", None),
    ],
)
def test_diagnosis_text_is_normalised_and_classified(text: str, kind: str, code: str | None):
    entry = CLASSIFIER.diagnosis(text)
    assert (entry.kind, entry.code) == (kind, code)


@pytest.mark.parametrize(
    ("text", "kind", "code", "system"),
    [
        ("99213", "valid", "99213", System.CPT),
        (" 3008f ", "valid", "3008F", System.CPT),
        ("0042T", "unknown_code", "0042T", System.CPT),
        ("e0114", "valid", "E0114", System.HCPCS),
        ("A1234", "unknown_code", "A1234", System.HCPCS),
        ("J02.0", "wrong_family", "J02.0", System.ICD10CM),
        ("j020", "wrong_family", "J02.0", System.ICD10CM),
        ("R5081", "wrong_family", "R50.81", System.ICD10CM),
        ("E01.14", "wrong_family", "E01.14", System.ICD10CM),
        ("9921", "invalid_format", "9921", None),
        ("99213-25", "invalid_format", "99213-25", None),
    ],
)
def test_procedure_text_is_normalised_and_classified(
    text: str, kind: str, code: str, system: System | None
):
    entry = CLASSIFIER.procedure(text)
    assert (entry.kind, entry.code, entry.system) == (kind, code, system)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("rt", "RT"), (" 25 ", "25"), ("nu", "NU"), ("RTX", None), ("R", None), ("é1", None)],
)
def test_modifiers_are_two_letters_or_digits(text: str, canonical: str | None):
    assert CLASSIFIER.modifier(text) == canonical


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "J02",
            ["Acute pharyngitis", "1 more character", "J02.0 (Streptococcal pharyngitis)", "I.B.2"],
        ),
        ("S93.49", ["2 more characters", "S93.491A"]),
        (
            "S93.491",
            [
                "7th character",
                "S93.491A (Sprain of other ligament of right ankle, initial encounter)",
                "I.A.4",
                "I.A.5",
            ],
        ),
        (
            "T3601A",
            [
                "T36.0X1A (Poisoning by penicillins, accidental (unintentional), initial "
                "encounter)",
                "placeholder",
                "I.A.4",
                "I.A.5",
            ],
        ),
        ("S060A", ["S06.0 (Concussion)", "S06.0X0A", "placeholder X"]),
        ("Z99.999", ["not a valid code", "ICD-10-CM 2026-04", "deleted or never existed"]),
        ("J02.99", ["J02 (Acute pharyngitis) exists"]),
        ("99213", ["CPT code", "procedure line"]),
        ("E0114", ["HCPCS Level II", "E01.14 does not exist"]),
        ("sore throat", ["'sore throat'", "ICD-10-CM code"]),
    ],
)
def test_diagnosis_messages_explain_the_problem(text: str, fragments: list[str]):
    message = CLASSIFIER.diagnosis(text).message
    for fragment in fragments:
        assert fragment in message


def test_procedure_format_message_names_every_cpt_category_and_hcpcs():
    message = CLASSIFIER.procedure("9921").message
    for fragment in ("Category I", "Category II", "Category III", "HCPCS Level II"):
        assert fragment in message


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("zz", "invalid_format"),
        ("87880", "wrong_family"),
        ("J02.99", "unknown_code"),
        ("J02", "not_billable"),
        ("S93.491", "missing_seventh_character"),
    ],
)
def test_each_invalid_entry_is_a_finding_that_costs(text: str, kind: str):
    result = grade_answer(key_of(["J02.0"]), sheet_of(["J02.0", text]))
    finding = only(result, kind)
    assert str(finding.line) == "diagnoses[1]"
    assert finding.points < 0
    assert result.score < result.max_score


def test_a_near_code_without_seventh_character_does_not_count_as_the_key_code():
    result = grade_answer(key_of(["S93.491A"]), sheet_of(["S93.491"]))
    assert [f.kind for f in result.findings] == ["missing_seventh_character", "missing"]
    assert result.score == 0.0
