"""Load the curated CPT and HCPCS Level II sets bundled in ``codesets/data``.

The project cannot ship the AMA's CPT descriptors, and the full CMS HCPCS file is larger
than a teaching platform needs, so both families come with a curated YAML set written by
the project: code numbers, our own plain-language descriptions, the section and sub-group
each code is taught under, and billing units for drugs. The loader is strict because a
typo in a hand-written file would otherwise surface as a wrong grade much later: every
code must have its family's shape, lie inside its section's range, appear once, and every
J code must say what one billed unit stands for. Pure: no Django, no I/O beyond reading
the given file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from codesets.domain.catalog import CodeInfo, ReleaseInfo
from codesets.domain.shapes import cpt_category, has_shape, looks_like_modifier
from codesets.domain.systems import System

_DATA_DIR = Path(__file__).resolve().parent.parent / "data"

_TOP_KEYS = {"release", "notice", "sections", "modifiers"}
_RELEASE_KEYS = {"system", "version", "effective_from", "effective_to", "source"}
_CODE_KEYS = {"code", "description", "billing_unit"}
_CPT_CATEGORIES = {"I", "II", "III"}


class CuratedSetError(ValueError):
    """The curated YAML file is not usable; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Modifier:
    """A two-character modifier with our own description, kept apart from the codes."""

    code: str
    description: str
    system: System


@dataclass(frozen=True, slots=True)
class CodeGroup:
    """A teaching sub-group inside a section: an HCPCS category or a CPT subsection."""

    name: str
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """A section of the code family with the code ranges it spans (inclusive)."""

    name: str
    ranges: tuple[tuple[str, str], ...]
    groups: tuple[CodeGroup, ...]
    # CPT only: the category (I, II or III) every code of the section belongs to.
    cpt_category: str | None = None

    def covers(self, code: str) -> bool:
        """True when ``code`` lies inside one of the section's ranges.

        String comparison is enough because codes of one section share one shape.
        """
        return any(first <= code <= last for first, last in self.ranges)


@dataclass(frozen=True, slots=True)
class CuratedSet:
    """One curated release: its codes, the section tree, modifiers and the usage notice."""

    release: ReleaseInfo
    codes: tuple[CodeInfo, ...]
    sections: tuple[Section, ...]
    modifiers: tuple[Modifier, ...]
    notice: str

    def get(self, code: str) -> CodeInfo | None:
        """The entry for a canonical code, or None when the set does not have it."""
        return next((info for info in self.codes if info.code == code), None)

    def placement(self, code: str) -> tuple[Section, CodeGroup] | None:
        """The section and sub-group ``code`` is taught under, or None when absent."""
        for section in self.sections:
            for group in section.groups:
                if code in group.codes:
                    return section, group
        return None


def bundled_cpt_path() -> Path:
    """Path of the curated CPT set shipped with the project."""
    return _DATA_DIR / "cpt_curated.yaml"


def bundled_hcpcs_path() -> Path:
    """Path of the curated HCPCS Level II set shipped with the project."""
    return _DATA_DIR / "hcpcs_curated.yaml"


