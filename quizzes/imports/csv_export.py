"""CSV exports that a spreadsheet opens as text, never as formulas.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, and also one that starts with a tab or carriage return followed by one
(OWASP "CSV injection"; ASVS 1.2.10). Text cells that start so get a leading single
quote, which spreadsheets show as text; quoting is left to the csv module so commas,
quotes and line breaks stay intact. Numbers are written as numbers: a negative score
such as ``-0.5`` is a value, not an injection, and code cells like ``E11.9`` or
``99213`` start with none of those characters and pass unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def spreadsheet_safe(value: object) -> object:
    """The cell as a spreadsheet must receive it: text that could start a formula is
    prefixed with a single quote; numbers, None and other text pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through :func:`spreadsheet_safe`."""

    def __init__(self, stream: _Writable) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)
