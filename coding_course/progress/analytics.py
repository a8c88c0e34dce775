"""Progress analytics: from a learner's graded responses to accuracy per area, error
patterns, speed and the weakest areas.

Pure (no Django): the selectors load rows once into the frozen dataclasses below and the
functions here compute. Areas use the encounter library's tag vocabulary
(``icd-10-cm``, ``chapter-19``, ``cpt-em``, ``hcpcs``), so a weak area names the lessons
and encounters tagged with it.

How a response is counted
-------------------------
A *check* is one verdict of the grader: one non-advisory finding. ``correct`` is a right
check; every other kind is a wrong one, except that the ``missing`` finding of a key line
already counted by a ``partial_match`` (the near miss names it as ``expected``) is not
counted twice.

* Full-coding exercises are checked line by line, so each check counts toward the area
  of its own line: diagnosis lines toward ICD-10-CM and the chapter of the code, procedure
  lines toward CPT (and the section of the code) or HCPCS Level II. A learner who codes
  the diagnoses right and the procedures wrong is strong in one family and weak in the
  other, although both sat on the same encounter.
* Other exercise types ask one decision about an encounter; their checks count toward
  every family, chapter and section the encounter is tagged with.
* An instructor's override replaces the grader's verdict on that response: its checks
  count as right in the share ``override / max_score``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from codesets.domain.shapes import compact, has_shape, procedure_system
from codesets.domain.systems import System
from quizzes.grading.kinds import Category, FindingKind, LineList, LineRef

FULL_CODING = "full_coding"
CORRECT = FindingKind.CORRECT

# Fewer checks than this say too little about an area to call it weak.
MIN_CHECKS_FOR_WEAKNESS = 2
# How many weak areas the page names and recommends from.
WEAK_AREA_LIMIT = 3


class AreaKind(StrEnum):
    FAMILY = "family"
    CHAPTER = "chapter"
    SECTION = "section"


FAMILY_TAGS: dict[System, str] = {
    System.ICD10CM: "icd-10-cm",
    System.CPT: "cpt",
    System.HCPCS: "hcpcs",
}
FAMILY_LABELS: dict[str, str] = {
    "icd-10-cm": "ICD-10-CM",
    "cpt": "CPT",
    "hcpcs": "HCPCS Level II",
}

# ICD-10-CM chapters by the first category of each (FY2026 tabular), in code order;
# T codes fall in chapter 19 and U codes (chapter 22) sit between T and V.
_CHAPTER_STARTS: tuple[tuple[str, int], ...] = (
    ("A00", 1),
    ("C00", 2),
    ("D50", 3),
    ("E00", 4),
    ("F01", 5),
    ("G00", 6),
    ("H00", 7),
    ("H60", 8),
    ("I00", 9),
    ("J00", 10),
    ("K00", 11),
    ("L00", 12),
    ("M00", 13),
    ("N00", 14),
    ("O00", 15),
    ("P00", 16),
    ("Q00", 17),
    ("R00", 18),
    ("S00", 19),
    ("U00", 22),
    ("V00", 20),
    ("Z00", 21),
)
_CHAPTER_FIRSTS = tuple(first for first, _ in _CHAPTER_STARTS)

CHAPTER_TITLES: dict[int, str] = {
    1: "Infectious and parasitic diseases",
    2: "Neoplasms",
    3: "Blood and immune mechanism",
    4: "Endocrine, nutritional and metabolic",
    5: "Mental and behavioural",
    6: "Nervous system",
    7: "Eye and adnexa",
    8: "Ear and mastoid process",
    9: "Circulatory system",
    10: "Respiratory system",
    11: "Digestive system",
    12: "Skin and subcutaneous tissue",
    13: "Musculoskeletal system",
    14: "Genitourinary system",
    15: "Pregnancy and childbirth",
    16: "Perinatal period",
    17: "Congenital malformations",
    18: "Symptoms, signs and abnormal findings",
    19: "Injury and poisoning",
    20: "External causes",
    21: "Factors influencing health status (Z codes)",
    22: "Codes for special purposes",
}

SECTION_LABELS: dict[str, str] = {
    "cpt-em": "CPT Evaluation and Management",
    "cpt-anesthesia": "CPT Anesthesia",
    "cpt-surgery": "CPT Surgery",
    "cpt-radiology": "CPT Radiology",
    "cpt-lab": "CPT Pathology and Laboratory",
    "cpt-medicine": "CPT Medicine",
    "cpt-category-ii": "CPT Category II",
    "cpt-category-iii": "CPT Category III",
}


class Skill(StrEnum):
    """The error patterns the course teaches against, in the order the page lists them."""

    SPECIFICITY = "specificity"
    LATERALITY = "laterality"
    SEVENTH_CHARACTER = "7th-character"
    SEQUENCING = "sequencing"
    EXCLUDES1 = "excludes1"
    MODIFIERS = "modifiers"
    LINKAGE = "linkage"
    UNITS = "units"


SKILL_LABELS: dict[Skill, str] = {
    Skill.SPECIFICITY: "Specificity",
    Skill.LATERALITY: "Laterality",
    Skill.SEVENTH_CHARACTER: "7th character",
    Skill.SEQUENCING: "Sequencing",
    Skill.EXCLUDES1: "Excludes1",
    Skill.MODIFIERS: "Modifiers",
    Skill.LINKAGE: "Linkage",
    Skill.UNITS: "Units",
}

# Lesson tags that teach each skill: the skill's own tag plus the lesson tags the
# grader's table of kinds gives the kinds of that skill (dict order keeps them stable).
SKILL_TAGS: dict[Skill, tuple[str, ...]] = {
    skill: tuple(
        dict.fromkeys(
            [
                skill.value,
                *(
                    tag
                    for kind in FindingKind
                    if kind.facts.skill.value == skill.value
                    for tag in kind.facts.lesson_tags
                ),
            ]
        )
    )
    for skill in Skill
}

# The error pattern each finding kind shows, from the grader's table of kinds (a near
# miss is told apart in ``skill_of``; code selection, guideline edits and choices are
# not patterns this page teaches against).
_SKILL_OF_KIND: dict[str, Skill] = {
    kind.value: Skill(kind.facts.skill.value)
    for kind in FindingKind
    if (
        kind.facts.skill.value in Skill._value2member_map_
        and kind.facts.category in (Category.VALIDITY, Category.DETAIL, Category.SEQUENCE)
    )
    or kind is FindingKind.EXCLUDES1_CONFLICT
}


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One stored finding, as the grader wrote it (``Finding.as_json``)."""

    kind: str
    line: str = ""
    code: str | None = None
    expected: tuple[str, ...] = ()
    message: str = ""
    advisory: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> FindingRow:
        expected = data.get("expected") or ()
        code = data.get("code")
        return cls(
            kind=str(data.get("kind", "")),
            line=str(data.get("line") or ""),
            code=str(code) if code not in (None, "") else None,
            expected=tuple(str(e) for e in expected) if isinstance(expected, list | tuple) else (),
            message=str(data.get("message") or ""),
            advisory=bool(data.get("advisory", False)),
        )


