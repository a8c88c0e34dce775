"""Services for encounters: load the bundled library idempotently."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from quizzes.generation.encounters import (
    EncounterSpec,
    bundled_library_path,
    encounter_to_dict,
    load_library,
)
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
