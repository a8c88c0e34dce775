"""Read side of assessments: organisation scoping, and the numbers the reports show.

Scoping lives here and nowhere else. An employer reaches the assessments of their own
organisation; site staff reach all; anyone else none. Every id that comes from a URL
is looked up through these functions, so an id of another organisation is a 404
exactly like an id that does not exist: the answer never says which it is.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from codesets.domain.shapes import procedure_system
from coding_course.accounts.errors import NotFound
from coding_course.accounts.models import Role
from coding_course.assessments import stats
from coding_course.assessments.models import Assessment, Candidate, SittingEvent, SittingEventKind
from quizzes.api import (
    AttemptStatus,
    BulkJob,
    BulkJobChange,
    BulkJobKind,
    BulkJobStatus,
    ChangeOutcome,
    ExerciseType,
    Quiz,
    QuizItem,
    QuizMode,
    Score,
    ScoreOverride,
    quiz_item_analysis,
)
from quizzes.grading.kinds import FindingKind, LineList, LineRef, report_area
from quizzes.grading.policy import RULES_VERSION

# ---------------------------------------------------------------------------
# Scoping


def assessments_for_user(*, user: Any) -> QuerySet[Assessment]:
    assessments = Assessment.objects.select_related("organisation", "quiz", "created_by")
    if not getattr(user, "is_authenticated", False):
        return assessments.none()
    if user.role == Role.EMPLOYER and user.organisation_id is not None:
        return assessments.filter(organisation_id=user.organisation_id)
    if user.is_site_staff:
        return assessments
    return assessments.none()


def assessment_get_for_user(*, assessment_id: int, user: Any) -> Assessment:
    assessment = assessments_for_user(user=user).filter(pk=assessment_id).first()
    if assessment is None:
        raise NotFound("No such assessment.")
    return assessment


def candidate_get_for_assessment(*, assessment: Assessment, candidate_id: int) -> Candidate:
    """A candidate of this (already scoped) assessment; any other id is a 404."""
    candidate = (
        Candidate.objects.select_related("user", "attempt")
        .filter(assessment=assessment, pk=candidate_id)
        .first()
    )
    if candidate is None:
        raise NotFound("No such candidate.")
    return candidate


def candidate_get_for_candidate(*, candidate_id: int, user: Any) -> Candidate:
    """The signed-in person's own sitting; anyone else's is a 404."""
    candidate = (
        Candidate.objects.select_related(
            "assessment__organisation", "assessment__quiz", "attempt__quiz"
        )
        .filter(pk=candidate_id, user_id=user.pk)
        .first()
    )
    if candidate is None:
        raise NotFound("No such assessment.")
    return candidate


def candidacies_for_user(*, user: Any) -> QuerySet[Candidate]:
    return (
        Candidate.objects.filter(user_id=user.pk)
        .select_related("assessment__organisation", "assessment__quiz", "attempt")
        .order_by("-accepted_at")
    )


def candidate_counts(*, assessment_ids: list[int]) -> list[dict[str, Any]]:
    """Per assessment: candidates invited and sittings submitted, in one query."""
    return list(
        Candidate.objects.filter(assessment_id__in=assessment_ids)
        .values("assessment_id")
        .annotate(
            invited=Count("id"),
            submitted=Count("id", filter=Q(attempt__status=AttemptStatus.SUBMITTED)),
        )
    )


def source_quizzes_for_user(*, user: Any) -> QuerySet[Quiz]:
    """Exam quizzes an assessment may be built from: the course library's (owned by
    instructors or staff) and the organisation's own, never another organisation's
    assessments."""
    library = Q(owner__role__in=[Role.INSTRUCTOR, Role.STAFF])
    own = Q(owner__organisation_id=user.organisation_id) if user.organisation_id else Q(pk=None)
    return (
        Quiz.objects.filter(mode=QuizMode.EXAM)
        .filter(library | own)
        .filter(assessment__isnull=True)
        .order_by("title")
    )


# ---------------------------------------------------------------------------
# Candidates' state


def candidate_status(candidate: Candidate, now: dt.datetime) -> str:
    attempt = candidate.attempt
    if attempt is not None:
        if attempt.status == AttemptStatus.SUBMITTED:
            return "submitted"
        if attempt.deadline is not None and now >= attempt.deadline:
            return "time up"
        return "in progress"
    if candidate.accepted_at is not None:
        return "accepted"
    if now >= candidate.expires_at:
        return "invitation expired"
    return "invited"


# ---------------------------------------------------------------------------
# Per-exercise time and leaving the page


@dataclass
class Activity:
    seconds_by_item: dict[int, float] = field(default_factory=dict)
    left_page: int = 0


def activity_from_events(
    events: Iterable[tuple[str, int | None, dt.datetime]], end: dt.datetime | None
) -> Activity:
    """Time per exercise from the take page's events: an exercise is on screen from
    its ``view`` (or ``visible``) event to the next event of any kind, and at the end
    until ``end`` (the sitting's finish). Every ``hidden`` event is one departure."""
    activity = Activity()
    current: tuple[int, dt.datetime] | None = None
    for kind, item_id, at in events:
        if end is not None and at > end:
            break
        if current is not None:
            item, since = current
            seconds = (at - since).total_seconds()
            activity.seconds_by_item[item] = activity.seconds_by_item.get(item, 0.0) + seconds
            current = None
        if kind == SittingEventKind.HIDDEN:
            activity.left_page += 1
        elif item_id is not None:
            current = (item_id, at)
    if current is not None and end is not None:
        item, since = current
        seconds = max((end - since).total_seconds(), 0.0)
        activity.seconds_by_item[item] = activity.seconds_by_item.get(item, 0.0) + seconds
    return activity


def _activities(candidates: Iterable[Candidate]) -> dict[int, Activity]:
    ends = {c.pk: c.attempt.finished_at for c in candidates if c.attempt is not None}
    grouped: dict[int, list[tuple[str, int | None, dt.datetime]]] = defaultdict(list)
    rows = (
        SittingEvent.objects.filter(candidate_id__in=list(ends))
        .order_by("candidate_id", "at", "id")
        .values_list("candidate_id", "kind", "item_id", "at")
    )
    for candidate_id, kind, item_id, at in rows:
        grouped[candidate_id].append((kind, item_id, at))
    return {pk: activity_from_events(grouped.get(pk, []), end) for pk, end in ends.items()}


# ---------------------------------------------------------------------------
# Scores, by family and by skill


# Finding kinds grouped into the skills a hiring manager recognises (from the grader's
# table of kinds, in its order).
def _skill_groups() -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    for kind in FindingKind:
        if kind.facts.counts_as_error:
            groups.setdefault(report_area(kind), []).append(kind.value)
    return {area: tuple(kinds) for area, kinds in groups.items()}


SKILLS = _skill_groups()
FAMILIES = ("ICD-10-CM", "CPT", "HCPCS")


def _line_family(line: str, code: str) -> str | None:
    ref = LineRef.parse(line)
    if ref is None:
        return None
    if ref.list in (LineList.DIAGNOSES, LineList.KEY_DIAGNOSES):
        return "ICD-10-CM"
    if ref.list in (LineList.PROCEDURES, LineList.KEY_PROCEDURES):
        system = procedure_system(code)
        return system.value if system is not None else None
    return None


def family_lines(item: QuizItem) -> Counter[str]:
    """How many required key lines of each family a full-coding exercise has."""
    counts: Counter[str] = Counter()
    if item.exercise_type != ExerciseType.FULL_CODING:
        return counts
    key = item.exercise.get("answer", {})
    counts["ICD-10-CM"] += sum(1 for line in key.get("diagnoses", []) if not line.get("optional"))
    for line in key.get("procedures", []):
        system = procedure_system(str(line.get("code", "")))
        if system is not None and not line.get("optional"):
            counts[system.value] += 1
    return counts


def family_misses(findings: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """Lost key lines by family: a missing line counts 1, a near miss (partial match) 1/2."""
    lost: Counter[str] = Counter()
    for finding in findings:
        kind = finding.get("kind")
        if kind not in (FindingKind.MISSING, FindingKind.PARTIAL_MATCH):
            continue
        expected = finding.get("expected") or [finding.get("code") or ""]
        code = str(finding.get("code") if kind == FindingKind.MISSING else expected[0])
        family = _line_family(str(finding.get("line", "")), code)
        if family is not None:
            lost[family] += 1.0 if kind == FindingKind.MISSING else 0.5  # type: ignore[assignment]
    return lost


@dataclass
class CandidateResult:
    candidate: Candidate
    status: str
    score: float | None = None
    max_score: float | None = None
    percent: float | None = None
    passed: bool | None = None
    minutes: float | None = None
    rank: int | None = None
    percentile: float | None = None
    left_page: int = 0
    seconds_by_item: dict[int, float] = field(default_factory=dict)
    shares: dict[int, float] = field(default_factory=dict)
    by_family: dict[str, float | None] = field(default_factory=dict)
    skill_errors: dict[str, int] = field(default_factory=dict)

    @property
    def submitted(self) -> bool:
        return self.status == "submitted"


@dataclass
class ItemRow:
    number: int
    item: QuizItem
    family_lines: dict[str, int]
    facility: float | None
    item_rest: float | None
    discrimination: float | None
    mean_seconds: float | None
    wrong_codes: list[tuple[str, int]]
    stale_key: bool


@dataclass
class KeyChange:
    """A rescore after a key correction, as the report notes it."""

    job: BulkJob
    items_refreshed: int
    candidates_changed: int


@dataclass
class AssessmentResults:
    assessment: Assessment
    rows: list[CandidateResult]
    items: list[ItemRow]
    reliability: stats.Reliability
    distribution: list[stats.Band]
    quartiles: tuple[float, float, float] | None
    mean_percent: float | None
    skill_means: dict[str, float]
    key_changes: list[KeyChange]
    stale_items: int
    # Below this many candidates the reliability figure swings too much to lean on.
    reliability_min_cohort: int = 10

    @property
    def ranking(self) -> list[CandidateResult]:
        return sorted(
            (row for row in self.rows if row.submitted),
            key=lambda row: (row.rank or 0, row.minutes or 0.0, row.candidate.email),
        )

    @property
    def submitted_count(self) -> int:
        return sum(1 for row in self.rows if row.submitted)


def _scores_by_attempt(
    attempt_ids: list[int],
) -> dict[int, dict[int, tuple[float, float, list[dict[str, Any]]]]]:
    """Per attempt and item: (score, max, findings) under the current rules, the
    latest override replacing the score."""
    overrides: dict[int, float] = {}
    for response_id, score in (
        ScoreOverride.objects.filter(response__attempt_id__in=attempt_ids)
        .order_by("response_id", "at", "id")
        .values_list("response_id", "score")
    ):
        overrides[response_id] = score
    found: dict[int, dict[int, tuple[float, float, list[dict[str, Any]]]]] = defaultdict(dict)
    for response_id, attempt_id, item_id, score, max_score, findings in Score.objects.filter(
        response__attempt_id__in=attempt_ids, rules_version=RULES_VERSION
    ).values_list(
        "response_id",
        "response__attempt_id",
        "response__item_id",
        "score",
        "max_score",
        "findings",
    ):
        found[attempt_id][item_id] = (overrides.get(response_id, score), max_score, findings)
    return found


def assessment_results(
    *, assessment: Assessment, now: dt.datetime | None = None
) -> AssessmentResults:
    """Everything the results page, the CSV export and the candidate reports show,
    in a fixed number of queries whatever the cohort size."""
    now = now or timezone.now()
    quiz = assessment.quiz
    items = list(quiz.items.select_related("encounter").order_by("position", "id"))
    candidates = list(
        assessment.candidates.select_related("user", "attempt").order_by("email", "id")
    )
    submitted = [
        c
        for c in candidates
        if c.attempt is not None and c.attempt.status == AttemptStatus.SUBMITTED
    ]
    scores = _scores_by_attempt([c.attempt_id for c in submitted if c.attempt_id])
    activities = _activities(candidates)
    lines = {item.pk: family_lines(item) for item in items}
    rows: list[CandidateResult] = []
    for candidate in candidates:
        row = CandidateResult(candidate=candidate, status=candidate_status(candidate, now))
        activity = activities.get(candidate.pk)
        if activity is not None:
            row.left_page = activity.left_page
            row.seconds_by_item = activity.seconds_by_item
        attempt = candidate.attempt
        if row.submitted and attempt is not None:
            row.score, row.max_score, row.percent = (
                attempt.score,
                attempt.max_score,
                attempt.percent,
            )
            row.passed = (attempt.percent or 0.0) >= quiz.pass_mark_percent
            if attempt.finished_at:
                row.minutes = round(
                    (attempt.finished_at - attempt.started_at).total_seconds() / 60, 1
                )
            graded = scores.get(attempt.pk, {})
            totals: Counter[str] = Counter()
            lost: Counter[str] = Counter()
            errors: Counter[str] = Counter()
            for item in items:
                score, max_score, findings = graded.get(item.pk, (0.0, 1.0, []))
                row.shares[item.pk] = score / max_score if max_score else 1.0
                totals.update(lines[item.pk])
                lost.update(family_misses(findings))
                errors.update(str(f.get("kind")) for f in findings if not f.get("advisory"))
            row.by_family = {
                family: round(100.0 * max(totals[family] - lost[family], 0) / totals[family], 1)
                if totals[family]
                else None
                for family in FAMILIES
            }
            row.skill_errors = {
                skill: sum(errors[kind] for kind in kinds) for skill, kinds in SKILLS.items()
            }
        rows.append(row)
    done = [row for row in rows if row.submitted]
    percents = [row.percent or 0.0 for row in done]
    for row, rank in zip(done, stats.competition_ranks(percents), strict=True):
        row.rank = rank
        row.percentile = round(stats.percentile_rank(percents, row.percent or 0.0), 1)
    matrix = [[row.shares[item.pk] for item in items] for row in done]
    per_item = stats.item_statistics(matrix) if matrix else []
    analysis = {entry.item.pk: entry for entry in quiz_item_analysis(quiz=quiz)}
    item_rows = []
    for number, item in enumerate(items, start=1):
        times = [row.seconds_by_item[item.pk] for row in done if item.pk in row.seconds_by_item]
        statistic = per_item[number - 1] if per_item else None
        entry = analysis.get(item.pk)
        item_rows.append(
            ItemRow(
                number=number,
                item=item,
                family_lines=dict(lines[item.pk]),
                facility=round(statistic.facility, 2) if statistic else None,
                item_rest=round(statistic.item_rest, 2)
                if statistic and statistic.item_rest is not None
                else None,
                discrimination=entry.discrimination if entry else None,
                mean_seconds=round(stats.mean(times)) if times else None,
                wrong_codes=entry.wrong_codes if entry else [],
                stale_key=item.encounter.key_version > item.key_version,
            )
        )
    skill_means = (
        {
            skill: round(stats.mean([row.skill_errors.get(skill, 0) for row in done]), 2)
            for skill in SKILLS
        }
        if done
        else {}
    )
    return AssessmentResults(
        assessment=assessment,
        rows=rows,
        items=item_rows,
        reliability=stats.reliability(matrix),
        distribution=stats.score_distribution(percents),
        quartiles=(
            round(stats.percentile(percents, 0.25), 1),
            round(stats.percentile(percents, 0.5), 1),
            round(stats.percentile(percents, 0.75), 1),
        )
        if percents
        else None,
        mean_percent=round(stats.mean(percents), 1) if percents else None,
        skill_means=skill_means,
        key_changes=key_changes(assessment=assessment),
        stale_items=sum(1 for row in item_rows if row.stale_key),
    )


def key_changes(*, assessment: Assessment) -> list[KeyChange]:
    """Rescore jobs run after a key correction over this assessment, oldest first."""
    jobs = BulkJob.objects.filter(
        kind=BulkJobKind.RESCORE_KEY,
        dry_run=False,
        scope__quiz=assessment.quiz_id,
        status__in=[BulkJobStatus.SUCCEEDED, BulkJobStatus.FAILED],
    ).order_by("created_at", "id")
    found = []
    for job in jobs:
        changed = (
            job.changes.filter(outcome=ChangeOutcome.CHANGED)
            .values("learner_id")
            .distinct()
            .count()
        )
        found.append(
            KeyChange(
                job=job,
                items_refreshed=int(job.report.get("items_refreshed", 0)),
                candidates_changed=changed,
            )
        )
    return found


@dataclass
class ScoreChange:
    job: BulkJob
    before: float
    after: float


def candidate_score_changes(*, assessment: Assessment, candidate: Candidate) -> list[ScoreChange]:
    """How each key-correction rescore changed this candidate's points."""
    if candidate.user_id is None:
        return []
    changes = []
    for change in key_changes(assessment=assessment):
        rows = list(
            BulkJobChange.objects.filter(
                job=change.job, learner_id=candidate.user_id, outcome=ChangeOutcome.CHANGED
            ).values_list("before_score", "after_score")
        )
        if rows:
            changes.append(
                ScoreChange(
                    job=change.job,
                    before=round(sum(before or 0.0 for before, _ in rows), 4),
                    after=round(sum(after or 0.0 for _, after in rows), 4),
                )
            )
    return changes
