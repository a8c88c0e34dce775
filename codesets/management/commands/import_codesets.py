"""Import code-set releases: the bundled sets, or official files.

Contract: ../shared/spec/contracts.md (common rules). What was done goes to stderr, one
line per release; a JSON summary goes to stdout. Exit 2 with a one-line reason for
unusable arguments or an unreadable, truncated or foreign file (nothing is written then).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from codesets.services import (
    CodesetImportError,
    ImportResult,
    import_bundled,
    release_import_cpt_licensed,
    release_import_hcpcs_cms,
    release_import_icd10cm,
)

_FILE_OPTIONS = ("icd10cm", "hcpcs", "cpt")


def _usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _usage_error(f"{option} must be a date as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Import code-set releases: the bundled ICD-10-CM, CPT and HCPCS sets (default), a "
        "CMS ICD-10-CM tabular XML (--icd10cm), a CMS alpha-numeric HCPCS file (--hcpcs) "
        "or a licensed CPT descriptor file (--cpt)."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        # The contract's --version (of a release) replaces Django's --version option.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--bundled",
            action="store_true",
            help="import the bundled sets (the default when no file is given)",
        )
        parser.add_argument("--icd10cm", metavar="FILE", help="CMS ICD-10-CM tabular XML file")
        parser.add_argument("--hcpcs", metavar="FILE", help="CMS alpha-numeric HCPCS file")
        parser.add_argument("--cpt", metavar="FILE", help="licensed CPT file: CODE<TAB>DESCRIPTOR")
        parser.add_argument(
            "--version", dest="release_version", metavar="V", help="release version"
        )
        parser.add_argument("--effective-from", metavar="YYYY-MM-DD")
        parser.add_argument(
            "--effective-to", metavar="YYYY-MM-DD", help="last day in force (default: open)"
        )
        parser.add_argument("--source", help="where the ICD-10-CM file comes from (shown on pages)")

    def handle(self, *args: Any, **options: Any) -> None:
        files = [name for name in _FILE_OPTIONS if options[name]]
        if len(files) > 1:
            raise _usage_error("give one of --icd10cm, --hcpcs or --cpt per run")
        if files and options["bundled"]:
            raise _usage_error("--bundled imports the bundled sets only; give no file with it")
        try:
            results = self._import(files[0] if files else None, options)
        except CodesetImportError as error:
            raise _usage_error(str(error)) from error
        for result in results:
            self.stderr.write(result.describe())
        self.stdout.write(json.dumps({"imports": [r.as_dict() for r in results]}, indent=2))

    def _import(self, kind: str | None, options: dict[str, Any]) -> list[ImportResult]:
        if kind is None:
            return import_bundled()
        path = Path(options[kind])
        if not path.is_file():
            raise _usage_error(f"cannot read {path}: no such file")
        version = options["release_version"]
        if not version:
            raise _usage_error(f"--{kind} needs --version")
        if kind == "cpt":
            return [release_import_cpt_licensed(path=path, version=version)]
        effective_from = _date(options["effective_from"], "--effective-from")
        effective_to = _date(options["effective_to"], "--effective-to")
        if effective_from is None:
            raise _usage_error(f"--{kind} needs --effective-from")
        if kind == "hcpcs":
            return [
                release_import_hcpcs_cms(
                    path=path,
                    version=version,
                    effective_from=effective_from,
                    effective_to=effective_to,
                )
            ]
        return [
            release_import_icd10cm(
                path=path,
                version=version,
                effective_from=effective_from,
                effective_to=effective_to,
                source=options["source"] or f"CMS ICD-10-CM tabular list {path.name}",
            )
        ]
