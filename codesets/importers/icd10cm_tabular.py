"""Parser for the CMS ICD-10-CM tabular list XML (``icd10cm-tabular-<year>.xml``).

The tabular is the authority for which ICD-10-CM codes exist, which are billable and what
the instructional notes at each code say. This module reads one release into plain
frozen data (no Django, standard library only) so that the import command, the tests and
the benchmarks share one reading of the file:

* chapters, sections (blocks such as ``A00-A09``) and the code tree with parent links;
* every instructional element at every chapter, section and code, as note texts by kind,
  and the Excludes1 targets as :class:`~codesets.domain.catalog.CodeRef` values;
* the 7th-character expansion the tabular only describes: a ``sevenChrDef`` applies to
  every childless code below it (nearest definition wins), the code is padded with ``X``
  to six characters before the 7th character, and notes of the form "7th characters D
  and S do not apply to codes in category S06 with 6th character 7 ... or 8 ..." remove
  those characters from the matching codes.

Billable codes are the leaves after expansion. The codes a 7th character is appended to
are not billable and have ``needs_seventh``. Files that carry ``<diag
placeholder="true">`` nodes (such as ``S06.0X``, added by the ``simple_icd_10_cm``
distribution) keep them as non-billable codes; official files without them parse the
same way.
"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import IO, TYPE_CHECKING

from codesets.domain.catalog import CodeInfo, CodeRef
from codesets.domain.notes import PROSE_EXCLUDES1_GAPS, parse_note_refs
from codesets.domain.shapes import icd10cm_canonical
from codesets.domain.systems import System

if TYPE_CHECKING:
    from codesets.importers.mce_attributes import MceAttributes

BUNDLED_PACKAGE = "simple_icd_10_cm"
BUNDLED_DIRECTORY = "data"
BUNDLED_FILE_NAME = "icd10c-tabular-April-1-2026.xml"

ROOT_TAG = "ICD10CM.tabular"

# A code name as the tabular writes it. Wider than ``shapes.looks_like_icd10cm``: the
# FY2026 category QA0 has a letter in second position.
_CODE_NAME = re.compile(r"^[A-Z][0-9A-Z][0-9A-Z](?:\.[0-9A-Z]{1,4})?$")

# The instructional elements kept as note texts, in the order the tabular prints them.
# sevenChrDef is kept apart, as ``seventh_characters``.
NOTE_KINDS: tuple[str, ...] = (
    "includes",
    "inclusionTerm",
    "excludes1",
    "excludes2",
    "codeFirst",
    "useAdditionalCode",
    "codeAlso",
    "notes",
    "sevenChrNote",
)
_NOTE_KIND_SET = frozenset(NOTE_KINDS)

_NO_NOTES: Mapping[str, tuple[str, ...]] = MappingProxyType({})
_NO_SEVENTHS: Mapping[str, str] = MappingProxyType({})

# "... (A00-B99)" at the end of a chapter or section description.
_TRAILING_RANGE = re.compile(r"\s*\((?P<first>[A-Z0-9]{3})(?:-(?P<last>[A-Z0-9]{3}))?\)\s*$")

# "7th characters D and S do not apply to codes in category S06 with 6th character 7 -
# death due to ..., or 8 - death due to ...": which 7th characters, which position, which
# values at that position.
_SEVENTH_EXCEPTION = re.compile(
    r"7th characters?\s+(?P<chars>[0-9A-Z](?:\s*(?:,|and|or)\s*[0-9A-Z])*)\s+"
    r"(?:does|do) not apply to codes\b.*?\bwith\s+(?P<position>[4-6])th character\s+"
    r"(?P<values>.*)",
    re.IGNORECASE | re.DOTALL,
)
_SINGLE_CHARACTER = re.compile(r"(?<![\w-])[0-9A-Z](?![\w-])")
# In the values part, a value is a lone character before " - description", a comma, "or"
# or the end: "7 - death due to ..., or 8 - death due to ...", "7 or 8".
_EXCEPTION_VALUE = re.compile(
    r"(?:^|,|\bor\b|\band\b)\s*([0-9A-Z])(?=\s*(?:\s-\s|,|\bor\b|\band\b|\.|$))"
)


class TabularFormatError(ValueError):
    """The file is not a complete ICD-10-CM tabular XML release."""


@dataclass(frozen=True, slots=True)
class TabularChapter:
    """A chapter: its number, title and the category range it covers."""

    number: int
    description: str
    first: str
    last: str
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _NO_NOTES)
    excludes1_refs: tuple[CodeRef, ...] = ()


@dataclass(frozen=True, slots=True)
class TabularSection:
    """A block of categories such as ``A00-A09`` (``B99`` when it holds one category)."""

    id: str
    description: str
    chapter: int
    first: str
    last: str
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _NO_NOTES)
    excludes1_refs: tuple[CodeRef, ...] = ()


@dataclass(frozen=True, slots=True)
class TabularCode:
    """One code of the tabular, as written or formed by a 7th character.

    ``notes`` and ``seventh_characters`` hold only what is written at this node; the
    ancestors carry their own. ``expanded_from`` names the code a 7th character was
    appended to (for ``S93.401A`` it is ``S93.401``, also its ``parent``).
    """

    code: str
    description: str
    parent: str | None
    chapter: int
    section: str
    billable: bool
    needs_seventh: bool = False
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _NO_NOTES)
    excludes1_refs: tuple[CodeRef, ...] = ()
    seventh_characters: Mapping[str, str] = field(default_factory=lambda: _NO_SEVENTHS)
    placeholder: bool = False
    expanded_from: str | None = None

    def to_code_info(self, attributes: MceAttributes | None = None) -> CodeInfo:
        """The catalog entry for this code, with its Medicare Code Editor attributes."""
        return CodeInfo(
            code=self.code,
            system=System.ICD10CM,
            description=self.description,
            billable=self.billable,
            parent=self.parent,
            needs_seventh=self.needs_seventh,
            age_group=attributes.age_group if attributes else None,
            sex=attributes.sex if attributes else None,
            manifestation=attributes.manifestation if attributes else False,
            unacceptable_pdx=attributes.unacceptable_pdx if attributes else False,
            excludes1=self.excludes1_refs,
            code_first=self.notes.get("codeFirst", ()),
        )


@dataclass(frozen=True, slots=True)
class TabularRelease:
    """One tabular release: chapters, sections and codes in tabular order."""

    version: str
    chapters: tuple[TabularChapter, ...]
    sections: tuple[TabularSection, ...]
    codes: tuple[TabularCode, ...]
    by_code: Mapping[str, TabularCode] = field(repr=False, compare=False)

    def get(self, code: str) -> TabularCode | None:
        """The entry for a canonical code, or None when the release does not have it."""
        return self.by_code.get(code)

    def billable_codes(self) -> Iterator[TabularCode]:
        """The billable codes, in tabular order."""
        return (entry for entry in self.codes if entry.billable)


@dataclass(frozen=True, slots=True)
class _SeventhException:
    """7th characters that a note withholds from codes with a value at a position."""

    characters: frozenset[str]
    position: int  # 1-based, in the code without its dot
    values: frozenset[str]

    def withholds(self, compact_code: str, character: str) -> bool:
        return (
            character in self.characters
            and len(compact_code) >= self.position
            and compact_code[self.position - 1] in self.values
        )


@dataclass(frozen=True, slots=True)
class _Inherited:
    """What a node passes down to its descendants while walking the tree."""

    seventh_characters: Mapping[str, str] | None = None
    exceptions: tuple[_SeventhException, ...] = ()


def bundled_tabular_path() -> Path:
    """The April 2026 tabular shipped in the pinned ``simple_icd_10_cm`` package.

    The package is located without being imported: importing it parses the whole XML
    (about 3 s) to build its own index, which this module does not need.
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {BUNDLED_PACKAGE} package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / BUNDLED_DIRECTORY / BUNDLED_FILE_NAME


