"""Importing code-set releases into the database.

Every import reads and checks its whole input before it writes anything, then writes one
release in one transaction: a truncated or foreign file is refused with a one-line
:class:`CodesetImportError` and the database stays as it was. Each release stores the
SHA-256 of what it was built from (the file and the release metadata), so a second
import of the same input changes nothing and reports ``unchanged``; an import of
different input under the same system and version replaces that release's content in
place (the release keeps its id) and reports ``replaced``.

Rows go in with ``bulk_create``; the search indexes of migration 0002 follow the code
table by themselves (SQLite triggers, a PostgreSQL generated column), and the words of
the new release join the :class:`~codesets.models.SearchWord` vocabulary.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from django.db import connection, transaction

from codesets.domain.catalog import CodeInfo, CodeRef
from codesets.domain.systems import System
from codesets.importers.cpt_licensed import CptFileError, parse_cpt_file, split_modifiers
from codesets.importers.curated import (
    CuratedSet,
    CuratedSetError,
    bundled_cpt_path,
    bundled_hcpcs_path,
    load_curated,
)
from codesets.importers.hcpcs_cms import HcpcsFormatError, HcpcsRecord, is_active, parse_hcpcs_file
from codesets.importers.icd10cm_tabular import (
    TabularCode,
    TabularFormatError,
    bundled_tabular_path,
    code_infos,
    parse_tabular,
)
from codesets.importers.mce_attributes import MceAttributes, derive_mce_attributes
from codesets.models import (
    Chapter,
    Code,
    Modifier,
    Release,
    SearchWord,
    Section,
    search_order_of,
)
from codesets.search import fold, words_of

ImportStatus = Literal["created", "replaced", "updated", "unchanged"]

BUNDLED_ICD10CM_VERSION = "2026-04"
BUNDLED_ICD10CM_FROM = dt.date(2026, 4, 1)
BUNDLED_ICD10CM_TO = dt.date(2026, 9, 30)
BUNDLED_ICD10CM_SOURCE = (
    "CMS ICD-10-CM tabular list, April 1, 2026 update (FY2026), as distributed in the "
    "simple-icd-10-cm package"
)

# Rows per INSERT: SQLite allows 32,766 variables per statement and a Code row has 22.
_BATCH_SIZE = 1000
# Part of every content hash: bump it when an importer changes what it stores, so the
# next import replaces releases imported by the older logic.
IMPORTER_VERSION = 2
_MAX_WORD_LENGTH = 60
_MIN_WORD_LENGTH = 3


class CodesetImportError(ValueError):
    """An input that cannot be imported; the message is one line, fit for stderr."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What one import did to one release."""

    system: str
    version: str
    status: ImportStatus
    codes: int
    billable: int
    seconds: float
    source: str

    def as_dict(self) -> dict[str, object]:
        return {
            "system": self.system,
            "version": self.version,
            "status": self.status,
            "codes": self.codes,
            "billable": self.billable,
            "seconds": round(self.seconds, 2),
        }

    def describe(self) -> str:
        """One line for a person reading the command's stderr."""
        if self.status == "unchanged":
            return (
                f"{self.system} {self.version}: unchanged (same content as the release "
                f"already imported; {self.codes} codes)"
            )
        return (
            f"{self.system} {self.version}: {self.status}, {self.codes} codes "
            f"({self.billable} billable) in {self.seconds:.1f} s"
        )


@dataclass(frozen=True, slots=True)
class ReleaseHeader:
    """The metadata of a release to import."""

    system: System
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    source: str
    notice: str = ""


@dataclass(slots=True)
class ReleaseContent:
    """Unsaved rows of one release, checked and ready to write."""

    codes: list[Code]
    chapters: list[Chapter] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    modifiers: list[Modifier] = field(default_factory=list)


# ---------------------------------------------------------------------------- ICD-10-CM


