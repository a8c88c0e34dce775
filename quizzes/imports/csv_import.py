"""Answer sheets uploaded as CSV: one row per learner, exercise and code line.

This module reads and checks the file without touching the database: the file as a
whole is refused (nothing is created) when it is too big, not text, not UTF-8, has too
many rows or lacks a column; otherwise each row is checked on its own and a bad row is
reported with its row number and a stable reason code while the good rows go on to be
scored. Who the learner is and which exercise a number means are checked by the
service, which knows the quiz.

Columns (header names, any case and order; extra columns are ignored):

``learner``      the learner's username
``exercise``     the exercise's number in the quiz, from 1
``line``         ``dx`` (a diagnosis, in reporting order), ``proc`` (a procedure or
                 supply line) or ``answer`` (the single answer of a choice exercise)
``code``         the code as written on the sheet
``modifiers``    optional, procedure lines: up to four, separated by spaces or commas
``units``        optional, procedure lines: a whole number, default 1
``dx_pointers``  optional, procedure lines: diagnosis numbers, separated likewise

Row numbers are the spreadsheet's: the header is row 1. Cells are kept exactly as
uploaded (a cell such as ``=HYPERLINK(...)`` is data, never evaluated); exports escape
them (see ``quizzes.imports.csv_export``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from codesets.domain.shapes import has_shape, looks_like_modifier, procedure_system
from codesets.domain.systems import System

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
REQUIRED_COLUMNS: tuple[str, ...] = ("learner", "exercise", "line", "code")
OPTIONAL_COLUMNS: tuple[str, ...] = ("modifiers", "units", "dx_pointers")
LINE_KINDS: Mapping[str, str] = {
    "dx": "dx",
    "diagnosis": "dx",
    "proc": "proc",
    "procedure": "proc",
    "answer": "answer",
}
MAX_UNITS = 9999
MAX_POINTER = 12
MAX_MODIFIERS = 4

# Leading bytes of the binary formats people most often rename to .csv by mistake.
_BINARY_SIGNATURES: tuple[bytes, ...] = (
    b"PK\x03\x04",  # xlsx, docx, zip
    b"\xd0\xcf\x11\xe0",  # legacy xls, doc
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"\x1f\x8b",  # gzip
)
_LIST_SEPARATORS = re.compile(r"[\s,;]+")


class SheetRefused(Exception):
    """The file as a whole is refused; ``code`` is stable, ``status`` the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SheetRow:
    """One data row, cells as uploaded (stripped of surrounding spaces)."""

    number: int
    learner: str
    exercise: str
    line: str
    code: str
    modifiers: str = ""
    units: str = ""
    dx_pointers: str = ""


@dataclass(frozen=True)
class RowProblem:
    """Why a row is refused: ``code`` is stable, ``value`` the offending cell verbatim."""

    row_number: int
    code: str
    message: str
    value: str = ""


@dataclass(frozen=True)
class CodeLine:
    """A row that passed the shape checks, ready to be placed in an answer."""

    row_number: int
    learner: str
    exercise: int
    kind: str
    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    dx_pointers: tuple[int, ...] = ()


@dataclass
class CheckedSheet:
    lines: list[CodeLine] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    return b"\x00" in head or any(data.startswith(sig) for sig in _BINARY_SIGNATURES)


def _header_name(text: str) -> str:
    return text.strip().lower().replace(" ", "_").replace("-", "_")


