"""Search codes by code, code prefix or words; print a ranked JSON list.

Contract: ../shared/spec/contracts.md (``search_codes``). Without ``--date`` the search
looks at today's release of each system, or at its newest release when none is in force
today (the bundled ICD-10-CM release ends on 2026-09-30). With ``--date`` only releases
in force on that date are searched; exit 2 when there is none.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from codesets.domain.catalog import NoReleaseInForce
from codesets.domain.systems import System
from codesets.search import search_codes


class Command(BaseCommand):
    help = "Search ICD-10-CM, CPT and HCPCS codes; prints a ranked JSON list."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("query", help="a code, the start of one, or words")
        parser.add_argument("--system", help="ICD-10-CM, CPT or HCPCS (default: all)")
        parser.add_argument("--limit", type=int, default=10, help="most results (default 10)")
        parser.add_argument("--date", help="date of service YYYY-MM-DD (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        system = None
        if options["system"]:
            try:
                system = System.parse(options["system"])
            except ValueError as error:
                raise CommandError(str(error), returncode=2) from error
        limit = options["limit"]
        if limit < 1:
            raise CommandError("--limit must be a positive whole number", returncode=2)
        day = None
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(
                    f"--date must be a date as YYYY-MM-DD, not {options['date']!r}", returncode=2
                ) from None
        try:
            hits = search_codes(query=options["query"], system=system, limit=limit, day=day)
        except NoReleaseInForce as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(json.dumps([hit.as_dict() for hit in hits], indent=2, ensure_ascii=False))
