from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from quizzes.encounters.services import encounter_library_load
from quizzes.generation.encounters import EncounterFileError


class Command(BaseCommand):
    help = "Load the encounter library (one YAML file per encounter) into the database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--folder", type=Path, help="library folder (default: bundled)")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = options.get("folder")
        if folder is not None and not folder.is_dir():
            raise CommandError(f"{folder} is not a folder", returncode=2)
        try:
            report = encounter_library_load(folder=folder)
        except EncounterFileError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stderr.write(
            f"Encounters: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged."
        )
        self.stdout.write(json.dumps(report.as_json()))
