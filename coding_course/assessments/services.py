"""Services for employer assessments: build, invite, accept, sit, score, rescore.

Every function that writes owns its transaction. The sitting itself is a quizzes
attempt: saving answers, the server-side deadline and grading are the quizzes
services'; this module adds the candidate's accommodation to the deadline and the
page-visibility events the take page reports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from coding_course.accounts.errors import Conflict, Refused
from coding_course.accounts.models import Role
from coding_course.assessments.invitation_csv import read_invitations
from coding_course.assessments.models import (
    Assessment,
    AssessmentSource,
    Candidate,
    SittingEvent,
    SittingEventKind,
)
from quizzes import api as quizzes
from quizzes.api import (
    Attempt,
    AttemptStatus,
    BulkJob,
    BulkJobKind,
    Encounter,
    Quiz,
    QuizItem,
    QuizMode,
    ReviewPolicy,
)

# The take page reports a few events per exercise; far more than any sitting needs,
# few enough that a scripted flood cannot grow the table without bound.
MAX_EVENTS_PER_SITTING = 2000
# A signed link older than this is refused whatever its stored expiry says.
MAX_INVITATION_DAYS = 60
INVITATION_SALT = "coding_course.assessments.invitation"
# Blueprint families and the encounter tag that marks an encounter as exercising one.
FAMILY_TAGS = {"ICD-10-CM": "icd-10-cm", "CPT": "cpt", "HCPCS": "hcpcs"}


class AssessmentError(Refused):
    """A refused assessment action; ``code`` is stable for views and tests."""

    code = "assessment_error"


class BlueprintShortfall(AssessmentError):
    code = "blueprint_shortfall"


class AlreadyInvited(AssessmentError):
    code = "already_invited"


class SittingClosed(Conflict, AssessmentError):
    code = "sitting_closed"


class SittingNotOpen(AssessmentError):
    code = "sitting_not_open"


class InvitationInvalid(AssessmentError):
    """Why a link does not work: ``tampered``, ``superseded``, ``used`` or ``expired``."""

    MESSAGES = {
        "tampered": "This invitation link is not valid: it was changed or cut short. "
        "Open the link exactly as it appears in your e-mail.",
        "superseded": "This invitation link was replaced by a newer one. Use the link in "
        "the most recent invitation e-mail.",
        "used": "This invitation link has already been used. Log in to find your assessment.",
        "expired": "This invitation link has expired. Ask the employer to send a new one.",
    }

    def __init__(self, kind: str) -> None:
        super().__init__(self.MESSAGES[kind])
        self.code = kind


# ---------------------------------------------------------------------------
# Building the fixed form


@dataclass(frozen=True)
class AssessmentSettings:
    title: str
    time_limit_minutes: int
    pass_mark_percent: int
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    invitation_days: int = 7


@dataclass(frozen=True)
class PoolEncounter:
    id: int
    difficulty: int
    tags: frozenset[str]


def _spread(count: int, available: Mapping[int, int]) -> dict[int, int]:
    """How many of ``count`` to take at each difficulty: round-robin over the levels
    so the mix is as even as the pool allows, skipping levels that run out."""
    taken = dict.fromkeys(available, 0)
    levels = sorted(available)
    while count > 0:
        progressed = False
        for level in levels:
            if count and taken[level] < available[level]:
                taken[level] += 1
                count -= 1
                progressed = True
        if not progressed:
            break
    return taken


def blueprint_draw(
    *,
    pool: Sequence[PoolEncounter],
    sections: Mapping[str, int],
    difficulties: Sequence[int],
    seed: int,
) -> list[tuple[str, int]]:
    """(family, encounter id) for every exercise of the form, each encounter once.

    Scarce families draw first (an encounter tagged HCPCS is usually tagged ICD-10-CM
    too), and within a family the difficulty levels are filled round-robin. Raises
    BlueprintShortfall naming every family the pool cannot fill.
    """
    rng = random.Random(seed)
    wanted = {family: count for family, count in sections.items() if count > 0}
    eligible = {
        family: [e for e in pool if FAMILY_TAGS[family] in e.tags and e.difficulty in difficulties]
        for family in wanted
    }
    used: set[int] = set()
    drawn: list[tuple[str, int]] = []
    short: list[str] = []
    for family in sorted(wanted, key=lambda name: (len(eligible[name]), name)):
        free = [e for e in eligible[family] if e.id not in used]
        by_level: dict[int, list[int]] = {level: [] for level in difficulties}
        for encounter in free:
            by_level[encounter.difficulty].append(encounter.id)
        plan = _spread(wanted[family], {level: len(ids) for level, ids in by_level.items()})
        if sum(plan.values()) < wanted[family]:
            short.append(f"{family}: {wanted[family]} asked, {sum(plan.values())} available")
            continue
        for level in sorted(plan):
            picked = rng.sample(sorted(by_level[level]), plan[level])
            used.update(picked)
            drawn.extend((family, encounter_id) for encounter_id in picked)
    if short:
        levels = f"{min(difficulties)}-{max(difficulties)}"
        raise BlueprintShortfall(
            f"Not enough encounters at difficulty {levels}: " + "; ".join(short) + "."
        )
    return drawn


def _assessment_quiz(*, user: Any, settings: AssessmentSettings) -> Quiz:
    """The exam behind an assessment: one timed attempt, shuffled, never reviewed (the
    key stays on the server for good)."""
    return Quiz.objects.create(
        title=settings.title,
        description="Employer assessment.",
        owner=user,
        mode=QuizMode.EXAM,
        time_limit_minutes=settings.time_limit_minutes,
        attempts_allowed=1,
        pass_mark_percent=settings.pass_mark_percent,
        opens_at=settings.opens_at,
        closes_at=settings.closes_at,
        shuffle=True,
        review_policy=ReviewPolicy.NEVER,
        blueprint=[],
    )


def _new_seed() -> int:
    return secrets.randbits(48)


def assessment_create_from_blueprint(
    *,
    user: Any,
    settings: AssessmentSettings,
    sections: Mapping[str, int],
    difficulty_min: int,
    difficulty_max: int,
    seed: int | None = None,
) -> Assessment:
    """An assessment of full-coding exercises drawn once from the encounter bank."""
    seed = _new_seed() if seed is None else seed
    difficulties = list(range(difficulty_min, difficulty_max + 1))
    pool = [
        PoolEncounter(id=pk, difficulty=difficulty, tags=frozenset(str(t).lower() for t in tags))
        for pk, difficulty, tags in Encounter.objects.values_list("id", "difficulty", "tags")
    ]
    drawn = blueprint_draw(pool=pool, sections=sections, difficulties=difficulties, seed=seed)
    encounters = Encounter.objects.in_bulk([encounter_id for _, encounter_id in drawn])
    with transaction.atomic():
        quiz = _assessment_quiz(user=user, settings=settings)
        for position, (family, encounter_id) in enumerate(drawn):
            item = quizzes.quiz_item_add(
                quiz=quiz, encounter=encounters[encounter_id], position=position
            )
            item.labels = sorted({*item.labels, f"section-{FAMILY_TAGS[family]}"})
            item.save(update_fields=["labels"])
        return Assessment.objects.create(
            organisation_id=user.organisation_id,
            created_by=user,
            title=settings.title,
            quiz=quiz,
            source=AssessmentSource.BLUEPRINT,
            specification={
                "sections": dict(sections),
                "difficulty": [difficulty_min, difficulty_max],
            },
            seed=seed,
            invitation_days=settings.invitation_days,
        )


def assessment_create_from_quiz(
    *, user: Any, settings: AssessmentSettings, source: Quiz, seed: int | None = None
) -> Assessment:
    """An assessment holding a frozen copy of an exam quiz's exercises; a source with
    a blueprint is drawn once here, so every candidate gets the same draw."""
    seed = _new_seed() if seed is None else seed
    items = list(source.items.order_by("position", "id"))
    chosen = quizzes.draw_items(
        items=[(item.pk, item.labels) for item in items],
        blueprint=source.blueprint,
        seed=seed,
        shuffle=False,
    )
    by_id = {item.pk: item for item in items}
    if not chosen:
        raise AssessmentError("The quiz has no exercises.")
    with transaction.atomic():
        quiz = _assessment_quiz(user=user, settings=settings)
        QuizItem.objects.bulk_create(
            QuizItem(
                quiz=quiz,
                encounter_id=by_id[item_id].encounter_id,
                exercise_type=by_id[item_id].exercise_type,
                seed=by_id[item_id].seed,
                exercise=by_id[item_id].exercise,
                labels=by_id[item_id].labels,
                key_version=by_id[item_id].key_version,
                position=position,
            )
            for position, item_id in enumerate(chosen)
        )
        return Assessment.objects.create(
            organisation_id=user.organisation_id,
            created_by=user,
            title=settings.title,
            quiz=quiz,
            source=AssessmentSource.QUIZ,
            specification={"quiz": source.pk, "quiz_title": source.title},
            seed=seed,
            invitation_days=settings.invitation_days,
        )


# ---------------------------------------------------------------------------
# Invitations

LinkBuilder = Callable[[str], str]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=INVITATION_SALT)


def invitation_sign(*, candidate_id: int, token: str) -> str:
    """The link's secret: the candidate id and a random token, signed and timestamped."""
    return _signer().sign(f"{candidate_id}.{token}")


