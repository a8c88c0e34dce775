"""Services for quizzes and attempts: build, assign, take, check, submit, override.

Every function that writes owns its transaction. Grading is pure: this module turns
rows into the grading package's plain types, calls it, and stores what it returns.
The server's clock is the only clock: deadlines are checked here, never trusted
from the browser.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from codesets.domain.shapes import compact
from quizzes.grading.policy import RULES_VERSION
from quizzes.grading.types import (
    AnswerKey,
    AnswerProcedure,
    AnswerSheet,
    KeyDiagnosis,
    KeyProcedure,
    Patient,
)
from quizzes.grading.types import Encounter as GradingEncounter
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
    Score,
    ScoreOverride,
)

# Bounds on what a learner may save: generous for any real claim, small enough that a
# crafted request cannot make the grader or the database do silly amounts of work.
MAX_LINES = 30
MAX_FIELD = 40
MAX_MODIFIERS = 4
MAX_UNITS = 9999


class QuizError(Exception):
    """A refused quiz action; ``code`` is stable for views and tests."""

    code = "quiz_error"


class QuizNotOpen(QuizError):
    code = "quiz_not_open"


class NotAssigned(QuizError):
    code = "not_assigned"


class NoAttemptsLeft(QuizError):
    code = "no_attempts_left"


class AttemptClosed(QuizError):
    """The attempt is submitted (or its time ran out and it was submitted now)."""

    code = "attempt_closed"


class CheckNotAllowed(QuizError):
    code = "check_not_allowed"


class TriesExhausted(QuizError):
    code = "tries_exhausted"


# ---------------------------------------------------------------------------
# Answer keys and answer sheets: JSON in the library's shape <-> grading types


def answer_key_from_json(key: Mapping[str, Any]) -> AnswerKey:
    """The library's key shape (lines with rationale) as the engine's AnswerKey."""
    diagnoses = tuple(
        KeyDiagnosis(
            code=str(line["code"]),
            optional=bool(line.get("optional", False)),
            alternatives=tuple(str(a) for a in line.get("alternatives", ())),
            rationale=str(line.get("why", "")),
        )
        for line in key.get("diagnoses", ())
    )
    procedures = tuple(
        KeyProcedure(
            code=str(line["code"]),
            modifiers=tuple(str(m) for m in line.get("modifiers", ())),
            units=int(line.get("units", 1)),
            dx_pointers=tuple(int(p) for p in line.get("dx_pointers", ())),
            optional=bool(line.get("optional", False)),
            alternatives=tuple(str(a) for a in line.get("alternatives", ())),
            rationale=str(line.get("why", "")),
        )
        for line in key.get("procedures", ())
    )
    return AnswerKey(diagnoses=diagnoses, procedures=procedures)


def _text(value: object) -> str:
    return str(value if value is not None else "").strip()[:MAX_FIELD]


def _split_list(value: object) -> list[str]:
    """Modifiers or pointers typed as "25, 59" or sent as a list."""
    items = value if isinstance(value, list) else str(value or "").replace(",", " ").split()
    return [_text(item) for item in items if _text(item)]


def _int_or(value: object, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def clean_answer(exercise_type: str, raw: object) -> dict[str, Any]:
    """The learner's answer reduced to the shape its type stores, within bounds.

    Anything unexpected is dropped rather than refused: autosave must never lose the
    rest of an answer because one field was odd.
    """
    data = raw if isinstance(raw, dict) else {}
    if exercise_type == ExerciseType.FULL_CODING:
        diagnoses = [_text(code) for code in list(data.get("diagnoses") or [])[:MAX_LINES]]
        procedures = []
        for line in list(data.get("procedures") or [])[:MAX_LINES]:
            if not isinstance(line, dict):
                continue
            procedures.append(
                {
                    "code": _text(line.get("code")),
                    "modifiers": _split_list(line.get("modifiers"))[:MAX_MODIFIERS],
                    "units": min(max(_int_or(line.get("units"), 1), 0), MAX_UNITS),
                    "dx_pointers": [
                        p
                        for p in (_int_or(v, 0) for v in _split_list(line.get("dx_pointers")))
                        if 1 <= p <= MAX_LINES
                    ][:12],
                }
            )
        return {"diagnoses": diagnoses, "procedures": procedures}
    if exercise_type in (ExerciseType.SEQUENCING,):
        return {"order": [_text(code) for code in list(data.get("order") or [])[:MAX_LINES]]}
    if exercise_type == ExerciseType.LINKAGE:
        links = data.get("links") if isinstance(data.get("links"), dict) else {}
        return {
            "links": {
                _text(label): [_text(code) for code in _split_list(codes)][:MAX_LINES]
                for label, codes in list(links.items())[:MAX_LINES]
            }
        }
    if exercise_type == ExerciseType.AUDIT:
        fixes = data.get("fixes") if isinstance(data.get("fixes"), dict) else {}
        return {"fixes": {_text(k): _text(v) for k, v in list(fixes.items())[:MAX_LINES]}}
    return {"value": _text(data.get("value"))}


def answer_sheet_from_json(answer: Mapping[str, Any]) -> AnswerSheet:
    """A stored full-coding answer as the engine's AnswerSheet; blank lines are skipped."""
    diagnoses = tuple(code for code in answer.get("diagnoses", ()) if code)
    procedures = tuple(
        AnswerProcedure(
            code=line["code"],
            modifiers=tuple(line.get("modifiers", ())),
            units=int(line.get("units", 1)),
            dx_pointers=tuple(line.get("dx_pointers", ())),
        )
        for line in answer.get("procedures", ())
        if line.get("code")
    )
    return AnswerSheet(diagnoses=diagnoses, procedures=procedures)


