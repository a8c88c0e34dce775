"""Services for encounters: load the bundled library idempotently, save an
instructor's encounter after the key check, generate exercises from an encounter."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from codesets.adapters import catalog_for_date, memory_catalog_for_date
from codesets.domain.catalog import NoReleaseInForce
from quizzes.encounters.selectors import encounter_spec
from quizzes.errors import AuthoringProblem, EncounterRejected
from quizzes.generation.encounters import (
    EncounterFileError,
    EncounterSpec,
    bundled_library_path,
    encounter_from_dict,
    encounter_to_dict,
    load_library,
)
from quizzes.generation.generators import generate
from quizzes.generation.validation import check_key
from quizzes.models import Encounter, EncounterSource


@dataclass
class LibraryLoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "updated_ids": self.updated,
        }


def encounter_content_hash(spec: EncounterSpec) -> str:
    canonical = json.dumps(encounter_to_dict(spec), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _key_json(spec: EncounterSpec) -> dict[str, object]:
    data = encounter_to_dict(spec)["key"]
    assert isinstance(data, dict)
    return data


def encounter_upsert(
    *, spec: EncounterSpec, source: str = EncounterSource.LIBRARY
) -> tuple[Encounter, str]:
    """Create or update one encounter from its spec; returns it and what happened.

    The key version goes up only when the key itself changed, so rescoring is asked
    for only when it can change a score.
    """
    digest = encounter_content_hash(spec)
    key = _key_json(spec)
    fields = {
        "title": spec.title,
        "setting": spec.setting,
        "specialty": spec.specialty,
        "date_of_service": spec.date_of_service,
        "patient_age_years": spec.patient.age_years,
        "patient_sex": spec.patient.sex or "",
        "difficulty": spec.difficulty,
        "tags": list(spec.tags),
        "note": spec.note,
        "key": key,
        "source": source,
        "content_hash": digest,
    }
    existing = Encounter.objects.select_for_update().filter(slug=spec.id).first()
    if existing is None:
        return Encounter.objects.create(slug=spec.id, **fields), "created"
    if existing.content_hash == digest:
        return existing, "unchanged"
    if existing.key != key:
        existing.key_version += 1
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.save()
    return existing, "updated"


def encounter_library_load(*, folder: Path | None = None) -> LibraryLoadReport:
    """Load every encounter file of the library in one transaction (all or nothing)."""
    specs = load_library(folder or bundled_library_path())
    report = LibraryLoadReport()
    with transaction.atomic():
        for spec in specs:
            _, outcome = encounter_upsert(spec=spec)
            getattr(report, outcome).append(spec.id)
    return report


def encounter_author_save(
    *, document: Mapping[str, Any], user: Any, existing: Encounter | None = None
) -> Encounter:
    """Save an instructor's encounter after the same key check as ``validate_encounters``.

    Raises EncounterRejected with every problem, each tied to its line, when the
    document cannot be read, would overwrite a library encounter or another's, or its
    key fails the check against the releases in force on its date of service.
    """
    try:
        spec = encounter_from_dict(dict(document), source="encounter")
    except EncounterFileError as error:
        raise EncounterRejected([AuthoringProblem("invalid_document", "", str(error))]) from None
    clash = Encounter.objects.filter(slug=spec.id).first()
    if clash is not None and (existing is None or clash.pk != existing.pk):
        if clash.source == EncounterSource.LIBRARY or existing is not None:
            raise EncounterRejected(
                [AuthoringProblem("slug_taken", "slug", f"The identifier {spec.id} is taken.")]
            )
        existing = clash
    if existing is not None and existing.slug != spec.id:
        raise EncounterRejected(
            [AuthoringProblem("slug_fixed", "slug", "An encounter's identifier cannot change.")]
        )
    try:
        catalog = catalog_for_date(spec.date_of_service)
    except NoReleaseInForce as error:
        raise EncounterRejected(
            [AuthoringProblem("no_release", "date_of_service", f"{str(error).capitalize()}.")]
        ) from None
    problems = [
        AuthoringProblem(problem.kind, problem.line, problem.message)
        for problem in check_key(spec, catalog)
    ]
    if problems:
        raise EncounterRejected(problems)
    with transaction.atomic():
        encounter, _ = encounter_upsert(spec=spec, source=EncounterSource.AUTHORED)
        if encounter.created_by_id is None:
            encounter.created_by = user
            encounter.save(update_fields=["created_by"])
    return encounter


def exercises_generate(
    *, encounter: Encounter, types: Sequence[str], seed: int = 1
) -> list[dict[str, Any]]:
    """Exercises of ``types`` for one encounter, as stored on a QuizItem."""
    catalog = memory_catalog_for_date(encounter.date_of_service)
    exercises = generate(encounter_spec(encounter), catalog, types=types, seed=seed)
    return [{**exercise.as_json(), "line": exercise.line} for exercise in exercises]
