"""The ICD-10-CM tabular parser, on the bundled April 2026 release and on small files."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from codesets.domain.catalog import CodeRef
from codesets.domain.notes import PROSE_EXCLUDES1_GAPS, parse_code_references
from codesets.domain.systems import System
from codesets.importers.icd10cm_tabular import (
    TabularChapter,
    TabularCode,
    TabularFormatError,
    TabularRelease,
    TabularSection,
    bundled_tabular_path,
    code_infos,
    parse_tabular,
)
from codesets.importers.mce_attributes import MceAttributes

# --- the bundled April 2026 release ---------------------------------------------------


def test_counts_of_the_april_2026_release(icd10cm_release: TabularRelease) -> None:
    assert icd10cm_release.version == "2026"
    assert len(icd10cm_release.chapters) == 22
    assert len(icd10cm_release.sections) == 297
    assert len(icd10cm_release.codes) == 98_186
    assert sum(1 for _ in icd10cm_release.billable_codes()) == 74_719


def test_codes_match_the_code_list_shipped_with_the_tabular(
    icd10cm_release: TabularRelease,
) -> None:
    # The list next to the XML holds chapters, blocks and codes in tabular order; a block
    # of one category (B99, QA0) is listed under the same name as the category.
    listed = (bundled_tabular_path().parent / "code-list-April-2026.txt").read_text().split()
    section_ids = {section.id for section in icd10cm_release.sections}
    expected = [
        name
        for name in dict.fromkeys(listed)
        if not name.isdigit() and (name not in section_ids or "-" not in name)
    ]

    assert [entry.code.replace(".", "") for entry in icd10cm_release.codes] == expected


def test_chapters_and_sections(icd10cm_release: TabularRelease) -> None:
    first, seventeenth = icd10cm_release.chapters[0], icd10cm_release.chapters[16]
    section = icd10cm_release.sections[0]

    assert (first.number, first.first, first.last) == (1, "A00", "B99")
    assert first.description == "Certain infectious and parasitic diseases"
    assert (seventeenth.first, seventeenth.last) == ("Q00", "QA0")
    assert (section.id, section.chapter, section.first, section.last) == (
        "A00-A09",
        1,
        "A00",
        "A09",
    )
    assert section.description == "Intestinal infectious diseases"
    assert icd10cm_release.get("A00") is not None
    assert icd10cm_release.get("A00").section == "A00-A09"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "description", "parent"),
    [
        ("S93.401A", "Sprain of unspecified ligament of right ankle, initial encounter", "S93.401"),
        ("S93.401S", "Sprain of unspecified ligament of right ankle, sequela", "S93.401"),
        (
            "T36.0X1A",
            "Poisoning by penicillins, accidental (unintentional), initial encounter",
            "T36.0X1",
        ),
        (
            "S06.0X1D",
            "Concussion with loss of consciousness of 30 minutes or less, subsequent encounter",
            "S06.0X1",
        ),
        # Padded with X to six characters before the 7th character.
        ("O40.1XX0", "Polyhydramnios, first trimester, not applicable or unspecified", "O40.1"),
        (
            "S06.0XAA",
            "Concussion with loss of consciousness status unknown, initial encounter",
            "S06.0XA",
        ),
    ],
)
def test_seventh_character_expansion(
    icd10cm_release: TabularRelease, code: str, description: str, parent: str
) -> None:
    entry = icd10cm_release.get(code)
    base = icd10cm_release.get(parent)

    assert entry is not None
    assert base is not None
    assert (entry.description, entry.parent, entry.expanded_from) == (description, parent, parent)
    assert entry.billable
    assert not entry.needs_seventh
    assert not base.billable
    assert base.needs_seventh


@pytest.mark.parametrize(
    ("code", "exists"),
    [
        ("S06.1X7A", True),
        ("S06.1X7D", False),
        ("S06.1X7S", False),
        ("S06.1X8A", True),
        ("S06.1X8D", False),
        ("S06.1X6D", True),
        ("S06.1X6S", True),
        ("S06.0X0S", True),
        ("S06.0X7A", False),  # concussion has no 6th character 7 at all
        ("S06.A1XA", True),
        ("S06.A1XD", True),
    ],
)
def test_s06_seventh_character_exception(
    icd10cm_release: TabularRelease, code: str, exists: bool
) -> None:
    assert (icd10cm_release.get(code) is not None) is exists


def test_s06_exception_holds_for_every_subcategory(icd10cm_release: TabularRelease) -> None:
    expanded: dict[str, set[str]] = {}
    for entry in icd10cm_release.codes:
        if entry.expanded_from and entry.code.startswith("S06"):
            expanded.setdefault(entry.expanded_from, set()).add(entry.code[-1])

    death_codes = {code for code in expanded if code[-1] in "78"}
    assert len(death_codes) > 20
    for code, characters in expanded.items():
        assert characters == ({"A"} if code in death_codes else {"A", "D", "S"}), code


def test_placeholder_nodes_are_kept_and_not_billable(icd10cm_release: TabularRelease) -> None:
    placeholders = [entry for entry in icd10cm_release.codes if entry.placeholder]
    concussion = icd10cm_release.get("S06.0X")

    assert len(placeholders) == 246
    assert concussion is not None
    assert concussion.placeholder
    assert (concussion.parent, concussion.billable, concussion.needs_seventh) == (
        "S06.0",
        False,
        False,
    )
    assert all(not entry.billable for entry in placeholders)


def test_parent_chain_of_an_expanded_code(icd10cm_release: TabularRelease) -> None:
    chain = []
    entry = icd10cm_release.get("S06.0X1A")
    while entry is not None:
        chain.append(entry.code)
        entry = icd10cm_release.get(entry.parent) if entry.parent else None

    assert chain == ["S06.0X1A", "S06.0X1", "S06.0X", "S06.0", "S06"]


def test_notes_and_seventh_characters_stay_where_written(
    icd10cm_release: TabularRelease,
) -> None:
    category, subcategory = icd10cm_release.get("S06"), icd10cm_release.get("S06.0")

    assert category is not None
    assert subcategory is not None
    assert dict(category.seventh_characters) == {
        "A": "initial encounter",
        "D": "subsequent encounter",
        "S": "sequela",
    }
    assert dict(subcategory.seventh_characters) == {}
    assert set(category.notes) == {
        "includes",
        "codeAlso",
        "useAdditionalCode",
        "excludes1",
        "sevenChrNote",
        "notes",
    }
    assert subcategory.notes["inclusionTerm"] == ("Commotio cerebri",)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "E11",
            [
                ("prefix", "E08", ""),
                ("prefix", "E09", ""),
                ("prefix", "O24.4", ""),
                ("code", "P70.2", ""),
                ("prefix", "E13", ""),
                ("prefix", "E13", ""),
                ("prefix", "E13", ""),
                ("prefix", "E10", ""),
            ],
        ),
        ("I10", [("range", "O10", "O11"), ("range", "O13", "O16")]),
        ("S06.0", [("range", "S06.1", "S06.6"), ("range", "S06.81", "S06.89")]),
        ("J98.11", [("code", "A15", ""), ("range", "P28.0", "P28.1")]),
        ("K35", []),
    ],
)
def test_excludes1_refs_of_known_codes(
    icd10cm_release: TabularRelease, code: str, expected: list[tuple[str, str, str]]
) -> None:
    entry = icd10cm_release.get(code)

    assert entry is not None
    assert [(ref.kind, ref.start, ref.end) for ref in entry.excludes1_refs] == expected


def test_prose_only_excludes1_notes_are_counted(icd10cm_release: TabularRelease) -> None:
    holders: list[TabularChapter | TabularSection | TabularCode] = [
        *icd10cm_release.chapters,
        *icd10cm_release.sections,
        *icd10cm_release.codes,
    ]
    notes = [note for holder in holders for note in holder.notes.get("excludes1", ())]
    empty = [note for note in notes if not parse_code_references(note)]
    qualified = [note for note in empty if re.search(r"[A-Z][0-9][0-9A-Z]", note)]

    assert (len(notes), len(empty), len(qualified)) == (5_407, 143, 15)
    for code, refs in PROSE_EXCLUDES1_GAPS.items():
        entry = icd10cm_release.get(code)
        assert entry is not None
        assert {ref.text for ref in refs} <= set(entry.notes["excludes1"])


def test_code_infos_carry_mce_attributes_and_block_excludes1(
    icd10cm_release: TabularRelease,
) -> None:
    mce = {"D63.0": MceAttributes(manifestation=True), "O80": MceAttributes("maternity", "F")}

    infos = {info.code: info for info in code_infos(icd10cm_release, mce)}

    anemia, delivery = infos["D63.0"], infos["O80"]
    assert len(infos) == 98_186
    assert anemia.system is System.ICD10CM
    assert anemia.billable
    assert anemia.manifestation
    assert anemia.code_first == ("neoplasm (C00-D49)",)
    assert (delivery.age_group, delivery.sex) == ("maternity", "F")
    assert infos["S93.401"].needs_seventh
    assert not infos["S93.401"].billable
    # The A15-A19 block excludes congenital tuberculosis; its categories carry that.
    assert (
        CodeRef("code", "P37.0", text="congenital tuberculosis (P37.0)") in infos["A15"].excludes1
    )
    assert infos["A15.0"].excludes1 == icd10cm_release.get("A15.0").excludes1_refs  # type: ignore[union-attr]


# --- small files ------------------------------------------------------------------------

# An official-style fragment: no placeholder nodes (S06.0X1 sits under S06.0), the 7th
# characters defined at the category, and the exception note worded as CMS words it.
OFFICIAL_STYLE = b"""<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
  <version>2099</version>
  <chapter>
    <name>19</name>
    <desc>Injury, poisoning and certain other consequences of external causes (S00-T88)</desc>
    <section id="S00-S09">
      <desc>Injuries to the head (S00-S09)</desc>
      <excludes1><note>birth trauma (P10-P15)</note></excludes1>
      <diag>
        <name>S06</name>
        <desc>Intracranial injury</desc>
        <sevenChrNote><note>The appropriate 7th character is to be added</note></sevenChrNote>
        <sevenChrDef>
          <extension char="A">initial encounter</extension>
          <extension char="D">subsequent encounter</extension>
          <extension char="S">sequela</extension>
        </sevenChrDef>
        <notes><note>7th characters D and S do not apply to codes in category S06 with
          6th character 7 - death due to brain injury, or 8 - death due to other cause.</note>
        </notes>
        <diag>
          <name>S06.0</name>
          <desc>Concussion</desc>
          <excludes1><note>other injuries (S06.1- to S06.6-)</note></excludes1>
          <diag><name>S06.0X1</name><desc>Concussion with brief loss</desc></diag>
        </diag>
        <diag>
          <name>S06.1</name>
          <desc>Traumatic cerebral edema</desc>
          <diag><name>S06.1X7</name><desc>Edema with death</desc></diag>
        </diag>
        <diag><name>S06.9</name><desc>Unspecified intracranial injury</desc></diag>
      </diag>
      <diag><name>S09</name><desc>Other injuries of head</desc></diag>
    </section>
  </chapter>