@dataclass(frozen=True, slots=True)
class GradedResponse:
    """A submitted response with the score that counts for it.

    ``score`` is the grader's; ``override`` the instructor's latest correction, if any.
    ``labels`` are the item's labels (encounter tags, ``difficulty-N``, ``type-T``).
    """

    response_id: int
    attempt_id: int
    encounter_id: int
    exercise_type: str
    labels: tuple[str, ...]
    score: float
    max_score: float
    findings: tuple[FindingRow, ...]
    override: float | None = None

    @property
    def earned(self) -> float:
        return self.override if self.override is not None else self.score

    @property
    def share(self) -> float:
        """Share of the marks earned, 0 to 1 (an item worth nothing counts as full)."""
        if self.max_score <= 0:
            return 1.0
        return min(max(self.earned / self.max_score, 0.0), 1.0)


@dataclass(frozen=True, slots=True)
class AttemptRow:
    attempt_id: int
    quiz_title: str
    number: int
    started_at: dt.datetime
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Area:
    kind: AreaKind
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class AreaAccuracy:
    area: Area
    right: float
    checks: int

    @property
    def accuracy(self) -> float:
        return self.right / self.checks if self.checks else 0.0

    @property
    def percent(self) -> float:
        return round(100.0 * self.accuracy, 1)


@dataclass(frozen=True, slots=True)
class SkillErrors:
    skill: Skill
    errors: int

    @property
    def label(self) -> str:
        return SKILL_LABELS[self.skill]


@dataclass(frozen=True, slots=True)
class AttemptScore:
    """An attempt's result as the learner's graded responses add up today."""

    attempt: AttemptRow
    earned: float
    max_score: float

    @property
    def percent(self) -> float:
        return round(100.0 * self.earned / self.max_score, 1) if self.max_score else 100.0