def _issue(candidate: Candidate, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(32)
    candidate.token_hash = _token_hash(token)
    candidate.invited_at = now
    candidate.expires_at = now + dt.timedelta(days=candidate.assessment.invitation_days)
    return token


def _send(candidate: Candidate, link: str) -> None:
    assessment = candidate.assessment
    expires = timezone.localtime(candidate.expires_at)
    minutes = (assessment.quiz.time_limit_minutes or 0) + candidate.extra_minutes
    send_mail(
        subject=f"Invitation: {assessment.title} ({assessment.organisation.name})",
        message=(
            f"Hello {candidate.name or ''}\n\n"
            f"{assessment.organisation.name} invites you to take a medical coding "
            f"assessment, {assessment.title}: one sitting of {minutes} minutes.\n\n"
            f"Open this link to accept (it works once, until {expires:%Y-%m-%d %H:%M %Z}):\n"
            f"{link}\n\n"
            "If you did not expect this e-mail, you can ignore it.\n"
        ),
        from_email=None,
        recipient_list=[candidate.email],
    )


def candidate_invite(
    *,
    assessment: Assessment,
    email: str,
    by: Any,
    link_for: LinkBuilder,
    name: str = "",
    extra_minutes: int = 0,
    now: dt.datetime | None = None,
) -> Candidate:
    """Invite one address; AlreadyInvited when it is on the list. The e-mail goes out
    after the row is committed, so a link never names a candidate that is not saved."""
    now = now or timezone.now()
    email = email.strip().lower()
    candidate = Candidate(
        assessment=assessment,
        email=email,
        name=name.strip(),
        extra_minutes=extra_minutes,
        invited_by=by,
    )
    token = _issue(candidate, now)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError:
        raise AlreadyInvited(f"{email} is already invited to this assessment.") from None
    link = link_for(invitation_sign(candidate_id=candidate.pk, token=token))
    transaction.on_commit(lambda: _send(candidate, link))
    return candidate


def candidates_invite_csv(
    *, assessment: Assessment, data: bytes, by: Any, link_for: LinkBuilder
) -> list[Candidate]:
    """Invite every row of an uploaded list, all or none (see ``invitation_csv``)."""
    already = set(assessment.candidates.values_list("email", flat=True))
    rows = read_invitations(data, already_invited=already)
    with transaction.atomic():
        return [
            candidate_invite(
                assessment=assessment,
                email=row.email,
                name=row.name,
                extra_minutes=row.extra_minutes,
                by=by,
                link_for=link_for,
            )
            for row in rows
        ]


def candidate_reinvite(
    *, candidate: Candidate, by: Any, link_for: LinkBuilder, now: dt.datetime | None = None
) -> Candidate:
    """A fresh link with a fresh expiry; the old link stops working (its token hash is
    gone). Refused once the invitation was accepted."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Candidate.objects.select_for_update()
            .select_related("assessment__organisation", "assessment__quiz")
            .get(pk=candidate.pk)
        )
        if locked.accepted_at is not None:
            raise AssessmentError("This candidate has accepted; there is nothing to resend.")
        token = _issue(locked, now)
        locked.invited_by = by
        locked.save(update_fields=["token_hash", "invited_at", "expires_at", "invited_by"])
        link = link_for(invitation_sign(candidate_id=locked.pk, token=token))
        transaction.on_commit(lambda: _send(locked, link))
    return locked


def invitation_check(*, signed: str, now: dt.datetime | None = None) -> Candidate:
    """The candidate a link invites, or InvitationInvalid saying why not."""
    now = now or timezone.now()
    try:
        value = _signer().unsign(signed, max_age=dt.timedelta(days=MAX_INVITATION_DAYS))
    except signing.SignatureExpired:
        raise InvitationInvalid("expired") from None
    except signing.BadSignature:
        raise InvitationInvalid("tampered") from None
    candidate_id, _, token = value.partition(".")
    candidate = (
        Candidate.objects.select_related("assessment__organisation", "assessment__quiz")
        .filter(pk=int(candidate_id) if candidate_id.isdigit() else 0)
        .first()
    )
    if candidate is None:
        raise InvitationInvalid("tampered")
    if not secrets.compare_digest(candidate.token_hash, _token_hash(token)):
        raise InvitationInvalid("superseded")
    if candidate.accepted_at is not None:
        raise InvitationInvalid("used")
    if now >= candidate.expires_at:
        raise InvitationInvalid("expired")
    return candidate


def invitation_accept(*, signed: str, user: Any, now: dt.datetime | None = None) -> Candidate:
    """Use the link once: link the candidate to ``user``. The row is locked and checked
    again, so two tabs accepting at once cannot both succeed."""
    now = now or timezone.now()
    candidate = invitation_check(signed=signed, now=now)
    with transaction.atomic():
        Candidate.objects.select_for_update().filter(pk=candidate.pk).first()
        candidate = invitation_check(signed=signed, now=now)
        if Candidate.objects.filter(assessment=candidate.assessment, user=user).exists():
            raise AssessmentError("You have already accepted an invitation to this assessment.")
        candidate.user = user
        candidate.accepted_at = now
        candidate.save(update_fields=["user", "accepted_at"])
    return candidate


def candidate_account_create(*, email: str, name: str, password: str) -> Any:
    """A new student account for an invited candidate; the password was validated by
    the form against the site's validators (12 characters at least)."""
    users = get_user_model()
    base = email.split("@")[0][:120] or "candidate"
    username = base
    suffix = 1
    while users.objects.filter(username__iexact=username).exists():
        suffix += 1
        username = f"{base}{suffix}"
    first, _, last = name.strip().partition(" ")
    return users.objects.create_user(
        username=username,
        email=email,
        password=password,
        first_name=first[:150],
        last_name=last[:150],
        role=Role.STUDENT,
    )


# ---------------------------------------------------------------------------
# Sitting


def sitting_start(*, candidate: Candidate, now: dt.datetime | None = None) -> Attempt:
    """Start the candidate's one attempt, or return it when it exists.

    The quizzes service starts it: the form is fixed (the assessment's quiz has no
    blueprint), only the order is shuffled, seeded per candidate, and the deadline
    carries the candidate's accommodation. The invitation stands for an assignment.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Candidate.objects.select_for_update()
            .select_related("assessment__quiz")
            .get(pk=candidate.pk)
        )
        if locked.attempt_id is not None:
            return Attempt.objects.select_related("quiz").get(pk=locked.attempt_id)
        try:
            attempt = quizzes.attempt_start(
                quiz=locked.assessment.quiz,
                user=locked.user,
                now=now,
                assigned_only=False,
                extra_minutes=locked.extra_minutes,
            )
        except quizzes.QuizNotOpen:
            raise SittingNotOpen("This assessment is not open now.") from None
        locked.attempt = attempt
        locked.save(update_fields=["attempt"])
    candidate.attempt = attempt
    return attempt


def sitting_event_record(
    *, candidate: Candidate, kind: str, item_id: int | None, now: dt.datetime | None = None
) -> bool:
    """Store one take-page event with the server's time; False (nothing stored) when
    the sitting is not running, the item is not in it or the sitting's cap is reached."""
    now = now or timezone.now()
    attempt = candidate.attempt
    if kind not in SittingEventKind.values or attempt is None:
        return False
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return False
    if attempt.deadline is not None and now >= attempt.deadline:
        return False
    if item_id is not None and item_id not in attempt.item_ids:
        return False
    if candidate.events.count() >= MAX_EVENTS_PER_SITTING:
        return False
    SittingEvent.objects.create(candidate=candidate, kind=kind, item_id=item_id, at=now)
    return True


def sitting_submit(*, candidate: Candidate, now: dt.datetime | None = None) -> Attempt:
    candidate.refresh_from_db(fields=["attempt"])
    if candidate.attempt is None:
        raise SittingClosed("This sitting has not started.")
    return quizzes.attempt_submit(attempt=candidate.attempt, now=now)


def accommodation_set(
    *, candidate: Candidate, extra_minutes: int, now: dt.datetime | None = None
) -> Candidate:
    """Change the extra time; a sitting under way gets its deadline moved with it."""
    now = now or timezone.now()
    with transaction.atomic():
        # Only the candidate row is locked: PostgreSQL cannot lock the nullable side
        # of the outer join to the attempt.
        locked = (
            Candidate.objects.select_for_update(of=("self",))
            .select_related("attempt", "assessment__quiz")
            .get(pk=candidate.pk)
        )
        attempt = locked.attempt
        if attempt is not None and attempt.status == AttemptStatus.SUBMITTED:
            raise SittingClosed("This candidate has submitted; the time can no longer change.")
        if attempt is not None and attempt.deadline is not None and now >= attempt.deadline:
            raise SittingClosed("This candidate's time is up; the time can no longer change.")
        locked.extra_minutes = extra_minutes
        locked.save(update_fields=["extra_minutes"])
        if attempt is not None:
            attempt.deadline = quizzes.attempt_deadline(
                quiz=locked.assessment.quiz, start=attempt.started_at, extra_minutes=extra_minutes
            )
            attempt.save(update_fields=["deadline"])
    return locked


def sittings_expire_due(*, assessment: Assessment, now: dt.datetime | None = None) -> int:
    """Submit every sitting whose time is up (with its saved answers); how many closed."""
    now = now or timezone.now()
    closed = 0
    running = Attempt.objects.filter(
        assessment_candidate__assessment=assessment, status=AttemptStatus.IN_PROGRESS
    )
    for attempt in running:
        if attempt.deadline is not None and now >= attempt.deadline:
            quizzes.attempt_expire_if_due(attempt=attempt, now=now)
            closed += 1
    return closed


# ---------------------------------------------------------------------------
# Scoring in bulk


def cohort_score(*, assessment: Assessment, user: Any) -> BulkJob:
    """Close the sittings whose time is up, then score every submitted sitting as one
    bulk job (ScopeBusy while such a job runs)."""
    sittings_expire_due(assessment=assessment)
    return quizzes.bulk_job_start(
        kind=BulkJobKind.COHORT, user=user, scope={"quiz": assessment.quiz_id}
    )


def key_rescore_preview(*, assessment: Assessment, user: Any) -> BulkJob:
    """A dry run of rescoring every candidate against the corrected keys; applying it
    (on the job's page) rescores for real and copies the keys into the exercises."""
    return quizzes.bulk_job_start(
        kind=BulkJobKind.RESCORE_KEY,
        user=user,
        scope={"quiz": assessment.quiz_id},
        dry_run=True,
    )
