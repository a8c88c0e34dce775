"""Catalogs backed by the database, for the pure grading and generation code.

:class:`DbCatalog` answers the :class:`~codesets.domain.catalog.Catalog` protocol for the
releases in force on one date, reading rows on demand and keeping every answer for the
life of the instance; ``prefetch`` reads a whole answer sheet's codes and all their
ancestors in one query first, so grading a response costs one query, not one per code.

:func:`memory_catalog_for_date` serves bulk paths (regrading thousands of responses, the
``grade_cases`` command): it loads whole releases into an
:class:`~codesets.domain.catalog.InMemoryCatalog` once per process and reuses them for
every date those releases are in force.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from codesets.domain.catalog import (
    AgeGroup,
    CodeInfo,
    CodeRef,
    InMemoryCatalog,
    ReleaseInfo,
    Sex,
)
from codesets.domain.shapes import canonical, compact, has_shape
from codesets.domain.systems import System
from codesets.models import Code, Release
from codesets.selectors import release_info, releases_in_force

# The columns a CodeInfo is built from, in values() form.
CODE_INFO_FIELDS: tuple[str, ...] = (
    "release_id",
    "code",
    "description",
    "billable",
    "parent_code",
    "needs_seventh",
    "age_group",
    "sex",
    "manifestation",
    "unacceptable_pdx",
    "excludes1",
    "notes",
    "billing_unit",
)


def code_info(row: Mapping[str, Any], system: System) -> CodeInfo:
    """The catalog entry for a ``Code`` row read with :data:`CODE_INFO_FIELDS`."""
    notes = row["notes"] or {}
    return CodeInfo(
        code=row["code"],
        system=system,
        description=row["description"],
        billable=row["billable"],
        parent=row["parent_code"] or None,
        needs_seventh=row["needs_seventh"],
        age_group=cast(AgeGroup, row["age_group"]) if row["age_group"] else None,
        sex=cast(Sex, row["sex"]) if row["sex"] else None,
        manifestation=row["manifestation"],
        unacceptable_pdx=row["unacceptable_pdx"],
        excludes1=tuple(
            CodeRef(kind, start, end, text) for kind, start, end, text in row["excludes1"] or ()
        ),
        code_first=tuple(notes.get("codeFirst", ())),
        billing_unit=row["billing_unit"] or None,
    )


def _lookup_keys(code: str, system: System) -> list[str]:
    """The canonical code and, for ICD-10-CM, every code above it (its prefixes)."""
    if not has_shape(code, system):
        return []
    if system is not System.ICD10CM:
        return [canonical(code, system)]
    flat = compact(code)
    return [canonical(flat[:length], system) for length in range(3, len(flat) + 1)]


class DbCatalog:
    """The Catalog protocol over the database, for one release per system."""

    def __init__(self, releases: Mapping[System, Release]) -> None:
        self._releases = dict(releases)
        self._infos = {system: release_info(release) for system, release in releases.items()}
        self._system_of = {release.id: system for system, release in releases.items()}
        self._entries: dict[tuple[System, str], CodeInfo | None] = {}
        self._children: dict[tuple[System, str], tuple[str, ...]] = {}

    def release(self, system: System) -> ReleaseInfo | None:
        return self._infos.get(system)

    def get(self, system: System, code: str) -> CodeInfo | None:
        key = (system, code)
        if key not in self._entries:
            release = self._releases.get(system)
            # A text without the family's shape is not in its release: no query needed.
            row = (
                Code.objects.filter(release=release, code=code).values(*CODE_INFO_FIELDS).first()
                if release is not None and has_shape(code, system)
                else None
            )
            self._entries[key] = code_info(row, system) if row else None
        return self._entries[key]

    def children(self, system: System, code: str) -> Sequence[str]:
        key = (system, code)
        if key not in self._children:
            release = self._releases.get(system)
            self._children[key] = (
                tuple(
                    Code.objects.filter(release=release, parent_code=code)
                    .order_by("position")
                    .values_list("code", flat=True)
                )
                if release is not None
                else ()
            )
        return self._children[key]

    def prefetch(self, codes: Iterable[str]) -> None:
        """Read ``codes`` (any case, with or without the dot, any family) and every code
        above them in ONE query; later ``get`` calls for them cost nothing.

        Each text is looked up in every family whose shape it has (``E0114`` is both an
        HCPCS code and an ICD-10-CM-shaped string); what the releases lack is remembered
        as absent.
        """
        wanted: set[tuple[System, str]] = set()
        for text in codes:
            for system in self._releases:
                wanted.update((system, key) for key in _lookup_keys(text, system))
        wanted -= self._entries.keys()
        if not wanted:
            return
        rows = Code.objects.filter(
            release_id__in=[release.id for release in self._releases.values()],
            code__in={code for _, code in wanted},
        ).values(*CODE_INFO_FIELDS)
        for key in wanted:
            self._entries[key] = None
        for row in rows:
            system = self._system_of[row["release_id"]]
            self._entries[(system, row["code"])] = code_info(row, system)


def catalog_for_date(day: dt.date) -> DbCatalog:
    """A database catalog of the releases in force on ``day`` (see ``releases_in_force``:
    NoReleaseInForce for a system that has releases but none in force)."""
    return DbCatalog(releases_in_force(day=day))


# ---------------------------------------------------------------------------- in memory

_ReleaseKey = tuple[int, str, str]
_LoadedRelease = tuple[ReleaseInfo, dict[str, CodeInfo], dict[str, list[str]]]

# Whole releases kept per process; a few releases of each family fit easily (an
# ICD-10-CM release is about 100,000 entries) and the oldest is dropped beyond that.
_MAX_CACHED_RELEASES = 8
_cache: OrderedDict[_ReleaseKey, _LoadedRelease] = OrderedDict()
_cache_lock = threading.Lock()


def _release_key(release: Release) -> _ReleaseKey:
    # The hashes change when a release's content is replaced in place (same id).
    return (release.id, release.content_hash, release.supplement_hash)


def _load_release(release: Release) -> _LoadedRelease:
    system = System(release.system)
    entries: dict[str, CodeInfo] = {}
    children: dict[str, list[str]] = {}
    rows = (
        Code.objects.filter(release=release)
        .order_by("position")
        .values(*CODE_INFO_FIELDS)
        .iterator(chunk_size=5000)
    )
    for row in rows:
        info = code_info(row, system)
        entries[info.code] = info
        if info.parent:
            children.setdefault(info.parent, []).append(info.code)
    return release_info(release), entries, children


def memory_catalog_for_date(day: dt.date) -> InMemoryCatalog:
    """An in-memory catalog of the releases in force on ``day``, loaded once per process.

    Releases are cached by id and content hash, so every date that falls in the same
    releases shares one copy; callers must treat the catalog as read-only.
    """
    return memory_catalog(releases_in_force(day=day))


def memory_catalog(releases: Mapping[System, Release], *, load: bool = True) -> InMemoryCatalog:
    """The in-memory catalog of ``releases``, loading each one not yet cached (with
    ``load=False``: :class:`NotLoaded` instead, so a learner's request never pays for
    loading a release)."""
    catalog = InMemoryCatalog()
    for system, release in releases.items():
        key = _release_key(release)
        with _cache_lock:
            loaded = _cache.get(key)
            if loaded is None:
                if not load:
                    raise NotLoaded(release.version)
                loaded = _load_release(release)
                _cache[key] = loaded
                while len(_cache) > _MAX_CACHED_RELEASES:
                    _cache.popitem(last=False)
            else:
                _cache.move_to_end(key)
        info, entries, children = loaded
        catalog.releases[system] = info
        catalog.entries[system] = entries
        catalog._children[system] = children
    return catalog


class NotLoaded(LookupError):
    """A release this process has not loaded into memory."""


def clear_memory_catalogs() -> None:
    """Forget the releases loaded by :func:`memory_catalog_for_date` (tests, imports)."""
    with _cache_lock:
        _cache.clear()
