"""Guideline and code-editor rules over the reported diagnoses.

Each rule is a small pure function that yields findings; its docstring names the
guideline or tabular note it enforces. Rule findings come in addition to the match
findings for the same codes (a key code can be correct and still conflict with another
reported code). Rules detect and never price: every finding leaves here with no points,
and :func:`quizzes.grading.policy.price` decides what it costs.

:data:`RULES` is the registry the engine runs, in order, each entry naming its finding
kind and the source it enforces (in the manner of Django's password validators: a list
of small, named checks that a grader can be given a different list of).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from codesets.domain.catalog import AGE_RANGES, Catalog, CodeInfo, CodeRef
from codesets.domain.systems import System
from quizzes.grading import messages
from quizzes.grading.kinds import FindingKind, LineRef
from quizzes.grading.types import Finding, Patient

# CMS stopped applying the Medicare Code Editor sex-conflict edit to claims with dates
# of service from this day (FY2025): the finding is still shown, as advice.
SEX_EDIT_RETIRED = dt.date(2024, 10, 1)


@dataclass(frozen=True, slots=True)
class ReportedDiagnosis:
    """A valid reported diagnosis, the answer line it came from and whether it matched a
    key line exactly (``keyed``)."""

    line: LineRef
    info: CodeInfo
    keyed: bool = False


class NoteIndex:
    """The tabular notes that apply to a code: its own and every ancestor's.

    Notes are inherited down the hierarchy (an Excludes1 note at E10 applies to E10.9),
    so a rule must walk the ``parent`` links. The walks and the pairwise verdicts are
    memoised per code: the same codes are graded over and over.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._lineages: dict[str, tuple[CodeInfo, ...]] = {}
        self._pairs: dict[tuple[str, str], tuple[CodeInfo, CodeRef] | None] = {}

    def lineage(self, info: CodeInfo) -> tuple[CodeInfo, ...]:
        """The code itself, then its ancestors nearest first."""
        known = self._lineages.get(info.code)
        if known is not None:
            return known
        chain = [info]
        seen = {info.code}
        parent = info.parent
        while parent and parent not in seen:
            seen.add(parent)
            entry = self._catalog.get(System.ICD10CM, parent)
            if entry is None:
                break
            chain.append(entry)
            parent = entry.parent
        lineage = tuple(chain)
        self._lineages[info.code] = lineage
        return lineage

    def excludes1_between(
        self, first: CodeInfo, second: CodeInfo
    ) -> tuple[CodeInfo, CodeRef] | None:
        """The Excludes1 note (and the entry carrying it) that forbids reporting the two
        codes together, looking at both codes' lineages; None when none does."""
        pair = (first.code, second.code)
        if pair in self._pairs:
            return self._pairs[pair]
        verdict = self._note_against(first, second.code) or self._note_against(second, first.code)
        self._pairs[pair] = verdict
        return verdict

    def _note_against(self, holder: CodeInfo, other: str) -> tuple[CodeInfo, CodeRef] | None:
        for entry in self.lineage(holder):
            for note in entry.excludes1:
                if note.matches(other):
                    return entry, note
        return None

    def code_first(self, info: CodeInfo) -> tuple[str, ...]:
        """ "Code first" notes at the code and its ancestors, nearest first."""
        return tuple(note for entry in self.lineage(info) for note in entry.code_first)


def excludes1_conflicts(
    diagnoses: Sequence[ReportedDiagnosis], notes: NoteIndex
) -> Iterator[Finding]:
    """Two codes joined by an Excludes1 note are never reported together.

    Checks the notes at each code and at every ancestor, in both directions; note
    targets may be codes, categories with a dash ("E08.-") or ranges ("O10-O11").
    The finding is on the line that is not a key code when exactly one of the two is
    (adding the excluded code is the error), otherwise on the later of the two lines.
    Ref: ICD-10-CM Official Guidelines, Section I.A.12.a (Excludes1).
    """
    for index, later in enumerate(diagnoses):
        for earlier in diagnoses[:index]:
            if earlier.info.code == later.info.code:
                continue
            verdict = notes.excludes1_between(earlier.info, later.info)
            if verdict is None:
                continue
            owner, note = verdict
            blamed = earlier if later.keyed and not earlier.keyed else later
            yield Finding(
                kind=FindingKind.EXCLUDES1_CONFLICT,
                line=blamed.line,
                code=blamed.info.code,
                expected=None,
                message=messages.excludes1(earlier.info, later.info, owner, note),
            )


def manifestation_first(
    diagnoses: Sequence[ReportedDiagnosis], notes: NoteIndex
) -> Iterator[Finding]:
    """A manifestation code is never the first-listed diagnosis.

    Manifestation codes ("in diseases classified elsewhere", a "code first" note) follow
    the code of the underlying condition. ``diagnoses`` must start with the first-listed
    line when it is valid; the rule looks at that line only.
    Ref: ICD-10-CM Official Guidelines, Section I.A.13 (etiology/manifestation
    convention); CMS Medicare Code Editor, edit 6 (manifestation code as principal
    diagnosis).
    """
    if not diagnoses or not diagnoses[0].info.manifestation:
        return
    first = diagnoses[0]
    yield Finding(
        kind=FindingKind.MANIFESTATION_FIRST,
        line=first.line,
        code=first.info.code,
        message=messages.manifestation_first(first.info, notes.code_first(first.info)),
    )


