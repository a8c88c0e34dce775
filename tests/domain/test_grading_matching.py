"""Pairing answers with key lines: correct, near misses, extras, missing, duplicates,
sequencing, optional and alternative lines, and procedure details."""

from __future__ import annotations

import pytest

from quizzes.grading.types import AnswerProcedure, KeyDiagnosis, KeyProcedure
from tests.domain.grading_catalog import grade_answer, key_of, kinds, only, sheet_of


def test_an_answer_equal_to_the_key_in_any_case_and_dot_form_is_correct():
    result = grade_answer(key_of(["J02.0", "S93.491A"]), sheet_of(["j020", " s93.491a "]))
    assert kinds(result) == [
        ("correct", "J02.0", "diagnoses[0]"),
        ("correct", "S93.491A", "diagnoses[1]"),
    ]
    assert (result.score, result.max_score, result.percent) == (4.0, 4.0, 100.0)
    assert "Streptococcal pharyngitis" in result.findings[0].message
    assert "listed first" in result.findings[0].message


@pytest.mark.parametrize(
    ("key_code", "reported", "fragments"),
    [
        # Laterality: right versus left, and a side versus an unspecified side.
        ("S93.491A", "S93.492A", ["wrong side", "right", "left", "I.B.13"]),
        ("H66.91", "H66.90", ["wrong side", "right", "unspecified side"]),
        ("H66.92", "H66.93", ["wrong side", "left", "bilateral"]),
        # 7th character: the same first six characters.
        ("S93.491A", "S93.491D", ["7th character", "I.A.5", "I.C.19.a"]),
        # Specificity: another code of the category.
        ("S93.491A", "S93.401A", ["right category", "most specific"]),
        ("J02.0", "J02.9", ["right category"]),
        ("E11.65", "E11.9", ["right category"]),
    ],
)
def test_a_near_miss_in_the_category_earns_partial_credit_and_says_what_differs(
    key_code: str, reported: str, fragments: list[str]
):
    result = grade_answer(key_of([key_code]), sheet_of([reported]))
    assert [f.kind for f in result.findings] == ["partial_match", "missing"]
    partial = only(result, "partial_match")
    assert partial.expected == (key_code,)
    for fragment in fragments:
        assert fragment in partial.message
    # Both descriptors are quoted.
    assert partial.message.count("(") >= 2
    assert result.score == pytest.approx(1.0)  # half of a 2.0 diagnosis line


def test_partial_match_names_both_descriptors():
    result = grade_answer(key_of(["S93.491A"]), sheet_of(["S93.492A"]))
    message = only(result, "partial_match").message
    assert "Sprain of other ligament of left ankle, initial encounter" in message
    assert "Sprain of other ligament of right ankle, initial encounter" in message


def test_a_code_outside_every_key_category_is_extra():
    result = grade_answer(key_of(["J02.0"]), sheet_of(["J02.0", "E78.5"]))
    assert kinds(result) == [
        ("correct", "J02.0", "diagnoses[0]"),
        ("extra", "E78.5", "diagnoses[1]"),
    ]
    assert result.score == pytest.approx(1.5)


def test_a_near_miss_is_extra_once_its_key_line_is_matched_exactly():
    result = grade_answer(key_of(["J02.0"]), sheet_of(["J02.0", "J02.9"]))
    assert [f.kind for f in result.findings] == ["correct", "extra"]


def test_a_key_code_not_reported_is_missing_on_its_key_line():
    result = grade_answer(key_of(["J02.0", "R50.9"]), sheet_of(["J02.0"]))
    missing = only(result, "missing")
    assert (missing.code, str(missing.line)) == ("R50.9", "key.diagnoses[1]")
    assert "Fever, unspecified" in missing.message
    assert result.score == pytest.approx(2.0)


def test_the_same_code_twice_is_a_duplicate_and_matches_once():
    result = grade_answer(key_of(["J02.0", "R50.9"]), sheet_of(["J02.0", "R50.9", "j02.0"]))
    duplicate = only(result, "duplicate")
    assert (duplicate.code, str(duplicate.line)) == ("J02.0", "diagnoses[2]")
    assert "diagnoses[0]" in duplicate.message
    assert "I.B.12" in duplicate.message
    assert result.score == pytest.approx(3.5)


def test_key_first_listed_elsewhere_is_a_sequence_error():
    result = grade_answer(key_of(["J02.0", "R50.9"]), sheet_of(["R50.9", "J02.0"]))
    assert kinds(result) == [
        ("correct", "R50.9", "diagnoses[0]"),
        ("sequence_error", "R50.9", "diagnoses[0]"),
        ("correct", "J02.0", "diagnoses[1]"),
    ]
    sequence = only(result, "sequence_error")
    assert sequence.expected == ("J02.0",)
    assert "Streptococcal pharyngitis" in sequence.message
    assert result.score == pytest.approx(3.5)


