"""One grading entry for every exercise type (``grade_exercise``), table-driven, plus the
whole library: every generated exercise of every type validates against its schema,
survives the canonical round trip, and grades 100 % with its own answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from codesets.domain.catalog import InMemoryCatalog
from quizzes.generation.encounters import bundled_library_path, load_library
from quizzes.generation.generators import EXERCISE_TYPES, generate
from quizzes.grading.exercises import (
    ExerciseSchemaError,
    ExerciseType,
    canonical_payload,
    clean_answer,
    exercise_from_json,
    findings_before_review,
    grade_exercise,
)
from quizzes.grading.kinds import KIND_FACTS, FindingKind, LineList, LineRef
from quizzes.grading.policy import RULES_VERSION, ScoringPolicy
from quizzes.grading.types import Encounter, Patient

LIBRARY = load_library(bundled_library_path())
ENCOUNTER = Encounter(dt.date(2026, 6, 1), Patient(age_years=40, sex="F"))


def stored_answer(exercise: dict[str, Any]) -> dict[str, Any]:
    """The exercise's own answer in the shape the take page stores."""
    kind = exercise["type"]
    answer = exercise["answer"]
    if kind == "full_coding":
        diagnoses = [
            line if isinstance(line, str) else line["code"] for line in answer["diagnoses"]
        ]
        return {"diagnoses": diagnoses, "procedures": answer["procedures"]}
    if kind == "sequencing":
        return {"order": answer}
    if kind == "linkage":
        return {"links": answer}
    if kind == "audit":
        fixes = {}
        for error in answer:
            fix = error["fix"]
            if fix is None:
                fixes[error["line"]] = "delete"
            elif isinstance(fix, dict):
                fixes[error["line"]] = "-".join([fix["code"], *fix.get("modifiers", [])])
            else:
                fixes[error["line"]] = fix
        return {"fixes": fixes}
    return {"value": answer}


def grade(
    payload: dict[str, Any],
    answer: dict[str, Any],
    catalog: InMemoryCatalog,
    encounter: Encounter = ENCOUNTER,
    **kw: Any,
):
    exercise = exercise_from_json(payload)
    return grade_exercise(
        exercise,
        clean_answer(exercise.type, answer),
        encounter=encounter,
        catalog=catalog,
        **kw,
    )


@pytest.mark.parametrize(
    ("payload", "answer", "percent", "kinds"),
    [
        (
            {"type": "best_code", "choices": ["J02.0", "J02.9", "J03.00"], "answer": "J02.0"},
            {"value": "j020"},
            100.0,
            ["correct"],
        ),
        (
            {"type": "best_code", "choices": ["J02.0", "J02.9", "J03.00"], "answer": "J02.0"},
            {"value": "J02.9"},
            0.0,
            ["incorrect"],
        ),
        (
            {"type": "code_family", "choices": ["ICD-10-CM", "CPT", "HCPCS"], "answer": "CPT"},
            {"value": "CPT"},
            100.0,
            ["correct"],
        ),
        (
            {"type": "specificity", "choices": ["E11.9", "E11.65"], "answer": "E11.65"},
            {},
            0.0,
            ["incorrect"],
        ),
        (
            {"type": "sequencing", "answer": ["E11.42", "G63"]},
            {"order": ["E11.42", "G63"]},
            100.0,
            ["correct", "correct"],
        ),
        (
            # Only the first-listed diagnosis is mandated among J02.0, R50.9, I10.
            {"type": "sequencing", "answer": ["J02.0", "R50.9", "I10"]},
            {"order": ["J02.0", "I10", "R50.9"]},
            100.0,
            ["correct"],
        ),
        (
            {
                "type": "linkage",
                "answer": {"93015": ["R07.89", "I10"]},
                "acceptable": {"93015": ["R06.02"]},
            },
            {"links": {"93015": ["R07.89", "R06.02"]}},
            50.0,
            ["correct", "linkage_error"],
        ),
        (
            {"type": "linkage", "answer": {"93015": ["R07.89"]}},
            {"links": {"93015": ["R07.89", "J02.0"]}},
            0.0,
            ["correct", "linkage_error"],
        ),
        (
            {"type": "sequencing", "answer": ["E11.42", "G63", "I10"]},
            {"order": ["G63", "E11.42", "I10"]},
            # Scored: the first-listed diagnosis and the manifestation after its
            # etiology; the place of I10 is not mandated.
            0.0,
            ["sequence_error", "sequence_error"],
        ),
        (
            {"type": "linkage", "answer": {"99213": ["J02.0"], "87880": ["J02.0", "R50.9"]}},
            {"links": {"99213": ["J02.0"], "87880": ["R50.9"]}},
            # Credit per link: two of the three required links.
            pytest.approx(66.67),
            ["correct", "linkage_error", "correct"],
        ),
        (
            {
                "type": "audit",
                "claim": {"diagnoses": ["J02.9", "R50.9"], "procedures": [{"code": "99213"}]},
                "answer": [{"line": "diagnoses[0]", "fix": "J02.0"}],
            },
            {"fixes": {"diagnoses[0]": "J02.0"}},
            100.0,
            ["correct"],
        ),
        (
            {
                "type": "audit",
                "claim": {"diagnoses": ["J02.9", "R50.9"], "procedures": [{"code": "99213"}]},
                "answer": [
                    {"line": "diagnoses[0]", "fix": "J02.0"},
                    {"line": "procedures[0]", "fix": {"code": "99213", "modifiers": ["25"]}},
                ],
            },
            {"fixes": {"procedures[0]": "99213-25", "diagnoses[1]": "delete"}},
            25.0,
            ["missing", "correct", "extra"],
        ),
        (
            {
                "type": "full_coding",
                "answer": {"diagnoses": ["J02.0", {"code": "R50.9"}], "procedures": []},
            },
            {"diagnoses": ["J02.0", "R50.9"], "procedures": []},
            100.0,
            ["correct", "correct"],
        ),
    ],
)
def test_every_type_is_graded_by_the_one_entry(payload, answer, percent, kinds, full_catalog):
    result = grade(payload, answer, full_catalog)
    assert result.percent == percent
    assert [f.kind.value for f in result.findings] == kinds
    assert result.rules_version == RULES_VERSION
    assert result.max_score > 0
    # Points come from the policy: they add up to the score.
    total = result.max_score + sum(f.points for f in result.findings)
    assert result.score == pytest.approx(min(result.max_score, max(0.0, total)))