def parse_tabular(source: Path | IO[bytes]) -> TabularRelease:
    """Read a CMS ICD-10-CM tabular XML file into a :class:`TabularRelease`.

    Raises TabularFormatError when the file is not well-formed XML, is XML of another
    kind, or holds no chapter or code.
    """
    label = source.name if isinstance(source, Path) else getattr(source, "name", "the file")
    try:
        root = ET.parse(source).getroot()
    except ET.ParseError as error:
        raise TabularFormatError(
            f"{label} is not a complete XML file ({error}), so it cannot be an ICD-10-CM "
            "tabular release."
        ) from error
    if root.tag != ROOT_TAG:
        raise TabularFormatError(
            f"{label} is XML but not an ICD-10-CM tabular release: its root element is "
            f"<{root.tag}>, not <{ROOT_TAG}>."
        )
    return _Reader(label).read(root)


def code_infos(release: TabularRelease, mce: Mapping[str, MceAttributes]) -> Iterator[CodeInfo]:
    """Catalog entries for every code of ``release``, with MCE attributes where known.

    Excludes1 notes written at a chapter or a section (block) govern every code in it,
    but the catalog follows only parent links, which stop at the category. So each
    category's entry also carries its chapter's and its section's Excludes1 refs, placed
    before its own: grading that walks a code's ancestors then meets them all.
    """
    chapters = {chapter.number: chapter for chapter in release.chapters}
    sections = {section.id: section for section in release.sections}
    for entry in release.codes:
        info = entry.to_code_info(mce.get(entry.code))
        if entry.parent is None:
            inherited = (
                chapters[entry.chapter].excludes1_refs + sections[entry.section].excludes1_refs
            )
            if inherited:
                info = replace(info, excludes1=inherited + info.excludes1)
        yield info


