"""Services for quizzes and attempts: build, assign, take, check, submit, override.

Every function that writes owns its transaction. Grading and score writing are
:mod:`quizzes.scoring`'s. The server's clock is the only clock: deadlines are checked
here, never trusted from the browser. An attempt whose time is up is submitted by the
next write to it (save, check, start, submit) or by the periodic
:func:`attempts_expire_due`; never by a page being read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from quizzes.errors import (
    AttemptClosed,
    CheckNotAllowed,
    InvalidOverride,
    ItemNotInAttempt,
    NoAttemptsLeft,
    NotAssigned,
    QuizNotOpen,
    TriesExhausted,
)
from quizzes.grading.policy import RULES_VERSION
from quizzes.models import (
    Assignment,
    Attempt,
    AttemptStatus,
    Encounter,
    ExerciseType,
    Quiz,
    QuizItem,
    QuizMode,
    Response,
    ScoreOverride,
)
from quizzes.scoring import (
    ItemGrade,
    attempt_totals_refresh,
    clean_answer,
    gradable_item,
    grade_responses,
    score_row,
    scores_upsert,
)

# ---------------------------------------------------------------------------
# Building quizzes


def item_labels(*, encounter: Encounter, exercise_type: str) -> list[str]:
    """What a blueprint can draw on: the encounter's tags, difficulty and the type."""
    labels = {str(tag).lower() for tag in encounter.tags}
    labels.add(f"difficulty-{encounter.difficulty}")
    labels.add(f"type-{exercise_type}")
    return sorted(labels)


def full_coding_exercise(encounter: Encounter) -> dict[str, Any]:
    """A full-coding exercise: the key is the encounter's own, frozen at this version."""
    return {
        "type": ExerciseType.FULL_CODING.value,
        "prompt": "Code this encounter: diagnoses in reporting order, then the procedure "
        "and supply lines with modifiers, units and diagnosis pointers.",
        "choices": [],
        "answer": encounter.key,
        "explanation": "",
    }


def quiz_item_add(
    *,
    quiz: Quiz,
    encounter: Encounter,
    exercise_type: str = ExerciseType.FULL_CODING,
    exercise: Mapping[str, Any] | None = None,
    seed: int = 1,
    position: int | None = None,
) -> QuizItem:
    """Add one exercise. ``exercise`` comes from the generators; full coding needs none."""
    if exercise is None:
        if exercise_type != ExerciseType.FULL_CODING:
            raise ValueError(f"an exercise of type {exercise_type} must be generated first")
        exercise = full_coding_exercise(encounter)
    if position is None:
        position = quiz.items.count()
    return QuizItem.objects.create(
        quiz=quiz,
        encounter=encounter,
        exercise_type=exercise_type,
        seed=seed,
        exercise=dict(exercise),
        labels=item_labels(encounter=encounter, exercise_type=exercise_type),
        key_version=encounter.key_version,
        position=position,
    )


def assignment_ensure(*, quiz: Quiz, student: Any, by: Any | None = None) -> Assignment:
    assignment, _ = Assignment.objects.get_or_create(
        quiz=quiz, student=student, defaults={"assigned_by": by}
    )
    return assignment


# ---------------------------------------------------------------------------
# Drawing items for an attempt


def _rule_label(rule: Mapping[str, Any]) -> str:
    by = str(rule.get("by", "tag")).lower()
    value = str(rule.get("value", "")).lower()
    prefixes = {"chapter": "chapter-", "difficulty": "difficulty-", "type": "type-"}
    prefix = prefixes.get(by, "")
    return value if value.startswith(prefix) else prefix + value


def draw_items(
    *,
    items: Sequence[tuple[int, Sequence[str]]],
    blueprint: Sequence[Mapping[str, Any]],
    seed: int,
    shuffle: bool,
) -> list[int]:
    """The item ids an attempt asks, in order: all, or the blueprint's draws.

    Each draw picks ``count`` items carrying its label among those not drawn yet;
    the same seed always gives the same list, which is what keeps a learner's draw
    stable across reloads and lets an instructor reproduce it.
    """
    rng = random.Random(seed)
    if not blueprint:
        chosen = [item_id for item_id, _ in items]
    else:
        chosen = []
        taken: set[int] = set()
        for rule in blueprint:
            label = _rule_label(rule)
            pool = [i for i, labels in items if label in labels and i not in taken]
            picked = rng.sample(pool, min(int(rule.get("count", 1)), len(pool)))
            chosen.extend(picked)
            taken.update(picked)
    if shuffle:
        rng.shuffle(chosen)
    return chosen


def attempt_seed(*, quiz_id: int, user_id: int, number: int) -> int:
    digest = hashlib.sha256(f"{quiz_id}:{user_id}:{number}".encode()).hexdigest()
    return int(digest[:12], 16)