def read_sheet(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> list[SheetRow]:
    """The rows of an uploaded answer sheet, or SheetRefused for the whole file."""
    if len(data) > max_bytes:
        raise SheetRefused(
            "too_large",
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{max_bytes / 1_048_576:.0f} MB.",
            status=413,
        )
    if _looks_binary(data):
        raise SheetRefused("not_text", "This is not a CSV text file (it looks like a binary file).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise SheetRefused(
            "not_utf8",
            f"The file is not UTF-8 text (byte {problem.start + 1} cannot be read); "
            "save it as 'CSV UTF-8' and upload it again.",
        ) from problem
    if not text.strip():
        raise SheetRefused("empty", "The file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [_header_name(name) for name in next(reader)]
    except csv.Error as problem:
        raise SheetRefused("bad_csv", f"The header row cannot be read: {problem}.") from problem
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise SheetRefused(
            "missing_columns",
            f"Missing column(s): {', '.join(missing)}. The header row needs "
            f"{', '.join(REQUIRED_COLUMNS)} (and may have {', '.join(OPTIONAL_COLUMNS)}).",
        )
    known = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    where = {name: header.index(name) for name in known if name in header}
    rows: list[SheetRow] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= max_rows:
                raise SheetRefused(
                    "too_many_rows", f"The file has more than {max_rows:,} rows; split it."
                )
            values = {
                name: cells[index].strip() if index < len(cells) else ""
                for name, index in where.items()
            }
            rows.append(SheetRow(number=reader.line_num, **values))
    except csv.Error as problem:
        raise SheetRefused(
            "bad_csv", f"Row {reader.line_num} cannot be read as CSV: {problem}."
        ) from problem
    return rows


def _split(text: str) -> list[str]:
    return [part for part in _LIST_SEPARATORS.split(text) if part]


def check_row(row: SheetRow) -> CodeLine | RowProblem:
    """Shape checks that need no database: the line kind, the code's family shape,
    modifiers, units and pointers."""
    if not row.learner:
        return RowProblem(row.number, "missing_learner", "The learner cell is empty.")
    if not row.exercise.isdigit() or int(row.exercise) < 1:
        return RowProblem(
            row.number,
            "bad_exercise",
            "The exercise must be the exercise's number in the quiz (1, 2, ...).",
            row.exercise,
        )
    kind = LINE_KINDS.get(row.line.strip().lower())
    if kind is None:
        return RowProblem(row.number, "bad_line", "The line must be dx, proc or answer.", row.line)
    if not row.code:
        return RowProblem(row.number, "missing_code", "The code cell is empty.")
    if kind == "dx" and not has_shape(row.code, System.ICD10CM):
        return RowProblem(
            row.number,
            "bad_code_shape",
            "A diagnosis must be shaped like an ICD-10-CM code (a letter, two characters, "
            "then up to four more).",
            row.code,
        )
    if kind == "proc" and procedure_system(row.code) is None:
        return RowProblem(
            row.number,
            "bad_code_shape",
            "A procedure line must be shaped like a CPT code (five characters) or an "
            "HCPCS Level II code (a letter and four digits).",
            row.code,
        )
    if kind != "proc":
        if row.modifiers or row.units or row.dx_pointers:
            return RowProblem(
                row.number,
                "details_on_non_procedure",
                "Modifiers, units and pointers belong on procedure lines only.",
            )
        return CodeLine(row.number, row.learner, int(row.exercise), kind, row.code)
    return _procedure_line(row)


def _procedure_line(row: SheetRow) -> CodeLine | RowProblem:
    modifiers = _split(row.modifiers)
    if len(modifiers) > MAX_MODIFIERS or not all(looks_like_modifier(m) for m in modifiers):
        return RowProblem(
            row.number,
            "bad_modifier",
            f"Modifiers are two letters or digits each, at most {MAX_MODIFIERS}.",
            row.modifiers,
        )
    units = 1
    if row.units:
        if not row.units.isdigit() or not 1 <= int(row.units) <= MAX_UNITS:
            return RowProblem(
                row.number, "bad_units", f"Units are a whole number, 1 to {MAX_UNITS}.", row.units
            )
        units = int(row.units)
    pointers = _split(row.dx_pointers)
    if not all(p.isdigit() and 1 <= int(p) <= MAX_POINTER for p in pointers):
        return RowProblem(
            row.number,
            "bad_pointer",
            f"Diagnosis pointers are diagnosis numbers, 1 to {MAX_POINTER}.",
            row.dx_pointers,
        )
    return CodeLine(
        row.number,
        row.learner,
        int(row.exercise),
        "proc",
        row.code,
        tuple(modifiers),
        units,
        tuple(int(p) for p in pointers),
    )


def check_sheet(rows: Sequence[SheetRow]) -> CheckedSheet:
    checked = CheckedSheet(rows=len(rows))
    for row in rows:
        outcome = check_row(row)
        if isinstance(outcome, RowProblem):
            checked.problems.append(outcome)
        else:
            checked.lines.append(outcome)
    return checked


def answer_from_lines(
    exercise_type: str, lines: Sequence[CodeLine]
) -> dict[str, object] | RowProblem:
    """One learner's answer to one exercise, in the stored shape of its type.

    Full coding takes dx and proc lines in file order; choice exercises take exactly one
    ``answer`` line. Anything else is refused, naming the first offending row.
    """
    if exercise_type == "full_coding":
        wrong = next((line for line in lines if line.kind == "answer"), None)
        if wrong is not None:
            return RowProblem(
                wrong.row_number,
                "line_kind_mismatch",
                "This exercise is coded with dx and proc lines, not a single answer.",
            )
        return {
            "diagnoses": [line.code for line in lines if line.kind == "dx"],
            "procedures": [
                {
                    "code": line.code,
                    "modifiers": list(line.modifiers),
                    "units": line.units,
                    "dx_pointers": list(line.dx_pointers),
                }
                for line in lines
                if line.kind == "proc"
            ],
        }
    if exercise_type in ("best_code", "code_family", "specificity"):
        answers = [line for line in lines if line.kind == "answer"]
        if len(answers) != 1 or len(lines) != 1:
            return RowProblem(
                lines[0].row_number,
                "line_kind_mismatch",
                "A choice exercise takes exactly one 'answer' line per learner.",
            )
        return {"value": answers[0].code}
    return RowProblem(
        lines[0].row_number,
        "exercise_not_importable",
        "Sequencing, linkage and audit exercises cannot be imported from a sheet.",
    )
