"""Grade JSON Lines cases exactly as the site grades a submitted response.

Contract: ../shared/spec/contracts.md (``grade_cases``). One output line per input
line, in order; a case that cannot be graded yields an ``error`` line and the run goes
on; exit 2 only when FILE itself cannot be read.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError

from codesets.adapters import memory_catalog_for_date
from quizzes.grading.cases import grade_case, render_error


class Command(BaseCommand):
    help = "Grade JSON Lines answer sheets against their keys (FILE or - for stdin)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="JSON Lines file, or - for standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            stream: TextIO = (
                sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
            )
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=2) from exc
        try:
            for number, raw in enumerate(stream, start=1):
                if raw.strip():
                    self.stdout.write(json.dumps(grade_line(raw, number)))
        except UnicodeDecodeError as exc:
            raise CommandError(f"cannot read {path}: it is not UTF-8 text", returncode=2) from exc
        finally:
            if stream is not sys.stdin:
                stream.close()


def grade_line(raw: str, number: int) -> dict[str, object]:
    """Grade one input line; a bad line becomes an error object, never an exception."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return render_error(
            f"Line {number} is not valid JSON ({exc.msg}).", case_id=None, line_number=number
        )
    return grade_case(data, catalog_for=memory_catalog_for_date, line_number=number)