def quiz_is_open(quiz: Quiz, now: dt.datetime) -> bool:
    if quiz.opens_at and now < quiz.opens_at:
        return False
    return not (quiz.closes_at and now >= quiz.closes_at)


def attempt_deadline(
    *, quiz: Quiz, start: dt.datetime, extra_minutes: int = 0
) -> dt.datetime | None:
    """When an attempt started at ``start`` must end: the time limit plus any
    accommodation (``extra_minutes``), and never after the quiz closes, a close pushed
    back by the same accommodation so that extra time is never eaten by a late start.
    None for an untimed quiz."""
    if not quiz.time_limit_minutes:
        return None
    extra = dt.timedelta(minutes=extra_minutes)
    deadline = start + dt.timedelta(minutes=quiz.time_limit_minutes) + extra
    if quiz.closes_at:
        deadline = min(deadline, quiz.closes_at + extra)
    return deadline


def attempt_start(
    *,
    quiz: Quiz,
    user: Any,
    now: dt.datetime | None = None,
    assigned_only: bool = True,
    extra_minutes: int = 0,
) -> Attempt:
    """Resume the learner's open attempt or start the next one.

    Refused when the quiz is not assigned to them, not open, or their attempts are used.
    An assessment sitting starts with ``assigned_only=False`` (its invitation stands for
    the assignment) and the candidate's accommodation as ``extra_minutes``.
    """
    now = now or timezone.now()
    if assigned_only and not Assignment.objects.filter(quiz=quiz, student=user).exists():
        raise NotAssigned("This quiz is not assigned to you.")
    # Outside the transaction below, so a refusal there cannot undo this submission.
    for stale in Attempt.objects.filter(quiz=quiz, user=user, status=AttemptStatus.IN_PROGRESS):
        attempt_expire_if_due(attempt=stale, now=now)
    with transaction.atomic():
        attempts = list(
            Attempt.objects.select_for_update().filter(quiz=quiz, user=user).order_by("number")
        )
        for attempt in attempts:
            if attempt.status == AttemptStatus.IN_PROGRESS:
                return attempt
        if not quiz_is_open(quiz, now):
            raise QuizNotOpen("This quiz is not open now.")
        if quiz.attempts_allowed and len(attempts) >= quiz.attempts_allowed:
            raise NoAttemptsLeft("You have used every attempt this quiz allows.")
        number = len(attempts) + 1
        seed = attempt_seed(quiz_id=quiz.pk, user_id=user.pk, number=number)
        pool = [(i.pk, i.labels) for i in quiz.items.order_by("position", "id")]
        return Attempt.objects.create(
            quiz=quiz,
            user=user,
            number=number,
            seed=seed,
            item_ids=draw_items(
                items=pool, blueprint=quiz.blueprint, seed=seed, shuffle=quiz.shuffle
            ),
            started_at=now,
            deadline=attempt_deadline(quiz=quiz, start=now, extra_minutes=extra_minutes),
        )


# ---------------------------------------------------------------------------
# Taking: autosave, practice checks, submit


def _locked_attempt(attempt: Attempt) -> Attempt:
    return Attempt.objects.select_for_update().select_related("quiz").get(pk=attempt.pk)


def attempt_expire_if_due(*, attempt: Attempt, now: dt.datetime | None = None) -> bool:
    """Submit an attempt whose time is up with what was saved; True if it is closed now."""
    now = now or timezone.now()
    if attempt.status == AttemptStatus.SUBMITTED:
        return True
    if attempt.deadline is not None and now >= attempt.deadline:
        attempt_submit(attempt=attempt, now=attempt.deadline)
        attempt.refresh_from_db()
        return True
    return False


def attempts_expire_due(*, now: dt.datetime | None = None) -> int:
    """Submit every attempt still in progress whose deadline has passed, with its saved
    answers, as submitted at its deadline; returns how many were due. Idempotent: a
    submitted attempt is never graded again, so a second run changes nothing."""
    now = now or timezone.now()
    due = Attempt.objects.filter(status=AttemptStatus.IN_PROGRESS, deadline__lte=now)
    closed = 0
    for attempt in due.order_by("deadline", "pk"):
        if attempt_expire_if_due(attempt=attempt, now=now):
            closed += 1
    return closed


def _refuse_if_closed(attempt: Attempt, now: dt.datetime) -> None:
    """Submit an attempt whose time is up, then refuse the change.

    Runs outside the caller's transaction: the refusal must not roll back the submission.
    """
    if attempt_expire_if_due(attempt=attempt, now=now):
        raise AttemptClosed("This attempt is submitted; answers can no longer change.")