class _Reader:
    """Walks one parsed tabular tree; keeps the file label for error messages."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.codes: list[TabularCode] = []

    def read(self, root: ET.Element) -> TabularRelease:
        chapters: list[TabularChapter] = []
        sections: list[TabularSection] = []
        for chapter_element in root.iter("chapter"):
            chapter = self._chapter(chapter_element)
            chapters.append(chapter)
            for section_element in chapter_element.findall("section"):
                section = self._section(section_element, chapter.number)
                sections.append(section)
                for diag in section_element.findall("diag"):
                    self._diag(diag, None, chapter.number, section.id, _Inherited())
        if not chapters or not self.codes:
            raise TabularFormatError(
                f"{self.label} has the ICD-10-CM tabular root element but no "
                f"{'chapter' if not chapters else 'code'}, so it is cut short or empty."
            )
        codes = tuple(self.codes)
        return TabularRelease(
            version=(root.findtext("version") or "").strip(),
            chapters=tuple(chapters),
            sections=tuple(sections),
            codes=codes,
            by_code=MappingProxyType({entry.code: entry for entry in codes}),
        )

    def _chapter(self, element: ET.Element) -> TabularChapter:
        name = (element.findtext("name") or "").strip()
        if not name.isdigit():
            raise TabularFormatError(
                f"{self.label} has a chapter whose number is {name!r}, not a whole number."
            )
        description, first, last = _split_range(_text(element.find("desc")))
        notes = _notes_of(element)
        return TabularChapter(int(name), description, first, last, notes, _excludes1_refs(notes))

    def _section(self, element: ET.Element, chapter: int) -> TabularSection:
        section_id = element.get("id", "").strip()
        if not section_id:
            raise TabularFormatError(
                f"{self.label} has a section without an id in chapter {chapter}."
            )
        first, _, last = section_id.partition("-")
        description, _, _ = _split_range(_text(element.find("desc")))
        notes = _notes_of(element)
        return TabularSection(
            section_id, description, chapter, first, last or first, notes, _excludes1_refs(notes)
        )

    def _diag(
        self,
        element: ET.Element,
        parent: str | None,
        chapter: int,
        section: str,
        inherited: _Inherited,
    ) -> None:
        name = (element.findtext("name") or "").strip()
        if not _CODE_NAME.match(name):
            raise TabularFormatError(
                f"{self.label} has a code {name!r} in section {section} that is not shaped "
                "like an ICD-10-CM code."
            )
        code = icd10cm_canonical(name)
        notes = _notes_of(element)
        seventh_characters = _seventh_characters_of(element)
        exceptions = inherited.exceptions + _exceptions_in(notes)
        inherited = _Inherited(seventh_characters or inherited.seventh_characters, exceptions)
        children = element.findall("diag")
        applicable = None if children else inherited.seventh_characters
        excludes1_refs = _excludes1_refs(notes) + PROSE_EXCLUDES1_GAPS.get(code, ())
        description = _text(element.find("desc"))
        self.codes.append(
            TabularCode(
                code=code,
                description=description,
                parent=parent,
                chapter=chapter,
                section=section,
                billable=not children and not applicable,
                needs_seventh=bool(applicable),
                notes=notes,
                excludes1_refs=excludes1_refs,
                seventh_characters=seventh_characters or _NO_SEVENTHS,
                placeholder=element.get("placeholder", "").lower() == "true",
            )
        )
        if applicable:
            self._expand(code, description, chapter, section, applicable, exceptions)
        for child in children:
            self._diag(child, code, chapter, section, inherited)

    def _expand(
        self,
        code: str,
        description: str,
        chapter: int,
        section: str,
        seventh_characters: Mapping[str, str],
        exceptions: Sequence[_SeventhException],
    ) -> None:
        padded = code.replace(".", "").ljust(6, "X")
        for character, meaning in seventh_characters.items():
            if exceptions and any(rule.withholds(padded, character) for rule in exceptions):
                continue
            self.codes.append(
                TabularCode(
                    code=icd10cm_canonical(padded + character),
                    description=f"{description}, {meaning}",
                    parent=code,
                    chapter=chapter,
                    section=section,
                    billable=True,
                    expanded_from=code,
                )
            )


def _text(element: ET.Element | None) -> str:
    """The element's text with runs of whitespace folded (the XML indents some texts)."""
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _split_range(description: str) -> tuple[str, str, str]:
    """``"Intestinal infectious diseases (A00-A09)"`` gives the title, A00 and A09."""
    match = _TRAILING_RANGE.search(description)
    if match is None:
        return description, "", ""
    first = match["first"]
    return description[: match.start()], first, match["last"] or first