@dataclass(frozen=True, slots=True)
class WeakArea:
    """An area to work on, with the error patterns the learner showed in it."""

    accuracy: AreaAccuracy
    skills: tuple[SkillErrors, ...] = ()

    @property
    def tags(self) -> tuple[str, ...]:
        """Lesson tags to recommend from: the area, then its commonest error patterns."""
        skill_tags = (tag for errors in self.skills[:2] for tag in SKILL_TAGS[errors.skill])
        return (self.accuracy.area.key, *skill_tags)


@dataclass(frozen=True, slots=True)
class ProgressReport:
    responses: int
    attempts: tuple[AttemptScore, ...]
    overall: AreaAccuracy | None
    families: tuple[AreaAccuracy, ...]
    chapters: tuple[AreaAccuracy, ...]
    sections: tuple[AreaAccuracy, ...]
    skills: tuple[SkillErrors, ...]
    median_minutes_per_encounter: float | None
    weakest: tuple[WeakArea, ...] = field(default=())


# ---------------------------------------------------------------------------
# Code areas


def icd10cm_chapter(code: str) -> int | None:
    """The ICD-10-CM chapter of a code (``S93.401A`` gives 19), None when not one."""
    raw = compact(code)
    if not has_shape(raw, System.ICD10CM):
        return None
    index = bisect.bisect_right(_CHAPTER_FIRSTS, raw[:3]) - 1
    return _CHAPTER_STARTS[index][1] if index >= 0 else None


def cpt_section(code: str) -> str | None:
    """The CPT section tag of a code by its number range (``99213`` gives ``cpt-em``).

    Ranges: Anesthesia 00100-01999, Surgery 10004-69990, Radiology 70010-79999,
    Pathology and Laboratory 80047-89398, Medicine 90281-99199 and 99500-99607,
    E/M 99202-99499; Category II codes end in F, Category III in T.
    """
    raw = compact(code)
    if not has_shape(raw, System.CPT):
        return None
    if raw.endswith("F"):
        return "cpt-category-ii"
    if raw.endswith("T"):
        return "cpt-category-iii"
    number = int(raw)
    if number < 10000:
        return "cpt-anesthesia"
    if number < 70000:
        return "cpt-surgery"
    if number < 80000:
        return "cpt-radiology"
    if number < 90000:
        return "cpt-lab"
    if 99200 <= number < 99500:
        return "cpt-em"
    return "cpt-medicine"


def chapter_area(number: int) -> Area:
    return Area(AreaKind.CHAPTER, f"chapter-{number}", f"Ch. {number} {CHAPTER_TITLES[number]}")


def family_area(tag: str) -> Area:
    return Area(AreaKind.FAMILY, tag, FAMILY_LABELS[tag])


def section_area(tag: str) -> Area:
    return Area(AreaKind.SECTION, tag, SECTION_LABELS[tag])


def area_for_tag(tag: str) -> Area | None:
    """The area a library tag names, or None for a tag that is not an area."""
    if tag in FAMILY_LABELS:
        return family_area(tag)
    if tag in SECTION_LABELS:
        return section_area(tag)
    if tag.startswith("chapter-") and tag[8:].isdigit() and int(tag[8:]) in CHAPTER_TITLES:
        return chapter_area(int(tag[8:]))
    return None


def line_areas(finding: FindingRow) -> tuple[Area, ...]:
    """The areas a full-coding finding counts toward, from its line and code.

    The line decides the family (a CPT code typed into a diagnosis line is an ICD-10-CM
    error); the code adds its chapter or section when it has that family's shape.
    """
    ref = LineRef.parse(finding.line)
    code = finding.code or ""
    if ref is None:
        return ()
    if ref.list in (LineList.DIAGNOSES, LineList.KEY_DIAGNOSES):
        chapter = icd10cm_chapter(code) if code else None
        areas = [family_area("icd-10-cm")]
        if chapter is not None:
            areas.append(chapter_area(chapter))
        return tuple(areas)
    if ref.list in (LineList.PROCEDURES, LineList.KEY_PROCEDURES):
        system = procedure_system(code) if code else None
        if system is None:
            return ()
        areas = [family_area(FAMILY_TAGS[system])]
        section = cpt_section(code) if system is System.CPT else None
        if section is not None:
            areas.append(section_area(section))
        return tuple(areas)
    return ()


def labelled_areas(labels: Iterable[str]) -> tuple[Area, ...]:
    return tuple(area for area in (area_for_tag(label) for label in labels) if area is not None)


