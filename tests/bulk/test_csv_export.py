"""CSV exports open as text in a spreadsheet (check S10)."""

from __future__ import annotations

import csv
import io

import pytest

from quizzes.imports.csv_export import SafeCsvWriter, spreadsheet_safe


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.test","x")', '\'=HYPERLINK("http://evil.test","x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("E11.9", "E11.9"),
        ("99213", "99213"),
        ("J02.0, R50.9", "J02.0, R50.9"),
        ("Ann O'Neil", "Ann O'Neil"),
        ("", ""),
        (None, ""),
        (-0.5, -0.5),
        (3, 3),
    ],
)
def test_cells_that_could_start_a_formula_are_prefixed(cell, written):
    assert spreadsheet_safe(cell) == written


def test_quoting_survives_the_prefix():
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    row = ['=HYPERLINK("a,b")', 'say "hi"', "line\nbreak", "E11.9", -1.5]
    writer.writerow(row)
    parsed = next(csv.reader(io.StringIO(buffer.getvalue())))
    assert parsed == ["'" + row[0], 'say "hi"', "line\nbreak", "E11.9", "-1.5"]
