"""Loading, checking and round-tripping the encounter YAML files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from quizzes.generation.encounters import (
    EncounterFileError,
    EncounterSpec,
    bundled_library_path,
    encounter_from_dict,
    encounter_to_dict,
    encounter_to_yaml,
    load_encounter_file,
    load_library,
)

LIBRARY_FILES = sorted(bundled_library_path().glob("*.yaml"))

ANKLE = """\
id: uc-ankle
title: Right ankle inversion injury
setting: urgent care, professional claim
specialty: orthopedics
date_of_service: 2026-06-12
patient: {age_years: 27, sex: M}
difficulty: 2
tags: [icd-10-cm, laterality]
note: |
  ASSESSMENT: Grade II sprain of the right anterior talofibular ligament.
key:
  diagnoses:
    - {code: S93.491A, documented_as: "Grade II sprain", why: "Talofibular: S93.49."}
    - {code: Y93.67, optional: true, why: "Basketball."}
    - {code: R50.9, alternatives: [R50.81], why: "Fever."}
  procedures:
    - {code: "99203", dx_pointers: [1], why: "New patient."}
    - {code: E0114, modifiers: [NU], units: 1, dx_pointers: [1]}
    - {code: 73610, modifiers: [RT], dx_pointers: [1]}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_well_formed_file_loads_into_the_key_and_its_teaching_text(tmp_path: Path) -> None:
    spec = load_encounter_file(write(tmp_path, "uc-ankle", ANKLE))

    assert spec.date_of_service == dt.date(2026, 6, 12)
    assert (spec.patient.age_years, spec.patient.sex) == (27, "M")
    assert [line.code for line in spec.key.diagnoses] == ["S93.491A", "Y93.67", "R50.9"]
    assert spec.key.diagnoses[1].optional
    assert spec.key.diagnoses[2].alternatives == ("R50.81",)
    assert spec.diagnosis_text[0].documented_as == "Grade II sprain"
    assert spec.key.diagnoses[0].rationale == "Talofibular: S93.49."
    # An unquoted 73610 is read as the code it looks like, not rejected as a number.
    assert [(p.code, p.modifiers) for p in spec.key.procedures] == [
        ("99203", ()),
        ("E0114", ("NU",)),
        ("73610", ("RT",)),
    ]


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("title: Right ankle inversion injury\n", "", "missing field(s) title"),
        ("date_of_service: 2026-06-12", "date_of_service: 2026-13-40", "date_of_service"),
        ("date_of_service: 2026-06-12", "date_of_service: next tuesday", "YYYY-MM-DD"),
        ("sex: M}", "sex: X}", "patient.sex: must be F or M"),
        ("age_years: 27", "age_years: 130", "patient.age_years"),
        ("difficulty: 2", "difficulty: 4", "difficulty: must be 1, 2 or 3"),
        ("difficulty: 2", "difficulty: 0", "difficulty: must be 1, 2 or 3"),
        ("tags: [", "tag: [", "unknown field(s) tag"),
        ("units: 1,", "units: 0,", "key.procedures[1].units"),
        ('dx_pointers: [1], why: "New', 'dx_pointers: [one], why: "New', "dx_pointers"),
        ("optional: true", "optional: maybe", "key.diagnoses[1].optional"),
        ("- {code: S93.491A,", "- {cod: S93.491A,", "key.diagnoses[0]"),
    ],
)
def test_a_malformed_file_fails_with_its_name_and_the_reason(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    assert old in ANKLE
    path = write(tmp_path, "uc-ankle", ANKLE.replace(old, new, 1))

    with pytest.raises(EncounterFileError, match=r"uc-ankle\.yaml") as failure:
        load_encounter_file(path)
    assert reason in str(failure.value)


def test_the_id_must_be_the_file_name(tmp_path: Path) -> None:
    with pytest.raises(EncounterFileError, match=r"differs from the file name"):
        load_encounter_file(write(tmp_path, "uc-ankle-2", ANKLE))


def test_unreadable_yaml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(EncounterFileError, match=r"bad\.yaml: not valid YAML"):
        load_encounter_file(write(tmp_path, "bad", "id: [unclosed\n"))


def test_a_key_without_diagnoses_is_rejected(tmp_path: Path) -> None:
    text = ANKLE.split("key:")[0] + "key:\n  diagnoses: []\n"
    with pytest.raises(EncounterFileError, match="at least one diagnosis"):
        load_encounter_file(write(tmp_path, "uc-ankle", text))


def test_the_library_is_sorted_by_id(tmp_path: Path) -> None:
    for name in ("b-two", "a-one", "c-three"):
        write(tmp_path, name, ANKLE.replace("id: uc-ankle", f"id: {name}"))

    assert [spec.id for spec in load_library(tmp_path)] == ["a-one", "b-two", "c-three"]


def round_trips(spec: EncounterSpec) -> None:
    assert encounter_from_dict(encounter_to_dict(spec)) == spec
    assert encounter_from_dict(yaml.safe_load(encounter_to_yaml(spec))) == spec


def test_the_example_round_trips_through_dict_and_yaml(tmp_path: Path) -> None:
    spec = load_encounter_file(write(tmp_path, "uc-ankle", ANKLE))
    round_trips(spec)
    exported = encounter_to_dict(spec)
    assert exported["key"]["diagnoses"][1] == {
        "code": "Y93.67",
        "optional": True,
        "why": "Basketball.",
    }
    assert exported["key"]["procedures"][0]["modifiers"] == []


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=[path.stem for path in LIBRARY_FILES])
def test_every_library_file_loads_and_round_trips(path: Path) -> None:
    spec = load_encounter_file(path)
    round_trips(spec)
    assert len(spec.diagnosis_text) == len(spec.key.diagnoses)
    assert len(spec.procedure_text) == len(spec.key.procedures)
