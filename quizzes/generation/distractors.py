"""Near misses: real, reportable codes a coder could plausibly pick instead of the key's.

A distractor teaches only when it is a mistake coders actually make: the other side,
another 7th character, the unspecified code, a sibling in the same subcategory, or the
code an Excludes1 note warns against. Junk (a code from an unrelated chapter) teaches
nothing, so candidates come from the code's own neighbourhood in the tabular and from
its Excludes1 notes, and every candidate is billable in the release in force and
consistent with the patient's age and sex (a code the patient cannot have is no test).
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from codesets.domain.catalog import (
    AGE_RANGES,
    Catalog,
    CodeInfo,
    CodeRef,
    ancestors,
    first_billable_descendant,
)
from codesets.domain.shapes import icd10cm_canonical
from codesets.domain.systems import System
from quizzes.grading.types import Patient

LATERALITY = "laterality"
SEVENTH_CHARACTER = "seventh_character"
UNSPECIFIED = "unspecified"
EXCLUDES1 = "excludes1"
SIBLING = "sibling"
# The order in which a distractor set draws one candidate of each reason.
REASONS = (LATERALITY, SEVENTH_CHARACTER, UNSPECIFIED, EXCLUDES1, SIBLING)

_CHARACTERS = string.digits + string.ascii_uppercase
_SIDE = re.compile(r"\b(right|left)\b", re.IGNORECASE)
_UNSPECIFIED = re.compile(r"\bunspecified\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A candidate distractor and what makes it wrong (one of :data:`REASONS`)."""

    info: CodeInfo
    reason: str


def near_misses(
    catalog: Catalog, code: str, *, patient: Patient | None, exclude: Collection[str]
) -> list[NearMiss]:
    """Billable near misses of the ICD-10-CM ``code``, sorted by code, none in
    ``exclude`` (the key's accepted codes) and none the patient cannot have."""
    info = catalog.get(System.ICD10CM, code)
    if info is None:
        return []
    found: dict[str, NearMiss] = {}
    for candidate in one_character_variants(catalog, info):
        found.setdefault(candidate.code, NearMiss(candidate, _reason(info, candidate)))
    for candidate in _excludes1_targets(catalog, info):
        found.setdefault(candidate.code, NearMiss(candidate, EXCLUDES1))
    return [
        miss
        for code_, miss in sorted(found.items())
        if code_ not in exclude and code_ != code and fits_patient(miss.info, patient)
    ]


def one_character_variants(catalog: Catalog, info: CodeInfo) -> Iterator[CodeInfo]:
    """Billable codes of the same length that differ from ``info`` in one character
    after the category: the other side, another 7th character, the unspecified or a
    sibling code, which is where coders slip."""
    flat = info.code.replace(".", "")
    for position in range(3, len(flat)):
        for character in _CHARACTERS:
            if character == flat[position]:
                continue
            candidate = catalog.get(
                System.ICD10CM,
                icd10cm_canonical(flat[:position] + character + flat[position + 1 :]),
            )
            if candidate is not None and candidate.billable:
                yield candidate


def laterality_twin(catalog: Catalog, info: CodeInfo) -> CodeInfo | None:
    """The billable code that says the same with right and left swapped, or None."""
    if not _SIDE.search(info.description):
        return None
    wanted = _swap_sides(info.description).casefold()
    for candidate in one_character_variants(catalog, info):
        if candidate.description.casefold() == wanted:
            return candidate
    return None


def fits_patient(info: CodeInfo, patient: Patient | None) -> bool:
    """True unless the code's age group or sex rules the patient out."""
    if patient is None:
        return True
    if info.sex is not None and patient.sex is not None and info.sex != patient.sex:
        return False
    if info.age_group is not None:
        low, high = AGE_RANGES[info.age_group]
        return low <= patient.age_years <= high
    return True


def _reason(key: CodeInfo, candidate: CodeInfo) -> str:
    flat_key = key.code.replace(".", "")
    flat_candidate = candidate.code.replace(".", "")
    if len(flat_key) == 7 and flat_key[:6] == flat_candidate[:6]:
        return SEVENTH_CHARACTER
    if candidate.description.casefold() == _swap_sides(key.description).casefold():
        return LATERALITY
    if _UNSPECIFIED.search(candidate.description) and not _UNSPECIFIED.search(key.description):
        return UNSPECIFIED
    return SIBLING


def _swap_sides(description: str) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group(1)
        other = "left" if word.lower() == "right" else "right"
        return other.capitalize() if word[0].isupper() else other

    return _SIDE.sub(swap, description)


def _excludes1_targets(catalog: Catalog, info: CodeInfo) -> Iterator[CodeInfo]:
    """One billable code per Excludes1 reference at the code or its ancestors.

    Only references in the code's own chapter letter are used: the broad notes that
    chapters and blocks pass down (birth trauma, obstetric codes) name conditions no
    one would mistake for this one.
    """
    letter = info.code[0]
    for holder in (info, *ancestors(catalog, System.ICD10CM, info.code)):
        for ref in holder.excludes1:
            if ref.start[0] != letter:
                continue
            target = _billable_for(catalog, ref, info.code)
            if target is not None:
                yield target


def _billable_for(catalog: Catalog, ref: CodeRef, code: str) -> CodeInfo | None:
    """The code of the referenced group analogous to ``code`` (E10.9 for E11.9 under
    "type 1 diabetes mellitus (E10.-)"), else the group's first billable code."""
    flat_start = ref.start.replace(".", "")
    flat_code = code.replace(".", "")
    if len(flat_start) < len(flat_code):
        analogue = catalog.get(
            System.ICD10CM, icd10cm_canonical(flat_start + flat_code[len(flat_start) :])
        )
        if analogue is not None and analogue.billable:
            return analogue
    start = catalog.get(System.ICD10CM, ref.start)
    if start is None:
        return None
    if start.billable:
        return start
    return first_billable_descendant(catalog, System.ICD10CM, start.code)
