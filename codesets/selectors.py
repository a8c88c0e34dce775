"""Read access to the imported code sets, returning plain frozen data.

Which release answers for a date: the release of the system whose window
(``effective_from`` to ``effective_to``, inclusive) holds the date; when windows overlap
the latest ``effective_from`` wins, and on a tie the release imported last.

Browsing and searching without a date (the search page, ``search_codes`` without
``--date``) use today's release of each system, and when a system has none in force
today its newest release: the bundled ICD-10-CM window ends on 2026-09-30, and a site
running later should still show the codes rather than nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.utils import timezone

from codesets.domain.catalog import AGE_RANGES, NoReleaseInForce, ReleaseInfo
from codesets.domain.shapes import canonical, compact, has_shape
from codesets.domain.systems import System
from codesets.models import Chapter, Code, Release, Section

# Siblings and children listed on a code page (an HCPCS block can hold hundreds).
_MAX_LISTED = 200

SYSTEM_ORDER: tuple[System, ...] = (System.ICD10CM, System.CPT, System.HCPCS)

NOTE_LABELS: Mapping[str, str] = {
    "includes": "Includes",
    "inclusionTerm": "Inclusion terms",
    "excludes1": "Excludes1",
    "excludes2": "Excludes2",
    "codeFirst": "Code first",
    "useAdditionalCode": "Use additional code",
    "codeAlso": "Code also",
    "notes": "Notes",
    "sevenChrNote": "7th character note",
}

# Codes as notes write them, per system, never inside a longer word. A code-shaped word
# that the release does not have ("vitamin B12") stays plain text.
_NOTE_CODE_PATTERNS: Mapping[System, re.Pattern[str]] = {
    System.ICD10CM: re.compile(
        r"(?<![0-9A-Za-z/])[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?(?![0-9A-Za-z])"
    ),
    System.CPT: re.compile(r"(?<![0-9A-Za-z])[0-9]{4}[0-9FT](?![0-9A-Za-z])"),
    System.HCPCS: re.compile(r"(?<![0-9A-Za-z])[A-V][0-9]{4}(?![0-9A-Za-z])"),
}


# ---------------------------------------------------------------------------- releases


def release_info(release: Release) -> ReleaseInfo:
    """The pure description of a release row."""
    return ReleaseInfo(
        system=System(release.system),
        version=release.version,
        effective_from=release.effective_from,
        effective_to=release.effective_to,
        source=release.source,
    )


def _in_force(release: Release, day: dt.date) -> bool:
    return release.effective_from <= day and (
        release.effective_to is None or day <= release.effective_to
    )


def _latest(releases: Iterable[Release]) -> Release | None:
    return max(releases, key=lambda release: (release.effective_from, release.id), default=None)


def _by_system(releases: Iterable[Release]) -> dict[System, list[Release]]:
    grouped: dict[System, list[Release]] = {}
    for release in releases:
        grouped.setdefault(System(release.system), []).append(release)
    return grouped


def release_in_force(*, system: System, day: dt.date) -> Release:
    """The release of ``system`` in force on ``day``.

    Raises NoReleaseInForce, naming the releases that are available, when there is none.
    """
    releases = list(Release.objects.filter(system=system.value))
    chosen = _latest(release for release in releases if _in_force(release, day))
    if chosen is None:
        raise NoReleaseInForce(system, day, _infos_by_start(releases))
    return chosen


def releases_in_force(*, day: dt.date) -> dict[System, Release]:
    """Per system, the release in force on ``day``.

    A system without any release is absent; a system that has releases but none in
    force raises NoReleaseInForce (a date of service must be graded against one release
    of every family it may use).
    """
    return ReleaseTable.load().in_force(day)


class ReleaseTable:
    """Every release, read in one query, answering "which releases are in force on this
    day" for as many days as a caller has (an attempt's items span several dates)."""

    def __init__(self, releases: Iterable[Release]) -> None:
        self._by_system = _by_system(releases)
        self._days: dict[dt.date, dict[System, Release]] = {}

    @classmethod
    def load(cls) -> ReleaseTable:
        return cls(Release.objects.all())

    def in_force(self, day: dt.date) -> dict[System, Release]:
        """As :func:`releases_in_force`, without a query."""
        known = self._days.get(day)
        if known is not None:
            return known
        chosen: dict[System, Release] = {}
        for system, releases in self._by_system.items():
            release = _latest(release for release in releases if _in_force(release, day))
            if release is None:
                raise NoReleaseInForce(system, day, _infos_by_start(releases))
            chosen[system] = release
        ordered = dict(sorted(chosen.items(), key=lambda item: SYSTEM_ORDER.index(item[0])))
        self._days[day] = ordered
        return ordered