# ---------------------------------------------------------------------------
# Grading one response


@dataclass(frozen=True)
class ItemGrade:
    """A graded response: the numbers, the findings as stored JSON and the code-set
    release versions the grade used (by system; empty when no code set was read)."""

    score: float
    max_score: float
    findings: list[dict[str, Any]] = field(default_factory=list)
    releases: dict[str, str] = field(default_factory=dict)

    @property
    def percent(self) -> float:
        if self.max_score <= 0:
            return 100.0
        return round(100.0 * self.score / self.max_score, 2)


def _grading_encounter(encounter: Encounter) -> GradingEncounter:
    sex = encounter.patient_sex if encounter.patient_sex in ("F", "M") else None
    return GradingEncounter(
        date_of_service=encounter.date_of_service,
        patient=Patient(age_years=encounter.patient_age_years, sex=sex),  # type: ignore[arg-type]
    )


def _grade_full_coding(item: QuizItem, answer: Mapping[str, Any]) -> ItemGrade:
    from codesets.adapters import catalog_for_date
    from quizzes.grading.engine import grade

    encounter = item.encounter
    result = grade(
        key=answer_key_from_json(item.exercise["answer"]),
        answer=answer_sheet_from_json(answer),
        encounter=_grading_encounter(encounter),
        catalog=catalog_for_date(encounter.date_of_service),
    )
    return ItemGrade(
        score=result.score,
        max_score=result.max_score,
        findings=[finding.as_json() for finding in result.findings],
        releases=dict(result.releases),
    )


def _same_code(left: object, right: object) -> bool:
    return compact(str(left)) == compact(str(right)) and bool(compact(str(left)))


def _grade_choice(item: QuizItem, answer: Mapping[str, Any]) -> ItemGrade:
    expected = item.exercise["answer"]
    given = answer.get("value", "")
    right = _same_code(given, expected)
    finding = {
        "kind": "correct" if right else "incorrect",
        "line": "answer",
        "code": given or None,
        "message": "Right." if right else "Not the answer the note supports.",
    }
    return ItemGrade(score=1.0 if right else 0.0, max_score=1.0, findings=[finding])


def _grade_sequencing(item: QuizItem, answer: Mapping[str, Any]) -> ItemGrade:
    expected = [str(code) for code in item.exercise["answer"]]
    given = list(answer.get("order", ()))
    findings = []
    for position, code in enumerate(expected):
        reported = given[position] if position < len(given) else ""
        right = _same_code(reported, code)
        findings.append(
            {
                "kind": "correct" if right else "sequence_error",
                "line": f"order[{position}]",
                "code": reported or None,
                "message": "In the right place."
                if right
                else f"Position {position + 1} should hold another diagnosis.",
            }
        )
    score = sum(1.0 for f in findings if f["kind"] == "correct")
    return ItemGrade(score=score, max_score=float(len(expected)), findings=findings)


