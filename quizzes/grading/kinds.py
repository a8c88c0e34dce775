"""The one list of finding kinds, the facts every reader needs about each, and the typed
reference to the line a finding is about.

Everything that shows, counts or hides findings (review pages, practice feedback,
progress analytics, the gradebook's item analysis, employer reports) reads
:data:`KIND_FACTS` instead of keeping a list of its own. A kind's value is the string
the ``grade_cases`` contract prints and the database stores, so a stored finding reads
back with :meth:`FindingKind.of`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class FindingKind(StrEnum):
    # Match findings (one per reported line or missing key line).
    CORRECT = "correct"
    PARTIAL_MATCH = "partial_match"
    EXTRA = "extra"
    MISSING = "missing"
    # What a reported text is, before any comparison with the key.
    INVALID_FORMAT = "invalid_format"
    WRONG_FAMILY = "wrong_family"
    UNKNOWN_CODE = "unknown_code"
    NOT_BILLABLE = "not_billable"
    MISSING_SEVENTH_CHARACTER = "missing_seventh_character"
    # Details of a matched procedure line.
    MODIFIER_ERROR = "modifier_error"
    UNITS_ERROR = "units_error"
    LINKAGE_ERROR = "linkage_error"
    # Order and guideline rules.
    SEQUENCE_ERROR = "sequence_error"
    DUPLICATE = "duplicate"
    EXCLUDES1_CONFLICT = "excludes1_conflict"
    MANIFESTATION_FIRST = "manifestation_first"
    SEX_CONFLICT = "sex_conflict"
    AGE_CONFLICT = "age_conflict"
    # Choice exercises (best code, code family, specificity): the choice is not the key's.
    INCORRECT = "incorrect"
    # Procedure near misses (their own kinds, so the message names the real error).
    LEVEL_MISMATCH = "level_mismatch"
    PAYER_CODE = "payer_code"

    @classmethod
    def of(cls, value: object) -> FindingKind | None:
        """The kind a stored string names, or None for a string no grader writes."""
        try:
            return cls(str(value))
        except ValueError:
            return None

    @property
    def facts(self) -> KindFacts:
        return KIND_FACTS[self]


class Category(StrEnum):
    """What part of coding a finding is about: decides where reports group it."""

    MATCH = "match"
    VALIDITY = "validity"
    DETAIL = "detail"
    SEQUENCE = "sequence"
    RULE = "rule"
    CHOICE = "choice"


class Skill(StrEnum):
    """The coding skill a finding measures, as progress reports and employers name it."""

    CODE_SELECTION = "code-selection"
    SPECIFICITY = "specificity"
    SEVENTH_CHARACTER = "7th-character"
    SEQUENCING = "sequencing"
    EXCLUDES1 = "excludes1"
    GUIDELINES = "guidelines"
    MODIFIERS = "modifiers"
    UNITS = "units"
    LINKAGE = "linkage"


SKILL_LABELS: dict[Skill, str] = {
    Skill.CODE_SELECTION: "Code selection",
    Skill.SPECIFICITY: "Specificity",
    Skill.SEVENTH_CHARACTER: "7th character",
    Skill.SEQUENCING: "Sequencing",
    Skill.EXCLUDES1: "Excludes1",
    Skill.GUIDELINES: "Guideline conflicts",
    Skill.MODIFIERS: "Modifiers",
    Skill.UNITS: "Units",
    Skill.LINKAGE: "Diagnosis linkage",
}


@dataclass(frozen=True, slots=True)
class KindFacts:
    """What every reader of findings needs to know about one kind.

    ``before_review``: the finding's own message speaks only of what the learner typed,
    so it may be shown while the key is still secret; otherwise ``generic`` (which names
    no key code) is shown instead. ``counts_as_error``: the kind is a mistake (only
    ``correct`` is not). ``names_key``: the finding's ``code``/``expected`` come from
    the key, so analytics must not count it toward an area the learner cannot see yet.
    """

    label: str
    category: Category
    skill: Skill
    before_review: bool
    generic: str
    guideline: str = ""
    counts_as_error: bool = True
    names_key: bool = False
    # The lesson tags that teach this kind (progress recommends lessons by them).
    lesson_tags: tuple[str, ...] = field(default=())


_GUIDELINES = "ICD-10-CM Official Guidelines for Coding and Reporting"

KIND_FACTS: dict[FindingKind, KindFacts] = {
    FindingKind.CORRECT: KindFacts(
        "Correct",
        Category.MATCH,
        Skill.CODE_SELECTION,
        before_review=True,
        generic="Right.",
        counts_as_error=False,
    ),
    FindingKind.PARTIAL_MATCH: KindFacts(
        "Near miss",
        Category.MATCH,
        Skill.SPECIFICITY,
        before_review=False,
        generic="Right category, but not the code the note supports: check the "
        "specificity, laterality or 7th character.",
        guideline=f"{_GUIDELINES}, Section I.B.1 (locate each term in the Alphabetic Index "
        "and verify it in the Tabular List) and I.A.4 (placeholder and 7th characters)",
        names_key=True,
        lesson_tags=("specificity", "partial_match"),
    ),
    FindingKind.EXTRA: KindFacts(
        "Not in the key",
        Category.MATCH,
        Skill.CODE_SELECTION,
        before_review=True,
        generic="This line is not part of the answer.",
    ),
    FindingKind.MISSING: KindFacts(
        "Missing",
        Category.MATCH,
        Skill.CODE_SELECTION,
        before_review=False,
        generic="A required line is not reported yet.",
        names_key=True,
    ),
    FindingKind.INVALID_FORMAT: KindFacts(
        "Not a code",
        Category.VALIDITY,
        Skill.CODE_SELECTION,
        before_review=True,
        generic="This text is not shaped like a code of this list.",
    ),
    FindingKind.WRONG_FAMILY: KindFacts(
        "Wrong code set",
        Category.VALIDITY,
        Skill.CODE_SELECTION,
        before_review=True,
        generic="A code of another code set in this list.",
    ),
    FindingKind.UNKNOWN_CODE: KindFacts(
        "Unknown code",
        Category.VALIDITY,
        Skill.CODE_SELECTION,
        before_review=True,
        generic="Not a code in the release in force on the date of service.",
    ),
    FindingKind.NOT_BILLABLE: KindFacts(
        "Needs more characters",
        Category.VALIDITY,
        Skill.SPECIFICITY,
        before_review=True,
        generic="A category or subcategory: report a code to its full specificity.",
        guideline=f"{_GUIDELINES}, Section I.B.1 and I.A.4 (codes are reported to the highest "
        "number of characters available)",
        lesson_tags=("specificity",),
    ),
    FindingKind.MISSING_SEVENTH_CHARACTER: KindFacts(
        "Missing 7th character",
        Category.VALIDITY,
        Skill.SEVENTH_CHARACTER,
        before_review=True,
        generic="This code needs a 7th character.",
        guideline=f"{_GUIDELINES}, Section I.A.5 (7th characters) and I.A.4 (placeholder X)",
        lesson_tags=("7th-character", "missing_seventh_character"),
    ),
    FindingKind.MODIFIER_ERROR: KindFacts(
        "Modifier",
        Category.DETAIL,
        Skill.MODIFIERS,
        before_review=False,
        generic="The code is right; its modifiers are not.",
        guideline="CPT Appendix A (modifiers); CMS NCCI Policy Manual, Chapter I.E",
        names_key=True,
        lesson_tags=("modifiers", "modifier_error"),
    ),
    FindingKind.UNITS_ERROR: KindFacts(
        "Units",
        Category.DETAIL,
        Skill.UNITS,
        before_review=False,
        generic="The code is right; its units are not.",
        guideline="The HCPCS Level II descriptor's dosage unit; CMS Medically Unlikely Edits",
        names_key=True,
        lesson_tags=("units", "units_error"),
    ),
    FindingKind.LINKAGE_ERROR: KindFacts(
        "Diagnosis linkage",
        Category.DETAIL,
        Skill.LINKAGE,
        before_review=False,
        generic="The code is right; its diagnosis pointers are not.",
        guideline="CMS-1500 item 24E (diagnosis pointer); medical necessity of each line",
        names_key=True,
        lesson_tags=("linkage", "linkage_error"),
    ),
    FindingKind.SEQUENCE_ERROR: KindFacts(
        "Sequencing",
        Category.SEQUENCE,
        Skill.SEQUENCING,
        before_review=False,
        generic="The order is not the one the guidelines call for.",
        guideline=f"{_GUIDELINES}, Section IV.G (first-listed diagnosis) and I.A.13 "
        "(etiology/manifestation)",
        names_key=True,
        lesson_tags=("sequencing", "sequence_error"),
    ),
    FindingKind.DUPLICATE: KindFacts(
        "Duplicate",
        Category.RULE,
        Skill.GUIDELINES,
        before_review=True,
        generic="The same code is reported twice.",
        guideline=f"{_GUIDELINES}, Section I.B.12 (reporting the same code more than once)",
    ),
    FindingKind.EXCLUDES1_CONFLICT: KindFacts(
        "Excludes1",
        Category.RULE,
        Skill.EXCLUDES1,
        before_review=True,
        generic="Two codes an Excludes1 note keeps apart.",
        guideline=f"{_GUIDELINES}, Section I.A.12.a (Excludes1)",
        lesson_tags=("excludes1", "excludes1_conflict"),
    ),
    FindingKind.MANIFESTATION_FIRST: KindFacts(
        "Manifestation first",
        Category.RULE,
        Skill.SEQUENCING,
        before_review=True,
        generic="A manifestation code cannot be listed first.",
        guideline=f"{_GUIDELINES}, Section I.A.13 (etiology/manifestation convention); "
        "CMS Medicare Code Editor edit 6",
        lesson_tags=("sequencing",),
    ),
    FindingKind.SEX_CONFLICT: KindFacts(
        "Sex edit",
        Category.RULE,
        Skill.GUIDELINES,
        before_review=True,
        generic="A code for the other sex.",
        guideline="CMS Medicare Code Editor edit 5 (sex conflict), not applied from 2024-10-01",
    ),
    FindingKind.AGE_CONFLICT: KindFacts(
        "Age edit",
        Category.RULE,
        Skill.GUIDELINES,
        before_review=True,
        generic="A code that does not fit the patient's age.",
        guideline="CMS Medicare Code Editor edit 4 (age conflict)",
    ),
    FindingKind.LEVEL_MISMATCH: KindFacts(
        "Wrong level",
        Category.MATCH,
        Skill.CODE_SELECTION,
        before_review=False,
        generic="The right kind of service at the wrong level.",
        guideline="CPT Evaluation and Management Services Guidelines (2021 office, 2023 "
        "hospital and emergency department): the level follows medical decision making or "
        "total time",
        names_key=True,
    ),
    FindingKind.PAYER_CODE: KindFacts(
        "Payer's code",
        Category.MATCH,
        Skill.CODE_SELECTION,
        before_review=False,
        generic="The right service, but not the code this payer requires.",
        guideline="CMS Medicare Claims Processing Manual, Chapter 18 (preventive and "
        "screening services: HCPCS G codes in place of CPT)",
        names_key=True,
    ),
    FindingKind.INCORRECT: KindFacts(
        "Incorrect",
        Category.CHOICE,
        Skill.CODE_SELECTION,
        before_review=False,
        generic="Not the answer the note supports.",
        names_key=True,
    ),
}

# Near misses: a reported line that stands for a key line it does not match, earning part
# of that line (its ``missing`` finding costs the rest).
NEAR_MISS_KINDS = frozenset(
    {FindingKind.PARTIAL_MATCH, FindingKind.LEVEL_MISMATCH, FindingKind.PAYER_CODE}
)
# Kinds that say a reported text is not a usable code of its list.
VALIDITY_KINDS = frozenset(
    kind for kind, facts in KIND_FACTS.items() if facts.category == Category.VALIDITY
)
RULE_KINDS = frozenset(
    kind
    for kind, facts in KIND_FACTS.items()
    if facts.category == Category.RULE and kind is not FindingKind.DUPLICATE
)
# Findings that name a code the learner reported wrongly (item analysis lists them).
WRONG_CODE_KINDS = frozenset(
    {
        FindingKind.EXTRA,
        FindingKind.PARTIAL_MATCH,
        FindingKind.LEVEL_MISMATCH,
        FindingKind.PAYER_CODE,
        FindingKind.INCORRECT,
        *VALIDITY_KINDS,
    }
)


# Where employer reports group each skill: a hiring manager reads the 7th character as
# part of specificity and Excludes1 among the guideline conflicts.
_REPORT_AREAS: dict[Skill, Skill] = {
    Skill.SEVENTH_CHARACTER: Skill.SPECIFICITY,
    Skill.EXCLUDES1: Skill.GUIDELINES,
}


def report_area(kind: FindingKind) -> str:
    """The skill group an employer report counts a finding kind under."""
    skill = kind.facts.skill
    return SKILL_LABELS[_REPORT_AREAS.get(skill, skill)]


def kind_label(value: object) -> str:
    """The human label of a stored kind (its own text, tidied, for a kind no grader
    writes any more)."""
    kind = FindingKind.of(value)
    if kind is not None:
        return kind.facts.label
    return str(value).replace("_", " ").capitalize()


class LineList(StrEnum):
    """Which list a finding's line belongs to."""

    DIAGNOSES = "diagnoses"
    PROCEDURES = "procedures"
    # A ``missing`` finding is about a key line the answer lacks.
    KEY_DIAGNOSES = "key.diagnoses"
    KEY_PROCEDURES = "key.procedures"
    # A choice exercise has one answer.
    ANSWER = "answer"
    # Sequencing: a position in the reported order.
    ORDER = "order"
    # Linkage: one procedure line, by its label.
    LINKS = "links"
    # Audit: a line of the claim under audit.
    CLAIM_DIAGNOSES = "claim.diagnoses"
    CLAIM_PROCEDURES = "claim.procedures"


