"""Parse the CMS alpha-numeric HCPCS Level II file (fixed-width "RIF" contractor records).

The quarterly CMS file stores one code per group of 320-character records: a first record
(record id ``3`` for a procedure code, ``7`` for a modifier) with the code's data, then
zero or more continuation records (``4`` or ``8``) that carry only more of the long
description. Modifiers sit in the same file with the code field holding three spaces and
the two modifier characters, so they are returned apart from the codes. The file keeps
terminated codes with their termination date, which is why activity on a date is a
question (:func:`is_active`) rather than mere presence. Column positions follow the CMS
record layout (``HCPC2026_recordlayout.txt``): 1-based inclusive in the comments below.

Pure: reads bytes, returns frozen dataclasses; no Django.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from codesets.domain.shapes import has_shape, looks_like_modifier
from codesets.domain.systems import System

RECORD_LENGTH = 320
# A record must reach the action code (column 293) to carry everything we read.
_MIN_RECORD_LENGTH = 293

_PROCEDURE_FIRST = "3"
_PROCEDURE_CONTINUATION = "4"
_MODIFIER_FIRST = "7"
_MODIFIER_CONTINUATION = "8"
_CONTINUES = {_PROCEDURE_FIRST: _PROCEDURE_CONTINUATION, _MODIFIER_FIRST: _MODIFIER_CONTINUATION}


class HcpcsFormatError(ValueError):
    """The input is not a CMS alpha-numeric HCPCS file; the message gives line and cause."""


@dataclass(frozen=True, slots=True)
class HcpcsRecord:
    """One procedure code or modifier with its descriptions and administrative data."""

    code: str
    long_description: str
    short_description: str
    add_date: dt.date | None
    effective_date: dt.date | None
    termination_date: dt.date | None
    action_code: str
    # Up to four Medicare pricing indicators (columns 120-127), blanks dropped.
    pricing_indicators: tuple[str, ...] = ()
    # Coverage code (column 230): C carrier judgement, D special coverage, I not payable,
    # M non-covered by Medicare, S non-covered by Medicare statute.
    coverage_code: str = ""
    betos: str = ""
    type_of_service: tuple[str, ...] = ()
    is_modifier: bool = False


@dataclass(frozen=True, slots=True)
class HcpcsFile:
    """The parsed file: procedure codes and modifiers kept apart, in file order."""

    codes: tuple[HcpcsRecord, ...]
    modifiers: tuple[HcpcsRecord, ...]
    _by_code: dict[str, HcpcsRecord] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._by_code.update((record.code, record) for record in self.codes)

    def get(self, code: str) -> HcpcsRecord | None:
        """The procedure record for a canonical code, or None when the file lacks it."""
        return self._by_code.get(code)

    def active_codes(self, day: dt.date) -> tuple[HcpcsRecord, ...]:
        """Procedure codes that may be reported on ``day``."""
        return tuple(record for record in self.codes if is_active(record, day))


def is_active(record: HcpcsRecord, day: dt.date) -> bool:
    """True when the code or modifier may be used on ``day``.

    A code is usable from its add date through its termination date, which the CMS layout
    defines as the last date on which it may be used (inclusive); no termination date
    means the code is still in force.
    """
    if record.add_date is not None and day < record.add_date:
        return False
    return record.termination_date is None or day <= record.termination_date


def parse_hcpcs_file(source: Path | IO[bytes]) -> HcpcsFile:
    """Parse the CMS file from a path or a binary stream; raise HcpcsFormatError if malformed."""
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise HcpcsFormatError(f"{source}: cannot read the file ({exc.strerror})") from exc
    else:
        data = source.read()
    # CMS publishes the file as ASCII; Latin-1 decodes any byte, so an unexpected byte
    # cannot abort the parse and instead surfaces as a readable description character.
    text = data.decode("latin-1")
    codes: list[HcpcsRecord] = []
    modifiers: list[HcpcsRecord] = []
    for record in _records(text):
        (modifiers if record.is_modifier else codes).append(record)
    if not codes and not modifiers:
        raise HcpcsFormatError("no HCPCS records found: the input is empty or only blank lines")
    return HcpcsFile(codes=tuple(codes), modifiers=tuple(modifiers))


@dataclass
class _Pending:
    """A record whose continuation lines may still follow."""

    first_line: str
    line_number: int
    record_id: str
    code: str
    description_parts: list[str]


def _records(text: str) -> Iterator[HcpcsRecord]:
    pending: _Pending | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        _check_length(line, number)
        record_id = line[10]
        sequence = line[5:10]
        if not sequence.isdigit():
            raise HcpcsFormatError(
                f"line {number}: sequence number (columns 6-10) is {sequence!r}, expected 5 digits"
            )
        if record_id in _CONTINUES:
            if pending is not None:
                yield _finish(pending)
            pending = _Pending(
                first_line=line,
                line_number=number,
                record_id=record_id,
                code=_code_field(line, record_id, number),
                description_parts=[line[11:91]],
            )
        elif record_id in _CONTINUES.values():
            if pending is None or _CONTINUES[pending.record_id] != record_id:
                raise HcpcsFormatError(
                    f"line {number}: continuation record (id {record_id}) without a first record"
                )
            if line[0:5].strip() != pending.code:
                raise HcpcsFormatError(
                    f"line {number}: continuation record for {line[0:5].strip()!r} follows "
                    f"{pending.code!r}"
                )
            pending.description_parts.append(line[11:91])
        else:
            raise HcpcsFormatError(
                f"line {number}: record id (column 11) is {record_id!r}, expected 3, 4, 7 or 8"
            )
    if pending is not None:
        yield _finish(pending)


def _check_length(line: str, number: int) -> None:
    if len(line) < _MIN_RECORD_LENGTH:
        raise HcpcsFormatError(
            f"line {number}: record is {len(line)} characters, expected {RECORD_LENGTH} "
            "(truncated, or not the CMS alpha-numeric HCPCS layout)"
        )
    # CMS pads some records past 320 characters with spaces; anything else there means
    # the columns do not line up with the layout.
    if line[RECORD_LENGTH:].strip():
        raise HcpcsFormatError(
            f"line {number}: record is {len(line)} characters with data past column "
            f"{RECORD_LENGTH}: not the CMS alpha-numeric HCPCS layout"
        )


def _code_field(line: str, record_id: str, number: int) -> str:
    if record_id == _MODIFIER_FIRST:
        code = line[3:5]
        if line[0:3].strip() or not looks_like_modifier(code) or code != code.upper():
            raise HcpcsFormatError(
                f"line {number}: modifier field (columns 1-5) is {line[0:5]!r}, "
                "expected three spaces and two characters"
            )
        return code
    code = line[0:5]
    if not has_shape(code, System.HCPCS) or code != code.upper():
        raise HcpcsFormatError(
            f"line {number}: code field (columns 1-5) is {code!r}, expected a letter "
            "and four digits"
        )
    return code


def _join_description(parts: list[str]) -> str:
    """Join the 80-column description segments of one record into one text.

    CMS wraps at word boundaries, so segments are joined with a space, except after a
    word that ends in a hyphen or slash ("education-" + "helping"), where the break was
    inside a compound.
    """
    text = ""
    for part in parts:
        piece = part.strip()
        if not piece:
            continue
        if not text:
            text = piece
        elif text.endswith(("-", "/")) and not text.endswith((" -", " /")):
            text += piece
        else:
            text += " " + piece
    return text


def _date(raw: str, column: str, number: int) -> dt.date | None:
    value = raw.strip()
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise HcpcsFormatError(
            f"line {number}: {column} is {value!r}, expected a YYYYMMDD date"
        ) from None


def _finish(pending: _Pending) -> HcpcsRecord:
    line = pending.first_line
    number = pending.line_number
    return HcpcsRecord(
        code=pending.code,
        long_description=_join_description(pending.description_parts),
        short_description=line[91:119].strip(),
        add_date=_date(line[268:276], "code added date (columns 269-276)", number),
        effective_date=_date(line[276:284], "action effective date (columns 277-284)", number),
        termination_date=_date(line[284:292], "termination date (columns 285-292)", number),
        action_code=line[292].strip(),
        pricing_indicators=tuple(
            line[start : start + 2].strip()
            for start in range(119, 127, 2)
            if line[start : start + 2].strip()
        ),
        coverage_code=line[229].strip(),
        betos=line[256:259].strip(),
        type_of_service=tuple(ch for ch in line[260:265] if ch.strip()),
        is_modifier=pending.record_id == _MODIFIER_FIRST,
    )