def age_conflicts(
    diagnoses: Sequence[ReportedDiagnosis], patient: Patient | None
) -> Iterator[Finding]:
    """A newborn, pediatric, maternity or adult code must fit the patient's age.

    Inclusive ranges from the CMS Medicare Code Editor age edits (newborn 0, pediatric
    0-17, maternity 9-64, adult 15-124). No patient, no edit.
    Ref: CMS Medicare Code Editor, edit 4 (age conflict).
    """
    if patient is None:
        return
    age = patient.age_years
    for reported in diagnoses:
        group = reported.info.age_group
        if group is None:
            continue
        low, high = AGE_RANGES[group]
        if low <= age <= high:
            continue
        yield Finding(
            kind=FindingKind.AGE_CONFLICT,
            line=reported.line,
            code=reported.info.code,
            message=messages.age_conflict(reported.info, age),
        )


def sex_conflicts(
    diagnoses: Sequence[ReportedDiagnosis],
    patient: Patient | None,
    date_of_service: dt.date,
) -> Iterator[Finding]:
    """A code for one sex only must fit the patient's recorded sex.

    From 2024-10-01 CMS no longer applies this edit to Medicare claims, so findings on
    later dates of service are advisory and cost nothing.
    No patient or no recorded sex, no edit.
    Ref: CMS Medicare Code Editor, edit 5 (sex conflict), no longer applied from
    FY2025 (2024-10-01).
    """
    if patient is None or patient.sex is None:
        return
    advisory = date_of_service >= SEX_EDIT_RETIRED
    for reported in diagnoses:
        required = reported.info.sex
        if required is None or required == patient.sex:
            continue
        yield Finding(
            kind=FindingKind.SEX_CONFLICT,
            line=reported.line,
            code=reported.info.code,
            message=messages.sex_conflict(reported.info, patient.sex, advisory),
            advisory=advisory,
        )


def duplicate_positions(keys: Sequence[object | None]) -> list[int]:
    """Per position, the earlier position reporting the same thing, or -1.

    The same code is reported once per encounter; a second line adds nothing and is
    reported as ``duplicate`` (procedures compare code and modifiers, since one code may
    legitimately appear on two lines with different modifiers). ``None`` never repeats.
    Ref: ICD-10-CM Official Guidelines, Section I.B.12 (reporting same diagnosis code
    more than once).
    """
    first_seen: dict[object, int] = {}
    earlier = [-1] * len(keys)
    for position, key in enumerate(keys):
        if key is None:
            continue
        seen = first_seen.setdefault(key, position)
        if seen != position:
            earlier[position] = seen
    return earlier


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What the guideline rules read: the valid reported diagnoses in reporting order
    (``first_listed`` says whether the first one is the answer's first line), the notes,
    and the patient on the date of service."""

    diagnoses: Sequence[ReportedDiagnosis]
    first_listed: bool
    notes: NoteIndex
    patient: Patient | None
    date_of_service: dt.date


@dataclass(frozen=True, slots=True)
class Rule:
    """One registered guideline rule: its name, the finding kind it reports, the source
    it enforces, and the check."""

    name: str
    kind: FindingKind
    source: str
    check: Callable[[RuleContext], Iterator[Finding]]


def _excludes1(context: RuleContext) -> Iterator[Finding]:
    return excludes1_conflicts(context.diagnoses, context.notes)


def _manifestation(context: RuleContext) -> Iterator[Finding]:
    if not context.first_listed:
        return iter(())
    return manifestation_first(context.diagnoses, context.notes)


def _age(context: RuleContext) -> Iterator[Finding]:
    return age_conflicts(context.diagnoses, context.patient)


def _sex(context: RuleContext) -> Iterator[Finding]:
    return sex_conflicts(context.diagnoses, context.patient, context.date_of_service)


RULES: tuple[Rule, ...] = (
    Rule(
        "excludes1",
        FindingKind.EXCLUDES1_CONFLICT,
        "ICD-10-CM Official Guidelines, Section I.A.12.a (Excludes1)",
        _excludes1,
    ),
    Rule(
        "manifestation-first",
        FindingKind.MANIFESTATION_FIRST,
        "ICD-10-CM Official Guidelines, Section I.A.13; CMS Medicare Code Editor edit 6",
        _manifestation,
    ),
    Rule("age", FindingKind.AGE_CONFLICT, "CMS Medicare Code Editor edit 4", _age),
    Rule("sex", FindingKind.SEX_CONFLICT, "CMS Medicare Code Editor edit 5", _sex),
)
