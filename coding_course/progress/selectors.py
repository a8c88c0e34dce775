"""Read side of progress: who may see whose progress, and the rows the analytics need.

Rows are loaded once into the frozen dataclasses of :mod:`coding_course.progress.analytics`
with a fixed number of queries whatever the number of responses: submitted attempts,
their responses (with the latest override picked by the database), and their scores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery

from coding_course.accounts.errors import NotFound
from coding_course.accounts.models import Role, User
from coding_course.lessons.models import Lesson, LessonCompletion
from coding_course.lessons.selectors import lessons_tagged
from coding_course.progress.analytics import (
    AttemptRow,
    FindingRow,
    GradedResponse,
    ProgressReport,
    WeakArea,
    progress_report,
)
from coding_course.progress.models import LearnerGroup
from quizzes.api import (
    Attempt,
    AttemptStatus,
    Encounter,
    EncounterSource,
    QuizItem,
    Response,
    Score,
    ScoreOverride,
)
from quizzes.grading.policy import RULES_VERSION

# How many library cases to suggest per weak area.
CASES_PER_AREA = 3


# ---------------------------------------------------------------------------
# Access


def groups_visible(*, viewer: Any) -> QuerySet[LearnerGroup]:
    """An instructor's own groups; site staff see every group."""
    groups = LearnerGroup.objects.select_related("owner").annotate(size=Count("students"))
    if not getattr(viewer, "is_site_staff", False):
        groups = groups.filter(owner_id=viewer.pk)
    return groups.order_by("name", "id")


def group_get_for_viewer(*, group_id: int, viewer: Any) -> LearnerGroup:
    group = groups_visible(viewer=viewer).filter(pk=group_id).first()
    if group is None:
        raise NotFound("No such group.")
    return group


def learner_get_for_viewer(*, learner_id: int, viewer: Any) -> User:
    """A student the viewer may follow: one of their groups' students (staff: any
    student). Anyone else is a 404, which does not confirm that the account exists."""
    learners = User.objects.filter(pk=learner_id, role=Role.STUDENT)
    if not getattr(viewer, "is_site_staff", False):
        learners = learners.filter(learner_groups__owner_id=viewer.pk)
    learner = learners.distinct().first()
    if learner is None:
        raise NotFound("No such learner.")
    return learner


def group_students(*, group: LearnerGroup) -> list[User]:
    return list(group.students.order_by("username"))


# ---------------------------------------------------------------------------
# Graded rows


@dataclass(frozen=True)
class LearnerRows:
    attempts: tuple[AttemptRow, ...]
    responses: tuple[GradedResponse, ...]