def release_import_icd10cm(
    *,
    path: Path,
    version: str,
    effective_from: dt.date,
    effective_to: dt.date | None,
    source: str,
) -> ImportResult:
    """Import a CMS ICD-10-CM tabular XML file as release ``version``.

    The MCE attributes (age group, sex, manifestation, unacceptable principal) are
    derived for every billable code at import time, so grading never runs the MCE.
    """
    header = ReleaseHeader(System.ICD10CM, version, effective_from, effective_to, source)

    def build() -> ReleaseContent:
        try:
            tabular = parse_tabular(path)
        except TabularFormatError as error:
            raise CodesetImportError(_one_line(error)) from error
        mce = derive_mce_attributes(entry.code for entry in tabular.codes if entry.billable)
        chapters = [
            Chapter(
                number=str(chapter.number),
                description=chapter.description,
                first_code=chapter.first,
                last_code=chapter.last,
                position=position,
                notes=_notes_json(chapter.notes),
            )
            for position, chapter in enumerate(tabular.chapters)
        ]
        sections = [
            Section(
                chapter=str(section.chapter),
                ident=section.id,
                description=section.description,
                position=position,
                notes=_notes_json(section.notes),
            )
            for position, section in enumerate(tabular.sections)
        ]
        # code_infos is the one place that decides each code's Excludes1 references
        # (its own, the prose gaps, and a chapter's or section's for a category).
        excludes1 = {info.code: info.excludes1 for info in code_infos(tabular, mce)}
        codes = [
            _icd10cm_row(entry, position, mce.get(entry.code), tabular.by_code, excludes1)
            for position, entry in enumerate(tabular.codes)
        ]
        return ReleaseContent(codes=codes, chapters=chapters, sections=sections)

    return _import_release(header=header, content_hash=_input_hash(path, header), build=build)


def _icd10cm_row(
    entry: TabularCode,
    position: int,
    mce: MceAttributes | None,
    by_code: Mapping[str, TabularCode],
    excludes1: Mapping[str, tuple[CodeRef, ...]],
) -> Code:
    base = by_code[entry.expanded_from] if entry.expanded_from else entry
    return Code(
        code=entry.code,
        code_key=entry.code.replace(".", ""),
        description=entry.description,
        billable=entry.billable,
        parent_code=entry.parent or "",
        chapter=str(entry.chapter),
        section=entry.section,
        position=position,
        needs_seventh=entry.needs_seventh,
        placeholder=entry.placeholder,
        age_group=(mce.age_group or "") if mce else "",
        sex=(mce.sex or "") if mce else "",
        manifestation=mce.manifestation if mce else False,
        unacceptable_pdx=mce.unacceptable_pdx if mce else False,
        notes=_notes_json(entry.notes),
        excludes1=_refs_json(excludes1[entry.code]),
        seventh_characters=dict(entry.seventh_characters),
        search_text=search_text(entry.description, entry.notes.get("inclusionTerm", ())),
        rank_length=len(base.description),
    )


# ---------------------------------------------------------------------------- bundled


# ---------------------------------------------------------------------------- curated


def release_import_curated(*, path: Path) -> ImportResult:
    """Import a curated CPT or HCPCS Level II YAML set (``codesets/data``).

    Each curated section becomes a chapter row and each of its sub-groups (CPT
    subsection, HCPCS category) a section row, so the code page can show where a code is
    taught; the set's notice is stored on the release and shown with its descriptions.
    """
    curated = _load_curated(path)
    info = curated.release
    header = ReleaseHeader(
        info.system,
        info.version,
        info.effective_from,
        info.effective_to,
        info.source,
        curated.notice,
    )

    def build() -> ReleaseContent:
        placement = _CuratedPlacement(curated)
        codes = [
            _procedure_row(
                code=entry.code,
                description=entry.description,
                position=position,
                chapter_section=placement.of(entry.code),
                billing_unit=entry.billing_unit or "",
            )
            for position, entry in enumerate(curated.codes)
        ]
        return ReleaseContent(
            codes=codes,
            chapters=placement.chapters(),
            sections=placement.sections(),
            modifiers=[Modifier(code=m.code, description=m.description) for m in curated.modifiers],
        )

    return _import_release(header=header, content_hash=_input_hash(path, header), build=build)


class _CuratedPlacement:
    """Chapter and section rows for a curated set's sections and sub-groups."""

    def __init__(self, curated: CuratedSet) -> None:
        self.curated = curated
        self.group_of: dict[str, tuple[str, str]] = {}
        for number, section in enumerate(curated.sections, start=1):
            for index, group in enumerate(section.groups, start=1):
                for code in group.codes:
                    self.group_of[code] = (str(number), f"{number}.{index}")

    def of(self, code: str) -> tuple[str, str]:
        """(chapter number, section ident) of a code; a code the set does not list gets
        the section whose range covers it and no sub-group."""
        if code in self.group_of:
            return self.group_of[code]
        for number, section in enumerate(self.curated.sections, start=1):
            if section.covers(code):
                return str(number), ""
        return "", ""

    def chapters(self) -> list[Chapter]:
        return [
            Chapter(
                number=str(number),
                description=section.name,
                first_code=section.ranges[0][0],
                last_code=section.ranges[-1][1],
                position=number,
            )
            for number, section in enumerate(self.curated.sections, start=1)
        ]

    def sections(self) -> list[Section]:
        rows: list[Section] = []
        for number, section in enumerate(self.curated.sections, start=1):
            for index, group in enumerate(section.groups, start=1):
                rows.append(
                    Section(
                        chapter=str(number),
                        ident=f"{number}.{index}",
                        description=group.name,
                        position=len(rows),
                    )
                )
        return rows


