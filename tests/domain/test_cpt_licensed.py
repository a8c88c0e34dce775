"""The licensed CPT file parser, on synthetic content written for these tests (the real
descriptors are AMA property and are never stored in the repository)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from codesets.importers.cpt_licensed import CptFileError, parse_cpt_file, split_modifiers


def source(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def test_codes_of_every_category_and_modifiers_are_read_in_order() -> None:
    parsed = parse_cpt_file(
        source("99213\tSample visit text\n0001F\tSample measure\n0042T\tSample new tech\n25\tMod\n")
    )
    assert parsed == {
        "99213": "Sample visit text",
        "0001F": "Sample measure",
        "0042T": "Sample new tech",
        "25": "Mod",
    }
    assert list(parsed) == ["99213", "0001F", "0042T", "25"]


def test_split_modifiers_keeps_modifiers_apart() -> None:
    codes, modifiers = split_modifiers({"99213": "a", "25": "b", "0042T": "c", "59": "d"})
    assert codes == {"99213": "a", "0042T": "c"}
    assert modifiers == {"25": "b", "59": "d"}


@pytest.mark.parametrize(
    "header",
    ["Code\tDescriptor\n", "CPT CODE\tLONG DESCRIPTION\n", "\ufeffcode\tdescriptor\n"],
)
def test_an_optional_header_line_is_skipped(header: str) -> None:
    assert parse_cpt_file(source(header + "99214\tSample text\n")) == {"99214": "Sample text"}


@pytest.mark.parametrize(
    ("raw", "encoding", "expected"),
    [
        ("99215\tSample caf\u00e9 text\r\n", "utf-8", "Sample caf\u00e9 text"),
        ("\ufeff99215\tSample text\r\n", "utf-8", "Sample text"),  # byte-order mark dropped
        ("99215\tSample na\u00efve text\n", "latin-1", "Sample na\u00efve text"),
    ],
)
def test_utf8_and_latin1_are_both_read(raw: str, encoding: str, expected: str) -> None:
    assert parse_cpt_file(source(raw, encoding)) == {"99215": expected}


def test_codes_are_normalised_and_blank_lines_and_quotes_ignored() -> None:
    parsed = parse_cpt_file(source('\n 0500f \t "Sample quoted text" \n\n'))
    assert parsed == {"0500F": "Sample quoted text"}


def test_a_path_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "cpt.txt"
    path.write_text("99202\tSample text\n", encoding="utf-8")
    assert parse_cpt_file(path) == {"99202": "Sample text"}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("99213 Sample text without a tab\n", 1, "no tab"),
        ("Code\tDescriptor\n99213\tok\n9921\tshort code\n", 3, "'9921' is not a CPT code"),
        ("99213\tok\nE0114\tHCPCS code\n", 2, "'E0114' is not a CPT code"),
        ("0001U\tPLA code\n", 1, "'0001U' is not a CPT code"),
        ("99213\tok\nABC\tthree letters\n", 2, "'ABC' is not a CPT code"),
        ("99213\t   \n", 1, "empty descriptor"),
        ("99213\tfirst\n\n99213\tsecond\n", 3, "already given on line 1"),
        ("99213\ttext\textra column\n", 1, "found 3"),
        ("Code\tDescriptor\n", 0, "holds no CPT codes"),
        ("", 0, "holds no CPT codes"),
    ],
)
def test_errors_carry_the_line_number(text: str, line: int, message: str) -> None:
    with pytest.raises(CptFileError, match=message) as caught:
        parse_cpt_file(source(text))
    assert caught.value.line == line
    if line:
        assert str(caught.value).startswith(f"line {line}: ")


def test_an_unreadable_path_raises(tmp_path: Path) -> None:
    with pytest.raises(CptFileError, match="cannot read"):
        parse_cpt_file(tmp_path / "missing.txt")
