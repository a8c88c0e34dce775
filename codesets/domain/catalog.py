"""The catalog protocol: how pure code (grading, generation) reads code sets.

A :class:`Catalog` answers for exactly one release per system: the releases in force on
one date of service. :class:`ReleaseLibrary` holds several releases per system and picks
the ones in force on a date (``for_date``), failing with :class:`NoReleaseInForce` when
a system has none. The Django layer builds these from the database (``DbCatalog``); tests
and benchmarks build them in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from codesets.domain.systems import System

AgeGroup = Literal["newborn", "pediatric", "maternity", "adult"]
Sex = Literal["F", "M"]

# Inclusive age ranges of the CMS Medicare Code Editor age edits (MCE v43).
AGE_RANGES: Mapping[str, tuple[int, int]] = {
    "newborn": (0, 0),
    "pediatric": (0, 17),
    "maternity": (9, 64),
    "adult": (15, 124),
}


@dataclass(frozen=True, slots=True)
class CodeRef:
    """A structured reference to codes written in an instructional note.

    ``kind`` is ``code`` (exactly ``start``; with ``start`` a category such as ``K50``
    it also covers the category's codes), ``prefix`` (``start`` and every code below
    it: the ``X00.-`` form) or ``range`` (every code whose category, or whose
    same-length prefix, lies between ``start`` and ``end``: ``O10-O11``, ``E08.-E13.-``).
    ``text`` is the note the reference was parsed from, quoted in feedback.
    """

    kind: Literal["code", "prefix", "range"]
    start: str
    end: str = ""
    text: str = ""

    def matches(self, code: str) -> bool:
        """True when the canonical ICD-10-CM ``code`` falls under this reference."""
        flat = code.replace(".", "")
        start = self.start.replace(".", "")
        if self.kind in ("code", "prefix"):
            return flat.startswith(start)
        end = self.end.replace(".", "")
        return start <= flat[: len(start)] and flat[: len(end)] <= end


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """One code of one release, with what grading and teaching need to know."""

    code: str
    system: System
    description: str
    billable: bool
    parent: str | None = None
    # ICD-10-CM: True for a code that needs a 7th character to be reported (its
    # billable descendants are formed by appending one, with X placeholders if short).
    needs_seventh: bool = False
    # ICD-10-CM Medicare Code Editor attributes.
    age_group: AgeGroup | None = None
    sex: Sex | None = None
    manifestation: bool = False
    unacceptable_pdx: bool = False
    # Excludes1 notes written at this code (ancestors carry their own).
    excludes1: tuple[CodeRef, ...] = ()
    # "Code first" notes at this code, as text (for feedback on manifestation codes).
    code_first: tuple[str, ...] = ()
    # HCPCS drugs: the quantity one unit stands for, e.g. "15 mg" for J1885.
    billing_unit: str | None = None


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    """A versioned release of one system, in force from ``effective_from`` to
    ``effective_to`` inclusive (open-ended when ``effective_to`` is None)."""

    system: System
    version: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    source: str = ""

    def in_force(self, day: dt.date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


class NoReleaseInForce(LookupError):
    """No release of a system is in force on the requested date."""

    def __init__(self, system: System, day: dt.date, available: Sequence[ReleaseInfo] = ()):
        self.system = system
        self.day = day
        self.available = tuple(available)
        windows = ", ".join(
            f"{r.version} ({r.effective_from.isoformat()} to "
            f"{r.effective_to.isoformat() if r.effective_to else 'open'})"
            for r in self.available
        )
        detail = f"; releases available: {windows}" if windows else "; no release is imported"
        super().__init__(f"no {system.value} release is in force on {day.isoformat()}{detail}")


class Catalog(Protocol):
    """Read access to the releases in force on one date, one per system."""

    def release(self, system: System) -> ReleaseInfo | None:
        """The release of ``system`` this catalog answers for (None: not loaded)."""
        ...

    def get(self, system: System, code: str) -> CodeInfo | None:
        """The entry for a canonical code, or None when the release does not have it."""
        ...

    def children(self, system: System, code: str) -> Sequence[str]:
        """Canonical codes directly below ``code``, in tabular order."""
        ...


def ancestors(catalog: Catalog, system: System, code: str) -> Iterator[CodeInfo]:
    """The entries above ``code``, nearest first, following ``parent`` links."""
    entry = catalog.get(system, code)
    while entry is not None and entry.parent:
        entry = catalog.get(system, entry.parent)
        if entry is not None:
            yield entry


def first_billable_descendant(catalog: Catalog, system: System, code: str) -> CodeInfo | None:
    """The first billable code below ``code`` in tabular order (an example for feedback)."""
    stack = list(reversed(catalog.children(system, code)))
    while stack:
        current = stack.pop()
        entry = catalog.get(system, current)
        if entry is None:
            continue
        if entry.billable:
            return entry
        stack.extend(reversed(catalog.children(system, current)))
    return None


@dataclass
class InMemoryCatalog:
    """A catalog held in dictionaries: for the pure tests, benchmarks and bulk paths."""

    releases: dict[System, ReleaseInfo] = field(default_factory=dict)
    entries: dict[System, dict[str, CodeInfo]] = field(default_factory=dict)
    _children: dict[System, dict[str, list[str]]] = field(default_factory=dict)

    def add_release(self, release: ReleaseInfo, codes: Iterable[CodeInfo]) -> None:
        self.releases[release.system] = release
        table = self.entries.setdefault(release.system, {})
        kids = self._children.setdefault(release.system, {})
        for info in codes:
            table[info.code] = info
            if info.parent:
                kids.setdefault(info.parent, []).append(info.code)

    def release(self, system: System) -> ReleaseInfo | None:
        return self.releases.get(system)

    def get(self, system: System, code: str) -> CodeInfo | None:
        return self.entries.get(system, {}).get(code)

    def children(self, system: System, code: str) -> Sequence[str]:
        return self._children.get(system, {}).get(code, ())


@dataclass
class ReleaseLibrary:
    """Several releases per system; picks the catalog in force on a date of service."""

    catalogs: list[tuple[ReleaseInfo, InMemoryCatalog]] = field(default_factory=list)

    def add(self, release: ReleaseInfo, codes: Iterable[CodeInfo]) -> None:
        catalog = InMemoryCatalog()
        catalog.add_release(release, codes)
        self.catalogs.append((release, catalog))

    def for_date(self, day: dt.date) -> InMemoryCatalog:
        """A catalog with, per system, the release in force on ``day``.

        Raises NoReleaseInForce for the first system that has releases but none in
        force; a system with no release at all is simply absent.
        """
        merged = InMemoryCatalog()
        for system in System:
            mine = [(r, c) for r, c in self.catalogs if r.system is system]
            if not mine:
                continue
            in_force = [(r, c) for r, c in mine if r.in_force(day)]
            if not in_force:
                raise NoReleaseInForce(system, day, [r for r, _ in mine])
            # Overlapping windows: the most recent effective_from wins.
            release, catalog = max(in_force, key=lambda pair: pair[0].effective_from)
            merged.releases[system] = release
            merged.entries[system] = catalog.entries[system]
            merged._children[system] = catalog._children[system]
        return merged
