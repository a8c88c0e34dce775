"""What one reported code is, before any comparison with the key.

A learner's text is normalised (any case, dot or not, surrounding spaces), checked for
the shape of the list's family and looked up in the release in force. The outcome is an
:class:`Entry`: either ``valid`` (a reportable code of the right family) or the finding
kind that reports it (``invalid_format``, ``wrong_family``, ``unknown_code``,
``not_billable``, ``missing_seventh_character``) with its learner message.

The answer to "what is this text" depends only on the text and the catalog, so a
:class:`EntryClassifier` memoises it: graders see the same few hundred strings
thousands of times.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import TypeVar

from codesets.domain.catalog import Catalog, CodeInfo, first_billable_descendant
from codesets.domain.shapes import compact, has_shape, icd10cm_canonical
from codesets.domain.systems import System
from quizzes.grading import messages
from quizzes.grading.kinds import FindingKind

# An entry's kind is "valid" or the finding kind that reports it.
VALID = "valid"
INVALID_FORMAT = FindingKind.INVALID_FORMAT
WRONG_FAMILY = FindingKind.WRONG_FAMILY
UNKNOWN_CODE = FindingKind.UNKNOWN_CODE
NOT_BILLABLE = FindingKind.NOT_BILLABLE
MISSING_SEVENTH = FindingKind.MISSING_SEVENTH_CHARACTER

# What a typed code may look like: letters and digits, with at most a dot after the
# third character (any case, surrounding spaces ignored). Anything else ("strep",
# "J00-J06", "99213/25") is not reshaped into a code: it is reported as typed.
_TYPED_CODE = re.compile(r"[A-Za-z0-9]{3}(?:\.?[A-Za-z0-9]{1,4})?\.?")
_SHOWN_LIMIT = 40

# Memo tables are bounded so that free-text answers cannot grow them without limit.
_MEMO_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Entry:
    """One reported code: its canonical form, family, catalog entry and verdict."""

    kind: str
    # Canonical code in its family's form; the compacted text when it has no shape;
    # None when nothing was written.
    code: str | None
    system: System | None
    info: CodeInfo | None
    message: str = ""

    @property
    def valid(self) -> bool:
        return self.kind == VALID

    @property
    def finding_kind(self) -> FindingKind:
        """The kind of the finding that reports an entry that is not valid."""
        return FindingKind(self.kind)


class EntryClassifier:
    """Classifies diagnosis and procedure texts against one catalog, memoised."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._diagnoses: dict[str, Entry] = {}
        self._procedures: dict[str, Entry] = {}
        self._modifiers: dict[str, str | None] = {}
        self._versions = {
            system: (release.version if release is not None else "")
            for system in System
            for release in (catalog.release(system),)
        }

    # --- public ------------------------------------------------------------------

    def diagnosis(self, text: str) -> Entry:
        entry = self._diagnoses.get(text)
        if entry is None:
            entry = self._classify_diagnosis(text)
            _remember(self._diagnoses, text, entry)
        return entry

    def procedure(self, text: str) -> Entry:
        entry = self._procedures.get(text)
        if entry is None:
            entry = self._classify_procedure(text)
            _remember(self._procedures, text, entry)
        return entry

    def modifier(self, text: str) -> str | None:
        """The canonical modifier (two letters or digits), or None when malformed."""
        if text in self._modifiers:
            return self._modifiers[text]
        raw = compact(text)
        canonical = raw if len(raw) == 2 and raw.isascii() and raw.isalnum() else None
        _remember(self._modifiers, text, canonical)
        return canonical

    # --- diagnoses ---------------------------------------------------------------

    def _classify_diagnosis(self, text: str) -> Entry:
        raw = compact(text)
        if not raw:
            return Entry(INVALID_FORMAT, None, None, None, messages.invalid_diagnosis_format(""))
        typed = text.strip()
        # ICD-10-CM categories have a digit second or third (J02, C4A, QA0): "STREP" has none.
        if not _TYPED_CODE.fullmatch(typed) or not (raw[1].isdigit() or raw[2].isdigit()):
            shown = typed[:_SHOWN_LIMIT]
            return Entry(
                INVALID_FORMAT, shown, None, None, messages.invalid_diagnosis_format(shown)
            )
        if has_shape(raw, System.CPT):
            info = self._catalog.get(System.CPT, raw)
            return Entry(
                WRONG_FAMILY, raw, System.CPT, info, messages.cpt_among_diagnoses(raw, info)
            )
        if not has_shape(raw, System.ICD10CM):
            return Entry(
                INVALID_FORMAT, raw, None, None, messages.invalid_diagnosis_format(text.strip())
            )
        code = icd10cm_canonical(raw)
        info = self._catalog.get(System.ICD10CM, code)
        if info is not None:
            return self._existing_diagnosis(code, info)
        # A letter and four digits without a dot is also HCPCS-shaped (E0114): when the
        # ICD-10-CM release does not have it and HCPCS does, the learner put a HCPCS
        # code among the diagnoses.
        if "." not in text and has_shape(raw, System.HCPCS):
            hcpcs = self._catalog.get(System.HCPCS, raw)
            if hcpcs is not None:
                return Entry(
                    WRONG_FAMILY,
                    raw,
                    System.HCPCS,
                    hcpcs,
                    messages.hcpcs_among_diagnoses(raw, hcpcs, code),
                )
        intended = self._with_placeholders(raw)
        if intended is not None:
            return Entry(
                MISSING_SEVENTH,
                code,
                System.ICD10CM,
                None,
                messages.placeholder_missing(text.strip(), intended),
            )
        short = self._seventh_on_short_code(raw, text.strip())
        if short is not None:
            return Entry(MISSING_SEVENTH, code, System.ICD10CM, None, short)
        category = self._catalog.get(System.ICD10CM, code[:3])
        return Entry(
            UNKNOWN_CODE,
            code,
            System.ICD10CM,
            None,
            messages.unknown_code(code, System.ICD10CM, self._versions[System.ICD10CM], category),
        )

    def _existing_diagnosis(self, code: str, info: CodeInfo) -> Entry:
        if info.billable:
            return Entry(VALID, code, System.ICD10CM, info)
        example = first_billable_descendant(self._catalog, System.ICD10CM, code)
        if info.needs_seventh:
            return Entry(
                MISSING_SEVENTH,
                code,
                System.ICD10CM,
                info,
                messages.needs_seventh(info, example),
            )
        return Entry(NOT_BILLABLE, code, System.ICD10CM, info, messages.not_billable(info, example))

    def _with_placeholders(self, raw: str) -> CodeInfo | None:
        """The reportable code that ``raw`` becomes when X placeholders are inserted
        before its last character (``T3601A`` -> ``T36.0X1A``), or None."""
        if not 4 <= len(raw) <= 6:
            return None
        body, seventh = raw[:-1], raw[-1]
        wanted = 6 - len(body)
        # Placeholders sit in positions 4 to 6; the category never holds one.
        for slots in itertools.combinations(range(3, 6), wanted):
            chars = list(body)
            for slot in slots:  # ascending, so each index is final once inserted
                chars.insert(slot, "X")
            candidate = icd10cm_canonical("".join(chars) + seventh)
            info = self._catalog.get(System.ICD10CM, candidate)
            if info is not None and info.billable:
                return info
        return None

    def _seventh_on_short_code(self, raw: str, shown: str) -> str | None:
        """Message for a 7th character typed straight after a short heading whose codes
        need one (``S060A``: S06.0 + A, meaning S06.0X0A), or None."""
        if not 4 <= len(raw) <= 6:
            return None
        stem = self._catalog.get(System.ICD10CM, icd10cm_canonical(raw[:-1]))
        if stem is None or stem.billable:
            return None
        example = first_billable_descendant(self._catalog, System.ICD10CM, stem.code)
        if example is None or len(example.code) != 8 or example.parent is None:
            return None
        parent = self._catalog.get(System.ICD10CM, example.parent)
        if parent is None or not parent.needs_seventh:
            return None
        same_seventh = self._catalog.get(System.ICD10CM, parent.code + raw[-1])
        if same_seventh is not None and same_seventh.billable:
            example = same_seventh
        return messages.seventh_on_short_code(shown, stem, example)

    # --- procedures --------------------------------------------------------------

    def _classify_procedure(self, text: str) -> Entry:
        raw = compact(text)
        if not raw:
            return Entry(INVALID_FORMAT, None, None, None, messages.invalid_procedure_format(""))
        typed = text.strip()
        if not _TYPED_CODE.fullmatch(typed):
            shown = typed[:_SHOWN_LIMIT]
            return Entry(
                INVALID_FORMAT, shown, None, None, messages.invalid_procedure_format(shown)
            )
        if has_shape(raw, System.CPT):
            return self._procedure_code(raw, System.CPT)
        if "." not in text and has_shape(raw, System.HCPCS):
            if self._catalog.get(System.HCPCS, raw) is None:
                icd = self._catalog.get(System.ICD10CM, icd10cm_canonical(raw))
                if icd is not None:
                    return Entry(
                        WRONG_FAMILY,
                        icd.code,
                        System.ICD10CM,
                        icd,
                        messages.icd_among_procedures(icd.code, icd),
                    )
            return self._procedure_code(raw, System.HCPCS)
        if has_shape(raw, System.ICD10CM):
            code = icd10cm_canonical(raw)
            info = self._catalog.get(System.ICD10CM, code)
            return Entry(
                WRONG_FAMILY,
                code,
                System.ICD10CM,
                info,
                messages.icd_among_procedures(code, info),
            )
        return Entry(
            INVALID_FORMAT, raw, None, None, messages.invalid_procedure_format(text.strip())
        )

    def _procedure_code(self, code: str, system: System) -> Entry:
        info = self._catalog.get(system, code)
        if info is None:
            return Entry(
                UNKNOWN_CODE,
                code,
                system,
                None,
                messages.unknown_code(code, system, self._versions[system], None),
            )
        if not info.billable:
            return Entry(NOT_BILLABLE, code, system, info, messages.not_billable(info, None))
        return Entry(VALID, code, system, info)


_Memo = TypeVar("_Memo")


def _remember(table: dict[str, _Memo], text: str, value: _Memo) -> None:
    if len(table) >= _MEMO_LIMIT:
        table.clear()
    table[text] = value