# ---------------------------------------------------------------------------
# Checks and error patterns


def counted_findings(findings: Sequence[FindingRow]) -> list[FindingRow]:
    """The findings that are checks: not advisory, and no ``missing`` for a key line a
    ``partial_match`` already stands for."""
    near_missed = {
        compact(code)
        for f in findings
        if f.kind == FindingKind.PARTIAL_MATCH
        for code in f.expected
    }
    counted = []
    for finding in findings:
        if finding.advisory:
            continue
        if finding.kind == FindingKind.MISSING and compact(finding.code or "") in near_missed:
            continue
        counted.append(finding)
    return counted


def skill_of(finding: FindingRow) -> Skill | None:
    """The error pattern a finding shows, or None (a right answer, a plain extra or
    missing code).

    A near miss (``partial_match``) is one finding kind for three mistakes: a 7th
    character is recognised from the codes (the first six characters agree), a wrong
    side from the grader's message (the side is in the descriptors, which the stored
    finding does not keep), and anything else is specificity.
    """
    if finding.kind == FindingKind.PARTIAL_MATCH:
        reported = compact(finding.code or "")
        if any(
            len(reported) == len(compact(key)) == 7 and reported[:6] == compact(key)[:6]
            for key in finding.expected
        ):
            return Skill.SEVENTH_CHARACTER
        if "wrong side" in finding.message.lower():
            return Skill.LATERALITY
        return Skill.SPECIFICITY
    return _SKILL_OF_KIND.get(finding.kind)


@dataclass
class _Tally:
    right: float = 0.0
    checks: int = 0


def _area_checks(response: GradedResponse) -> dict[Area, tuple[int, int]]:
    """Per area: (right checks, checks) of one response under the grader's verdict."""
    counts: dict[Area, list[int]] = defaultdict(lambda: [0, 0])
    fallback = labelled_areas(response.labels)
    for finding in counted_findings(response.findings):
        areas = line_areas(finding) if response.exercise_type == FULL_CODING else fallback
        for area in areas:
            counts[area][0] += finding.kind == CORRECT
            counts[area][1] += 1
    return {area: (right, checks) for area, (right, checks) in counts.items()}


def accuracy_by_area(responses: Iterable[GradedResponse]) -> dict[Area, AreaAccuracy]:
    tallies: dict[Area, _Tally] = defaultdict(_Tally)
    for response in responses:
        for area, (right, checks) in _area_checks(response).items():
            tally = tallies[area]
            tally.checks += checks
            tally.right += response.share * checks if response.override is not None else right
    return {
        area: AreaAccuracy(area=area, right=tally.right, checks=tally.checks)
        for area, tally in tallies.items()
    }


def overall_accuracy(responses: Iterable[GradedResponse]) -> AreaAccuracy | None:
    right = 0.0
    checks = 0
    for response in responses:
        counted = counted_findings(response.findings)
        checks += len(counted)
        if response.override is not None:
            right += response.share * len(counted)
        else:
            right += sum(1 for finding in counted if finding.kind == CORRECT)
    if not checks:
        return None
    return AreaAccuracy(area=Area(AreaKind.FAMILY, "all", "All areas"), right=right, checks=checks)


def error_patterns(responses: Iterable[GradedResponse]) -> tuple[SkillErrors, ...]:
    """Errors per skill, every skill listed (zero included) in the course's order.

    Overridden responses keep their findings here: the grader's observation of a
    pattern stays true even when an instructor changes the marks.
    """
    counts: Counter[Skill] = Counter()
    for response in responses:
        for finding in counted_findings(response.findings):
            skill = skill_of(finding)
            if skill is not None:
                counts[skill] += 1
    return tuple(SkillErrors(skill=skill, errors=counts[skill]) for skill in Skill)


def _skills_by_area(responses: Iterable[GradedResponse]) -> dict[str, Counter[Skill]]:
    per_area: dict[str, Counter[Skill]] = defaultdict(Counter)
    for response in responses:
        fallback = labelled_areas(response.labels)
        for finding in counted_findings(response.findings):
            skill = skill_of(finding)
            if skill is None:
                continue
            areas = line_areas(finding) if response.exercise_type == FULL_CODING else fallback
            for area in areas:
                per_area[area.key][skill] += 1
    return per_area


# ---------------------------------------------------------------------------
# Attempts, speed, weak areas