def _notes_of(element: ET.Element) -> Mapping[str, tuple[str, ...]]:
    notes: dict[str, tuple[str, ...]] = {}
    for child in element:
        if child.tag in _NOTE_KIND_SET:
            texts = tuple(_text(note) for note in child.iter("note"))
            notes[child.tag] = notes.get(child.tag, ()) + texts
    return MappingProxyType(notes) if notes else _NO_NOTES


def _excludes1_refs(notes: Mapping[str, tuple[str, ...]]) -> tuple[CodeRef, ...]:
    return parse_note_refs(notes.get("excludes1", ()))


def _seventh_characters_of(element: ET.Element) -> Mapping[str, str] | None:
    definition = element.find("sevenChrDef")
    if definition is None:
        return None
    return MappingProxyType(
        {
            extension.get("char", "").strip(): _text(extension)
            for extension in definition.iter("extension")
        }
    )


def _exceptions_in(notes: Mapping[str, tuple[str, ...]]) -> tuple[_SeventhException, ...]:
    rules: list[_SeventhException] = []
    for text in notes.get("notes", ()) + notes.get("sevenChrNote", ()):
        match = _SEVENTH_EXCEPTION.search(text)
        if match is None:
            continue
        values = frozenset(_EXCEPTION_VALUE.findall(match["values"]))
        if values:
            rules.append(
                _SeventhException(
                    characters=frozenset(_SINGLE_CHARACTER.findall(match["chars"])),
                    position=int(match["position"]),
                    values=values,
                )
            )
    return tuple(rules)