def test_exercise_weights_come_from_the_policy(full_catalog):
    payload = {"type": "sequencing", "answer": ["E11.42", "G63"]}
    policy = ScoringPolicy(sequence_position=2.5)
    result = grade(payload, {"order": ["G63", "E11.42"]}, full_catalog, policy=policy)
    assert (result.score, result.max_score) == (0.0, 5.0)
    assert [f.points for f in result.findings] == [-2.5, -2.5]


def test_a_wrong_choice_names_what_was_chosen_with_its_descriptor(full_catalog):
    payload = {"type": "best_code", "choices": ["J02.0", "J02.9"], "answer": "J02.0"}
    (finding,) = grade(payload, {"value": "J02.9"}, full_catalog).findings
    assert "J02.9 (Acute pharyngitis, unspecified)" in finding.message
    assert finding.line == LineRef(LineList.ANSWER)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"type": "full_coding", "answer": {"diagnoses": [], "procedures": []}}, "no diagnosis"),
        ({"type": "full_coding", "answer": {"diagnoses": [7]}}, "must be a code or an object"),
        ({"type": "full_coding", "answer": "J02.0"}, "must be an object"),
        (
            {"type": "full_coding", "answer": {"diagnoses": ["J02.0"], "procedures": [
                {"code": "99213", "dx_pointers": [2]}]}},
            "key lists 1 diagnoses",
        ),
        ({"type": "best_code", "choices": ["J02.9"], "answer": "J02.0"}, "not one of the choices"),
        ({"type": "best_code", "answer": "J02.0"}, "offers choices"),
        ({"type": "specificity", "answer": " "}, "has an answer"),
        ({"type": "sequencing", "answer": ["J02.0"]}, "at least two"),
        ({"type": "linkage", "answer": []}, "maps procedure lines"),
        ({"type": "audit", "claim": {"diagnoses": ["J02.0"]}, "answer": [
            {"line": "diagnoses[4]", "fix": "J02.9"}]}, r"no diagnoses\[4\]"),
        ({"type": "audit", "answer": [{"line": "diagnoses[0]", "fix": "J02.9"}]}, "claim"),
        ({"type": "dictation"}, "unknown exercise type"),
    ],
)  # fmt: skip
def test_a_payload_that_does_not_fit_its_schema_is_refused_with_the_reason(payload, problem):
    with pytest.raises(ExerciseSchemaError, match=problem):
        exercise_from_json(payload)


def test_the_item_type_must_agree_with_the_payload():
    with pytest.raises(ExerciseSchemaError, match="the item a best_code"):
        exercise_from_json({"type": "code_family", "choices": ["CPT"], "answer": "CPT"},
                           exercise_type="best_code")  # fmt: skip


def test_full_coding_keys_are_stored_with_every_line_an_object():
    payload = {"type": "full_coding", "answer": {"diagnoses": ["J02.0"], "procedures": ["87880"]}}
    stored = canonical_payload(payload)
    assert stored["answer"] == {
        "diagnoses": [{"code": "J02.0"}],
        "procedures": [{"code": "87880", "modifiers": [], "units": 1, "dx_pointers": []}],
    }
    assert canonical_payload(stored) == stored


@pytest.mark.parametrize("spec", LIBRARY, ids=lambda spec: spec.id)
def test_every_generated_exercise_validates_and_grades_full_marks(spec, full_catalog):
    for exercise in generate(spec, full_catalog, types=EXERCISE_TYPES, seed=1):
        payload = {**exercise.as_json(), "line": exercise.line}
        stored = canonical_payload(payload)
        result = grade(stored, stored_answer(payload), full_catalog, spec.encounter())
        assert result.percent == 100.0, (exercise.type, [f.message for f in result.findings])
        empty = grade(stored, {}, full_catalog, spec.encounter())
        assert empty.percent < 100.0, exercise.type


def test_every_finding_kind_has_its_facts():
    assert set(KIND_FACTS) == set(FindingKind)
    for kind, facts in KIND_FACTS.items():
        assert facts.label, kind
        assert facts.generic, kind
        assert facts.counts_as_error == (kind is not FindingKind.CORRECT)


def test_feedback_before_review_names_no_key_code():
    findings = [
        {"kind": "partial_match", "line": "diagnoses[0]", "code": "J02.9", "message": "key J02.0"},
        {"kind": "missing", "line": "key.diagnoses[1]", "code": "R50.9", "message": "R50.9"},
        {"kind": "extra", "line": "diagnoses[1]", "code": "I10", "message": "I10 is not..."},
        {"kind": "correct", "line": "order[0]", "code": "E11.42", "message": "E11.42 right"},
    ]
    shown = findings_before_review(findings)
    text = " ".join(str(item["message"]) for item in shown)
    for key_code in ("J02.0", "R50.9", "E11.42"):
        assert key_code not in text
    assert "I10 is not" in text
    assert shown[-1]["message"] == "1 required line not reported yet."


def test_exercise_types_are_the_generators_types():
    assert {kind.value for kind in ExerciseType} == set(EXERCISE_TYPES)
