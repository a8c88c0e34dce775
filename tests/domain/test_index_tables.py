"""The pure index-table importer, on real rows of the shipped FY2025 XML files."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from codesets.importers.index_tables import (
    TABLE_FILES,
    IndexTableData,
    lookup,
    normalize,
    parse_table,
)

INDEX_DIR = Path(__file__).resolve().parents[2] / "codesets" / "data" / "index"


@cache
def _table(name: str) -> IndexTableData:
    return parse_table(name, INDEX_DIR / TABLE_FILES[name])


@pytest.mark.parametrize(
    ("table", "query", "path", "full_path", "cells"),
    [
        (
            "neoplasm",
            "breast upper outer",
            ("Neoplasm, neoplastic", "breast", "upper-outer quadrant"),
            (
                "Neoplasm, neoplastic",
                "breast (connective tissue) (glandular tissue) (soft parts)",
                "upper-outer quadrant",
            ),
            {
                "malignant_primary": "C50.4-",
                "malignant_secondary": "C79.81",
                "ca_in_situ": "D05.-",
                "benign": "D24.-",
                "uncertain_behavior": "D48.6-",
                "unspecified_behavior": "D49.3",
            },
        ),
        (
            "drug",
            "dichlorophen oxyacetic",
            ("2,4-D",),
            ("2,4-D (dichlorophen-oxyacetic acid)",),
            {
                "poisoning_accidental": "T60.3X1",
                "poisoning_intentional": "T60.3X2",
                "poisoning_assault": "T60.3X3",
                "poisoning_undetermined": "T60.3X4",
                "adverse_effect": "--",
                "underdosing": "--",
            },
        ),
        (
            "external",
            "abandonment",
            ("Abandonment NEC",),
            (
                "Abandonment (causing exposure to weather conditions)"
                " (with intent to injure or kill) NEC",
            ),
            {"code": "X58"},
        ),
        (
            "external",
            "ladder from fall",
            ("Fall, falling", "from, off, out of", "ladder"),
            ("Fall, falling (accidental)", "from, off, out of", "ladder"),
            {"code": "W11"},
        ),
    ],
)
def test_first_hit(
    table: str,
    query: str,
    path: tuple[str, ...],
    full_path: tuple[str, ...],
    cells: dict[str, str],
) -> None:
    row = lookup(_table(table), query, 1)[0]
    assert row.path == path
    assert row.full_path == full_path
    assert row.cells == cells
    assert row.level == len(path) - 1


@pytest.mark.parametrize(
    ("table", "version", "at_least"),
    [("neoplasm", "2025", 1500), ("drug", "2025", 5000), ("external", "2025", 5000)],
)
def test_tables_parse_fully(table: str, version: str, at_least: int) -> None:
    data = _table(table)
    assert data.index_version == version
    assert len(data.rows) >= at_least
    assert [row.position for row in data.rows] == list(range(len(data.rows)))


def test_see_and_see_also() -> None:
    rows = lookup(_table("external"), "accident aircraft", 1)
    assert rows[0].see_also == "Accident, transport, aircraft"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2,4-D", "2 4 d"), ("Upper-Outer  Quadrant", "upper outer quadrant"), ("C50.4-", "c50.4")],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_no_match_and_empty_query() -> None:
    assert lookup(_table("drug"), "zzzqqqxx") == []
    assert lookup(_table("drug"), "  ") == []