def test_no_sequence_error_when_the_key_first_is_not_reported():
    result = grade_answer(key_of(["J02.0", "R50.9"]), sheet_of(["R50.9"]))
    assert [f.kind for f in result.findings] == ["correct", "missing"]


def test_sequence_error_also_follows_an_invalid_first_line():
    result = grade_answer(key_of(["J02.0"]), sheet_of(["J02", "J02.0"]))
    assert [f.kind for f in result.findings] == ["not_billable", "sequence_error", "correct"]


def test_optional_key_lines_add_nothing_and_cost_nothing():
    key = key_of(["S93.491A", KeyDiagnosis("Y93.67", optional=True)])
    without = grade_answer(key, sheet_of(["S93.491A"]))
    with_it = grade_answer(key, sheet_of(["S93.491A", "Y93.67"]))
    assert (without.score, without.max_score, without.percent) == (2.0, 2.0, 100.0)
    assert (with_it.score, with_it.max_score, with_it.percent) == (2.0, 2.0, 100.0)
    assert [f.kind for f in with_it.findings] == ["correct", "correct"]


@pytest.mark.parametrize("reported", ["R50.9", "R50.81"])
def test_any_alternative_of_a_key_line_is_correct(reported: str):
    key = key_of(["J02.0", KeyDiagnosis("R50.9", alternatives=("R50.81",))])
    result = grade_answer(key, sheet_of(["J02.0", reported]))
    assert [f.kind for f in result.findings] == ["correct", "correct"]
    assert result.percent == 100.0


def test_overlapping_alternatives_are_paired_to_credit_every_line():
    # Line 1 accepts J02.9 or J02.0, line 2 only J02.0: a greedy pairing in answer order
    # would give J02.0 to line 1 and leave J02.9 with nothing.
    key = key_of(["R50.9", KeyDiagnosis("J02.9", alternatives=("J02.0",)), "J02.0"])
    for answer in (["R50.9", "J02.0", "J02.9"], ["R50.9", "J02.9", "J02.0"]):
        result = grade_answer(key, sheet_of(answer))
        assert [f.kind for f in result.findings] == ["correct"] * 3, answer


def test_missing_line_mentions_a_near_miss_and_alternatives():
    key = key_of([KeyDiagnosis("S93.491A", alternatives=("S93.499A",))])
    result = grade_answer(key, sheet_of(["S93.492A"]))
    missing = only(result, "missing")
    assert "S93.499A" in missing.message
    assert "S93.492A" in missing.message


# --- procedures ----------------------------------------------------------------------


def test_procedure_modifiers_match_in_any_order_and_case():
    key = key_of(["S93.491A"], [KeyProcedure("73610", ("RT", "59"), dx_pointers=(1,))])
    answer = sheet_of(["S93.491A"], [AnswerProcedure("73610", ("59", "rt"), 1, (1,))])
    result = grade_answer(key, answer)
    assert kinds(result)[1] == ("correct", "73610", "procedures[0]")
    assert result.percent == 100.0


def test_wrong_modifiers_are_a_modifier_error_with_the_expected_modifiers():
    key = key_of(["S93.491A"], [KeyProcedure("E0114", ("NU",))])
    result = grade_answer(key, sheet_of(["S93.491A"], [AnswerProcedure("E0114", ("RR",))]))
    error = only(result, "modifier_error")
    assert (error.code, str(error.line), error.expected) == ("E0114", "procedures[0]", ("NU",))
    assert "NU (new equipment)" in error.message
    assert "Crutches underarm" in error.message
    assert result.score == pytest.approx(2.5 - 0.125)


def test_wrong_units_explain_the_hcpcs_billing_unit():
    key = key_of(["S93.491A"], [KeyProcedure("J1885", units=4)])
    result = grade_answer(key, sheet_of(["S93.491A"], [AnswerProcedure("J1885", units=60)]))
    error = only(result, "units_error")
    assert error.expected == ("4",)
    # The message quotes the descriptor's unit and never invents a dose the note did
    # not document.
    assert "J1885 is reported per 15 mg" in error.message
    assert " mg is " not in error.message
    assert result.score == pytest.approx(2.5 - 0.125)