def attempt_scores(
    attempts: Iterable[AttemptRow], responses: Iterable[GradedResponse]
) -> tuple[AttemptScore, ...]:
    """Each submitted attempt's percent from its responses (overrides honoured), oldest
    first."""
    earned: dict[int, float] = defaultdict(float)
    maximum: dict[int, float] = defaultdict(float)
    for response in responses:
        earned[response.attempt_id] += response.earned
        maximum[response.attempt_id] += response.max_score
    finished = [a for a in attempts if a.finished_at is not None]
    finished.sort(key=lambda a: (a.finished_at, a.attempt_id))
    return tuple(
        AttemptScore(attempt=a, earned=earned[a.attempt_id], max_score=maximum[a.attempt_id])
        for a in finished
    )


def median_minutes_per_encounter(
    attempts: Iterable[AttemptRow], encounters_per_attempt: Mapping[int, int]
) -> float | None:
    """Median minutes per encounter over every encounter the learner answered.

    Responses are saved as the learner types, so their times say when an answer was last
    touched, not how long it took; an attempt's span (start to submission) shared among
    its encounters is the measure that holds, and each encounter counts once.
    """
    per_encounter: list[float] = []
    for attempt in attempts:
        count = encounters_per_attempt.get(attempt.attempt_id, 0)
        if attempt.finished_at is None or count <= 0:
            continue
        minutes = max((attempt.finished_at - attempt.started_at).total_seconds(), 0.0) / 60
        per_encounter.extend([minutes / count] * count)
    if not per_encounter:
        return None
    return round(statistics.median(per_encounter), 1)


def weakest_areas(
    accuracies: Iterable[AreaAccuracy],
    responses: Iterable[GradedResponse],
    *,
    limit: int = WEAK_AREA_LIMIT,
) -> tuple[WeakArea, ...]:
    """The chapters, CPT sections and HCPCS Level II with the lowest accuracy.

    ICD-10-CM and CPT as a whole are left out: they average their chapters and sections,
    so the chapter or section behind a low family score is the more useful pointer.
    Ties go to the area with more checks (the better evidence), then by tag.
    """
    candidates = [
        accuracy
        for accuracy in accuracies
        if (accuracy.area.kind is not AreaKind.FAMILY or accuracy.area.key == "hcpcs")
        and accuracy.checks >= MIN_CHECKS_FOR_WEAKNESS
        and accuracy.accuracy < 1.0
    ]
    candidates.sort(key=lambda a: (a.accuracy, -a.checks, a.area.key))
    skills = _skills_by_area(responses)
    weak = []
    for accuracy in candidates[:limit]:
        counts = skills.get(accuracy.area.key, Counter())
        ranked = sorted(counts.items(), key=lambda pair: (-pair[1], list(Skill).index(pair[0])))
        weak.append(
            WeakArea(
                accuracy=accuracy,
                skills=tuple(SkillErrors(skill=skill, errors=count) for skill, count in ranked),
            )
        )
    return tuple(weak)


def _chapter_number(accuracy: AreaAccuracy) -> int:
    return int(accuracy.area.key.removeprefix("chapter-"))


def progress_report(
    *, attempts: Sequence[AttemptRow], responses: Sequence[GradedResponse]
) -> ProgressReport:
    """Everything the progress page shows about quizzes, from one learner's rows (or a
    group's, pooled: the group summary weighs each area by how much it was practised)."""
    accuracies = accuracy_by_area(responses)
    by_kind: dict[AreaKind, list[AreaAccuracy]] = defaultdict(list)
    for accuracy in accuracies.values():
        by_kind[accuracy.area.kind].append(accuracy)
    family_order = list(FAMILY_LABELS)
    section_order = list(SECTION_LABELS)
    encounters_per_attempt: Counter[int] = Counter()
    for response in responses:
        encounters_per_attempt[response.attempt_id] += 1
    return ProgressReport(
        responses=len(responses),
        attempts=attempt_scores(attempts, responses),
        overall=overall_accuracy(responses),
        families=tuple(
            sorted(by_kind[AreaKind.FAMILY], key=lambda a: family_order.index(a.area.key))
        ),
        chapters=tuple(sorted(by_kind[AreaKind.CHAPTER], key=_chapter_number)),
        sections=tuple(
            sorted(by_kind[AreaKind.SECTION], key=lambda a: section_order.index(a.area.key))
        ),
        skills=error_patterns(responses),
        median_minutes_per_encounter=median_minutes_per_encounter(attempts, encounters_per_attempt),
        weakest=weakest_areas(accuracies.values(), responses),
    )
