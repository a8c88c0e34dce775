"""Look a term up in an ICD-10-CM index table; print JSON.

Contract: ../shared/spec/contracts.md (``table_lookup``). TABLE is ``neoplasm``,
``drug`` or ``external``; an unknown TABLE exits 2. ``release`` names the ICD-10-CM
release the cells are checked against: the one in force on ``--date`` (default: today's,
as ``search_codes`` chooses it), or null when none is in force (then no ``checks``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from codesets.index_lookup import UnknownTable, table_lookup


class Command(BaseCommand):
    help = "Look a term up in the Neoplasm, Drug or External Cause index table; prints JSON."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("table", help="neoplasm, drug or external")
        parser.add_argument("query", help="free words, any order, prefixes allowed")
        parser.add_argument("--limit", type=int, default=10, help="most rows (default 10)")
        parser.add_argument("--date", help="date of service YYYY-MM-DD (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
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
            result = table_lookup(
                table=options["table"], query=options["query"], limit=limit, day=day
            )
        except UnknownTable as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
