"""Parse a licensed CPT descriptor file: one ``code<TAB>descriptor`` pair per line.

Sites that hold an AMA licence can replace our curated summaries with the official
descriptors. Licensed extracts come in several spreadsheet exports, so the accepted
format is the lowest common denominator: tab-separated text, an optional header line,
UTF-8 (with or without a byte-order mark) or Latin-1. Every code is checked against the
CPT shapes (Category I five digits, Category II four digits and F, Category III four
digits and T) or the two-character modifier shape, and errors carry the line number so
an operator can fix the file. Pure: no Django.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from codesets.domain.shapes import looks_like_cpt, looks_like_modifier


class CptFileError(ValueError):
    """The licensed CPT file is unusable; ``line`` is the 1-based line at fault (0: whole file)."""

    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {problem}" if line else problem)


def parse_cpt_file(source: Path | IO[bytes]) -> dict[str, str]:
    """Map each code (and modifier) in the file to its descriptor, in file order.

    Keys are canonical: five characters for codes, two for modifiers (see
    :func:`split_modifiers`). The first non-blank line is taken as a header when its first
    field holds no digit (``Code<TAB>Descriptor``); any other malformed line is an error.
    """
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise CptFileError(0, f"{source}: cannot read the file ({exc.strerror})") from exc
    else:
        data = source.read()
    text = _decode(data)
    descriptors: dict[str, str] = {}
    first_line_at: dict[str, int] = {}
    header_allowed = True
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        code_field, tab, descriptor = line.partition("\t")
        if header_allowed and not any(ch.isdigit() for ch in code_field):
            header_allowed = False
            continue
        header_allowed = False
        if not tab:
            raise CptFileError(number, "expected CODE<TAB>DESCRIPTOR, found no tab")
        if "\t" in descriptor:
            fields = descriptor.count("\t") + 2
            raise CptFileError(number, f"expected two tab-separated fields, found {fields}")
        code = code_field.strip().upper()
        if not (looks_like_cpt(code) and len(code) == 5) and not (
            looks_like_modifier(code) and len(code) == 2
        ):
            raise CptFileError(
                number,
                f"{code_field.strip()!r} is not a CPT code (five digits, or four digits and "
                "F or T) nor a two-character modifier",
            )
        descriptor = descriptor.strip().strip('"').strip()
        if not descriptor:
            raise CptFileError(number, f"code {code} has an empty descriptor")
        if code in descriptors:
            raise CptFileError(
                number, f"code {code} was already given on line {first_line_at[code]}"
            )
        descriptors[code] = descriptor
        first_line_at[code] = number
    if not descriptors:
        raise CptFileError(0, "the file holds no CPT codes")
    return descriptors


def split_modifiers(descriptors: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Split a parsed file into (codes, modifiers): modifiers are the two-character keys."""
    codes = {code: text for code, text in descriptors.items() if len(code) != 2}
    modifiers = {code: text for code, text in descriptors.items() if len(code) == 2}
    return codes, modifiers


def _decode(data: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8 (BOM dropped), otherwise Latin-1.

    Latin-1 is the fallback because older licensed exports use it and it decodes any byte.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")