</ICD10CM.tabular>
"""


def test_a_file_without_placeholder_nodes() -> None:
    release = parse_tabular(io.BytesIO(OFFICIAL_STYLE))

    assert release.version == "2099"
    assert [entry.code for entry in release.codes] == [
        "S06",
        "S06.0",
        "S06.0X1",
        "S06.0X1A",
        "S06.0X1D",
        "S06.0X1S",
        "S06.1",
        "S06.1X7",
        "S06.1X7A",
        "S06.9",
        "S06.9XXA",
        "S06.9XXD",
        "S06.9XXS",
        "S09",
    ]
    assert [entry.code for entry in release.billable_codes()] == [
        "S06.0X1A",
        "S06.0X1D",
        "S06.0X1S",
        "S06.1X7A",
        "S06.9XXA",
        "S06.9XXD",
        "S06.9XXS",
        "S09",
    ]
    assert not any(entry.placeholder for entry in release.codes)
    assert release.sections[0].excludes1_refs == (
        CodeRef("range", "P10", "P15", "birth trauma (P10-P15)"),
    )
    assert release.get("S06.9XXS").description == (  # type: ignore[union-attr]
        "Unspecified intracranial injury, sequela"
    )


def test_reads_from_a_path(tmp_path: Path) -> None:
    source = tmp_path / "tabular.xml"
    source.write_bytes(OFFICIAL_STYLE)

    assert len(parse_tabular(source).codes) == 14


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not XML at all", "is not a complete XML file"),
        (OFFICIAL_STYLE[: len(OFFICIAL_STYLE) // 2], "is not a complete XML file"),
        (b"", "is not a complete XML file"),
        (b"<html><body>hello</body></html>", "root element is <html>"),
        (b"<ICD10CM.tabular><version>2026</version></ICD10CM.tabular>", "no chapter"),
        (
            b"<ICD10CM.tabular><chapter><name>1</name><desc>x (A00-A09)</desc>"
            b"</chapter></ICD10CM.tabular>",
            "no code",
        ),
        (
            b"<ICD10CM.tabular><chapter><name>one</name></chapter></ICD10CM.tabular>",
            "not a whole number",
        ),
        (
            b"<ICD10CM.tabular><chapter><name>1</name><section id='A00-A09'>"
            b"<diag><name>cholera</name></diag></section></chapter></ICD10CM.tabular>",
            "not shaped like an ICD-10-CM code",
        ),
    ],
)
def test_malformed_files_raise_one_clear_error(content: bytes, message: str) -> None:
    with pytest.raises(TabularFormatError, match=message) as raised:
        parse_tabular(io.BytesIO(content))

    assert str(raised.value).count(". ") == 0  # one sentence
