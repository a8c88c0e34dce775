"""Generate exercises from library encounters (contract: ``generate_exercises``)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from codesets.adapters import memory_catalog_for_date
from codesets.domain.catalog import NoReleaseInForce
from quizzes.generation.encounters import EncounterFileError, bundled_library_path, load_library
from quizzes.generation.generators import EXERCISE_TYPES, generate


class Command(BaseCommand):
    help = "Print the exercises generated from one encounter or the whole library as JSON."

    def add_arguments(self, parser: Any) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--encounter", help="encounter id")
        target.add_argument("--all", action="store_true", help="every library encounter")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--types", default=",".join(EXERCISE_TYPES), help="comma-separated exercise types"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        types = tuple(t.strip() for t in options["types"].split(",") if t.strip())
        unknown = [t for t in types if t not in EXERCISE_TYPES]
        if unknown or not types:
            raise CommandError(
                f"unknown exercise type(s) {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(EXERCISE_TYPES)}",
                returncode=2,
            )
        try:
            specs = load_library(bundled_library_path())
        except EncounterFileError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if options["encounter"]:
            specs = [spec for spec in specs if spec.id == options["encounter"]]
            if not specs:
                raise CommandError(f"no encounter {options['encounter']!r}", returncode=2)
        exercises = []
        for spec in specs:
            try:
                catalog = memory_catalog_for_date(spec.date_of_service)
            except NoReleaseInForce as exc:
                raise CommandError(f"{spec.id}: {exc}", returncode=1) from exc
            exercises += generate(spec, catalog, types=types, seed=options["seed"])
        counts = Counter(exercise.type for exercise in exercises)
        self.stderr.write(
            f"{len(exercises)} exercises from {len(specs)} encounters: "
            + ", ".join(f"{kind} {counts[kind]}" for kind in types)
        )
        self.stdout.write(json.dumps([exercise.as_json() for exercise in exercises], indent=1))