def _pick_score(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The score that counts: the current rules version's, else the latest graded."""
    current = [row for row in rows if row["rules_version"] == RULES_VERSION]
    pool = current or list(rows)
    return max(pool, key=lambda row: (row["graded_at"], row["pk"]))


def graded_rows(*, user_ids: Iterable[int]) -> dict[int, LearnerRows]:
    """Submitted attempts and graded responses per user, in three queries."""
    ids = list(user_ids)
    submitted = {"user_id__in": ids, "status": AttemptStatus.SUBMITTED}
    attempts: dict[int, list[AttemptRow]] = defaultdict(list)
    attempt_user: dict[int, int] = {}
    for row in Attempt.objects.filter(**submitted).values(
        "pk", "user_id", "quiz__title", "number", "started_at", "finished_at"
    ):
        attempt_user[row["pk"]] = row["user_id"]
        attempts[row["user_id"]].append(
            AttemptRow(
                attempt_id=row["pk"],
                quiz_title=row["quiz__title"],
                number=row["number"],
                started_at=row["started_at"],
                finished_at=row["finished_at"],
            )
        )
    latest_override = ScoreOverride.objects.filter(response=OuterRef("pk")).order_by("-at", "-id")
    responses = (
        Response.objects.filter(attempt__user_id__in=ids, attempt__status=AttemptStatus.SUBMITTED)
        .annotate(override=Subquery(latest_override.values("score")[:1]))
        .values(
            "pk",
            "attempt_id",
            "item__encounter_id",
            "item__exercise_type",
            "item__labels",
            "override",
        )
    )
    scores: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in Score.objects.filter(
        response__attempt__user_id__in=ids, response__attempt__status=AttemptStatus.SUBMITTED
    ).values("pk", "response_id", "rules_version", "score", "max_score", "findings", "graded_at"):
        scores[row["response_id"]].append(row)
    graded: dict[int, list[GradedResponse]] = defaultdict(list)
    for row in responses:
        candidates = scores.get(row["pk"])
        if not candidates:
            continue
        score = _pick_score(candidates)
        graded[attempt_user[row["attempt_id"]]].append(
            GradedResponse(
                response_id=row["pk"],
                attempt_id=row["attempt_id"],
                encounter_id=row["item__encounter_id"],
                exercise_type=row["item__exercise_type"],
                labels=tuple(str(label) for label in row["item__labels"] or ()),
                score=score["score"],
                max_score=score["max_score"],
                findings=tuple(FindingRow.from_json(f) for f in score["findings"] or ()),
                override=row["override"],
            )
        )
    return {
        user_id: LearnerRows(
            attempts=tuple(attempts.get(user_id, ())), responses=tuple(graded.get(user_id, ()))
        )
        for user_id in ids
    }


# ---------------------------------------------------------------------------
# Recommendations


@dataclass(frozen=True)
class QuizSuggestion:
    quiz_id: int
    title: str
    items: int


@dataclass(frozen=True)
class CaseSuggestion:
    slug: str
    title: str


@dataclass(frozen=True)
class Recommendation:
    """What to do next about one weak area: a lesson, quizzes and library cases."""

    weak: WeakArea
    lesson: Lesson | None
    quizzes: tuple[QuizSuggestion, ...] = ()
    cases: tuple[CaseSuggestion, ...] = ()


def recommendations(
    *,
    learner: Any,
    weakest: Sequence[WeakArea],
    completed_lesson_ids: set[int],
    coded_encounter_ids: set[int],
) -> list[Recommendation]:
    """Per weak area: the best lesson not yet completed (``lessons_tagged`` on the area and
    its commonest error patterns; a completed lesson is still named when it is the only
    one), the learner's assigned quizzes with items in the area, and library cases of the
    area the learner has not coded yet. Three queries, plus one per weak area."""
    if not weakest:
        return []
    quiz_items: dict[int, tuple[str, list[set[str]]]] = {}
    for row in QuizItem.objects.filter(quiz__assignments__student_id=learner.pk).values(
        "quiz_id", "quiz__title", "labels"
    ):
        quiz_items.setdefault(row["quiz_id"], (row["quiz__title"], []))[1].append(
            set(row["labels"] or ())
        )
    library = list(
        Encounter.objects.filter(source=EncounterSource.LIBRARY)
        .exclude(pk__in=coded_encounter_ids)
        .order_by("difficulty", "slug")
        .values("slug", "title", "tags")
    )
    chosen: set[int] = set()
    result = []
    for weak in weakest:
        ranked = lessons_tagged(tags=weak.tags)
        lesson = next(
            (
                lesson
                for lesson in ranked
                if lesson.pk not in completed_lesson_ids and lesson.pk not in chosen
            ),
            ranked[0] if ranked else None,
        )
        if lesson is not None:
            chosen.add(lesson.pk)
        key = weak.accuracy.area.key
        quizzes = tuple(
            QuizSuggestion(quiz_id=quiz_id, title=title, items=sum(key in s for s in labels))
            for quiz_id, (title, labels) in sorted(quiz_items.items(), key=lambda kv: kv[1][0])
            if any(key in s for s in labels)
        )
        skill_tags = set(weak.tags[1:])
        in_area = [row for row in library if key in (row["tags"] or ())]
        # Cases that also exercise the area's error patterns first.
        in_area.sort(key=lambda row: -len(skill_tags & set(row["tags"] or ())))
        cases = tuple(
            CaseSuggestion(slug=row["slug"], title=row["title"]) for row in in_area[:CASES_PER_AREA]
        )
        result.append(Recommendation(weak=weak, lesson=lesson, quizzes=quizzes, cases=cases))
    return result


# ---------------------------------------------------------------------------
# Pages


@dataclass(frozen=True)
class LessonsSummary:
    completed: int
    total: int
    recent: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class LearnerProgress:
    learner: Any
    report: ProgressReport
    lessons: LessonsSummary
    recommendations: list[Recommendation] = field(default_factory=list)


def learner_progress(*, learner: Any) -> LearnerProgress:
    """Everything on a learner's progress page, in a bounded number of queries."""
    rows = graded_rows(user_ids=[learner.pk])[learner.pk]
    report = progress_report(attempts=rows.attempts, responses=rows.responses)
    completions = list(
        LessonCompletion.objects.filter(user_id=learner.pk)
        .order_by("-completed_at", "-id")
        .values_list("lesson_id", "lesson__title", "completed_at")
    )
    lessons = LessonsSummary(
        completed=len(completions),
        total=Lesson.objects.count(),
        recent=tuple((title, at) for _, title, at in completions[:5]),
    )
    return LearnerProgress(
        learner=learner,
        report=report,
        lessons=lessons,
        recommendations=recommendations(
            learner=learner,
            weakest=report.weakest,
            completed_lesson_ids={lesson_id for lesson_id, _, _ in completions},
            coded_encounter_ids={response.encounter_id for response in rows.responses},
        ),
    )


@dataclass(frozen=True)
class MemberRow:
    learner: User
    report: ProgressReport
    lessons_completed: int


@dataclass(frozen=True)
class GroupSummary:
    group: LearnerGroup
    members: list[MemberRow]
    pooled: ProgressReport


def group_summary(*, group: LearnerGroup) -> GroupSummary:
    """Each member's headline figures and the group's weakest areas, every member's
    responses pooled (so an area weighs by how much the group practised it)."""
    students = group_students(group=group)
    rows = graded_rows(user_ids=[student.pk for student in students])
    completed = dict(
        LessonCompletion.objects.filter(user__in=students)
        .values("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    members = [
        MemberRow(
            learner=student,
            report=progress_report(
                attempts=rows[student.pk].attempts, responses=rows[student.pk].responses
            ),
            lessons_completed=completed.get(student.pk, 0),
        )
        for student in students
    ]
    pooled = progress_report(
        attempts=[a for r in rows.values() for a in r.attempts],
        responses=[g for r in rows.values() for g in r.responses],
    )
    return GroupSummary(group=group, members=members, pooled=pooled)
