"""Properties of the score that hold for any key and answer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from quizzes.grading.policy import DEFAULT_POLICY, ScoringPolicy
from quizzes.grading.types import (
    AnswerKey,
    AnswerProcedure,
    AnswerSheet,
    KeyDiagnosis,
    KeyProcedure,
)
from tests.domain.grading_catalog import grade_answer

# Billable codes no two of which trip a rule together (no Excludes1 note between them,
# no age, sex or manifestation attribute), so that a key made of them is a valid key.
CLEAN_DIAGNOSES = [
    "J02.0",
    "R50.9",
    "E11.9",
    "E78.5",
    "I10",
    "N39.0",
    "S93.491A",
    "H66.91",
    "S06.0X0A",
    "T36.0X1A",
    "P07.30",
    "Y93.67",
]
# Near misses, rule trippers and invalid texts an answer may contain besides.
OTHER_DIAGNOSES = [
    "J02.9",
    "R50.81",
    "E11.65",
    "E10.9",
    "S93.492A",
    "S93.491D",
    "H66.92",
    "N30.00",
    "R73.9",
    "G01",
    "O80",
    "N40.0",
    "J02",
    "S93.491",
    "T3601A",
    "99213",
    "E0114",
    "zz",
    "",
]
PROCEDURES = ["99213", "99203", "87880", "73610", "E0114", "J1885", "L1906"]
MODIFIER_SETS = [(), ("25",), ("RT",), ("NU",), ("rt",), ("RT", "59"), ("RTX",)]
POLICIES = st.sampled_from(
    [DEFAULT_POLICY, DEFAULT_POLICY.with_overrides({"practicode_style": True})]
)


def _spell(code: str, variant: int) -> str:
    """One of the spellings a learner may type for a code."""
    return [code, code.lower(), code.replace(".", ""), f"  {code} "][variant % 4]


@st.composite
def keys(draw: st.DrawFn) -> AnswerKey:
    codes = draw(st.lists(st.sampled_from(CLEAN_DIAGNOSES), min_size=1, max_size=4, unique=True))
    optional = draw(st.lists(st.booleans(), min_size=len(codes), max_size=len(codes)))
    optional[0] = False
    diagnoses = tuple(
        KeyDiagnosis(code, optional=flag) for code, flag in zip(codes, optional, strict=True)
    )
    procedure_codes = draw(st.lists(st.sampled_from(PROCEDURES), max_size=3, unique=True))
    procedures = tuple(
        KeyProcedure(
            code,
            modifiers=draw(st.sampled_from(MODIFIER_SETS[:4])),
            units=draw(st.integers(1, 4)),
            dx_pointers=tuple(
                draw(st.lists(st.integers(1, len(codes)), max_size=len(codes), unique=True))
            ),
        )
        for code in procedure_codes
    )
    return AnswerKey(diagnoses=diagnoses, procedures=procedures)


@st.composite
def answers(draw: st.DrawFn) -> AnswerSheet:
    pool = CLEAN_DIAGNOSES + OTHER_DIAGNOSES
    diagnoses = tuple(
        _spell(draw(st.sampled_from(pool)), draw(st.integers(0, 3)))
        for _ in range(draw(st.integers(0, 5)))
    )
    procedures = tuple(
        AnswerProcedure(
            draw(st.sampled_from([*PROCEDURES, "J02.0", "9921"])),
            modifiers=draw(st.sampled_from(MODIFIER_SETS)),
            units=draw(st.integers(0, 4)),
            dx_pointers=tuple(draw(st.lists(st.integers(0, 6), max_size=3))),
        )
        for _ in range(draw(st.integers(0, 3)))
    )
    return AnswerSheet(diagnoses=diagnoses, procedures=procedures)


def _echo(key: AnswerKey, variant: int) -> AnswerSheet:
    """The key itself, as a learner might type it."""
    return AnswerSheet(
        diagnoses=tuple(_spell(line.code, variant + i) for i, line in enumerate(key.diagnoses)),
        procedures=tuple(
            AnswerProcedure(line.code, line.modifiers, line.units, line.dx_pointers)
            for line in key.procedures
        ),
    )


@settings(max_examples=300, deadline=None)
@given(key=keys(), answer=answers(), policy=POLICIES)
def test_percent_stays_between_0_and_100(
    key: AnswerKey, answer: AnswerSheet, policy: ScoringPolicy
):
    result = grade_answer(key, answer, policy=policy)
    assert 0.0 <= result.percent <= 100.0
    assert 0.0 <= result.score <= result.max_score


@settings(max_examples=200, deadline=None)
@given(key=keys(), variant=st.integers(0, 3), policy=POLICIES)
def test_an_answer_equal_to_the_key_scores_100(key: AnswerKey, variant: int, policy: ScoringPolicy):
    result = grade_answer(key, _echo(key, variant), policy=policy)
    assert result.percent == 100.0
    assert {finding.kind for finding in result.findings} == {"correct"}


@settings(max_examples=300, deadline=None)
@given(
    key=keys(),
    answer=answers(),
    extra=st.sampled_from(CLEAN_DIAGNOSES + OTHER_DIAGNOSES),
    policy=POLICIES,
)
def test_adding_a_code_outside_the_key_categories_never_raises_the_score(
    key: AnswerKey, answer: AnswerSheet, extra: str, policy: ScoringPolicy
):
    key_categories = {line.code[:3] for line in key.diagnoses}
    if extra.replace(".", "")[:3].upper() in key_categories:
        return  # a near miss of a key line may earn partial credit
    before = grade_answer(key, answer, policy=policy)
    more = AnswerSheet(diagnoses=(*answer.diagnoses, extra), procedures=answer.procedures)
    after = grade_answer(key, more, policy=policy)
    assert after.score <= before.score + 1e-9


@settings(max_examples=300, deadline=None)
@given(key=keys(), answer=answers(), policy=POLICIES, data=st.data())
def test_reordering_secondary_diagnoses_never_changes_the_score(
    key: AnswerKey, answer: AnswerSheet, policy: ScoringPolicy, data: st.DataObject
):
    count = len(answer.diagnoses)
    order = [0, *data.draw(st.permutations(range(1, count)))] if count > 1 else list(range(count))
    new_position = {old + 1: new + 1 for new, old in enumerate(order)}
    reordered = AnswerSheet(
        diagnoses=tuple(answer.diagnoses[old] for old in order),
        procedures=tuple(
            AnswerProcedure(
                line.code,
                line.modifiers,
                line.units,
                tuple(new_position.get(pointer, pointer) for pointer in line.dx_pointers),
            )
            for line in answer.procedures
        ),
    )
    before = grade_answer(key, answer, policy=policy)
    after = grade_answer(key, reordered, policy=policy)
    assert after.score == before.score