def releases_for_search(
    *, day: dt.date | None = None, system: System | None = None
) -> list[Release]:
    """The releases a search or a browse page looks at.

    With a ``day``, the releases in force on it: NoReleaseInForce when ``system`` is
    given and has none, or when no system has one. Without a day, today's release of
    each system, or its newest release when none is in force today.
    """
    grouped = _by_system(Release.objects.all())
    if system is not None:
        grouped = {system: grouped.get(system, [])}
    chosen: list[Release] = []
    for each in SYSTEM_ORDER:
        releases = grouped.get(each)
        if not releases and each is not system:
            continue
        releases = releases or []
        if day is None:
            release = _latest(r for r in releases if _in_force(r, timezone.localdate()))
            release = release or _latest(releases)
        else:
            release = _latest(r for r in releases if _in_force(r, day))
            if release is None and system is not None:
                raise NoReleaseInForce(system, day, _infos_by_start(releases))
        if release is not None:
            chosen.append(release)
    if not chosen and day is not None and grouped:
        first_system, releases = next(iter(sorted(grouped.items(), key=_system_key)))
        raise NoReleaseInForce(first_system, day, _infos_by_start(releases))
    return chosen


def _system_key(item: tuple[System, object]) -> int:
    return SYSTEM_ORDER.index(item[0])


def _infos_by_start(releases: Iterable[Release]) -> list[ReleaseInfo]:
    return [release_info(r) for r in sorted(releases, key=lambda r: (r.effective_from, r.id))]


def codeset_stats() -> list[dict[str, object]]:
    """Every release with its window, source and counts (the ``codeset_stats`` shape)."""
    releases = sorted(
        Release.objects.all(),
        key=lambda r: (SYSTEM_ORDER.index(System(r.system)), r.effective_from, r.id),
    )
    return [
        {
            "system": release.system,
            "version": release.version,
            "effective_from": release.effective_from.isoformat(),
            "effective_to": release.effective_to.isoformat() if release.effective_to else None,
            "source": release.source,
            "codes": release.code_count,
            "billable": release.billable_count,
        }
        for release in releases
    ]


# ---------------------------------------------------------------------------- code page


@dataclass(frozen=True, slots=True)
class ReleaseSummary:
    system: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    source: str
    notice: str


@dataclass(frozen=True, slots=True)
class CodeSummary:
    """A code as listed in the tree around a code page."""

    code: str
    description: str
    billable: bool
    current: bool = False


@dataclass(frozen=True, slots=True)
class NoteSegment:
    """A run of note text; ``link`` is the code it names when that code exists."""

    text: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class NoteGroup:
    kind: str
    label: str
    notes: tuple[tuple[NoteSegment, ...], ...]


@dataclass(frozen=True, slots=True)
class NoteSource:
    """Notes written at one place above the code: an ancestor, the block or the chapter."""

    title: str
    code: str | None
    groups: tuple[NoteGroup, ...]


@dataclass(frozen=True, slots=True)
class SeventhTable:
    """The 7th characters that apply, where they are defined and which one this code has."""

    defined_at: str
    characters: tuple[tuple[str, str], ...]
    current: str | None


