"""The encounter library in the database, and the contract commands built on it."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from quizzes.encounters.services import encounter_library_load
from quizzes.generation.encounters import bundled_library_path
from quizzes.models import Encounter

pytestmark = pytest.mark.django_db

LIBRARY = bundled_library_path()


def run(*args: str) -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return out.getvalue(), int(exc.code or 0)
    return out.getvalue(), 0


def library_copy(tmp_path: Path, edit: dict[str, object] | None = None) -> Path:
    """A copy of three library files, the first one edited."""
    folder = tmp_path / "library"
    folder.mkdir()
    for path in sorted(LIBRARY.glob("*.yaml"))[:3]:
        shutil.copy(path, folder / path.name)
    if edit:
        first = sorted(folder.glob("*.yaml"))[0]
        data = yaml.safe_load(first.read_text())
        for dotted, value in edit.items():
            target = data
            *parents, leaf = dotted.split(".")
            for part in parents:
                target = target[int(part)] if part.isdigit() else target[part]
            target[int(leaf) if leaf.isdigit() else leaf] = value
        first.write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def test_library_meets_the_size_and_coverage_bar():
    files = sorted(LIBRARY.glob("*.yaml"))
    assert len(files) >= 80
    documents = [yaml.safe_load(path.read_text()) for path in files]
    with_cpt = [
        d for d in documents if any(p["code"][0].isdigit() for p in d["key"].get("procedures", []))
    ]
    with_hcpcs = [
        d for d in documents if any(p["code"][0].isalpha() for p in d["key"].get("procedures", []))
    ]
    assert len(with_cpt) >= 40
    assert len(with_hcpcs) >= 25
    specialties = {d["specialty"] for d in documents}
    for needed in (
        "primary-care",
        "pediatrics",
        "obstetrics",
        "orthopedics",
        "cardiology",
        "endocrinology",
        "pulmonology",
        "gastroenterology",
        "dermatology",
        "behavioral-health",
        "radiology",
        "lab",
        "dme-ambulance",
        "preventive",
        "oncology",
    ):
        assert needed in specialties, needed


def test_loading_is_idempotent_and_versions_changed_keys(tmp_path):
    folder = library_copy(tmp_path)
    first = encounter_library_load(folder=folder)
    assert len(first.created) == 3
    again = encounter_library_load(folder=folder)
    assert (len(again.created), len(again.updated), len(again.unchanged)) == (0, 0, 3)

    path = sorted(folder.glob("*.yaml"))[0]
    data = yaml.safe_load(path.read_text())
    data["title"] = data["title"] + " (retitled)"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    retitled = encounter_library_load(folder=folder)
    assert retitled.updated == [data["id"]]
    assert Encounter.objects.get(slug=data["id"]).key_version == 1

    data["key"]["diagnoses"][0]["why"] = "A corrected rationale."
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    encounter_library_load(folder=folder)
    assert Encounter.objects.get(slug=data["id"]).key_version == 2


def test_validate_encounters_passes_on_the_bundled_library():
    output, code = run("validate_encounters")
    assert code == 0, output
    assert "0 invalid" in output


@pytest.mark.parametrize(
    ("edit", "expected_kind", "expected_code"),
    [
        ({"key.diagnoses.0.code": "S93.40"}, "not_billable", "S93.40"),
        ({"key.diagnoses.0.code": "Z99.999"}, "unknown_code", "Z99.999"),
    ],
)
def test_validate_encounters_names_the_encounter_and_code(
    tmp_path, edit, expected_kind, expected_code
):
    folder = library_copy(tmp_path, edit)
    edited_id = sorted(folder.glob("*.yaml"))[0].stem
    output, code = run("validate_encounters", "--json", "--folder", str(folder))
    assert code == 1
    report = json.loads(output)
    [invalid] = report["invalid"]
    assert invalid["encounter"] == edited_id
    kinds = {(p["kind"], p["code"]) for p in invalid["problems"]}
    assert (expected_kind, expected_code) in kinds


def test_validate_encounters_catches_an_excludes1_pair(tmp_path):
    folder = library_copy(tmp_path)
    path = sorted(folder.glob("*.yaml"))[0]
    data = yaml.safe_load(path.read_text())
    data["key"]["diagnoses"] = [
        {"code": "E11.9", "documented_as": "type 2 diabetes", "why": "test"},
        {"code": "E10.9", "documented_as": "type 1 diabetes", "why": "test"},
    ]
    for line in data["key"].get("procedures", []):
        line["dx_pointers"] = [1]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    output, code = run("validate_encounters", "--folder", str(folder))
    assert code == 1
    assert f"INVALID {path.stem}" in output
    assert "E10.9" in output
    assert "Excludes1" in output


def test_generate_exercises_is_deterministic_and_follows_the_contract():
    first, _ = run("generate_exercises", "--all", "--seed", "1")
    second, _ = run("generate_exercises", "--all", "--seed", "1")
    assert first == second
    exercises = json.loads(first)
    assert {e["type"] for e in exercises} == {
        "full_coding",
        "best_code",
        "code_family",
        "specificity",
        "sequencing",
        "linkage",
        "audit",
    }
    for exercise in exercises:
        assert {"encounter", "type", "prompt", "choices", "answer"} <= set(exercise)
    other, _ = run("generate_exercises", "--all", "--seed", "2")
    assert other != first


def test_generate_exercises_refuses_unknown_types():
    with pytest.raises(CommandError, match="unknown exercise type"):
        call_command("generate_exercises", "--all", "--types", "essay", stdout=io.StringIO())


def test_grade_cases_follows_the_contract(tmp_path):
    cases = tmp_path / "cases.jsonl"
    example = {
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
    late = {**example, "id": "late", "date_of_service": "2031-01-01"}
    cases.write_text("\n".join([json.dumps(example), "{not json", json.dumps(late)]) + "\n")
    output, code = run("grade_cases", str(cases))
    assert code == 0
    lines = [json.loads(line) for line in output.splitlines()]
    assert [line.get("id", line.get("line")) for line in lines] == ["c1", 2, "late"]
    graded = lines[0]
    assert (graded["score"], graded["max_score"], graded["percent"]) == (4.25, 5.0, 85.0)
    assert graded["release"]["ICD-10-CM"] == "2026-04"
    kinds = [f["kind"] for f in graded["findings"]]
    assert kinds.count("correct") == 2
    assert {"modifier_error", "linkage_error", "missing"} <= set(kinds)
    modifier = next(f for f in graded["findings"] if f["kind"] == "modifier_error")
    assert modifier["expected"] == ["25"]
    assert modifier["line"] == "procedures[0]"
    assert "error" in lines[1]
    assert "error" in lines[2]
    assert "2031-01-01" in lines[2]["error"]


def test_grade_cases_exits_2_when_the_file_cannot_be_read(tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command("grade_cases", str(tmp_path / "absent.jsonl"), stdout=io.StringIO())
    assert raised.value.returncode == 2