def test_linkage_compares_the_codes_pointed_at_not_positions():
    key = key_of(["J02.0", "R50.9", "E11.9"], [KeyProcedure("99213", dx_pointers=(1, 3))])
    reordered = sheet_of(
        ["J02.0", "E11.9", "R50.9"], [AnswerProcedure("99213", dx_pointers=(2, 1))]
    )
    assert grade_answer(key, reordered).percent == 100.0
    wrong = sheet_of(["J02.0", "E11.9", "R50.9"], [AnswerProcedure("99213", dx_pointers=(1, 3))])
    result = grade_answer(key, wrong)
    error = only(result, "linkage_error")
    assert error.expected == ("J02.0", "E11.9")
    assert "R50.9 (Fever, unspecified)" in error.message
    # The code, modifiers and units agree, so the line is also correct (contract).
    assert [f.kind for f in result.findings][3:] == ["correct", "linkage_error"]


def test_an_out_of_range_pointer_is_a_linkage_error_with_a_clear_message():
    key = key_of(["J02.0"], [KeyProcedure("87880", dx_pointers=(1,))])
    result = grade_answer(key, sheet_of(["J02.0"], [AnswerProcedure("87880", dx_pointers=(1, 5))]))
    assert (
        "Pointer 5 does not exist: the claim lists 1 diagnosis"
        in only(result, "linkage_error").message
    )


def test_a_key_line_without_pointers_does_not_grade_linkage():
    key = key_of(["J02.0"], ["87880"])
    result = grade_answer(key, sheet_of(["J02.0"], [AnswerProcedure("87880", dx_pointers=(4,))]))
    assert result.percent == 100.0


def test_linked_diagnoses_the_answer_omits_are_not_required_pointers():
    key = key_of(["J02.0", "R50.9"], [KeyProcedure("99213", dx_pointers=(1, 2))])
    result = grade_answer(key, sheet_of(["J02.0"], [AnswerProcedure("99213", dx_pointers=(1,))]))
    assert [f.kind for f in result.findings] == ["correct", "missing", "correct"]


def test_detail_errors_together_never_take_more_than_half_the_line():
    key = key_of(["J02.0"], [KeyProcedure("99213", ("25",), 1, (1,))])
    result = grade_answer(key, sheet_of(["J02.0"], [AnswerProcedure("99213", (), 2, (3,))]))
    assert [f.kind for f in result.findings][1:] == [
        "modifier_error",
        "units_error",
        "linkage_error",
    ]
    assert result.score == pytest.approx(2.5 - 0.25)


def test_a_malformed_modifier_is_reported_with_the_modifier_error():
    key = key_of(["S93.491A"], [KeyProcedure("L1906", ("RT",))])
    result = grade_answer(key, sheet_of(["S93.491A"], [AnswerProcedure("L1906", ("RTX",))]))
    assert kinds(result)[1:] == [
        ("modifier_error", "L1906", "procedures[0]"),
        ("invalid_format", "RTX", "procedures[0]"),
    ]


def test_procedure_lists_report_extra_missing_and_wrong_family():
    key = key_of(["J02.0"], ["99213", "87880"])
    result = grade_answer(key, sheet_of(["J02.0"], ["99213", "73610", "J02.0"]))
    assert kinds(result) == [
        ("correct", "J02.0", "diagnoses[0]"),
        ("correct", "99213", "procedures[0]"),
        ("extra", "73610", "procedures[1]"),
        ("wrong_family", "J02.0", "procedures[2]"),
        ("missing", "87880", "key.procedures[1]"),
    ]


def test_the_same_code_with_other_modifiers_is_not_a_duplicate():
    key = key_of(["S93.491A"], [KeyProcedure("73610", ("RT",)), KeyProcedure("73610", ("LT",))])
    both = grade_answer(
        key,
        sheet_of(
            ["S93.491A"], [AnswerProcedure("73610", ("LT",)), AnswerProcedure("73610", ("RT",))]
        ),
    )
    assert [f.kind for f in both.findings] == ["correct", "correct", "correct"]
    twice = grade_answer(
        key,
        sheet_of(
            ["S93.491A"], [AnswerProcedure("73610", ("RT",)), AnswerProcedure("73610", ("rt",))]
        ),
    )
    assert kinds(twice)[2] == ("duplicate", "73610", "procedures[1]")


def test_optional_procedure_lines_add_nothing_to_the_maximum():
    key = key_of(["J02.0"], [KeyProcedure("87880", optional=True)])
    assert grade_answer(key, sheet_of(["J02.0"])).max_score == 2.0
    assert grade_answer(key, sheet_of(["J02.0"], ["87880"])).percent == 100.0


@pytest.mark.parametrize("reported", ["E0114", "E0110"])
def test_any_alternative_of_a_key_procedure_line_is_correct(reported: str):
    key = key_of(["S93.491A"], [KeyProcedure("E0114", ("NU",), alternatives=("E0110",))])
    result = grade_answer(key, sheet_of(["S93.491A"], [AnswerProcedure(reported, ("NU",))]))
    assert kinds(result)[1] == ("correct", reported, "procedures[0]")
    assert result.percent == 100.0
