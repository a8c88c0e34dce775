"""Exercise generation over the library: every answer grades 100 %, every distractor less."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codesets.domain.catalog import InMemoryCatalog
from codesets.domain.shapes import procedure_system
from codesets.domain.systems import System
from quizzes.generation.answers import apply_audit_fixes, procedure_labels
from quizzes.generation.encounters import (
    EncounterSpec,
    bundled_library_path,
    encounter_from_dict,
    load_library,
)
from quizzes.generation.generators import (
    EXERCISE_TYPES,
    exercise_answer_sheet,
    generate,
)
from quizzes.generation.validation import check_key, key_answer_sheet
from quizzes.grading.engine import grade
from quizzes.grading.types import AnswerSheet

SEEDS = (1, 2, 3)
LIBRARY = load_library(bundled_library_path())
CHOICE_TYPES = {"best_code", "code_family"}


def percent(spec: EncounterSpec, sheet: AnswerSheet, catalog: InMemoryCatalog) -> float:
    result = grade(key=spec.key, answer=sheet, encounter=spec.encounter(), catalog=catalog)
    return result.percent


def ankle(**changes: Any) -> EncounterSpec:
    document: dict[str, Any] = {
        "id": "uc-ankle",
        "title": "Right ankle inversion injury",
        "setting": "urgent care, professional claim",
        "specialty": "orthopedics",
        "date_of_service": "2026-06-12",
        "patient": {"age_years": 27, "sex": "M"},
        "difficulty": 2,
        "tags": [],
        "note": "ASSESSMENT: Grade II sprain of the right anterior talofibular ligament.\n",
        "key": {
            "diagnoses": [
                {
                    "code": "S93.491A",
                    "documented_as": "sprain, right talofibular",
                    "why": "S93.49.",
                },
                {
                    "code": "F17.210",
                    "documented_as": "smokes cigarettes daily",
                    "why": "Dependence.",
                },
            ],
            "procedures": [
                {
                    "code": "99203",
                    "modifiers": ["25"],
                    "dx_pointers": [1, 2],
                    "why": "New patient.",
                },
                {"code": "73610", "modifiers": ["RT"], "dx_pointers": [1], "why": "X-ray."},
            ],
        },
    }
    document.update(changes)
    return encounter_from_dict(document)


@pytest.fixture(scope="module")
def valid_library(full_catalog: InMemoryCatalog) -> list[EncounterSpec]:
    """Library encounters whose keys validate (the validation tests report the others)."""
    return [spec for spec in LIBRARY if not check_key(spec, full_catalog)]


def test_the_library_is_large_enough_to_generate_from(valid_library: list[EncounterSpec]) -> None:
    assert len(valid_library) >= 20


@pytest.mark.parametrize("seed", SEEDS)
def test_every_generated_answer_grades_full_marks(
    full_catalog: InMemoryCatalog, valid_library: list[EncounterSpec], seed: int
) -> None:
    failures = []
    for spec in valid_library:
        for exercise in generate(spec, full_catalog, seed=seed):
            sheet = exercise_answer_sheet(exercise, spec)
            if sheet is None:
                continue
            score = percent(spec, sheet, full_catalog)
            if score != 100.0:
                failures.append((spec.id, exercise.type, exercise.answer, score))
    assert failures == []


@pytest.mark.parametrize("seed", SEEDS)
def test_every_distractor_is_billable_and_grades_below_full_marks(
    full_catalog: InMemoryCatalog, valid_library: list[EncounterSpec], seed: int
) -> None:
    checked = 0
    for spec in valid_library:
        accepted = {code for line in spec.key.diagnoses for code in line.accepted}
        for exercise in generate(spec, full_catalog, types=["best_code"], seed=seed):
            assert exercise.answer in exercise.choices
            assert len(set(exercise.choices)) == 4
            for choice in exercise.choices:
                if choice == exercise.answer:
                    continue
                info = full_catalog.get(System.ICD10CM, choice)
                assert info is not None, (spec.id, choice)
                assert info.billable, (spec.id, choice)
                assert choice not in accepted, (spec.id, choice)
                sheet = exercise_answer_sheet(exercise, spec, choice)
                assert sheet is not None
                checked += 1
                if _line_of(spec, exercise.line).optional:
                    # A near miss of an optional line costs nothing on a claim (it never
                    # scores below leaving the line out); the choice itself is graded.
                    continue
                assert percent(spec, sheet, full_catalog) < 100.0, (spec.id, choice)
    assert checked > 0


def _line_of(spec: EncounterSpec, line: str):
    return spec.key.diagnoses[int(line.removeprefix("key.diagnoses[").rstrip("]"))]


@pytest.mark.parametrize("seed", SEEDS)
def test_every_planted_audit_claim_grades_below_full_marks(
    full_catalog: InMemoryCatalog, valid_library: list[EncounterSpec], seed: int
) -> None:
    audits = 0
    for spec in valid_library:
        for exercise in generate(spec, full_catalog, types=["audit"], seed=seed):
            assert exercise.claim is not None
            assert isinstance(exercise.answer, list)
            assert 1 <= len(exercise.answer) <= 3
            assert percent(spec, exercise.claim, full_catalog) < 100.0, spec.id
            assert apply_audit_fixes(exercise.claim, exercise.answer) == key_answer_sheet(spec.key)
            audits += 1
    assert audits > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_orders_and_links_grade_below_full_marks(
    full_catalog: InMemoryCatalog, valid_library: list[EncounterSpec], seed: int
) -> None:
    for spec in valid_library:
        for exercise in generate(spec, full_catalog, types=["sequencing", "linkage"], seed=seed):
            if exercise.type == "sequencing":
                assert isinstance(exercise.answer, list)
                assert list(exercise.choices) != exercise.answer
                for first in exercise.answer[1:]:
                    wrong = [first, *(code for code in exercise.answer if code != first)]
                    sheet = exercise_answer_sheet(exercise, spec, wrong)
                    assert sheet is not None
                    assert percent(spec, sheet, full_catalog) < 100.0, (spec.id, wrong)
            else:
                assert isinstance(exercise.answer, dict)
                for label, codes in exercise.answer.items():
                    others = [code for code in exercise.choices if code not in codes]  # type: ignore[operator]
                    if not others:
                        continue
                    sheet = exercise_answer_sheet(exercise, spec, {label: others[:1]})
                    assert sheet is not None
                    assert percent(spec, sheet, full_catalog) < 100.0, (spec.id, label)


def test_code_family_answers_name_the_code_set_of_the_quoted_code(
    full_catalog: InMemoryCatalog, valid_library: list[EncounterSpec]
) -> None:
    for spec in valid_library:
        for exercise in generate(spec, full_catalog, types=["code_family"], seed=1):
            code = exercise.prompt.split()[4]
            family = procedure_system(code) if exercise.line.startswith("key.procedures") else None
            expected = (family or System.ICD10CM).value
            assert exercise.answer == expected
            assert exercise.choices == ("ICD-10-CM", "CPT", "HCPCS")
            assert exercise_answer_sheet(exercise, spec) is None


def test_the_same_seed_gives_the_same_exercises(
    full_catalog: InMemoryCatalog, valid_library: list[EncounterSpec]
) -> None:
    def dump(seed: int) -> str:
        return json.dumps(
            [e.as_json() for spec in valid_library for e in generate(spec, full_catalog, seed=seed)]
        )

    assert dump(7) == dump(7)
    assert dump(7) != dump(8)


def test_exercises_serialise_to_the_contract_shape(
    full_catalog: InMemoryCatalog, valid_library: list[EncounterSpec]
) -> None:
    for spec in valid_library[:10]:
        for exercise in generate(spec, full_catalog, seed=1):
            data = json.loads(json.dumps(exercise.as_json()))
            assert {"encounter", "type", "prompt", "choices", "answer", "explanation"} <= set(data)
            assert data["encounter"] == spec.id
            assert bool(data["choices"]) == (
                exercise.type in CHOICE_TYPES | {"sequencing", "linkage"}
            )
            assert ("claim" in data) == (exercise.type == "audit")


def test_best_code_draws_the_teaching_near_misses(full_catalog: InMemoryCatalog) -> None:
    spec = ankle()
    choices: set[str] = set()
    for seed in range(20):
        exercises = generate(spec, full_catalog, types=["best_code"], seed=seed)
        sprain = next(e for e in exercises if e.answer == "S93.491A")
        assert "S93.492A" in sprain.choices  # the other side is always offered
        assert "S93.491A: S93.49." in sprain.explanation
        choices |= set(sprain.choices)
    # Over seeds: another 7th character, the unspecified ligament, another ligament.
    assert choices & {"S93.491D", "S93.491S"}
    assert choices & {"S93.401A", "S93.499A"}
    assert choices & {"S93.411A", "S93.421A", "S93.431A"}


def test_specificity_shows_the_heading_with_blanks(full_catalog: InMemoryCatalog) -> None:
    exercises = generate(ankle(), full_catalog, types=["specificity"], seed=1)

    sprain = next(e for e in exercises if e.answer == "S93.491A")
    assert "S93.49_ _" in sprain.prompt
    assert sprain.choices == ()


def test_sequencing_and_linkage_follow_the_key(full_catalog: InMemoryCatalog) -> None:
    spec = ankle()
    sequencing, linkage = generate(spec, full_catalog, types=["sequencing", "linkage"], seed=3)

    assert sequencing.answer == ["S93.491A", "F17.210"]
    assert sequencing.choices == ("F17.210", "S93.491A")
    assert linkage.answer == {"99203": ["S93.491A", "F17.210"], "73610": ["S93.491A"]}


def test_single_diagnosis_encounters_get_no_sequencing_or_linkage(
    full_catalog: InMemoryCatalog,
) -> None:
    spec = ankle(
        key={
            "diagnoses": [{"code": "S93.491A"}],
            "procedures": [{"code": "99203", "dx_pointers": [1]}],
        }
    )
    assert generate(spec, full_catalog, types=["sequencing", "linkage"], seed=1) == []


def test_audit_fixes_move_swap_replace_and_delete_lines() -> None:
    claim = AnswerSheet(diagnoses=("F17.210", "S93.492A", "K21.9"))
    fixes: Any = [
        {"line": "diagnoses[0]", "fix": "S93.492A"},  # sequencing: swap with line 1
        {"line": "diagnoses[0]", "fix": "S93.491A"},  # then the side
        {"line": "diagnoses[2]", "fix": None},
    ]
    assert apply_audit_fixes(claim, fixes).diagnoses == ("S93.491A", "F17.210")


def test_duplicate_procedure_codes_get_distinct_labels() -> None:
    spec = ankle(
        key={
            "diagnoses": [{"code": "J45.41"}],
            "procedures": [
                {"code": "94640", "dx_pointers": [1]},
                {"code": "94640", "modifiers": ["76"], "dx_pointers": [1]},
                {"code": "J7620", "units": 2, "dx_pointers": [1]},
            ],
        }
    )
    assert procedure_labels(spec.key.procedures) == ["94640", "94640-76", "J7620"]


def test_unknown_types_are_refused(full_catalog: InMemoryCatalog) -> None:
    with pytest.raises(ValueError, match="unknown exercise type"):
        generate(ankle(), full_catalog, types=["essay"], seed=1)


def test_counts_by_type_for_seed_one(
    full_catalog: InMemoryCatalog, valid_library: list[EncounterSpec]
) -> None:
    counts = dict.fromkeys(EXERCISE_TYPES, 0)
    for spec in valid_library:
        for exercise in generate(spec, full_catalog, seed=1):
            counts[exercise.type] += 1
    # Every encounter gets a full coding exercise, one audit and a code-family question.
    assert counts["full_coding"] == counts["audit"] == len(valid_library)
    assert all(count > 0 for count in counts.values()), counts
