"""Reading an uploaded list of candidates: ``email`` and optionally ``name`` and
``extra_minutes`` columns, one candidate a row.

The whole file is refused when it cannot be read (too large, not UTF-8, binary, no
``email`` column, too many rows) or when any row is bad; then every bad row is named
with its number and a stable problem code, and nothing is invited. A manager fixes the
file and uploads it again instead of working out which half went through. Cell text is
kept verbatim (a name like ``=HYPERLINK(...)`` is stored as typed; exports escape it).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_BYTES = 100 * 1024
MAX_ROWS = 500
MAX_EXTRA_MINUTES = 600
NAME_LENGTH = 150


@dataclass(frozen=True)
class InviteRow:
    row_number: int
    email: str
    name: str
    extra_minutes: int


@dataclass(frozen=True)
class RowProblem:
    """``row_number`` counts the header as row 1, as a spreadsheet shows it."""

    row_number: int
    code: str
    message: str
    value: str = ""


class InvitationFileRefused(Exception):
    """The file as a whole: ``status`` is 413 for size, 400 otherwise."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class InvitationRowsRefused(Exception):
    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} row(s) refused")
        self.problems = problems


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise InvitationFileRefused(
            "too_large", f"The file is over {MAX_BYTES // 1024} KB.", status=413
        )
    if b"\x00" in data:
        raise InvitationFileRefused("binary", "The file is not a text CSV file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvitationFileRefused("not_utf8", "The file is not UTF-8 text.") from None


def parse_email(value: str) -> str:
    """The address lower-cased; ValidationError(code="invalid_email") when it is not one."""
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError("Not an e-mail address.", code="invalid_email") from None
    return email


def read_invitations(data: bytes, *, already_invited: set[str]) -> list[InviteRow]:
    """The file's rows as invitations, or InvitationFileRefused / InvitationRowsRefused."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        raise InvitationFileRefused("empty", "The file is empty.") from None
    except csv.Error as error:
        raise InvitationFileRefused("unreadable", f"The file is not CSV: {error}.") from None
    if "email" not in header:
        raise InvitationFileRefused(
            "no_email_column", "The first row must name the columns, one of them email."
        )
    columns = {
        name: header.index(name) for name in ("email", "name", "extra_minutes") if name in header
    }
    rows: list[InviteRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    try:
        for row_number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                raise InvitationFileRefused(
                    "too_many_rows", f"The file has more than {MAX_ROWS} candidates."
                )
            row, problem = _row(row_number, cells, columns, seen, already_invited)
            if problem is not None:
                problems.append(problem)
            elif row is not None:
                rows.append(row)
                seen[row.email] = row_number
    except csv.Error as error:
        raise InvitationFileRefused("unreadable", f"The file is not CSV: {error}.") from None
    if problems:
        raise InvitationRowsRefused(problems)
    if not rows:
        raise InvitationFileRefused("no_rows", "The file names no candidates.")
    return rows


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return cells[index] if index is not None and index < len(cells) else ""


def _row(
    row_number: int,
    cells: list[str],
    columns: dict[str, int],
    seen: dict[str, int],
    already_invited: set[str],
) -> tuple[InviteRow | None, RowProblem | None]:
    raw_email = _cell(cells, columns, "email")
    try:
        email = parse_email(raw_email)
    except ValidationError:
        return None, RowProblem(row_number, "invalid_email", "Not an e-mail address.", raw_email)
    if email in seen:
        return None, RowProblem(
            row_number, "duplicate_row", f"Same address as row {seen[email]}.", raw_email
        )
    if email in already_invited:
        return None, RowProblem(
            row_number, "already_invited", "Already invited to this assessment.", raw_email
        )
    name = _cell(cells, columns, "name").strip()
    if len(name) > NAME_LENGTH:
        return None, RowProblem(
            row_number, "name_too_long", f"Names are at most {NAME_LENGTH} characters.", name
        )
    raw_minutes = _cell(cells, columns, "extra_minutes").strip()
    minutes = 0
    if raw_minutes:
        if not raw_minutes.isdigit() or int(raw_minutes) > MAX_EXTRA_MINUTES:
            return None, RowProblem(
                row_number,
                "bad_extra_minutes",
                f"Extra minutes must be a whole number from 0 to {MAX_EXTRA_MINUTES}.",
                raw_minutes,
            )
        minutes = int(raw_minutes)
    return InviteRow(row_number, email, name, minutes), None
