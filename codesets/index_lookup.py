"""Look terms up in the ICD-10-CM index tables (``table_lookup``).

The tables are the official public-domain XML files shipped in
``codesets/data/index/``; they are parsed once per process (about 0.4 s for all three)
and searched in memory (a few ms per query). Cells are checked against the ICD-10-CM
release that ``search_codes`` would use on the day.
Contract: ../shared/spec/contracts.md (``table_lookup``).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesets.domain.catalog import NoReleaseInForce
from codesets.domain.systems import System
from codesets.importers.index_tables import (
    NONE,
    TABLE_FILES,
    IndexTableData,
    lookup,
    parse_table,
)
from codesets.models import Code
from codesets.selectors import releases_for_search

INDEX_DIR = Path(__file__).resolve().parent / "data" / "index"
TABLES = tuple(TABLE_FILES)


class UnknownTable(ValueError):
    def __init__(self, table: str) -> None:
        super().__init__(f"unknown table {table!r}: choose one of {', '.join(TABLES)}")


@dataclass(frozen=True)
class TableRow:
    path: tuple[str, ...]
    cells: dict[str, str]
    see: str | None
    see_also: str | None
    checks: dict[str, bool] | None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": list(self.path),
            "cells": dict(self.cells),
            "see": self.see,
            "see_also": self.see_also,
        }
        if self.checks is not None:
            out["checks"] = dict(self.checks)
        return out


@dataclass(frozen=True)
class TableLookup:
    table: str
    index_version: str
    release: str | None
    rows: tuple[TableRow, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "index_version": self.index_version,
            "release": self.release,
            "rows": [row.as_dict() for row in self.rows],
        }


@functools.cache
def load_table(table: str) -> IndexTableData:
    if table not in TABLE_FILES:
        raise UnknownTable(table)
    return parse_table(table, INDEX_DIR / TABLE_FILES[table])


def table_lookup(
    *, table: str, query: str, limit: int = 10, day: dt.date | None = None
) -> TableLookup:
    """The best ``limit`` rows of ``table`` for ``query``; raises UnknownTable."""
    key = table.strip().lower()
    data = load_table(key)
    try:
        releases = releases_for_search(day=day, system=System.ICD10CM)
    except NoReleaseInForce:
        releases = []  # the table still answers; "release" is null and rows carry no checks
    release = releases[0] if releases else None
    hits = lookup(data, query, limit)
    valid = _valid_cells(release, [c for row in hits for c in row.cells.values()])
    rows = tuple(
        TableRow(
            path=row.path,
            cells=row.cells,
            see=row.see,
            see_also=row.see_also,
            checks=(
                {k: valid[v] for k, v in row.cells.items() if v in valid}
                if release is not None
                else None
            ),
        )
        for row in hits
    )
    return TableLookup(
        table=key,
        index_version=data.index_version,
        release=release.version if release is not None else None,
        rows=rows,
    )


def _valid_cells(release: Any, cells: list[str]) -> dict[str, bool]:
    """Per cell text: valid when the code is in the release and is billable or takes a
    7th character (drug and external cells are printed without it); a cell ending in
    "-" is valid when the category it asks to complete is in the release with billable
    codes below it."""
    if release is None:
        return {}
    wanted = {c for c in cells if c and c != NONE}
    stems = {c: c.rstrip("-").rstrip(".") for c in wanted}
    codes = Code.objects.filter(release=release)
    found = {
        code: billable or seventh
        for code, billable, seventh in codes.filter(code__in=set(stems.values())).values_list(
            "code", "billable", "needs_seventh"
        )
    }
    out: dict[str, bool] = {}
    for cell, stem in stems.items():
        if cell.endswith("-"):
            out[cell] = (
                stem in found
                and codes.filter(code__startswith=stem, billable=True).exclude(code=stem).exists()
            )
        else:
            out[cell] = found.get(stem, False)
    return out
