"""The small ICD-10-CM code set the Django tests run against by default.

It is the bundled April 2026 tabular with only the categories the project and its tests
can reach, written back as a tabular XML file and imported under the real release's
version, dates and source (see ``tests/conftest.py``). Nothing is invented: every
chapter and section element is kept with its notes, and a kept category is the bundled
file's whole subtree (all its codes, notes, 7th characters), so each kept code is the
same row as in the full release, parent and siblings included; only ``position``
counts fewer rows before it, which keeps the same order.

The categories kept:

* every category of an ICD-10-CM code named anywhere in :data:`SCANNED` (the encounter
  library and templates, the course, the application code and templates, and every
  test file but the pure ones of ``tests/domain``): ``N30.01``, ``N3001``, ``E11.-``,
  ``R69``, in any case;
* for each named code, the categories that the Excludes1 notes at the code, its
  ancestors, its section and its chapter point to within the same chapter letter:
  where the distractor generator draws its Excludes1 candidates from.

A dotted or three-character token names its category whenever the release has that
category; an undotted longer token (``J1100``, also HCPCS-shaped) counts only when the
release has exactly that code.

No Django here, like the tabular parser: pure code may import this module.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path

from codesets.domain.notes import PROSE_EXCLUDES1_GAPS, parse_note_refs
from codesets.domain.shapes import icd10cm_canonical

ROOT = Path(__file__).resolve().parents[1]

# Where codes are named: (folder, file suffixes). Folders are scanned recursively.
SCANNED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("quizzes", (".py", ".yaml", ".yml", ".md", ".html", ".txt", ".json", ".csv")),
    ("coding_course", (".py", ".yaml", ".yml", ".md", ".html", ".txt", ".json", ".csv")),
    ("codesets", (".py",)),
    ("templates", (".html", ".txt", ".md")),
    ("tests", (".py", ".yaml", ".yml", ".md", ".html", ".txt", ".json", ".csv", ".xml")),
)
# Test folders that never use the database (they parse the full release themselves).
NOT_SCANNED = ("tests/domain",)

# A code-shaped token: a letter, a digit, a digit or letter, then an optional dot and up
# to four more characters. Not inside a longer word or number.
_TOKEN = re.compile(
    r"(?<![0-9A-Za-z])([A-Za-z][0-9][0-9A-Za-z])(\.[0-9A-Za-z]{0,4}|[0-9A-Za-z]{1,4})?"
    r"(?![0-9A-Za-z])"
)


def named_codes(root: Path = ROOT) -> set[str]:
    """Every code-shaped token in the scanned files, upper-cased, as written."""
    found: set[str] = set()
    for path in _scanned_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _TOKEN.finditer(text):
            found.add((match[1] + (match[2] or "")).upper())
    return found


def _scanned_files(root: Path) -> Iterator[Path]:
    for folder, suffixes in SCANNED:
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root).as_posix()
            if (
                path.suffix in suffixes
                and path.is_file()
                and not any(relative.startswith(f"{skipped}/") for skipped in NOT_SCANNED)
            ):
                yield path


def _text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _excludes1_starts(element: ET.Element) -> Iterator[str]:
    """The first codes of the Excludes1 references written at ``element``, including
    the prose gaps the importer adds."""
    notes = [
        _text(note) for excludes in element.findall("excludes1") for note in excludes.iter("note")
    ]
    name = (element.findtext("name") or "").strip()
    refs = [*parse_note_refs(notes), *PROSE_EXCLUDES1_GAPS.get(name, ())]
    yield from (ref.start for ref in refs)


def _categories(root: ET.Element) -> Iterator[tuple[ET.Element, ET.Element]]:
    """(section, category) elements in tabular order."""
    for section in root.iter("section"):
        for category in section.findall("diag"):
            yield section, category


def wanted_categories(root: ET.Element, named: Iterable[str]) -> set[str]:
    """The categories to keep for the ``named`` code tokens (see the module docstring)."""
    # Each code's chain up to its category, then its section and chapter: the holders
    # whose Excludes1 notes the distractor generator reads for that code.
    holders: dict[str, list[ET.Element]] = {}
    for chapter in root.iter("chapter"):
        for section in chapter.findall("section"):
            stack = [(diag, [section, chapter]) for diag in section.findall("diag")]
            while stack:
                diag, above = stack.pop()
                chain = [diag, *above]
                holders[icd10cm_canonical((diag.findtext("name") or "").strip())] = chain
                stack.extend((child, chain) for child in diag.findall("diag"))
    wanted: set[str] = set()
    for token in named:
        code = _written_code(token, holders)
        if code is None:
            continue
        wanted.add(code[:3])
        for holder in holders[code]:
            wanted.update(
                start[:3]
                for start in _excludes1_starts(holder)
                if start[0] == code[0] and start[:3] in holders
            )
    return wanted


def _written_code(token: str, holders: dict[str, list[ET.Element]]) -> str | None:
    """The code of the tabular a token names, or None: the token's own code, else (for
    a 7th-character code such as ``S93.401A`` or ``T21.01XA``) the code the character
    is appended to, else, for a dotted or three-character token, its category."""
    code = icd10cm_canonical(token)
    if code in holders:
        return code
    if len(code) == 8 and (stem := icd10cm_canonical(code[:7].rstrip("X"))) in holders:
        return stem
    if (len(token) == 3 or "." in token) and token[:3] in holders:
        return token[:3]
    return None


def write_small_tabular(source: Path, destination: Path, named: Iterable[str]) -> set[str]:
    """Write the bundled tabular ``source`` cut down to the wanted categories to
    ``destination``; returns the kept categories."""
    tree = ET.parse(source)
    root = tree.getroot()
    wanted = wanted_categories(root, named)
    for section, category in list(_categories(root)):
        if (category.findtext("name") or "").strip() not in wanted:
            section.remove(category)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tree.write(destination, encoding="utf-8", xml_declaration=True)
    return wanted
