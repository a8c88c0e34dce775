"""Print every imported release with its window, source and code counts.

Contract: ../shared/spec/contracts.md (``codeset_stats``). ``codes`` counts every entry
(chapters and blocks excluded; categories, headers and 7th-character expansions
included); ``billable`` counts the codes valid for reporting on a claim.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from codesets.selectors import codeset_stats


class Command(BaseCommand):
    help = "JSON summary of the imported code-set releases."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps({"releases": codeset_stats()}, indent=2))