def _grade_linkage(item: QuizItem, answer: Mapping[str, Any]) -> ItemGrade:
    """The generators' answer maps each procedure label to the diagnoses it links to."""
    expected: Mapping[str, Any] = item.exercise["answer"]
    links = answer.get("links", {})
    findings = []
    for procedure, diagnoses in expected.items():
        reported = {compact(code) for code in links.get(procedure, [])}
        accepted = diagnoses if isinstance(diagnoses, list) else [diagnoses]
        right = reported == {compact(code) for code in accepted}
        findings.append(
            {
                "kind": "correct" if right else "linkage_error",
                "line": f"links[{procedure}]",
                "code": procedure,
                "message": "Linked to the diagnosis that supports it."
                if right
                else f"{procedure} is not linked to the diagnosis that supports it.",
            }
        )
    score = sum(1.0 for f in findings if f["kind"] == "correct")
    return ItemGrade(score=score, max_score=float(len(expected)), findings=findings)


def _audit_fix_code(fix: object) -> str:
    """A planted error's fix as the learner types it: a code, a procedure line's code with
    its modifiers ("99213-25"), or "delete"."""
    if fix is None:
        return "delete"
    if isinstance(fix, dict):
        return "-".join([str(fix.get("code", "")), *(str(m) for m in fix.get("modifiers", []))])
    return str(fix)


def _grade_audit(item: QuizItem, answer: Mapping[str, Any]) -> ItemGrade:
    """One point per planted error fixed; half a point off per good line "fixed"."""
    expected = {str(e["line"]): _audit_fix_code(e.get("fix")) for e in item.exercise["answer"]}
    fixes: Mapping[str, str] = answer.get("fixes", {})
    findings = []
    score = 0.0
    for line, fix in expected.items():
        given = fixes.get(line, "")
        right = _same_code(given, fix)
        score += 1.0 if right else 0.0
        findings.append(
            {
                "kind": "correct" if right else "missing",
                "line": line,
                "code": given or None,
                "message": "Error found and fixed." if right else "A planted error not fixed.",
            }
        )
    for line, given in fixes.items():
        if line not in expected and given:
            score -= 0.5
            findings.append(
                {
                    "kind": "extra",
                    "line": line,
                    "code": given,
                    "message": "This line was correct as billed.",
                }
            )
    return ItemGrade(score=max(score, 0.0), max_score=float(len(expected)), findings=findings)


def response_grade(*, item: QuizItem, answer: Mapping[str, Any]) -> ItemGrade:
    """Grade one answer to one item; full coding goes through the engine."""
    kind = item.exercise_type
    if kind == ExerciseType.FULL_CODING:
        return _grade_full_coding(item, answer)
    if kind == ExerciseType.SEQUENCING:
        return _grade_sequencing(item, answer)
    if kind == ExerciseType.LINKAGE:
        return _grade_linkage(item, answer)
    if kind == ExerciseType.AUDIT:
        return _grade_audit(item, answer)
    return _grade_choice(item, answer)


# Findings whose message speaks only of what the learner typed: safe to show while the
# key is still secret. Any other kind is replaced by a message that names no key code.
_SAFE_KINDS = {
    "correct",
    "invalid_format",
    "wrong_family",
    "unknown_code",
    "not_billable",
    "missing_seventh_character",
    "extra",
    "duplicate",
    "excludes1_conflict",
    "manifestation_first",
    "sex_conflict",
    "age_conflict",
}
_GENERIC_MESSAGES = {
    "partial_match": "Right category, but not the code the note supports: check the "
    "specificity, laterality or 7th character.",
    "sequence_error": "The first-listed diagnosis is not the one the note supports.",
    "modifier_error": "The code is right; its modifiers are not.",
    "units_error": "The code is right; its units are not.",
    "linkage_error": "The code is right; its diagnosis pointers are not.",
    "incorrect": "Not the answer the note supports.",
    "linkage": "Not linked to the diagnosis that supports it.",
}