def _procedure_row(
    *,
    code: str,
    description: str,
    position: int,
    chapter_section: tuple[str, str],
    billing_unit: str = "",
) -> Code:
    """A CPT or HCPCS Level II code row: every listed code is reportable."""
    chapter, section = chapter_section
    return Code(
        code=code,
        code_key=code,
        description=description,
        billable=True,
        chapter=chapter,
        section=section,
        position=position,
        billing_unit=billing_unit,
        search_text=search_text(description),
        rank_length=len(description),
    )


def _load_curated(path: Path) -> CuratedSet:
    try:
        return load_curated(Path(path))
    except CuratedSetError as error:
        raise CodesetImportError(_one_line(error)) from error


# ---------------------------------------------------------------------------- HCPCS


def release_import_hcpcs_cms(
    *, path: Path, version: str, effective_from: dt.date, effective_to: dt.date | None
) -> ImportResult:
    """Import the CMS alpha-numeric HCPCS Level II file: every code usable in the window.

    Descriptions are the CMS long descriptors. The bundled curated HCPCS set adds what
    the CMS file does not say: the teaching sections and sub-groups and, for drugs, the
    quantity one unit stands for, for the codes it knows; the other codes are placed in
    the curated section whose range covers them.
    """
    path = Path(path)
    header = ReleaseHeader(
        System.HCPCS,
        version,
        effective_from,
        effective_to,
        f"CMS alpha-numeric HCPCS file {path.name}",
        "HCPCS Level II codes and long descriptors from the CMS alpha-numeric HCPCS file; "
        "billing units and teaching groups added by the project.",
    )
    curated_path = bundled_hcpcs_path()
    content_hash = _input_hash(path, header, _read_bytes(curated_path))

    def build() -> ReleaseContent:
        try:
            cms = parse_hcpcs_file(path)
        except HcpcsFormatError as error:
            raise CodesetImportError(f"{path.name}: {_one_line(error)}") from error
        curated = _load_curated(curated_path)
        known: dict[str, CodeInfo] = {entry.code: entry for entry in curated.codes}
        placement = _CuratedPlacement(curated)
        usable = [r for r in cms.codes if _usable_in(r, effective_from, effective_to)]
        if not usable:
            raise CodesetImportError(
                f"{path.name} has no HCPCS code in force between {effective_from} and "
                f"{effective_to or 'an open end'}"
            )
        codes = [
            _procedure_row(
                code=record.code,
                description=record.long_description or record.short_description,
                position=position,
                chapter_section=placement.of(record.code),
                billing_unit=(known[record.code].billing_unit or "")
                if record.code in known
                else "",
            )
            for position, record in enumerate(sorted(usable, key=lambda r: r.code))
        ]
        modifiers = [
            Modifier(code=record.code, description=record.long_description[:300])
            for record in cms.modifiers
            if _usable_in(record, effective_from, effective_to)
        ]
        return ReleaseContent(
            codes=codes,
            chapters=placement.chapters(),
            sections=placement.sections(),
            modifiers=modifiers,
        )

    return _import_release(header=header, content_hash=content_hash, build=build)


def _usable_in(record: HcpcsRecord, start: dt.date, end: dt.date | None) -> bool:
    """True when the record may be reported on some day of the window."""
    if is_active(record, start):
        return True
    added = record.add_date
    return (
        added is not None
        and start <= added
        and (end is None or added <= end)
        and (record.termination_date is None or added <= record.termination_date)
    )


# ---------------------------------------------------------------------------- CPT


