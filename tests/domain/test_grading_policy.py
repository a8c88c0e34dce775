"""Scoring policy: the contract's worked example, overrides, floor, Practicode style."""

from __future__ import annotations

import pytest

from quizzes.grading.policy import DEFAULT_POLICY, RULES_VERSION, ScoringPolicy
from quizzes.grading.types import AnswerProcedure, GradeResult, KeyProcedure
from tests.domain.grading_catalog import grade_answer, key_of, sheet_of

CONTRACT_KEY = key_of(
    ["J02.0", "R50.9"],
    [KeyProcedure("99213", ("25",), 1, (1, 2)), KeyProcedure("87880", (), 1, (1,))],
)
CONTRACT_ANSWER = sheet_of(["j020", "R50.9"], [AnswerProcedure("99213", (), 1, (1,))])
PRACTICODE = DEFAULT_POLICY.with_overrides({"practicode_style": True})


def _points_add_up(result: GradeResult) -> bool:
    total = result.max_score + sum(finding.points for finding in result.findings)
    return result.score == pytest.approx(min(result.max_score, max(0.0, total)), abs=1e-4)


def test_the_contract_example_scores_4_25_of_5():
    result = grade_answer(CONTRACT_KEY, CONTRACT_ANSWER)
    assert (result.score, result.max_score, result.percent) == (4.25, 5.0, 85.0)
    assert [(f.kind, f.code, str(f.line)) for f in result.findings] == [
        ("correct", "J02.0", "diagnoses[0]"),
        ("correct", "R50.9", "diagnoses[1]"),
        ("modifier_error", "99213", "procedures[0]"),
        ("linkage_error", "99213", "procedures[0]"),
        ("missing", "87880", "key.procedures[1]"),
    ]
    assert result.findings[2].expected == ("25",)
    assert result.rules_version == RULES_VERSION
    assert result.releases == {"ICD-10-CM": "2026-04", "CPT": "2026", "HCPCS": "2026-04"}
    assert _points_add_up(result)


def test_overrides_change_the_weights_per_exercise():
    policy = DEFAULT_POLICY.with_overrides({"procedure_line": 1.0, "diagnosis_line": 1.0})
    result = grade_answer(CONTRACT_KEY, CONTRACT_ANSWER, policy=policy)
    # 4 lines of 1.0; 99213 loses 0.25 + 0.25, 87880 is missing.
    assert (result.score, result.max_score) == (2.5, 4.0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"extra_points": 1.0},
        {"partial_credit": 1.5},
        {"extra": -0.1},
        {"diagnosis_line": "2"},
        {"rule": True},
        {"practicode_style": 1},
    ],
)
def test_invalid_overrides_raise_value_error(overrides: dict[str, object]):
    with pytest.raises(ValueError, match=r"\w"):
        DEFAULT_POLICY.with_overrides(overrides)


def test_unknown_override_names_the_known_settings():
    with pytest.raises(ValueError, match="partial_credit"):
        DEFAULT_POLICY.with_overrides({"bonus": 1})


def test_the_score_never_goes_below_zero():
    result = grade_answer(key_of(["J02.0"]), sheet_of(["E78.5", "H66.91", "N39.0", "I10", "zz"]))
    assert result.score == 0.0
    assert result.percent == 0.0


def test_full_marks_need_every_required_line_and_no_costly_finding():
    exact = sheet_of(
        ["J02.0", "R50.9"],
        [AnswerProcedure("99213", ("25",), 1, (1, 2)), AnswerProcedure("87880", (), 1, (1,))],
    )
    assert grade_answer(CONTRACT_KEY, exact).percent == 100.0
    with_extra = sheet_of(["J02.0", "R50.9", "E78.5"], list(exact.procedures))
    assert grade_answer(CONTRACT_KEY, with_extra).percent < 100.0


# --- Practicode style ----------------------------------------------------------------


def test_practicode_style_gives_no_partial_credit_for_wrong_details():
    result = grade_answer(CONTRACT_KEY, CONTRACT_ANSWER, policy=PRACTICODE)
    # Credited: J02.0 and R50.9 (2.0 each); 99213 forfeited, 87880 missing.
    assert (result.score, result.max_score, result.percent) == (4.0, 5.0, 80.0)
    assert _points_add_up(result)


def test_practicode_style_gives_nothing_for_a_near_miss():
    result = grade_answer(key_of(["S93.491A"]), sheet_of(["S93.492A"]), policy=PRACTICODE)
    assert result.score == 0.0


def test_practicode_style_divides_by_the_codes_entered_when_over_coding():
    result = grade_answer(
        key_of(["J02.0"]), sheet_of(["J02.0", "E78.5", "H66.91"]), policy=PRACTICODE
    )
    # One correct of three entered: 2.0 x 2.0 / 6.0.
    assert result.score == pytest.approx(2.0 / 3.0, abs=1e-4)
    assert _points_add_up(result)
    extras = [f.points for f in result.findings if f.kind == "extra"]
    assert extras == [pytest.approx(-2.0 / 3.0), pytest.approx(-2.0 / 3.0)]


def test_practicode_style_credits_the_first_listed_line_only_in_first_place():
    result = grade_answer(
        key_of(["J02.0", "R50.9"]), sheet_of(["R50.9", "J02.0"]), policy=PRACTICODE
    )
    assert result.score == pytest.approx(2.0)


def test_practicode_style_does_not_count_optional_lines_as_entered():
    key = key_of(["J02.0"], [KeyProcedure("87880", optional=True)])
    result = grade_answer(key, sheet_of(["J02.0"], ["87880"]), policy=PRACTICODE)
    assert result.percent == 100.0


def test_the_policy_is_frozen_and_hashable():
    policy = ScoringPolicy()
    with pytest.raises(AttributeError):
        policy.extra = 0.5  # type: ignore[misc]
    assert hash(policy) == hash(DEFAULT_POLICY)


def test_practicode_style_still_deducts_rule_findings_after_the_over_coding_ratio():
    result = grade_answer(
        key_of(["E10.9"]), sheet_of(["E10.9", "E11.9", "E78.5"]), policy=PRACTICODE
    )
    # One credited of three entered: 2.0 x 2.0 / 6.0, then the Excludes1 conflict (0.5).
    assert result.score == pytest.approx(2.0 / 3.0 - 0.5, abs=1e-4)
    assert _points_add_up(result)
