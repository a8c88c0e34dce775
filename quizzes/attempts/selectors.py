"""Read side of quizzes and attempts: who may see what, loaded in a bounded number of
queries.

``item_public`` is the one place that decides which parts of an exercise a learner's
browser receives before review: the prompt, the choices and the encounter, never the
answer, the explanation or the key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from coding_course.accounts.errors import NotFound
from quizzes.errors import ItemNotInAttempt
from quizzes.grading.exercises import audit_fix_text
from quizzes.grading.kinds import WRONG_CODE_KINDS
from quizzes.grading.policy import RULES_VERSION
from quizzes.models import (
    Assignment,
    Attempt,
    ExerciseType,
    Quiz,
    QuizItem,
    Response,
    ReviewPolicy,
    Score,
)
from quizzes.scoring import findings_without_key


def attempt_get_for_learner(*, attempt_id: int, user: Any) -> Attempt:
    """The learner's own attempt; anyone else's is a 404, never a 403 that confirms it."""
    attempt = Attempt.objects.select_related("quiz").filter(pk=attempt_id, user_id=user.pk).first()
    if attempt is None:
        raise NotFound("No such attempt.")
    return attempt


def quiz_get_for_learner(*, quiz_id: int, user: Any) -> Quiz:
    quiz = Quiz.objects.filter(pk=quiz_id, assignments__student_id=user.pk).first()
    if quiz is None:
        raise NotFound("No such quiz.")
    return quiz


def quiz_get_for_owner(*, quiz_id: int, user: Any) -> Quiz:
    """An instructor's own quiz (site staff see all)."""
    quizzes = Quiz.objects.all()
    if not getattr(user, "is_site_staff", False):
        quizzes = quizzes.filter(owner_id=user.pk)
    quiz = quizzes.filter(pk=quiz_id).first()
    if quiz is None:
        raise NotFound("No such quiz.")
    return quiz


def attempt_item_get(*, attempt: Attempt, item_id: int) -> QuizItem:
    """One exercise of the attempt with its encounter; any other id is a 404."""
    item = None
    if item_id in attempt.item_ids:
        item = QuizItem.objects.select_related("encounter").filter(pk=item_id).first()
    if item is None:
        raise ItemNotInAttempt("This exercise is not part of the attempt.")
    return item


def response_get_for_owner(*, response_id: int, user: Any) -> Response:
    """A response on one of the instructor's own quizzes (site staff: any); any other
    id is a 404."""
    response = (
        Response.objects.select_related("attempt__quiz", "attempt__user", "item")
        .filter(pk=response_id)
        .first()
    )
    if response is None:
        raise NotFound("No such response.")
    quiz_get_for_owner(quiz_id=response.attempt.quiz_id, user=user)
    return response


def attempt_time_up(*, attempt: Attempt, now: dt.datetime | None = None) -> bool:
    """Whether an attempt still in progress is past its deadline: it can only be
    submitted now (by the learner's POST, or by the periodic expiry task)."""
    if attempt.is_submitted or attempt.deadline is None:
        return False
    return (now or timezone.now()) >= attempt.deadline


def review_allowed(*, attempt: Attempt, now: dt.datetime | None = None) -> bool:
    """Whether the key and the full findings may be shown for this attempt."""
    if not attempt.is_submitted:
        return False
    policy = attempt.quiz.review_policy
    if policy == ReviewPolicy.AFTER_SUBMIT:
        return True
    if policy == ReviewPolicy.AFTER_RELEASE:
        release = attempt.quiz.review_release_at
        return release is not None and (now or timezone.now()) >= release
    return False


def _choice(choice: object) -> dict[str, str]:
    """A choice as value and label only, whatever else the generator attached to it."""
    if isinstance(choice, dict):
        value = str(choice.get("code") or choice.get("value") or choice.get("label") or "")
        label = str(choice.get("label") or choice.get("description") or "")
        return {"value": value, "label": f"{value} {label}".strip() if label != value else value}
    return {"value": str(choice), "label": str(choice)}


def item_public(item: QuizItem) -> dict[str, Any]:
    """What a learner may see of an exercise while the key is secret."""
    exercise = item.exercise
    encounter = item.encounter
    # Generated prompts end with the case (title, setting, note); the page shows the
    # note beside the form already.
    prompt = str(exercise.get("prompt", "")).split(f"\n\n{encounter.title}\nSetting:")[0]
    if item.exercise_type == ExerciseType.AUDIT:
        # The claim is shown as a table of lines to fix, with the page's own instructions.
        prompt = "Audit this claim against the note: find the wrong lines and fix them."
    public: dict[str, Any] = {
        "id": item.pk,
        "type": item.exercise_type,
        "type_label": ExerciseType(item.exercise_type).label,
        "prompt": prompt,
        "choices": [_choice(c) for c in exercise.get("choices") or []],
        "title": encounter.title,
        "setting": encounter.setting,
        "date_of_service": encounter.date_of_service,
        "age": encounter.patient_age_years,
        "sex": encounter.get_patient_sex_display(),
        "note": encounter.note,
    }
    if item.exercise_type == ExerciseType.LINKAGE and isinstance(exercise.get("answer"), dict):
        # The line labels are the question (the prompt lists them); their links are not.
        public["link_lines"] = list(exercise["answer"])
    if item.exercise_type == ExerciseType.AUDIT and isinstance(exercise.get("claim"), dict):
        public["claim"] = _claim_lines(exercise["claim"])
    return public


