"""Reading and checking answer sheets: whole-file refusals and per-row problems."""

from __future__ import annotations

import pytest

from quizzes.imports import csv_import
from quizzes.imports.csv_import import CodeLine, RowProblem, SheetRefused, SheetRow

HEADER = "learner,exercise,line,code,modifiers,units,dx_pointers\n"


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"x" * (csv_import.MAX_BYTES + 1), "too_large", 413),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not_text", 400),
        (b"PK\x03\x04" + b"learner,exercise" * 4, "not_text", 400),
        (b"learner,exercise,line,code\nj\xe9r\xf4me,1,dx,J02.0\n", "not_utf8", 400),
        (b"   \n", "empty", 400),
        (b"learner,exercise,code\nann,1,J02.0\n", "missing_columns", 400),
        (b"name;exercise;line;code\n", "missing_columns", 400),
    ],
)
def test_a_bad_file_is_refused_as_a_whole(data, code, status):
    with pytest.raises(SheetRefused) as refused:
        csv_import.read_sheet(data)
    assert refused.value.code == code
    assert refused.value.status == status


def test_missing_columns_are_named():
    with pytest.raises(SheetRefused) as refused:
        csv_import.read_sheet(b"Learner,Code\nann,J02.0\n")
    assert "exercise, line" in refused.value.message


def test_too_many_rows_is_refused():
    data = (HEADER + "ann,1,dx,J02.0\n" * 11).encode()
    assert len(csv_import.read_sheet(data, max_rows=11)) == 11
    with pytest.raises(SheetRefused) as refused:
        csv_import.read_sheet(data, max_rows=10)
    assert refused.value.code == "too_many_rows"


def test_rows_keep_spreadsheet_numbers_and_cells_verbatim():
    data = (
        "\ufeffLearner, Exercise ,LINE,Code,extra\n"
        "ann,1,dx,J02.0,ignored\n"
        "\n"
        '"=HYPERLINK(""http://x"",""y"")",2,proc,99213\n'
    ).encode()
    rows = csv_import.read_sheet(data)
    assert [row.number for row in rows] == [2, 4]
    assert rows[0] == SheetRow(2, "ann", "1", "dx", "J02.0")
    assert rows[1].learner == '=HYPERLINK("http://x","y")'


def _row(**cells):
    base = {"number": 7, "learner": "ann", "exercise": "1", "line": "dx", "code": "J02.0"}
    return SheetRow(**{**base, **cells})


@pytest.mark.parametrize(
    ("cells", "problem", "value"),
    [
        ({"learner": ""}, "missing_learner", ""),
        ({"exercise": "0"}, "bad_exercise", "0"),
        ({"exercise": "two"}, "bad_exercise", "two"),
        ({"line": "cpt"}, "bad_line", "cpt"),
        ({"code": ""}, "missing_code", ""),
        ({"code": "99213"}, "bad_code_shape", "99213"),
        ({"code": "J0"}, "bad_code_shape", "J0"),
        ({"code": "=1+2"}, "bad_code_shape", "=1+2"),
        ({"code": "@SUM(A1)"}, "bad_code_shape", "@SUM(A1)"),
        ({"line": "proc", "code": "J02.0"}, "bad_code_shape", "J02.0"),
        ({"line": "proc", "code": "9921"}, "bad_code_shape", "9921"),
        ({"line": "proc", "code": "99213", "modifiers": "25 XYZ"}, "bad_modifier", "25 XYZ"),
        ({"line": "proc", "code": "99213", "units": "0"}, "bad_units", "0"),
        ({"line": "proc", "code": "99213", "units": "2.5"}, "bad_units", "2.5"),
        ({"line": "proc", "code": "99213", "dx_pointers": "1,13"}, "bad_pointer", "1,13"),
        ({"modifiers": "25"}, "details_on_non_procedure", ""),
    ],
)
def test_a_bad_row_is_reported_with_its_number_reason_and_value(cells, problem, value):
    outcome = csv_import.check_row(_row(**cells))
    assert isinstance(outcome, RowProblem)
    assert (outcome.row_number, outcome.code, outcome.value) == (7, problem, value)


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({}, CodeLine(7, "ann", 1, "dx", "J02.0")),
        ({"code": "j020", "line": "Diagnosis"}, CodeLine(7, "ann", 1, "dx", "j020")),
        (
            {"line": "proc", "code": "99213", "modifiers": "25, 59", "dx_pointers": "1;2"},
            CodeLine(7, "ann", 1, "proc", "99213", ("25", "59"), 1, (1, 2)),
        ),
        (
            {"line": "PROC", "code": "J1885", "units": "4"},
            CodeLine(7, "ann", 1, "proc", "J1885", (), 4, ()),
        ),
        ({"line": "answer", "code": "E11.9"}, CodeLine(7, "ann", 1, "answer", "E11.9")),
    ],
)
def test_a_good_row_becomes_a_code_line(cells, expected):
    assert csv_import.check_row(_row(**cells)) == expected


def test_full_coding_answers_keep_file_order_and_choice_answers_take_one_line():
    lines = [
        CodeLine(2, "ann", 1, "dx", "J02.0"),
        CodeLine(3, "ann", 1, "proc", "99213", ("25",), 1, (1, 2)),
        CodeLine(4, "ann", 1, "dx", "R50.9"),
    ]
    assert csv_import.answer_from_lines("full_coding", lines) == {
        "diagnoses": ["J02.0", "R50.9"],
        "procedures": [{"code": "99213", "modifiers": ["25"], "units": 1, "dx_pointers": [1, 2]}],
    }
    assert csv_import.answer_from_lines(
        "best_code", [CodeLine(5, "ann", 2, "answer", "E11.9")]
    ) == {"value": "E11.9"}
    mixed = csv_import.answer_from_lines("best_code", [*lines[:1]])
    assert isinstance(mixed, RowProblem)
    assert mixed.code == "line_kind_mismatch"
    refused = csv_import.answer_from_lines("sequencing", lines)
    assert isinstance(refused, RowProblem)
    assert refused.code == "exercise_not_importable"
