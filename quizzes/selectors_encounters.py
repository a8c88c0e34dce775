"""Read-side helpers for encounters: key validation across the library and database."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from codesets.adapters import memory_catalog_for_date
from codesets.domain.catalog import Catalog, NoReleaseInForce
from quizzes.generation.encounters import (
    EncounterSpec,
    bundled_library_path,
    encounter_from_dict,
    load_library,
)
from quizzes.generation.validation import KeyProblem, check_key
from quizzes.models import Encounter, EncounterSource


@dataclass
class LibraryReport:
    checked: int = 0
    invalid: dict[str, list[KeyProblem]] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "valid": self.checked - len(self.invalid),
            "invalid": [
                {
                    "encounter": encounter_id,
                    "problems": [
                        {"kind": p.kind, "line": p.line, "code": p.code, "message": p.message}
                        for p in problems
                    ],
                }
                for encounter_id, problems in self.invalid.items()
            ],
        }


def encounter_key_problems(spec: EncounterSpec) -> list[KeyProblem]:
    """Problems of one key against the releases in force on its date of service."""
    try:
        catalog: Catalog = memory_catalog_for_date(spec.date_of_service)
    except NoReleaseInForce as exc:
        return [KeyProblem(kind="no_release", line="date_of_service", code=None, message=str(exc))]
    return list(check_key(spec, catalog))


def encounter_spec_from_model(encounter: Encounter) -> EncounterSpec:
    return encounter_from_dict(
        {
            "id": encounter.slug,
            "title": encounter.title,
            "setting": encounter.setting,
            "specialty": encounter.specialty,
            "date_of_service": encounter.date_of_service,
            "patient": {"age_years": encounter.patient_age_years, "sex": encounter.patient_sex},
            "difficulty": encounter.difficulty,
            "tags": list(encounter.tags),
            "note": encounter.note,
            "key": encounter.key,
        }
    )


def encounter_library_problems(*, folder: Path | None = None) -> LibraryReport:
    """Validate the library files plus the encounters instructors authored."""
    specs = load_library(folder or bundled_library_path())
    known = {spec.id for spec in specs}
    authored = Encounter.objects.exclude(source=EncounterSource.LIBRARY).exclude(slug__in=known)
    specs += [encounter_spec_from_model(encounter) for encounter in authored]
    report = LibraryReport()
    for spec in specs:
        report.checked += 1
        problems = encounter_key_problems(spec)
        if problems:
            report.invalid[spec.id] = problems
    return report