def _claim_lines(claim: dict[str, Any]) -> list[dict[str, str]]:
    """The audited claim's lines as the learner sees them, named like the fixes."""
    lines = [
        {"ref": f"diagnoses[{i}]", "label": f"Dx {i + 1}", "text": str(code)}
        for i, code in enumerate(claim.get("diagnoses", []))
    ]
    for i, line in enumerate(claim.get("procedures", [])):
        modifiers = "-".join(line.get("modifiers", []))
        pointers = ", ".join(str(p) for p in line.get("dx_pointers", []))
        text = f"{line.get('code', '')}{'-' + modifiers if modifiers else ''}"
        text += f" × {line.get('units', 1)}"
        if pointers:
            text += f" → Dx {pointers}"
        lines.append({"ref": f"procedures[{i}]", "label": f"Line {i + 1}", "text": text})
    return lines


@dataclass
class TakeView:
    """One exercise of an attempt on screen, with the navigator's data for all of them."""

    attempt: Attempt
    position: int
    item: QuizItem
    public: dict[str, Any]
    response: Response | None
    navigator: list[dict[str, Any]] = field(default_factory=list)


def attempt_take_view(*, attempt: Attempt, position: int) -> TakeView:
    """Three queries whatever the quiz size: items with encounters, responses."""
    items = QuizItem.objects.select_related("encounter").in_bulk(attempt.item_ids)
    responses = {r.item_id: r for r in Response.objects.filter(attempt=attempt)}
    ordered = [items[i] for i in attempt.item_ids if i in items]
    if not ordered:
        raise NotFound("This attempt has no exercises.")
    position = min(max(position, 1), len(ordered))
    navigator = []
    for number, item in enumerate(ordered, start=1):
        response = responses.get(item.pk)
        navigator.append(
            {
                "number": number,
                "answered": bool(response and _has_answer(response.answer)),
                "flagged": bool(response and response.flagged),
                "current": number == position,
            }
        )
    item = ordered[position - 1]
    return TakeView(
        attempt=attempt,
        position=position,
        item=item,
        public=item_public(item),
        response=responses.get(item.pk),
        navigator=navigator,
    )


def attempt_seconds_left(*, attempt: Attempt, now: dt.datetime | None = None) -> int | None:
    """Whole seconds to the deadline (0 once it passed); None for an untimed attempt."""
    if attempt.deadline is None:
        return None
    return max(int((attempt.deadline - (now or timezone.now())).total_seconds()), 0)


def attempt_take_page(
    *, attempt: Attempt, position: int, now: dt.datetime | None = None
) -> dict[str, Any]:
    """What a take page renders for exercise ``position``: the quiz page and an
    assessment sitting share it, so both show the same inputs and settings."""
    view = attempt_take_view(attempt=attempt, position=position)
    response = view.response
    practice = attempt.quiz.is_practice
    seconds_left = attempt_seconds_left(attempt=attempt, now=now)
    config = {
        "attemptId": attempt.pk,
        "itemId": view.item.pk,
        "type": view.item.exercise_type,
        "practice": practice,
        "saveUrl": reverse("quizzes:response_save", args=[attempt.pk, view.item.pk]),
        "checkUrl": reverse("quizzes:response_check", args=[attempt.pk, view.item.pk]),
        "searchUrl": reverse("codesets:search_api"),
        "browserUrl": reverse("codesets:search"),
        "date": view.public["date_of_service"].isoformat(),
        "secondsLeft": seconds_left,
        "triesLeft": (
            attempt.quiz.tries_per_item - (response.tries if response else 0) if practice else 0
        ),
    }
    saved = response.answer if response else {}
    return {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "view": view,
        "exercise": view.public,
        "saved_answer": saved,
        "inputs": _typed_inputs(view.public, saved),
        "flagged": bool(response and response.flagged),
        "config": config,
        "seconds_left": seconds_left,
        "previous": view.position - 1 if view.position > 1 else None,
        "next": view.position + 1 if view.position < len(view.navigator) else None,
    }