def findings_without_key(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Feedback for a learner before review is allowed: no key code, no expected values.

    ``missing`` findings are counted, not described, since their message names the
    key's code.
    """
    shown: list[dict[str, Any]] = []
    missing = 0
    for finding in findings:
        kind = str(finding.get("kind"))
        if kind == "missing":
            missing += 1
            continue
        if kind in _SAFE_KINDS and not str(finding.get("line", "")).startswith(("order", "links")):
            message = str(finding.get("message", ""))
        else:
            message = _GENERIC_MESSAGES.get(kind, "Not right yet.")
        shown.append(
            {
                "kind": kind,
                "line": str(finding.get("line", "")),
                "code": finding.get("code"),
                "message": message,
                "advisory": bool(finding.get("advisory", False)),
            }
        )
    if missing:
        noun = "line" if missing == 1 else "lines"
        shown.append(
            {
                "kind": "missing",
                "line": "",
                "code": None,
                "message": f"{missing} required {noun} not reported yet.",
                "advisory": False,
            }
        )
    return shown


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


def encounter_spec(encounter: Encounter) -> Any:
    """The row in the library's file shape, read back through the library's own reader."""
    from quizzes.generation.encounters import encounter_from_dict

    document = {
        "id": encounter.slug,
        "title": encounter.title,
        "setting": encounter.setting,
        "specialty": encounter.specialty,
        "date_of_service": encounter.date_of_service,
        "patient": {"age_years": encounter.patient_age_years, "sex": encounter.patient_sex},
        "difficulty": encounter.difficulty,
        "tags": list(encounter.tags),
        "note": encounter.note,
        "key": encounter.key,
    }
    return encounter_from_dict(document, source=encounter.slug)


def exercises_generate(
    *, encounter: Encounter, types: Sequence[str], seed: int = 1
) -> list[dict[str, Any]]:
    """Exercises of ``types`` for one encounter, as stored on a QuizItem."""
    from codesets.adapters import memory_catalog_for_date
    from quizzes.generation.generators import generate

    catalog = memory_catalog_for_date(encounter.date_of_service)
    exercises = generate(encounter_spec(encounter), catalog, types=types, seed=seed)
    return [{**exercise.as_json(), "line": exercise.line} for exercise in exercises]


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


def attempt_start(*, quiz: Quiz, user: Any, now: dt.datetime | None = None) -> Attempt:
    """Resume the learner's open attempt or start the next one.

    Refused when the quiz is not assigned to them, not open, or their attempts are used.
    """
    now = now or timezone.now()
    if not Assignment.objects.filter(quiz=quiz, student=user).exists():
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
        deadline = None
        if quiz.time_limit_minutes:
            deadline = now + dt.timedelta(minutes=quiz.time_limit_minutes)
            if quiz.closes_at:
                deadline = min(deadline, quiz.closes_at)
        return Attempt.objects.create(
            quiz=quiz,
            user=user,
            number=number,
            seed=seed,
            item_ids=draw_items(
                items=pool, blueprint=quiz.blueprint, seed=seed, shuffle=quiz.shuffle
            ),
            started_at=now,
            deadline=deadline,
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
        raise QuizItem.DoesNotExist("This exercise is not part of the attempt.")
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
        result = response_grade(item=item, answer=response.answer)
    return CheckResult(
        grade=result, tries_used=response.tries, tries_allowed=locked.quiz.tries_per_item
    )


# ---------------------------------------------------------------------------
# Writing scores: one writer for submission and bulk scoring alike


class ScoreRow(NamedTuple):
    """One score as stored; built by :func:`score_row` on every path that scores."""

    response_id: int
    score: float
    max_score: float
    percent: float
    findings: list[dict[str, Any]]
    key_version: int
    releases: dict[str, str]


def score_row(*, response_id: int, grade: ItemGrade, key_version: int) -> ScoreRow:
    """What a score records besides its numbers: the answer key's version it was
    computed against (a later writer holding an older key must not replace it) and the
    releases the grade read (a new release finds the scores it affects). Submission and
    bulk scoring both come through here, so a rescore that changes nothing finds
    nothing to change."""
    return ScoreRow(
        response_id=response_id,
        score=grade.score,
        max_score=grade.max_score,
        percent=grade.percent,
        findings=grade.findings,
        key_version=key_version,
        releases=grade.releases,
    )


SCORE_WRITTEN_FIELDS = (
    "score",
    "max_score",
    "percent",
    "findings",
    "graded_at",
    "key_version",
    "releases",
)
# Temporary tables live until the end of the transaction: a second upload in the same
# transaction needs a name of its own.
_upload_numbers = itertools.count(1)


def scores_upsert(
    rows: Sequence[ScoreRow], *, rules_version: str, graded_at: dt.datetime
) -> set[int]:
    """Insert or replace scores on (response, rules version), keeping instead any
    stored score computed for a newer key version. Returns the ids of the responses
    whose score was written. ``rows`` name each response once.

    PostgreSQL: the rows are COPYed into a temporary table and written by one
    ``INSERT ... ON CONFLICT DO UPDATE`` whose WHERE is the key-version guard, so the
    guard and the write are one atomic step whoever else writes (and COPY is many
    times faster than a multi-row INSERT of JSON). Elsewhere (SQLite, where a write
    transaction holds the whole database) the stored versions filter the rows and
    ``bulk_create(update_conflicts=True)`` writes them.
    """
    if not rows:
        return set()
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            return _scores_upsert_copy(rows, rules_version=rules_version, graded_at=graded_at)
        return _scores_upsert_portable(rows, rules_version=rules_version, graded_at=graded_at)


def _compact_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _scores_upsert_copy(
    rows: Sequence[ScoreRow], *, rules_version: str, graded_at: dt.datetime
) -> set[int]:
    upload = f"score_upload_{next(_upload_numbers)}"
    table = Score._meta.db_table
    assignments = ", ".join(f"{name} = EXCLUDED.{name}" for name in SCORE_WRITTEN_FIELDS)
    releases_text: dict[tuple[tuple[str, str], ...], str] = {}
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            f"CREATE TEMP TABLE {upload} (response_id bigint NOT NULL, score double precision"
            " NOT NULL, max_score double precision NOT NULL, percent double precision NOT NULL,"
            " findings jsonb NOT NULL, key_version integer NOT NULL, releases jsonb NOT NULL)"
            " ON COMMIT DROP"
        )
        with cursor.copy(f"COPY {upload} FROM STDIN") as copy:
            for row in rows:
                # A chunk's rows share a handful of release sets: encode each once.
                signature = tuple(row.releases.items())
                releases = releases_text.get(signature)
                if releases is None:
                    releases = releases_text[signature] = _compact_json(row.releases)
                copy.write_row(
                    (
                        row.response_id,
                        row.score,
                        row.max_score,
                        row.percent,
                        _compact_json(row.findings),
                        row.key_version,
                        releases,
                    )
                )
        cursor.execute(
            f"INSERT INTO {table} AS stored (response_id, rules_version, score, max_score,"
            " percent, findings, graded_at, key_version, releases)"
            " SELECT response_id, %s, score, max_score, percent, findings, %s, key_version,"
            f" releases FROM {upload} ORDER BY response_id"
            f" ON CONFLICT (response_id, rules_version) DO UPDATE SET {assignments}"
            " WHERE stored.key_version <= EXCLUDED.key_version"
            " RETURNING response_id",
            [rules_version, graded_at],
        )
        return {response_id for (response_id,) in cursor.fetchall()}


def _scores_upsert_portable(
    rows: Sequence[ScoreRow], *, rules_version: str, graded_at: dt.datetime
) -> set[int]:
    stored = dict(
        Score.objects.filter(
            response_id__in=[row.response_id for row in rows], rules_version=rules_version
        ).values_list("response_id", "key_version")
    )
    kept = [row for row in rows if stored.get(row.response_id, 0) <= row.key_version]
    Score.objects.bulk_create(
        [
            Score(
                response_id=row.response_id,
                rules_version=rules_version,
                score=row.score,
                max_score=row.max_score,
                percent=row.percent,
                findings=row.findings,
                graded_at=graded_at,
                key_version=row.key_version,
                releases=row.releases,
            )
            for row in kept
        ],
        update_conflicts=True,
        unique_fields=["response", "rules_version"],
        update_fields=list(SCORE_WRITTEN_FIELDS),
    )
    return {row.response_id for row in kept}


def attempt_submit(*, attempt: Attempt, now: dt.datetime | None = None) -> Attempt:
    """Grade every drawn item and close the attempt. A second call changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_attempt(attempt)
        if locked.status == AttemptStatus.SUBMITTED:
            return locked
        items = QuizItem.objects.select_related("encounter").in_bulk(locked.item_ids)
        responses = {r.item_id: r for r in Response.objects.filter(attempt=locked)}
        total = maximum = 0.0
        rows = []
        for item_id in locked.item_ids:
            item = items[item_id]
            response = responses.get(item_id)
            if response is None:
                response = Response.objects.create(attempt=locked, item=item, answer={})
            result = response_grade(item=item, answer=response.answer)
            # Graded against the exercise's own key: its version is the item's.
            rows.append(
                score_row(response_id=response.pk, grade=result, key_version=item.key_version)
            )
            total += result.score
            maximum += result.max_score
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
        raise ValueError("An override needs a reason.")
    with transaction.atomic():
        current = response.scores.filter(rules_version=RULES_VERSION).first()
        maximum = current.max_score if current else 1.0
        if not 0 <= score <= maximum:
            raise ValueError(f"The score must be between 0 and {maximum:g}.")
        override = ScoreOverride.objects.create(
            response=response, score=score, reason=reason, by=by
        )
        attempt_totals_refresh(attempt=response.attempt)
    return override


def attempt_totals_refresh(*, attempt: Attempt) -> Attempt:
    """Recompute an attempt's totals from its scores, overrides taking precedence."""
    responses = Response.objects.filter(attempt=attempt).prefetch_related("scores", "overrides")
    total = maximum = 0.0
    for response in responses:
        score = next((s for s in response.scores.all() if s.rules_version == RULES_VERSION), None)
        if score is None:
            continue
        overrides = list(response.overrides.all())
        total += overrides[0].score if overrides else score.score
        maximum += score.max_score
    attempt.score = round(total, 4)
    attempt.max_score = round(maximum, 4)
    attempt.percent = round(100.0 * total / maximum, 2) if maximum else 100.0
    attempt.save(update_fields=["score", "max_score", "percent"])
    return attempt


# ---------------------------------------------------------------------------
# Authoring encounters


@dataclass(frozen=True)
class AuthoringProblem:
    """Why an authored encounter was not saved; ``line`` is "key.diagnoses[0]" and the
    like, "date_of_service", "slug" or "" for the document as a whole."""

    kind: str
    line: str
    message: str


class EncounterRejected(Exception):
    def __init__(self, problems: list[AuthoringProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


def encounter_author_save(
    *, document: Mapping[str, Any], user: Any, existing: Encounter | None = None
) -> Encounter:
    """Save an instructor's encounter after the same key check as ``validate_encounters``.

    Raises EncounterRejected with every problem, each tied to its line, when the
    document cannot be read, would overwrite a library encounter or another's, or its
    key fails the check against the releases in force on its date of service.
    """
    from codesets.adapters import catalog_for_date
    from codesets.domain.catalog import NoReleaseInForce
    from quizzes.generation.encounters import EncounterFileError, encounter_from_dict
    from quizzes.generation.validation import check_key
    from quizzes.models import EncounterSource
    from quizzes.services import encounter_upsert

    try:
        spec = encounter_from_dict(dict(document), source="encounter")
    except EncounterFileError as error:
        raise EncounterRejected([AuthoringProblem("invalid_document", "", str(error))]) from None
    clash = Encounter.objects.filter(slug=spec.id).first()
    if clash is not None and (existing is None or clash.pk != existing.pk):
        if clash.source == EncounterSource.LIBRARY or existing is not None:
            raise EncounterRejected(
                [AuthoringProblem("slug_taken", "slug", f"The identifier {spec.id} is taken.")]
            )
        existing = clash
    if existing is not None and existing.slug != spec.id:
        raise EncounterRejected(
            [AuthoringProblem("slug_fixed", "slug", "An encounter's identifier cannot change.")]
        )
    try:
        catalog = catalog_for_date(spec.date_of_service)
    except NoReleaseInForce as error:
        raise EncounterRejected(
            [AuthoringProblem("no_release", "date_of_service", f"{str(error).capitalize()}.")]
        ) from None
    problems = [
        AuthoringProblem(problem.kind, problem.line, problem.message)
        for problem in check_key(spec, catalog)
    ]
    if problems:
        raise EncounterRejected(problems)
    with transaction.atomic():
        encounter, _ = encounter_upsert(spec=spec, source=EncounterSource.AUTHORED)
        if encounter.created_by_id is None:
            encounter.created_by = user
            encounter.save(update_fields=["created_by"])
    return encounter


def encounter_document(encounter: Encounter) -> dict[str, Any]:
    """The encounter in the library's file shape (what export writes)."""
    from quizzes.generation.encounters import encounter_to_dict

    return encounter_to_dict(encounter_spec(encounter))
