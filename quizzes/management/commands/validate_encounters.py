"""Check every encounter key against the release in force on its date of service.

Contract: ../shared/spec/contracts.md (``validate_encounters``): prints a summary,
exits 1 if any key is invalid, naming the encounter and the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from quizzes.encounters.selectors import encounter_library_problems
from quizzes.generation.encounters import EncounterFileError


class Command(BaseCommand):
    help = "Validate every library encounter's answer key against the code sets."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print a JSON report")
        parser.add_argument("--folder", type=Path, help="library folder (default: bundled)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = encounter_library_problems(folder=options.get("folder"))
        except EncounterFileError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), indent=2))
        else:
            for encounter_id, problems in report.invalid.items():
                for problem in problems:
                    self.stdout.write(
                        f"INVALID {encounter_id} {problem.line} {problem.code or '-'}: "
                        f"{problem.message}"
                    )
            self.stdout.write(
                f"{report.checked} encounters checked: {report.checked - len(report.invalid)} "
                f"valid, {len(report.invalid)} invalid."
            )
        if report.invalid:
            raise SystemExit(1)
