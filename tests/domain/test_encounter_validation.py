"""Answer-key validation against the full April 2026 catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codesets.domain.catalog import InMemoryCatalog
from quizzes.generation.encounters import (
    EncounterSpec,
    bundled_library_path,
    encounter_from_dict,
    load_encounter_file,
)
from quizzes.generation.validation import KeyProblem, check_key

LIBRARY_FILES = sorted(bundled_library_path().glob("*.yaml"))


def spec_with(
    diagnoses: list[Any],
    procedures: list[Any] | None = None,
    *,
    date: str = "2026-06-12",
    age: int = 40,
    sex: str = "M",
) -> EncounterSpec:
    return encounter_from_dict(
        {
            "id": "test-key",
            "title": "A key under test",
            "setting": "office",
            "specialty": "family medicine",
            "date_of_service": date,
            "patient": {"age_years": age, "sex": sex},
            "difficulty": 1,
            "tags": [],
            "note": "Note.",
            "key": {
                "diagnoses": [d if isinstance(d, dict) else {"code": d} for d in diagnoses],
                "procedures": procedures or [],
            },
        }
    )


def kinds(problems: list[KeyProblem]) -> list[tuple[str, str, str | None]]:
    return [(p.kind, p.line, p.code) for p in problems]


def test_a_clean_key_has_no_problem(full_catalog: InMemoryCatalog) -> None:
    spec = spec_with(
        ["S93.491A", {"code": "Y93.67", "optional": True}],
        [
            {"code": "99203", "dx_pointers": [1]},
            {"code": "E0114", "modifiers": ["NU"], "dx_pointers": [1]},
        ],
    )
    assert check_key(spec, full_catalog) == []


@pytest.mark.parametrize(
    ("diagnoses", "procedures", "expected"),
    [
        (["S93.40"], [], [("not_billable", "key.diagnoses[0]", "S93.40")]),
        (["S93.4"], [], [("not_billable", "key.diagnoses[0]", "S93.4")]),
        (["S93.491"], [], [("missing_seventh_character", "key.diagnoses[0]", "S93.491")]),
        (["J02.0", "Q99.99"], [], [("unknown_code", "key.diagnoses[1]", "Q99.99")]),
        (["J02.0", "99213"], [], [("wrong_family", "key.diagnoses[1]", "99213")]),
        (["J02.0", "1J02"], [], [("invalid_format", "key.diagnoses[1]", "1J02")]),
        (
            [{"code": "R50.9", "alternatives": ["R50.8"]}],
            [],
            [("not_billable", "key.diagnoses[0]", "R50.8")],
        ),
        (["J02.0"], [{"code": "99999"}], [("unknown_code", "key.procedures[0]", "99999")]),
        (["J02.0"], [{"code": "J02.0"}], [("wrong_family", "key.procedures[0]", "J02.0")]),
        (
            ["J02.0"],
            [{"code": "99213", "modifiers": ["2X5"]}],
            [("invalid_format", "key.procedures[0]", "99213")],
        ),
        (
            ["J02.0"],
            [{"code": "99213", "dx_pointers": [1, 2]}],
            [("pointer_out_of_range", "key.procedures[0]", "99213")],
        ),
    ],
)
def test_a_bad_code_or_pointer_is_named_by_line_and_code(
    full_catalog: InMemoryCatalog,
    diagnoses: list[Any],
    procedures: list[Any],
    expected: list[tuple[str, str, str]],
) -> None:
    problems = check_key(spec_with(diagnoses, procedures), full_catalog)

    assert kinds(problems) == expected
    assert all(problem.message for problem in problems)


@pytest.mark.parametrize(
    ("diagnoses", "age", "sex", "rule"),
    [
        (["E10.9", "E11.9"], 40, "M", "excludes1_conflict"),
        # Manifestation codes (code first the underlying disease) are never first-listed.
        (["G63", "E11.42"], 60, "M", "manifestation_first"),
        # Benign prostatic hyperplasia for a female patient: advisory since 2024-10-01,
        # but a key must not carry it either.
        (["N40.0"], 60, "F", "sex_conflict"),
        (["Z00.129"], 40, "M", "age_conflict"),
    ],
)
def test_a_key_that_trips_a_rule_is_rejected(
    full_catalog: InMemoryCatalog, diagnoses: list[str], age: int, sex: str, rule: str
) -> None:
    problems = check_key(spec_with(diagnoses, age=age, sex=sex), full_catalog)

    assert rule in {problem.rule for problem in problems}
    assert {problem.kind for problem in problems} == {"rule_finding"}
    assert all(problem.line.startswith("key.diagnoses[") for problem in problems)


def test_an_alternative_that_conflicts_with_another_key_code_is_rejected(
    full_catalog: InMemoryCatalog,
) -> None:
    spec = spec_with([{"code": "E11.9", "alternatives": ["E10.9"]}, "E11.65"])
    problems = check_key(spec, full_catalog)

    assert "excludes1_conflict" in {problem.rule for problem in problems}


@pytest.mark.parametrize("date", ["2026-03-31", "2026-10-01"])
def test_a_date_outside_the_release_window_has_no_release(
    full_catalog: InMemoryCatalog, date: str
) -> None:
    problems = check_key(spec_with(["J02.0"], date=date), full_catalog)

    assert kinds(problems) == [("no_release", "date_of_service", None)]
    assert "ICD-10-CM" in problems[0].message


def test_problems_serialise_with_stable_fields(full_catalog: InMemoryCatalog) -> None:
    problem = check_key(spec_with(["E10.9", "E11.9"]), full_catalog)[0]

    assert list(problem.as_json()) == ["kind", "line", "code", "rule", "message"]


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=[path.stem for path in LIBRARY_FILES])
def test_every_library_key_is_valid(full_catalog: InMemoryCatalog, path: Path) -> None:
    problems = check_key(load_encounter_file(path), full_catalog)

    assert problems == [], "\n".join(f"{p.line} {p.code}: {p.message}" for p in problems)