def _typed_inputs(public: dict[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
    """Rows for the sequencing, linkage and audit inputs, with the saved answer filled in."""
    choices = [choice["value"] for choice in public["choices"]]
    saved_order = [code for code in saved.get("order", []) if code in choices]
    order = saved_order + [code for code in choices if code not in saved_order]
    links = saved.get("links", {})
    fixes = saved.get("fixes", {})
    return {
        "order": order,
        "links": [
            {
                "label": label,
                "options": [
                    {"code": code, "checked": code in links.get(label, [])} for code in choices
                ],
            }
            for label in public.get("link_lines", [])
        ],
        "claim": [{**line, "fix": fixes.get(line["ref"], "")} for line in public.get("claim", [])],
    }


def _has_answer(answer: dict[str, Any]) -> bool:
    return any(bool(value) for value in answer.values())


@dataclass
class ReviewRow:
    number: int
    item: QuizItem
    public: dict[str, Any]
    response: Response
    score: Score | None
    override_score: float | None
    findings: list[dict[str, Any]]
    key: dict[str, Any] | None
    lines: list[dict[str, Any]] = field(default_factory=list)
    other_findings: list[dict[str, Any]] = field(default_factory=list)


def _answer_lines(item: QuizItem, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The learner's answer as labelled lines, each with the ``line`` name findings use."""
    kind = item.exercise_type
    if kind == ExerciseType.SEQUENCING:
        return [
            {"ref": f"order[{i}]", "label": f"Position {i + 1}", "text": code}
            for i, code in enumerate(answer.get("order", []))
        ]
    if kind == ExerciseType.LINKAGE:
        return [
            {"ref": f"links[{label}]", "label": label, "text": ", ".join(codes) or "no pointer"}
            for label, codes in answer.get("links", {}).items()
        ]
    if kind == ExerciseType.AUDIT:
        return [
            {"ref": f"claim.{line}", "label": f"Fix for {line}", "text": fix}
            for line, fix in answer.get("fixes", {}).items()
            if fix
        ]
    if kind != ExerciseType.FULL_CODING:
        return [{"ref": "answer", "label": "Your answer", "text": answer.get("value", "")}]
    lines = [
        {"ref": f"diagnoses[{i}]", "label": f"Diagnosis {i + 1}", "text": code}
        for i, code in enumerate(c for c in answer.get("diagnoses", []) if c)
    ]
    procedures = [p for p in answer.get("procedures", []) if p.get("code")]
    for i, line in enumerate(procedures):
        details = []
        if line.get("modifiers"):
            details.append("modifiers " + ", ".join(line["modifiers"]))
        details.append(f"units {line.get('units', 1)}")
        if line.get("dx_pointers"):
            details.append("pointers " + ", ".join(str(p) for p in line["dx_pointers"]))
        lines.append(
            {
                "ref": f"procedures[{i}]",
                "label": f"Procedure line {i + 1}",
                "text": f"{line['code']} ({'; '.join(details)})",
            }
        )
    return lines


def attempt_review_rows(*, attempt: Attempt, reveal: bool) -> list[ReviewRow]:
    """Per exercise: the answer, its score and, when ``reveal``, findings and key."""
    items = QuizItem.objects.select_related("encounter").in_bulk(attempt.item_ids)
    responses = {
        r.item_id: r
        for r in Response.objects.filter(attempt=attempt).prefetch_related(
            Prefetch("scores", queryset=Score.objects.filter(rules_version=RULES_VERSION)),
            "overrides",
        )
    }
    rows = []
    for number, item_id in enumerate(attempt.item_ids, start=1):
        item = items.get(item_id)
        response = responses.get(item_id)
        if item is None or response is None:
            continue
        scores = list(response.scores.all())
        score = scores[0] if scores else None
        overrides = list(response.overrides.all())
        findings = score.findings if score else []
        shown = findings if reveal else findings_without_key(findings)
        lines = _answer_lines(item, response.answer)
        refs = {line["ref"] for line in lines}
        for line in lines:
            line["findings"] = [f for f in shown if f.get("line") == line["ref"]]
        rows.append(
            ReviewRow(
                number=number,
                item=item,
                public=item_public(item),
                response=response,
                score=score,
                override_score=overrides[0].score if overrides else None,
                findings=shown,
                key=_key_view(item) if reveal else None,
                lines=lines,
                other_findings=[f for f in shown if f.get("line") not in refs],
            )
        )
    return rows


def _key_view(item: QuizItem) -> dict[str, Any]:
    """The answer and its explanation, for review pages only."""
    exercise = item.exercise
    answer = exercise.get("answer")
    if item.exercise_type == ExerciseType.FULL_CODING and isinstance(answer, dict):
        return {
            "diagnoses": answer.get("diagnoses", []),
            "procedures": answer.get("procedures", []),
            "explanation": exercise.get("explanation", ""),
        }
    return {
        "answer": _key_text(item.exercise_type, answer),
        "explanation": exercise.get("explanation", ""),
    }


def _key_text(kind: str, answer: Any) -> str:
    """A non-full-coding key as a coder reads it."""
    if kind == ExerciseType.SEQUENCING and isinstance(answer, list):
        return ", then ".join(str(code) for code in answer)
    if kind == ExerciseType.LINKAGE and isinstance(answer, dict):
        return "; ".join(f"{label} → {', '.join(codes)}" for label, codes in answer.items())
    if kind == ExerciseType.AUDIT and isinstance(answer, list):
        return "; ".join(
            f"{error.get('line')}: {audit_fix_text(error.get('fix'))}" for error in answer
        )
    return str(answer)


def quizzes_for_student(*, user: Any) -> list[dict[str, Any]]:
    """Assigned quizzes with the learner's attempts, newest first."""
    assignments = (
        Assignment.objects.filter(student_id=user.pk)
        .select_related("quiz")
        .prefetch_related(
            Prefetch("quiz__attempts", queryset=Attempt.objects.filter(user_id=user.pk))
        )
        .order_by("quiz__title")
    )
    return [{"quiz": a.quiz, "attempts": list(a.quiz.attempts.all())} for a in assignments]


def quizzes_owned(*, user: Any) -> QuerySet[Quiz]:
    quizzes = Quiz.objects.all()
    if not getattr(user, "is_site_staff", False):
        quizzes = quizzes.filter(owner_id=user.pk)
    return quizzes.order_by("title")


@dataclass
class GradebookRow:
    attempt: Attempt
    minutes: float | None


def quiz_gradebook(*, quiz: Quiz) -> list[GradebookRow]:
    attempts = (
        Attempt.objects.filter(quiz=quiz)
        .select_related("user")
        .prefetch_related("responses")
        .order_by("user__username", "number")
    )
    rows = []
    for attempt in attempts:
        minutes = None
        if attempt.finished_at:
            minutes = round((attempt.finished_at - attempt.started_at).total_seconds() / 60, 1)
        rows.append(GradebookRow(attempt=attempt, minutes=minutes))
    return rows


@dataclass
class ItemStats:
    """How one exercise behaved across submitted attempts."""

    item: QuizItem
    responses: int
    facility: float | None
    discrimination: float | None
    wrong_codes: list[tuple[str, int]]


# Share of learners in each of the upper and lower groups (Kelley's 27 %).
_GROUP_SHARE = 0.27


def quiz_item_analysis(*, quiz: Quiz) -> list[ItemStats]:
    """Per exercise: facility (mean share of the points earned), discrimination (upper
    minus lower group facility, groups by attempt percent) and the commonest wrong codes.

    Two queries: the submitted attempts, and their scores with responses and items.
    """
    attempts = {
        a.pk: a.percent or 0.0
        for a in Attempt.objects.filter(quiz=quiz, status="submitted").only("pk", "percent")
    }
    ranked = sorted(attempts, key=lambda pk: attempts[pk])
    size = max(round(len(ranked) * _GROUP_SHARE), 1) if len(ranked) >= 4 else 0
    lower = set(ranked[:size])
    upper = set(ranked[-size:]) if size else set()
    per_item: dict[int, list[tuple[int, float, list[dict[str, Any]]]]] = {}
    scores = Score.objects.filter(
        response__attempt_id__in=list(attempts), rules_version=RULES_VERSION
    ).values_list("response__item_id", "response__attempt_id", "score", "max_score", "findings")
    for item_id, attempt_id, score, max_score, findings in scores:
        share = score / max_score if max_score else 1.0
        per_item.setdefault(item_id, []).append((attempt_id, share, findings))
    items = quiz.items.select_related("encounter").order_by("position", "id")
    stats = []
    for item in items:
        rows = per_item.get(item.pk, [])
        wrong: dict[str, int] = {}
        for _, _, findings in rows:
            for finding in findings:
                code = finding.get("code")
                if code and finding.get("kind") in WRONG_CODE_KINDS:
                    wrong[str(code)] = wrong.get(str(code), 0) + 1
        facility = sum(share for _, share, _ in rows) / len(rows) if rows else None
        discrimination = None
        high = [share for attempt, share, _ in rows if attempt in upper]
        low = [share for attempt, share, _ in rows if attempt in lower]
        if high and low:
            discrimination = round(sum(high) / len(high) - sum(low) / len(low), 2)
        stats.append(
            ItemStats(
                item=item,
                responses=len(rows),
                facility=round(facility, 2) if facility is not None else None,
                discrimination=discrimination,
                wrong_codes=sorted(wrong.items(), key=lambda pair: (-pair[1], pair[0]))[:3],
            )
        )
    return stats