@dataclass(frozen=True, slots=True)
class CodePage:
    """Everything the code page shows, read in a fixed handful of queries."""

    system: str
    code: str
    description: str
    billable: bool
    needs_seventh: bool
    placeholder: bool
    release: ReleaseSummary
    chapter: tuple[str, str] | None
    section: tuple[str, str] | None
    ancestors: tuple[CodeSummary, ...]
    siblings: tuple[CodeSummary, ...]
    children: tuple[CodeSummary, ...]
    seventh: SeventhTable | None
    notes: tuple[NoteGroup, ...]
    inherited_notes: tuple[NoteSource, ...]
    age_group: str
    sex: str
    manifestation: bool
    unacceptable_pdx: bool
    billing_unit: str

    @property
    def is_icd10cm(self) -> bool:
        return self.system == System.ICD10CM.value

    @property
    def has_mce(self) -> bool:
        return bool(self.age_group or self.sex or self.manifestation or self.unacceptable_pdx)

    @property
    def age_label(self) -> str:
        if not self.age_group:
            return "No age edit"
        low, high = AGE_RANGES[self.age_group]
        ages = f"age {low}" if low == high else f"ages {low} to {high}"
        return f"{self.age_group.capitalize()} ({ages})"

    @property
    def sex_label(self) -> str:
        return {"F": "Female patients only", "M": "Male patients only"}.get(self.sex, "No sex edit")


def code_page(*, system: System, code: str, version: str | None = None) -> CodePage | None:
    """The page of ``code`` (any case, with or without the dot), or None when unknown.

    With ``version``, that release; otherwise the release searches use (see the module
    docstring) and, when the code is not in it, the newest release that has the code.
    """
    wanted = canonical(code, system)
    row = _find_code(system, wanted, version)
    if row is None:
        return None
    release = row.release
    ancestors = _ancestors(row)
    # Top-level entries (categories, CPT and HCPCS codes) are siblings within a block.
    sibling_rows = (
        Code.objects.filter(release=release, parent_code=row.parent_code)
        if row.parent_code
        else Code.objects.filter(release=release, parent_code="", section=row.section)
    )
    siblings = list(
        sibling_rows.only("code", "description", "billable", "position").order_by("position")[
            :_MAX_LISTED
        ]
    )
    children = list(
        Code.objects.filter(release=release, parent_code=row.code)
        .only("code", "description", "billable", "position")
        .order_by("position")[:_MAX_LISTED]
    )
    chapter = (
        Chapter.objects.filter(release=release, number=row.chapter).first() if row.chapter else None
    )
    section = (
        Section.objects.filter(release=release, ident=row.section).first() if row.section else None
    )
    inherited_sources: list[tuple[str, str | None, Mapping[str, Sequence[str]]]] = [
        (f"{a.code} {a.description}", a.code, a.notes) for a in reversed(ancestors) if a.notes
    ]
    if section is not None and section.notes:
        inherited_sources.append(
            (f"Block {section.ident} {section.description}", None, section.notes)
        )
    if chapter is not None and chapter.notes:
        inherited_sources.append(
            (f"Chapter {chapter.number} {chapter.description}", None, chapter.notes)
        )
    existing = _existing_codes(
        release, system, [row.notes, *(notes for _, _, notes in inherited_sources)]
    )
    return CodePage(
        system=release.system,
        code=row.code,
        description=row.description,
        billable=row.billable,
        needs_seventh=row.needs_seventh,
        placeholder=row.placeholder,
        release=ReleaseSummary(
            release.system,
            release.version,
            release.effective_from,
            release.effective_to,
            release.source,
            release.notice,
        ),
        chapter=(chapter.number, chapter.description) if chapter else None,
        section=(section.ident, section.description) if section else None,
        ancestors=tuple(CodeSummary(a.code, a.description, a.billable) for a in ancestors),
        siblings=tuple(
            CodeSummary(s.code, s.description, s.billable, s.code == row.code) for s in siblings
        ),
        children=tuple(CodeSummary(c.code, c.description, c.billable) for c in children),
        seventh=_seventh_table(row, ancestors),
        notes=_note_groups(row.notes, system, existing),
        inherited_notes=tuple(
            NoteSource(title, source_code, _note_groups(notes, system, existing))
            for title, source_code, notes in inherited_sources
        ),
        age_group=row.age_group,
        sex=row.sex,
        manifestation=row.manifestation,
        unacceptable_pdx=row.unacceptable_pdx,
        billing_unit=row.billing_unit,
    )