def release_import_cpt_licensed(*, path: Path, version: str) -> ImportResult:
    """Apply a licensed CPT descriptor file to the CPT release ``version``.

    The official descriptors replace our summaries (codes the file has that the release
    lacks are added), modifier descriptors likewise, and the release notice becomes the
    AMA copyright notice that licensed descriptors must carry instead of ours.
    """
    started = time.perf_counter()
    path = Path(path)
    release = Release.objects.filter(system=System.CPT.value, version=version).first()
    if release is None:
        available = ", ".join(
            Release.objects.filter(system=System.CPT.value).values_list("version", flat=True)
        )
        raise CodesetImportError(
            f"no CPT release {version!r} to apply the licensed descriptors to "
            f"(imported CPT releases: {available or 'none'})"
        )
    file_hash = hashlib.sha256(_read_bytes(path)).hexdigest()
    if release.supplement_hash == file_hash:
        return _result(release, "unchanged", started)
    try:
        codes, modifiers = split_modifiers(parse_cpt_file(path))
    except CptFileError as error:
        raise CodesetImportError(f"{path.name}: {_one_line(error)}") from error
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        _apply_descriptors(release, codes)
        _apply_modifier_descriptors(release, modifiers)
        release.notice = (
            f"CPT copyright {release.effective_from.year} American Medical Association. "
            "All rights reserved. CPT is a registered trademark of the American Medical "
            f"Association. Descriptors from the licensed file {path.name}."
        )
        release.supplement_hash = file_hash
        release.code_count = Code.objects.filter(release=release).count()
        release.billable_count = Code.objects.filter(release=release, billable=True).count()
        release.save()
    _refresh_planner_statistics()
    return _result(release, "updated", started)


def _apply_descriptors(release: Release, descriptors: Mapping[str, str]) -> None:
    rows = {row.code: row for row in Code.objects.filter(release=release)}
    changed: list[Code] = []
    for code, descriptor in descriptors.items():
        row = rows.get(code)
        if row is not None and row.description != descriptor:
            row.description = descriptor
            row.search_text = search_text(descriptor)
            row.rank_length = len(descriptor)
            _set_search_order(row)
            changed.append(row)
    Code.objects.bulk_update(
        changed,
        ["description", "search_text", "rank_length", "search_order"],
        batch_size=_BATCH_SIZE,
    )
    next_position = max((row.position for row in rows.values()), default=-1) + 1
    added = [
        _procedure_row(
            code=code,
            description=descriptor,
            position=next_position + offset,
            chapter_section=("", ""),
        )
        for offset, (code, descriptor) in enumerate(
            sorted((c, d) for c, d in descriptors.items() if c not in rows)
        )
    ]
    for row in added:
        row.release = release
        _set_search_order(row)
    Code.objects.bulk_create(added, batch_size=_BATCH_SIZE)
    _add_search_words(row.search_text for row in [*changed, *added])


def _apply_modifier_descriptors(release: Release, descriptors: Mapping[str, str]) -> None:
    existing = {row.code: row for row in Modifier.objects.filter(release=release)}
    for code, descriptor in descriptors.items():
        row = existing.get(code) or Modifier(release=release, code=code)
        row.description = descriptor[:300]
        row.save()


# ---------------------------------------------------------------------------- bundled


def import_bundled() -> list[ImportResult]:
    """Import the sets shipped with the project: ICD-10-CM April 2026 (from the pinned
    simple-icd-10-cm package) and the curated CPT and HCPCS Level II sets."""
    return [
        release_import_icd10cm(
            path=bundled_tabular_path(),
            version=BUNDLED_ICD10CM_VERSION,
            effective_from=BUNDLED_ICD10CM_FROM,
            effective_to=BUNDLED_ICD10CM_TO,
            source=BUNDLED_ICD10CM_SOURCE,
        ),
        release_import_curated(path=bundled_cpt_path()),
        release_import_curated(path=bundled_hcpcs_path()),
    ]


# ---------------------------------------------------------------------------- shared


def search_text(description: str, inclusion_terms: Iterable[str] = ()) -> str:
    """What word search matches: the description and inclusion terms, folded to
    lower-case ASCII (the same folding the query goes through)."""
    return fold(" ".join([description, *inclusion_terms]))