def load_curated(path: Path) -> CuratedSet:
    """Read and validate a curated set; raise CuratedSetError naming the faulty entry."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CuratedSetError(f"{path.name}: cannot read the file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise CuratedSetError(f"{path.name}: not valid YAML ({exc})") from exc
    return _Loader(path.name).load(document)


class _Loader:
    """Walks the YAML document once, keeping the file name for error messages."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.seen: dict[str, str] = {}

    def fail(self, where: str, problem: str) -> CuratedSetError:
        return CuratedSetError(f"{self.file_name}: {where}: {problem}")

    def load(self, document: object) -> CuratedSet:
        top = self.mapping(document, "top level", required=_TOP_KEYS, allowed=_TOP_KEYS)
        release = self.release(top["release"])
        notice = self.text(top["notice"], "notice")
        system = release.system
        sections_raw = self.sequence(top["sections"], "sections")
        sections: list[Section] = []
        codes: list[CodeInfo] = []
        for index, raw in enumerate(sections_raw):
            section, section_codes = self.section(raw, f"sections[{index}]", system)
            sections.append(section)
            codes.extend(section_codes)
        if not codes:
            raise self.fail("sections", "the set has no codes")
        modifiers = tuple(
            self.modifier(raw, f"modifiers[{index}]", system)
            for index, raw in enumerate(self.sequence(top["modifiers"], "modifiers"))
        )
        return CuratedSet(release, tuple(codes), tuple(sections), modifiers, notice)

    def release(self, raw: object) -> ReleaseInfo:
        block = self.mapping(
            raw, "release", required={"system", "version", "effective_from"}, allowed=_RELEASE_KEYS
        )
        try:
            system = System.parse(self.text(block["system"], "release.system"))
        except ValueError as exc:
            raise self.fail("release.system", str(exc)) from exc
        if system is System.ICD10CM:
            raise self.fail("release.system", "curated sets exist for CPT and HCPCS only")
        start = self.date(block["effective_from"], "release.effective_from")
        end = (
            self.date(block["effective_to"], "release.effective_to")
            if block.get("effective_to") is not None
            else None
        )
        if end is not None and end < start:
            raise self.fail("release", "effective_to is before effective_from")
        source = self.text(block["source"], "release.source") if "source" in block else ""
        return ReleaseInfo(
            system=system,
            version=self.text(block["version"], "release.version"),
            effective_from=start,
            effective_to=end,
            source=" ".join(source.split()),
        )

    def section(self, raw: object, where: str, system: System) -> tuple[Section, list[CodeInfo]]:
        group_key = "subsections" if system is System.CPT else "categories"
        required = {"name", "ranges", group_key} | (
            {"cpt_category"} if system is System.CPT else set()
        )
        block = self.mapping(raw, where, required=required, allowed=required)
        name = self.text(block["name"], f"{where}.name")
        ranges = self.ranges(block["ranges"], f"{where}.ranges", system)
        category = None
        if system is System.CPT:
            category = self.text(block["cpt_category"], f"{where}.cpt_category")
            if category not in _CPT_CATEGORIES:
                raise self.fail(f"{where}.cpt_category", "must be I, II or III")
        # The codes are checked against the section's ranges and category before its
        # groups exist, so they see this group-less copy.
        bounds = Section(name=name, ranges=ranges, groups=(), cpt_category=category)
        groups: list[CodeGroup] = []
        infos: list[CodeInfo] = []
        for g_index, g_raw in enumerate(self.sequence(block[group_key], f"{where}.{group_key}")):
            g_where = f"{where}.{group_key}[{g_index}]"
            g_block = self.mapping(
                g_raw, g_where, required={"name", "codes"}, allowed={"name", "codes"}
            )
            group_infos = [
                self.code(c_raw, f"{g_where}.codes[{c_index}]", system, bounds)
                for c_index, c_raw in enumerate(self.sequence(g_block["codes"], f"{g_where}.codes"))
            ]
            if not group_infos:
                raise self.fail(g_where, "a group needs at least one code")
            groups.append(
                CodeGroup(
                    name=self.text(g_block["name"], f"{g_where}.name"),
                    codes=tuple(info.code for info in group_infos),
                )
            )
            infos.extend(group_infos)
        return (
            Section(name=name, ranges=ranges, groups=tuple(groups), cpt_category=category),
            infos,
        )

    def ranges(self, raw: object, where: str, system: System) -> tuple[tuple[str, str], ...]:
        pairs: list[tuple[str, str]] = []
        for index, pair in enumerate(self.sequence(raw, where)):
            if not isinstance(pair, list) or len(pair) != 2:
                raise self.fail(f"{where}[{index}]", "a range is a [first, last] pair")
            first, last = (self.text(end, f"{where}[{index}]") for end in pair)
            for end in (first, last):
                if not has_shape(end, system):
                    raise self.fail(f"{where}[{index}]", f"{end!r} is not a {system.value} code")
            if last < first:
                raise self.fail(f"{where}[{index}]", f"{first}-{last} runs backwards")
            pairs.append((first, last))
        if not pairs:
            raise self.fail(where, "a section needs at least one range")
        return tuple(pairs)

    def code(self, raw: object, where: str, system: System, section: Section) -> CodeInfo:
        block = self.mapping(raw, where, required={"code", "description"}, allowed=_CODE_KEYS)
        code_raw = block["code"]
        if not isinstance(code_raw, str):
            # An unquoted 99213 arrives as a number and 00100 as an octal number: both lose
            # the code's exact spelling, so the file must quote numeric codes.
            raise self.fail(where, f"code {code_raw!r} must be a quoted string")
        code = code_raw.strip().upper()
        where = f"{where} ({code})"
        if not has_shape(code, system) or code != code_raw:
            raise self.fail(where, f"not a canonical {system.value} code")
        if not section.covers(code):
            raise self.fail(where, f"outside the ranges of section {section.name!r}")
        if section.cpt_category is not None and cpt_category(code) != section.cpt_category:
            raise self.fail(where, f"not a Category {section.cpt_category} code")
        if code in self.seen:
            raise self.fail(where, f"duplicate of the entry at {self.seen[code]}")
        self.seen[code] = where
        unit = None
        if "billing_unit" in block:
            unit = self.text(block["billing_unit"], f"{where}.billing_unit")
        elif system is System.HCPCS and code.startswith("J"):
            raise self.fail(where, "a J code needs a billing_unit (what one unit stands for)")
        return CodeInfo(
            code=code,
            system=system,
            description=self.text(block["description"], f"{where}.description"),
            billable=True,
            parent=None,
            billing_unit=unit,
        )

    def modifier(self, raw: object, where: str, system: System) -> Modifier:
        block = self.mapping(
            raw, where, required={"code", "description"}, allowed={"code", "description"}
        )
        code = self.text(block["code"], f"{where}.code")
        if not looks_like_modifier(code) or code != code.upper():
            raise self.fail(where, f"{code!r} is not a two-character modifier")
        # CPT (Level I) modifiers are two digits; HCPCS Level II modifiers carry a letter.
        # Checking this keeps the two families' modifier lists from mixing.
        if (system is System.CPT) != code.isdigit():
            family = (
                "CPT modifiers are two digits"
                if system is System.CPT
                else ("HCPCS Level II modifiers contain a letter")
            )
            raise self.fail(where, f"{code!r}: {family}")
        key = f"modifier {code}"
        if key in self.seen:
            raise self.fail(where, f"duplicate of the entry at {self.seen[key]}")
        self.seen[key] = where
        return Modifier(
            code=code,
            description=self.text(block["description"], f"{where}.description"),
            system=system,
        )

    def mapping(
        self, raw: object, where: str, *, required: set[str], allowed: set[str]
    ) -> Mapping[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(where, "expected a mapping")
        missing = sorted(required - raw.keys())
        if missing:
            raise self.fail(where, f"missing {', '.join(missing)}")
        unknown = sorted(str(key) for key in raw.keys() - allowed)
        if unknown:
            raise self.fail(where, f"unknown key {', '.join(unknown)}")
        return raw

    def sequence(self, raw: object, where: str) -> list[object]:
        if not isinstance(raw, list):
            raise self.fail(where, "expected a list")
        return raw

    def text(self, raw: object, where: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(where, "expected non-empty text")
        return raw.strip()

    def date(self, raw: object, where: str) -> dt.date:
        if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
            return raw
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass
        raise self.fail(where, f"{raw!r} is not a YYYY-MM-DD date")