_LINE_TEXT = re.compile(r"^(?P<list>[a-z.]+)(?:\[(?P<at>[^\]]*)\])?$")


@dataclass(frozen=True, slots=True)
class LineRef:
    """The line a finding is about: a list and a position (or, for linkage, a label).

    ``str(ref)`` is the stored and printed form (``diagnoses[0]``, ``key.procedures[1]``,
    ``links[93015]``, ``answer``); :meth:`parse` reads it back, in this one place.
    """

    list: LineList
    index: int | None = None
    label: str | None = None

    def __str__(self) -> str:
        if self.index is not None:
            return f"{self.list.value}[{self.index}]"
        if self.label is not None:
            return f"{self.list.value}[{self.label}]"
        return self.list.value

    @property
    def is_diagnosis(self) -> bool:
        return self.list in (
            LineList.DIAGNOSES,
            LineList.KEY_DIAGNOSES,
            LineList.CLAIM_DIAGNOSES,
            LineList.ORDER,
        )

    @property
    def is_procedure(self) -> bool:
        return self.list in (
            LineList.PROCEDURES,
            LineList.KEY_PROCEDURES,
            LineList.CLAIM_PROCEDURES,
            LineList.LINKS,
        )

    @property
    def is_key_line(self) -> bool:
        return self.list in (LineList.KEY_DIAGNOSES, LineList.KEY_PROCEDURES)

    @classmethod
    def parse(cls, text: object) -> LineRef | None:
        """The reference a stored line string names, or None when it names none."""
        match = _LINE_TEXT.match(str(text or ""))
        if match is None:
            return None
        try:
            line_list = LineList(match["list"])
        except ValueError:
            return None
        at = match["at"]
        if at is None:
            return cls(line_list)
        if line_list is LineList.LINKS:
            return cls(line_list, label=at)
        if not at.isdigit():
            return None
        return cls(line_list, index=int(at))


def diagnosis_line(index: int) -> LineRef:
    return _DX_LINES[index] if index < len(_DX_LINES) else LineRef(LineList.DIAGNOSES, index)


def procedure_line(index: int) -> LineRef:
    return _PROC_LINES[index] if index < len(_PROC_LINES) else LineRef(LineList.PROCEDURES, index)


def key_diagnosis_line(index: int) -> LineRef:
    return LineRef(LineList.KEY_DIAGNOSES, index)


def key_procedure_line(index: int) -> LineRef:
    return LineRef(LineList.KEY_PROCEDURES, index)


# Grading builds these references for every line of every sheet: share the common ones.
_DX_LINES = tuple(LineRef(LineList.DIAGNOSES, i) for i in range(64))
_PROC_LINES = tuple(LineRef(LineList.PROCEDURES, i) for i in range(64))