def _open_response(attempt: Attempt, item_id: int, now: dt.datetime) -> tuple[Attempt, Response]:
    """Lock the attempt and the response row; refuse if the attempt closed meanwhile."""
    locked = _locked_attempt(attempt)
    if locked.is_submitted or (locked.deadline is not None and now >= locked.deadline):
        raise AttemptClosed("This attempt is submitted; answers can no longer change.")
    if item_id not in locked.item_ids:
        raise ItemNotInAttempt("This exercise is not part of the attempt.")
    response, _ = Response.objects.select_for_update().get_or_create(
        attempt=locked, item_id=item_id
    )
    return locked, response


def response_save(
    *,
    attempt: Attempt,
    item: QuizItem,
    answer: object,
    flagged: bool | None = None,
    now: dt.datetime | None = None,
) -> Response:
    """Autosave one answer (and the review flag). After the deadline: refused, submitted."""
    now = now or timezone.now()
    _refuse_if_closed(attempt, now)
    with transaction.atomic():
        _, response = _open_response(attempt, item.pk, now)
        response.answer = clean_answer(item.exercise_type, answer)
        if flagged is not None:
            response.flagged = flagged
        response.save()
    return response


@dataclass(frozen=True)
class CheckResult:
    grade: ItemGrade
    tries_used: int
    tries_allowed: int

    @property
    def tries_left(self) -> int:
        return max(self.tries_allowed - self.tries_used, 0)


def response_check(
    *, attempt: Attempt, item: QuizItem, answer: object, now: dt.datetime | None = None
) -> CheckResult:
    """Practice mode: save and grade one answer, counting the try.

    Refused in exam mode and once the item's tries are used, so probing code after code
    is bounded by the quiz's own try policy.
    """
    now = now or timezone.now()
    _refuse_if_closed(attempt, now)
    with transaction.atomic():
        locked, response = _open_response(attempt, item.pk, now)
        if locked.quiz.mode != QuizMode.PRACTICE:
            raise CheckNotAllowed("Exam answers are graded only when the attempt is submitted.")
        if response.tries >= locked.quiz.tries_per_item:
            raise TriesExhausted("You have used every check this exercise allows.")
        response.answer = clean_answer(item.exercise_type, answer)
        response.tries += 1
        response.save()
        (result,) = grade_responses([(gradable_item(item), response.answer)])
    return CheckResult(
        grade=result, tries_used=response.tries, tries_allowed=locked.quiz.tries_per_item
    )


def attempt_submit(*, attempt: Attempt, now: dt.datetime | None = None) -> Attempt:
    """Grade every drawn item and close the attempt. A second call changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_attempt(attempt)
        if locked.status == AttemptStatus.SUBMITTED:
            return locked
        items = QuizItem.objects.select_related("encounter").in_bulk(locked.item_ids)
        responses = {r.item_id: r for r in Response.objects.filter(attempt=locked)}
        unanswered = [item_id for item_id in locked.item_ids if item_id not in responses]
        if unanswered:
            created = Response.objects.bulk_create(
                Response(attempt=locked, item_id=item_id, answer={}) for item_id in unanswered
            )
            responses.update((response.item_id, response) for response in created)
        ordered = [(items[item_id], responses[item_id]) for item_id in locked.item_ids]
        # One batch: the catalogs are chosen once and every code is read in one query.
        grades = grade_responses(
            [(gradable_item(item), response.answer) for item, response in ordered]
        )
        # Graded against the exercise's own key: its version is the item's.
        rows = [
            score_row(response_id=response.pk, grade=grade, key_version=item.key_version)
            for (item, response), grade in zip(ordered, grades, strict=True)
        ]
        total = sum(grade.score for grade in grades)
        maximum = sum(grade.max_score for grade in grades)
        scores_upsert(rows, rules_version=RULES_VERSION, graded_at=timezone.now())
        finished = min(now, locked.deadline) if locked.deadline else now
        locked.status = AttemptStatus.SUBMITTED
        locked.finished_at = finished
        locked.score = round(total, 4)
        locked.max_score = round(maximum, 4)
        locked.percent = round(100.0 * total / maximum, 2) if maximum else 100.0
        locked.save(update_fields=["status", "finished_at", "score", "max_score", "percent"])
    return locked


def score_override(*, response: Response, score: float, reason: str, by: Any) -> ScoreOverride:
    """An instructor's corrected score, kept with who and when; attempt totals follow."""
    reason = reason.strip()
    if not reason:
        raise InvalidOverride("An override needs a reason.")
    with transaction.atomic():
        current = response.scores.filter(rules_version=RULES_VERSION).first()
        maximum = current.max_score if current else 1.0
        if not 0 <= score <= maximum:
            raise InvalidOverride(f"The score must be between 0 and {maximum:g}.")
        override = ScoreOverride.objects.create(
            response=response, score=score, reason=reason, by=by
        )
        attempt_totals_refresh(attempt_ids=[response.attempt_id])
    return override