def _find_code(system: System, code: str, version: str | None) -> Code | None:
    rows = Code.objects.select_related("release").filter(release__system=system.value, code=code)
    if version is not None:
        return rows.filter(release__version=version).first()
    preferred = releases_for_search(system=system)
    if preferred:
        row = rows.filter(release=preferred[0]).first()
        if row is not None:
            return row
    return rows.order_by("-release__effective_from", "-release_id").first()


def _ancestors(row: Code) -> list[Code]:
    """The codes above ``row``, root first, read in one query."""
    if not row.parent_code:
        return []
    if has_shape(row.code, System.ICD10CM) and row.release.system == System.ICD10CM.value:
        flat = compact(row.code)
        candidates = [canonical(flat[:length], System.ICD10CM) for length in range(3, len(flat))]
    else:
        candidates = [row.parent_code]
    found = {c.code: c for c in Code.objects.filter(release_id=row.release_id, code__in=candidates)}
    chain: list[Code] = []
    parent = found.get(row.parent_code)
    while parent is not None:
        chain.append(parent)
        parent = found.get(parent.parent_code) if parent.parent_code else None
    return list(reversed(chain))


def _seventh_table(row: Code, ancestors: Sequence[Code]) -> SeventhTable | None:
    for holder in [row, *reversed(ancestors)]:
        if holder.seventh_characters:
            parent = ancestors[-1] if ancestors else None
            expanded = parent is not None and parent.needs_seventh
            return SeventhTable(
                defined_at=holder.code,
                characters=tuple(sorted(holder.seventh_characters.items())),
                current=compact(row.code)[-1] if expanded else None,
            )
    return None


def _note_codes(text: str, system: System) -> list[str]:
    return [m.group(0) for m in _NOTE_CODE_PATTERNS[system].finditer(text)]


def _existing_codes(
    release: Release, system: System, note_maps: Iterable[Mapping[str, Sequence[str]]]
) -> frozenset[str]:
    """The codes named in the notes that the release has (one query)."""
    named = {
        code
        for notes in note_maps
        for texts in notes.values()
        for text in texts
        for code in _note_codes(text, system)
    }
    if not named:
        return frozenset()
    return frozenset(
        Code.objects.filter(release=release, code__in=named).values_list("code", flat=True)
    )


def _note_groups(
    notes: Mapping[str, Sequence[str]], system: System, existing: frozenset[str]
) -> tuple[NoteGroup, ...]:
    ordered = [kind for kind in NOTE_LABELS if kind in notes] + [
        kind for kind in notes if kind not in NOTE_LABELS
    ]
    return tuple(
        NoteGroup(
            kind=kind,
            label=NOTE_LABELS.get(kind, kind),
            notes=tuple(_segments(text, system, existing) for text in notes[kind]),
        )
        for kind in ordered
        if notes[kind]
    )


def _segments(text: str, system: System, existing: frozenset[str]) -> tuple[NoteSegment, ...]:
    """Split a note into plain runs and code links; the template escapes every run."""
    segments: list[NoteSegment] = []
    cursor = 0
    for match in _NOTE_CODE_PATTERNS[system].finditer(text):
        if match.group(0) not in existing:
            continue
        if match.start() > cursor:
            segments.append(NoteSegment(text[cursor : match.start()]))
        segments.append(NoteSegment(match.group(0), match.group(0)))
        cursor = match.end()
    if cursor < len(text):
        segments.append(NoteSegment(text[cursor:]))
    return tuple(segments)
