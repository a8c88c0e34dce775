"""Read side of encounters: lookups, the library shape of a stored encounter, and key
validation across the library and the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import QuerySet

from codesets.adapters import memory_catalog_for_date
from codesets.domain.catalog import Catalog, NoReleaseInForce
from codesets.models import Release
from coding_course.accounts.errors import NotFound
from quizzes.generation.encounters import (
    EncounterSpec,
    bundled_library_path,
    encounter_from_dict,
    load_library,
)
from quizzes.generation.validation import KeyProblem, check_key
from quizzes.models import Encounter, EncounterSource


def encounter_get(*, slug: str) -> Encounter:
    encounter = Encounter.objects.filter(slug=slug).first()
    if encounter is None:
        raise NotFound("No such encounter.")
    return encounter


def encounter_get_authored(*, slug: str) -> Encounter:
    """An encounter an instructor wrote (library encounters are edited as files)."""
    encounter = Encounter.objects.filter(slug=slug, source=EncounterSource.AUTHORED).first()
    if encounter is None:
        raise NotFound("No such encounter.")
    return encounter


def encounters_for_authoring() -> QuerySet[Encounter]:
    """Authored encounters first, then the library, newest edits first within each."""
    return Encounter.objects.only(
        "slug", "title", "source", "difficulty", "date_of_service", "updated_at"
    ).order_by("-source", "slug")


def icd10cm_release_windows() -> list[tuple[str, dt.date, dt.date | None]]:
    """ICD-10-CM releases as (version, first day, last day), newest first."""
    return [
        (release.version, release.effective_from, release.effective_to)
        for release in Release.objects.filter(system="ICD-10-CM").order_by("-effective_from")
    ]


def encounter_spec(encounter: Encounter) -> EncounterSpec:
    """The row in the library's file shape, read back through the library's own reader."""
    document = {
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
    return encounter_from_dict(document, source=encounter.slug)


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


def encounter_library_problems(*, folder: Path | None = None) -> LibraryReport:
    """Validate the library files plus the encounters instructors authored."""
    specs = load_library(folder or bundled_library_path())
    known = {spec.id for spec in specs}
    authored = Encounter.objects.exclude(source=EncounterSource.LIBRARY).exclude(slug__in=known)
    specs += [encounter_spec(encounter) for encounter in authored]
    report = LibraryReport()
    for spec in specs:
        report.checked += 1
        problems = encounter_key_problems(spec)
        if problems:
            report.invalid[spec.id] = problems
    return report
