"""Read the ICD-10-CM index tables (Neoplasm, Drugs and Chemicals, External Cause).

Pure: no Django. Parses the official public-domain XML files shipped under
``codesets/data/index/`` into :class:`IndexRow` values and ranks rows for a free-word
query. Contract: ../shared/spec/contracts.md (``table_lookup``).

Each row has two paths. ``path`` is the titles as the contract prints them, without
nonessential modifiers (``"breast"``). ``full_path`` keeps them: the ``<nemod>`` text joins
the title text with one space, and any text after it follows with one space, whitespace
collapsed, so ``2,4-D<nemod>(dichlorophen-oxyacetic acid)</nemod>`` reads
``"2,4-D (dichlorophen-oxyacetic acid)"``. Queries match ``full_path``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

NEOPLASM_KEYS = (
    "malignant_primary",
    "malignant_secondary",
    "ca_in_situ",
    "benign",
    "uncertain_behavior",
    "unspecified_behavior",
)
DRUG_KEYS = (
    "poisoning_accidental",
    "poisoning_intentional",
    "poisoning_assault",
    "poisoning_undetermined",
    "adverse_effect",
    "underdosing",
)
EXTERNAL_KEYS = ("code",)

TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "neoplasm": NEOPLASM_KEYS,
    "drug": DRUG_KEYS,
    "external": EXTERNAL_KEYS,
}
TABLE_FILES = {
    "neoplasm": "icd-10-cm-neoplasm-2025.xml",
    "drug": "icd-10-cm-drug-2025.xml",
    "external": "icd-10-cm-eindex-2025.xml",
}
NONE = "--"


@dataclass(frozen=True)
class IndexRow:
    """One entry of an index table, in file order (``position``)."""

    table: str
    position: int
    level: int
    path: tuple[str, ...]
    full_path: tuple[str, ...]
    cells: dict[str, str]
    see: str | None
    see_also: str | None
    search_text: str  # normalized words of full_path, leading space (word-start match)
    title_text: str  # normalized words of path (no nonessential modifiers), leading space


@dataclass(frozen=True)
class IndexTableData:
    table: str
    index_version: str
    rows: tuple[IndexRow, ...]


def normalize(text: str) -> str:
    """Lower-case words: letters, digits and dots; every other character splits words."""
    return " ".join(re.sub(r"[^\w.]+|_", " ", text.casefold()).split())


def _bare_title(element: ET.Element | None) -> str:
    """A title without its ``<nemod>`` parts."""
    if element is None:
        return ""
    parts = [element.text or ""] + [child.tail or "" for child in element]
    return " ".join(" ".join(parts).split())


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    return " ".join(" ".join(element.itertext()).split()) or None


def parse_table(table: str, path: Path) -> IndexTableData:
    """Parse one index XML file into rows (main terms and every subterm)."""
    keys = TABLE_KEYS[table]
    root = ET.parse(path).getroot()
    version = (root.findtext("version") or "").strip()
    rows: list[IndexRow] = []

    def visit(
        element: ET.Element, level: int, parents: tuple[str, ...], full: tuple[str, ...]
    ) -> None:
        title = element.find("title")
        path_ = (*parents, _bare_title(title))
        full_ = (*full, _text(title) or "")
        if table == "external":
            cells = {"code": (element.findtext("code") or "").strip() or NONE}
        else:
            by_col = {
                c.get("col"): " ".join((c.text or "").split()) for c in element.findall("cell")
            }
            cells = {key: by_col.get(str(i + 2)) or NONE for i, key in enumerate(keys)}
        rows.append(
            IndexRow(
                table=table,
                position=len(rows),
                level=level,
                path=path_,
                full_path=full_,
                cells=cells,
                see=_text(element.find("see")),
                see_also=_text(element.find("seeAlso")),
                search_text=" " + normalize(" ".join(full_)),
                title_text=" " + normalize(" ".join(path_)),
            )
        )
        for child in element.findall("term"):
            visit(child, int(child.get("level") or level + 1), path_, full_)

    for letter in root.findall("letter"):
        for main in letter.findall("mainTerm"):
            visit(main, 0, (), ())
    return IndexTableData(table=table, index_version=version, rows=tuple(rows))


def lookup(data: IndexTableData, query: str, limit: int = 10) -> list[IndexRow]:
    """Rows whose path text holds every query word (prefix of a path word), best first.

    Best = most query words found outside nonessential modifiers, then fewest levels,
    then main terms that start with a query word, then fewest words, then index order.
    """
    words = [" " + word for word in normalize(query).split()]
    if not words:
        return []
    hits = [
        (
            -sum(word in row.title_text for word in words),
            len(row.path),
            not any(row.title_text.startswith(word) for word in words),
            row.search_text.count(" "),
            row.position,
            row,
        )
        for row in data.rows
        if all(word in row.search_text for word in words)
    ]
    hits.sort(key=lambda hit: hit[:5])
    return [hit[5] for hit in hits[:limit]]