def _notes_json(notes: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    return {kind: list(texts) for kind, texts in notes.items() if texts}


def _refs_json(refs: Iterable[CodeRef]) -> list[list[str]]:
    return [[ref.kind, ref.start, ref.end, ref.text] for ref in refs]


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or error.__class__.__name__
        raise CodesetImportError(f"cannot read {path}: {reason.lower()}") from error


def _input_hash(path: Path, header: ReleaseHeader, *more: bytes) -> str:
    """SHA-256 of the input file(s), the release metadata they are imported under and
    the importer's format version (so a fix to the importer re-imports unchanged files)."""
    digest = hashlib.sha256(_read_bytes(path))
    digest.update(f"\0importer:{IMPORTER_VERSION}".encode())
    for extra in more:
        digest.update(b"\0")
        digest.update(extra)
    metadata = {
        "system": header.system.value,
        "version": header.version,
        "effective_from": header.effective_from.isoformat(),
        "effective_to": header.effective_to.isoformat() if header.effective_to else None,
        "source": header.source,
        "notice": header.notice,
    }
    digest.update(b"\0" + json.dumps(metadata, sort_keys=True).encode())
    return digest.hexdigest()


def _check_header(header: ReleaseHeader) -> None:
    if not header.version.strip():
        raise CodesetImportError(f"a {header.system.value} release needs a version")
    if header.effective_to is not None and header.effective_to < header.effective_from:
        raise CodesetImportError(
            f"{header.system.value} {header.version}: the release cannot end "
            f"({header.effective_to}) before it starts ({header.effective_from})"
        )


def _import_release(
    *, header: ReleaseHeader, content_hash: str, build: Callable[[], ReleaseContent]
) -> ImportResult:
    """Write one release unless the same input was imported already.

    ``build`` reads and checks the whole input first; nothing is written when it fails.
    """
    started = time.perf_counter()
    _check_header(header)
    existing = Release.objects.filter(system=header.system.value, version=header.version).first()
    if existing is not None and existing.content_hash == content_hash:
        return _result(existing, "unchanged", started)
    content = build()
    with transaction.atomic():
        if existing is None:
            release = Release(system=header.system.value, version=header.version)
            status: ImportStatus = "created"
        else:
            release = Release.objects.select_for_update().get(pk=existing.pk)
            _delete_content(release)
            status = "replaced"
        release.effective_from = header.effective_from
        release.effective_to = header.effective_to
        release.source = header.source
        release.notice = header.notice
        release.content_hash = content_hash
        release.supplement_hash = ""
        release.code_count = len(content.codes)
        release.billable_count = sum(1 for row in content.codes if row.billable)
        release.save()
        _write_content(release, content)
    _refresh_planner_statistics()
    return _result(release, status, started)


def _refresh_planner_statistics() -> None:
    """Make PostgreSQL's search indexes and plans reflect a bulk load at once.

    GIN indexes take bulk inserts into a pending list that every search must scan until
    a vacuum merges it (the trigram lookup then costs 20 ms instead of 0.1 ms), and the
    planner's statistics stay stale until autovacuum runs (a stale plan sorts every
    match of a common word). Both are brought up to date here.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for index in ("codesets_code_search_vector_idx", "codesets_searchword_trgm_idx"):
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
            cursor.execute("ANALYZE codesets_code")
            cursor.execute("ANALYZE codesets_searchword")


def _delete_content(release: Release) -> None:
    for model in (Code, Chapter, Section, Modifier):
        model.objects.filter(release=release).delete()


def _write_content(release: Release, content: ReleaseContent) -> None:
    for chapter in content.chapters:
        chapter.release = release
    for section in content.sections:
        section.release = release
    for modifier in content.modifiers:
        modifier.release = release
    for code in content.codes:
        code.release = release
        _set_search_order(code)
    Chapter.objects.bulk_create(content.chapters, batch_size=_BATCH_SIZE)
    Section.objects.bulk_create(content.sections, batch_size=_BATCH_SIZE)
    Code.objects.bulk_create(content.codes, batch_size=_BATCH_SIZE)
    Modifier.objects.bulk_create(content.modifiers, batch_size=_BATCH_SIZE)
    _add_search_words(code.search_text for code in content.codes)


def _set_search_order(row: Code) -> None:
    row.search_order = search_order_of(
        billable=row.billable,
        rank_length=row.rank_length,
        position=row.position,
        release_id=row.release_id,
    )


def _add_search_words(texts: Iterable[str]) -> None:
    vocabulary = {
        word
        for text in texts
        for word in words_of(text)
        if _MIN_WORD_LENGTH <= len(word) <= _MAX_WORD_LENGTH and not word.isdigit()
    }
    known = set(SearchWord.objects.values_list("word", flat=True))
    SearchWord.objects.bulk_create(
        [SearchWord(word=word) for word in sorted(vocabulary - known)],
        batch_size=_BATCH_SIZE,
        ignore_conflicts=True,
    )


def _result(release: Release, status: ImportStatus, started: float) -> ImportResult:
    return ImportResult(
        system=release.system,
        version=release.version,
        status=status,
        codes=release.code_count,
        billable=release.billable_count,
        seconds=time.perf_counter() - started,
        source=release.source,
    )
