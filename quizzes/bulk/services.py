"""Bulk scoring: start a job, score its chunks, finish, cancel, apply a dry run, recover.

How a job survives failures
---------------------------
* A job and its chunk rows are written in one transaction; the chunk tasks are queued
  only after it commits (``transaction.on_commit``), so a worker never looks for a job
  that is not there yet.
* A chunk is scored in ONE transaction that starts by locking its chunk row: a second
  delivery of the same chunk waits, then sees it done and does nothing. Scores upsert
  on (response, rules_version) and the job's counters move in that same transaction,
  so a chunk is counted exactly once however often it is delivered.
* The job finishes when ``chunks_done + chunks_failed == chunks_total``, a count kept
  in the database (chords are not a reliable completion barrier).
* Every run of a chunk is counted (``runs``); a chunk that keeps killing its worker is
  failed after :data:`MAX_CHUNK_RUNS` instead of being redelivered for ever.
* A response's score is only replaced by a score computed for the same or a newer key
  version: a late chunk computed for an older key leaves the newer score alone. The
  guard is part of the upsert statement itself. The chunk also locks its responses'
  attempts first (as submission does), so two writers of one response take turns and
  the scores a chunk reads for its report are the ones it replaces.
* When the broker loses its messages (a Redis restart without persistence), the
  pending chunks are requeued from the database: by every worker when it (re)connects
  (see ``quizzes.tasks``), or by ``manage.py regrade --resume``.

How a chunk stays fast
----------------------
A chunk of about a thousand responses costs a fixed handful of statements: the responses
with their learners and stored scores (ids bound as one array), their items and
encounters, one COPY and one upsert of scores, one COPY of change rows and the attempt
totals; no model instance is built per response. The catalog comes
from :func:`codesets.adapters.memory_catalog_for_date` (whole releases, loaded once
per process) and one memoising :class:`~quizzes.grading.engine.Grader` per set of
releases is kept for the life of the process.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, FilteredRelation, Lookup, Max, Q
from django.utils import timezone

from codesets.domain.shapes import canonical, has_shape
from codesets.domain.systems import System
from codesets.models import Code, Release
from coding_course.accounts.models import Role
from quizzes.attempts.services import attempt_seed
from quizzes.bulk.selectors import (
    item_get_for_bulk,
    quiz_get_for_bulk,
    quiz_items_numbered,
    quizzes_in_reach,
    responses_in_reach,
    scope_response_ids,
)
from quizzes.errors import AlreadyImported, InvalidScope, NotApplicable, ScopeBusy
from quizzes.grading.policy import RULES_VERSION
from quizzes.imports import csv_import
from quizzes.models import (
    Assignment,
    Attempt,
    AttemptStatus,
    BulkJob,
    BulkJobChange,
    BulkJobChunk,
    BulkJobKind,
    BulkJobStatus,
    ChangeOutcome,
    ChunkStatus,
    Encounter,
    ExerciseType,
    Quiz,
    QuizItem,
    Response,
)
from quizzes.scoring import (
    Catalogs,
    ItemGrade,
    ScoreRow,
    attempt_totals_refresh,
    clean_answer,
    gradable_items,
    grade_responses,
    score_row,
    scores_upsert,
)

logger = logging.getLogger(__name__)

# Measured on 100,000 responses with two worker processes: 500 responses a chunk ran
# at about 0.8x the speed of 1000 (per-task and per-query costs), 2000 at 1.05x; 1000 keeps
# retries and progress steps small.
DEFAULT_CHUNK_SIZE = 1000
# Retries (5) plus the first run plus a few redeliveries after a lost worker.
MAX_CHUNK_RUNS = 9
# Two scores closer than this are the same score (they are rounded to 4 places).
_SAME = 1e-9


def chunk_size() -> int:
    return int(getattr(settings, "BULK_CHUNK_SIZE", DEFAULT_CHUNK_SIZE))


# ---------------------------------------------------------------------------- chunks


def chunk_response_ids(pairs: Sequence[tuple[int, int]], size: int) -> list[list[int]]:
    """Cut (attempt id, response id) pairs, in attempt order, into chunks of about
    ``size`` responses, never splitting an attempt unless it alone exceeds ``size``:
    an attempt's total is then refreshed by a single chunk."""
    chunks: list[list[int]] = []
    current: list[int] = []
    previous_attempt: int | None = None
    for attempt_id, response_id in pairs:
        boundary = attempt_id != previous_attempt
        if current and (len(current) >= size * 2 or (boundary and len(current) >= size)):
            chunks.append(current)
            current = []
        current.append(response_id)
        previous_attempt = attempt_id
    if current:
        chunks.append(current)
    return chunks


def _scope_key(kind: str, scope: Mapping[str, Any]) -> str:
    if kind == BulkJobKind.CSV_IMPORT:
        return f"{kind}:quiz:{scope['quiz']}:{scope['sha256'][:16]}"
    parts = ",".join(f"{name}={scope[name]}" for name in sorted(scope))
    return f"{kind}:{parts}"[:200]


def _organisation_of(user: Any) -> int | None:
    return user.organisation_id if user.role == Role.EMPLOYER else None


def _job_begin(
    *,
    kind: str,
    user: Any,
    scope: dict[str, Any],
    dry_run: bool,
    report: dict[str, Any] | None = None,
    confirms: BulkJob | None = None,
) -> BulkJob:
    """Create the job and its chunks; the caller's transaction commits them, and the
    chunk tasks are queued after that commit. ScopeBusy when the scope is taken."""
    key = _scope_key(kind, scope)
    try:
        with transaction.atomic():
            job = BulkJob.objects.create(
                kind=kind,
                dry_run=dry_run,
                started_by=user,
                organisation_id=_organisation_of(user),
                scope=scope,
                scope_key=key,
                rules_version=RULES_VERSION,
                confirms=confirms,
                report=report or {},
                started_at=timezone.now(),
            )
    except IntegrityError as clash:
        running = BulkJob.objects.filter(scope_key=key, status=BulkJobStatus.RUNNING).first()
        raise ScopeBusy(running) from clash
    chunks = chunk_response_ids(scope_response_ids(job=job), chunk_size())
    BulkJobChunk.objects.bulk_create(
        BulkJobChunk(job=job, number=number, response_ids=ids)
        for number, ids in enumerate(chunks, start=1)
    )
    job.total = sum(len(ids) for ids in chunks)
    job.chunks_total = len(chunks)
    if not chunks:
        job.status = BulkJobStatus.SUCCEEDED
        job.finished_at = timezone.now()
    job.save(update_fields=["total", "chunks_total", "status", "finished_at"])
    if chunks:
        chunk_ids = list(job.chunks.order_by("number").values_list("id", flat=True))
        transaction.on_commit(lambda: enqueue_chunks(chunk_ids))
    return job


def enqueue_chunks(chunk_ids: Iterable[int]) -> int:
    """Queue one task per chunk; a chunk that cannot be queued stays pending and is
    picked up by recovery. Without a broker the tasks run here, one after another."""
    from quizzes.tasks import bulk_score_chunk_task

    queued = 0
    for chunk_id in chunk_ids:
        try:
            bulk_score_chunk_task.delay(chunk_id)
        except Exception:
            logger.exception("chunk %s could not be queued; it stays pending", chunk_id)
        else:
            queued += 1
    return queued


# ---------------------------------------------------------------------------- starting


def _scope_for(kind: str, user: Any, scope: Mapping[str, Any]) -> dict[str, Any]:
    """The scope, checked against what the user may reach (NotFound otherwise)."""
    if kind == BulkJobKind.RESCORE_KEY:
        if "item" in scope:
            return {"item": item_get_for_bulk(item_id=int(scope["item"]), user=user).pk}
        if "quiz" in scope:
            return {"quiz": quiz_get_for_bulk(quiz_id=int(scope["quiz"]), user=user).pk}
        if "encounter" in scope:
            encounter = Encounter.objects.filter(pk=int(scope["encounter"])).first()
            if encounter is None:
                raise InvalidScope("No such encounter.")
            return {"encounter": encounter.pk}
        raise InvalidScope("Name an exercise, a quiz or an encounter to rescore.")
    if kind == BulkJobKind.COHORT:
        return {"quiz": quiz_get_for_bulk(quiz_id=int(scope["quiz"]), user=user).pk}
    if kind == BulkJobKind.RESCORE_RULES:
        old = str(scope.get("rules_version", "")).strip()
        if not old or old == RULES_VERSION:
            raise InvalidScope(f"Name an older rules version; the current one is {RULES_VERSION}.")
        return {"rules_version": old}
    if kind == BulkJobKind.RESCORE_RELEASE:
        release = Release.objects.filter(pk=int(scope.get("release", 0))).first()
        if release is None:
            raise InvalidScope("No such code-set release.")
        return {"release": release.pk}
    raise InvalidScope(f"Unknown job kind {kind!r}.")


def _refresh_item_keys(*, user: Any, scope: Mapping[str, Any]) -> int:
    """Copy a changed encounter key into the full-coding exercises built from it.

    Other exercise types were generated from the key (choices, distractors) and keep
    their frozen answer: regenerating them is the generator's job, not a rescore's.
    """
    items = QuizItem.objects.filter(
        exercise_type=ExerciseType.FULL_CODING,
        quiz__in=quizzes_in_reach(user=user, organisation_id=_organisation_of(user)),
    )
    if "item" in scope:
        items = items.filter(pk=scope["item"])
    elif "quiz" in scope:
        items = items.filter(quiz_id=scope["quiz"])
    else:
        items = items.filter(encounter_id=scope["encounter"])
    stale = [
        item
        for item in items.select_for_update(of=("self",)).select_related("encounter")
        if item.encounter.key_version > item.key_version
    ]
    for item in stale:
        item.exercise = {**item.exercise, "answer": item.encounter.key}
        item.key_version = item.encounter.key_version
    QuizItem.objects.bulk_update(stale, ["exercise", "key_version"])
    return len(stale)


def bulk_job_start(
    *,
    kind: str,
    user: Any,
    scope: Mapping[str, Any],
    dry_run: bool = False,
    confirms: BulkJob | None = None,
) -> BulkJob:
    """Start a rescore or cohort scoring job; refused (ScopeBusy) while one over the
    same scope runs. A rescore after a key change first copies the new key into the
    exercises (not in a dry run: a dry run changes nothing but its own report)."""
    checked = _scope_for(kind, user, scope)
    report: dict[str, Any] = {}
    if kind == BulkJobKind.RESCORE_RELEASE:
        release = Release.objects.get(pk=checked["release"])
        report["invalidated_keys"] = release_invalidated_keys(release=release)
    with transaction.atomic():
        job = _job_begin(
            kind=kind, user=user, scope=checked, dry_run=dry_run, report=report, confirms=confirms
        )
        if kind == BulkJobKind.RESCORE_KEY and not dry_run:
            job.report["items_refreshed"] = _refresh_item_keys(user=user, scope=checked)
            job.save(update_fields=["report"])
    return job


def bulk_job_apply(*, job: BulkJob, by: Any) -> BulkJob:
    """Apply a finished dry run: the same scope, rescored for real (recomputed, so a
    key edited since the dry run is honoured)."""
    if not job.dry_run or job.status != BulkJobStatus.SUCCEEDED:
        raise NotApplicable("Only a finished dry run can be applied.")
    if job.applications.exists():
        raise NotApplicable("This dry run has already been applied.")
    if job.kind == BulkJobKind.CSV_IMPORT:
        raise NotApplicable("Imports are not dry runs.")
    return bulk_job_start(kind=job.kind, user=by, scope=job.scope, dry_run=False, confirms=job)


def bulk_job_cancel(*, job: BulkJob, by: Any) -> BulkJob:
    """Stop a running job: pending chunks are skipped, a chunk already scoring
    finishes. Chunks first, then the job: the same lock order as a chunk's own
    transaction, so the two never deadlock."""
    with transaction.atomic():
        now = timezone.now()
        BulkJobChunk.objects.filter(job=job, status=ChunkStatus.PENDING).update(
            status=ChunkStatus.SKIPPED, finished_at=now
        )
        BulkJob.objects.filter(pk=job.pk, status=BulkJobStatus.RUNNING).update(
            status=BulkJobStatus.CANCELLED,
            cancel_requested=True,
            finished_at=now,
            error_summary=f"Cancelled by {by.get_username()}.",
        )
    job.refresh_from_db()
    return job


def bulk_jobs_requeue(*, stalled_for: dt.timedelta | None = None) -> dict[int, int]:
    """Queue again every pending chunk of running jobs (those without progress for
    ``stalled_for``, when given). Duplicates are harmless: a chunk runs once."""
    jobs = BulkJob.objects.filter(status=BulkJobStatus.RUNNING)
    if stalled_for is not None:
        jobs = jobs.filter(progress_at__lt=timezone.now() - stalled_for) | jobs.filter(
            progress_at__isnull=True, started_at__lt=timezone.now() - stalled_for
        )
    queued: dict[int, int] = {}
    for job_id in jobs.values_list("id", flat=True):
        pending = BulkJobChunk.objects.filter(job_id=job_id, status=ChunkStatus.PENDING)
        queued[job_id] = enqueue_chunks(pending.order_by("number").values_list("id", flat=True))
    return queued


# ---------------------------------------------------------------------------- imports


@dataclass(frozen=True)
class _Refusal:
    row_number: int
    code: str
    message: str
    value: str = ""
    learner_id: int | None = None


def answer_sheets_import(*, quiz: Quiz, user: Any, data: bytes, filename: str) -> BulkJob:
    """Import an uploaded answer sheet into ``quiz`` and score it in bulk.

    SheetRefused refuses the whole file (nothing is created). Otherwise every learner
    named by a good row gets a new submitted attempt holding all of the quiz's
    exercises (unanswered ones score nothing, as on paper), bad rows become refused
    rows in the job's report, and the responses are scored by the job.
    """
    checked = csv_import.check_sheet(csv_import.read_sheet(data))
    digest = hashlib.sha256(data).hexdigest()
    earlier = (
        BulkJob.objects.filter(kind=BulkJobKind.CSV_IMPORT, scope__quiz=quiz.pk)
        .exclude(status=BulkJobStatus.CANCELLED)
        .filter(scope_key=_scope_key(BulkJobKind.CSV_IMPORT, {"quiz": quiz.pk, "sha256": digest}))
        .first()
    )
    if earlier is not None:
        raise AlreadyImported(earlier)
    items = quiz_items_numbered(quiz=quiz)
    learners = _assigned_learners(quiz=quiz, user=user)
    refusals = [_Refusal(p.row_number, p.code, p.message, p.value) for p in checked.problems]
    grouped: dict[tuple[int, int], list[csv_import.CodeLine]] = defaultdict(list)
    for line in checked.lines:
        learner = learners.get(line.learner.lower())
        if learner is None:
            refusals.append(
                _Refusal(
                    line.row_number,
                    "unknown_learner",
                    "No learner with this username is assigned to the quiz.",
                    line.learner,
                )
            )
        elif line.exercise > len(items):
            refusals.append(
                _Refusal(
                    line.row_number,
                    "unknown_exercise",
                    f"The quiz has {len(items)} exercises.",
                    str(line.exercise),
                    learner.pk,
                )
            )
        else:
            grouped[(learner.pk, line.exercise)].append(line)
    answers: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for (learner_id, number), lines in grouped.items():
        item = items[number - 1]
        answer = csv_import.answer_from_lines(item.exercise_type, lines)
        if isinstance(answer, csv_import.RowProblem):
            refusals.append(
                _Refusal(answer.row_number, answer.code, answer.message, answer.value, learner_id)
            )
            continue
        answers[learner_id][item.pk] = clean_answer(item.exercise_type, answer)
    with transaction.atomic():
        response_ids = _create_offline_attempts(quiz=quiz, items=items, answers=answers)
        job = _job_begin(
            kind=BulkJobKind.CSV_IMPORT,
            user=user,
            scope={
                "quiz": quiz.pk,
                "sha256": digest,
                "file": filename[:200],
                "response_ids": response_ids,
            },
            dry_run=False,
            report={
                "rows": checked.rows,
                "rows_refused": len(refusals),
                "learners": len(answers),
            },
        )
        BulkJobChange.objects.bulk_create(
            BulkJobChange(
                job=job,
                outcome=ChangeOutcome.REFUSED_ROW,
                row_number=refusal.row_number,
                learner_id=refusal.learner_id,
                reason_code=refusal.code,
                reason=refusal.message,
                raw=refusal.value,
            )
            for refusal in sorted(refusals, key=lambda r: r.row_number)
        )
    return job


def _assigned_learners(*, quiz: Quiz, user: Any) -> dict[str, Any]:
    """Learners assigned to the quiz, by lower-cased username; an employer reaches only
    learners of their organisation (or of none)."""
    from django.contrib.auth import get_user_model

    learners = get_user_model().objects.filter(
        pk__in=Assignment.objects.filter(quiz=quiz).values("student_id")
    )
    organisation = _organisation_of(user)
    if organisation is not None:
        learners = learners.filter(Q(organisation_id=organisation) | Q(organisation__isnull=True))
    return {learner.username.lower(): learner for learner in learners}


def _create_offline_attempts(
    *, quiz: Quiz, items: Sequence[QuizItem], answers: Mapping[int, Mapping[int, dict[str, Any]]]
) -> list[int]:
    """One submitted attempt per learner, every exercise answered or left blank."""
    if not answers:
        return []
    now = timezone.now()
    numbers = dict(
        Attempt.objects.filter(quiz=quiz, user_id__in=list(answers))
        .values("user_id")
        .annotate(last=Max("number"))
        .values_list("user_id", "last")
    )
    item_ids = [item.pk for item in items]
    attempts = Attempt.objects.bulk_create(
        Attempt(
            quiz=quiz,
            user_id=learner_id,
            number=numbers.get(learner_id, 0) + 1,
            seed=attempt_seed(
                quiz_id=quiz.pk, user_id=learner_id, number=numbers.get(learner_id, 0) + 1
            ),
            item_ids=item_ids,
            status=AttemptStatus.SUBMITTED,
            started_at=now,
            finished_at=now,
        )
        for learner_id in answers
    )
    responses = Response.objects.bulk_create(
        Response(attempt=attempt, item_id=item_id, answer=answers[attempt.user_id].get(item_id, {}))
        for attempt in attempts
        for item_id in item_ids
    )
    return [response.pk for response in responses]


# ---------------------------------------------------------------------------- releases


def release_invalidated_keys(*, release: Release) -> list[dict[str, Any]]:
    """Answer-key codes of ``release``'s family that it no longer accepts: deleted
    codes, and codes that are no longer billable because they were expanded into
    children (headers). ``in_window`` says whether the encounter's date of service
    falls in the release, i.e. whether grading is affected right away."""
    system = System(release.system)
    wanted: list[tuple[Encounter, str, str]] = []
    for encounter in Encounter.objects.only("id", "slug", "key", "date_of_service"):
        for line, code in _key_codes(encounter.key, system):
            wanted.append((encounter, line, canonical(code, system)))
    codes = {code for _, _, code in wanted}
    previous = (
        Release.objects.filter(system=release.system, effective_from__lt=release.effective_from)
        .order_by("-effective_from", "-id")
        .first()
    )
    now_billable = dict(
        Code.objects.filter(release=release, code__in=codes).values_list("code", "billable")
    )
    before_billable = (
        dict(Code.objects.filter(release=previous, code__in=codes).values_list("code", "billable"))
        if previous is not None
        else {}
    )
    found = []
    for encounter, line, code in wanted:
        if code not in now_billable:
            reason = "deleted" if code in before_billable else "unknown"
        elif not now_billable[code]:
            reason = "became_header" if before_billable.get(code) else "not_billable"
        else:
            continue
        in_window = release.effective_from <= encounter.date_of_service and (
            release.effective_to is None or encounter.date_of_service <= release.effective_to
        )
        found.append(
            {
                "encounter": encounter.slug,
                "line": line,
                "code": code,
                "reason": reason,
                "in_window": in_window,
            }
        )
    return found


def _key_codes(key: Mapping[str, Any], system: System) -> Iterable[tuple[str, str]]:
    lines = key.get("diagnoses", ()) if system is System.ICD10CM else key.get("procedures", ())
    label = "dx" if system is System.ICD10CM else "proc"
    for index, line in enumerate(lines, start=1):
        for code in (line.get("code", ""), *line.get("alternatives", ())):
            if code and has_shape(str(code), system):
                yield f"{label}{index}", str(code)


# ---------------------------------------------------------------------------- scoring


class _WorkerCatalogs:
    """The in-memory catalogs a worker grades with, kept for the life of the process.

    A fingerprint of the release table (one small query per chunk) replaces them when a
    release is added or replaced, so a new import is never graded against the old
    catalog.

    A loaded catalog is millions of long-lived objects that the cyclic garbage
    collector would otherwise walk again and again while chunks allocate findings:
    measured, that costs a chunk about a third of its time. Once a catalog is loaded
    the collector is told to leave everything alive so far alone (``gc.freeze``);
    replaced catalogs are handed back to it (``gc.unfreeze``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fingerprint: tuple[Any, ...] | None = None
        self._catalogs = Catalogs(memory=True)

    def current(self) -> Catalogs:
        fingerprint = tuple(
            Release.objects.order_by("id").values_list(
                "id", "content_hash", "supplement_hash", "effective_from", "effective_to"
            )
        )
        with self._lock:
            if fingerprint != self._fingerprint:
                self._fingerprint = fingerprint
                self._catalogs = Catalogs(memory=True)
                gc.unfreeze()
            return self._catalogs


_worker_catalogs = _WorkerCatalogs()


@dataclass(frozen=True)
class ChunkOutcome:
    scored: int
    failed: int


def _differs(before: tuple[float, float, int], score: float, max_score: float) -> bool:
    return abs(before[0] - score) > _SAME or abs(before[1] - max_score) > _SAME


# A change row as a plain tuple in this column order: a chunk writes hundreds of them,
# and building model instances for each cost more than the insert.
_CHANGE_COLUMNS = (
    "job_id",
    "outcome",
    "learner_id",
    "response_id",
    "item_id",
    "before_score",
    "before_max",
    "after_score",
    "after_max",
    "reason_code",
    "reason",
    "raw",
)
_ChangeRow = tuple[
    int,
    str,
    int | None,
    int | None,
    int | None,
    float | None,
    float | None,
    float | None,
    float | None,
    str,
    str,
    str,
]


def _change(
    job_id: int,
    outcome: str,
    *,
    learner_id: int | None = None,
    response_id: int | None = None,
    item_id: int | None = None,
    before: tuple[float, float, int] | None = None,
    after: ItemGrade | None = None,
    reason_code: str = "",
    reason: str = "",
    raw: str = "",
) -> _ChangeRow:
    return (
        job_id,
        outcome,
        learner_id,
        response_id,
        item_id,
        before[0] if before else None,
        before[1] if before else None,
        after.score if after else None,
        after.max_score if after else None,
        reason_code,
        reason,
        raw,
    )


def _changes_insert(changes: Sequence[_ChangeRow]) -> None:
    """Change rows in one statement: COPY on PostgreSQL, a bulk insert elsewhere."""
    if not changes:
        return
    if connection.vendor != "postgresql":
        BulkJobChange.objects.bulk_create(
            BulkJobChange(**dict(zip(_CHANGE_COLUMNS, change, strict=True))) for change in changes
        )
        return
    statement = f"COPY {BulkJobChange._meta.db_table} ({', '.join(_CHANGE_COLUMNS)}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.copy(statement) as copy,
    ):
        for change in changes:
            copy.write_row(change)


class _AnyOfIds(Lookup):
    """``field = ANY(ids)``: hundreds of ids bound as ONE array parameter. With one
    placeholder per id, building and parsing the query costs more than running it."""

    lookup_name = "any_of_ids"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", (*params, list(self.rhs))


def _ids_in(field: str, ids: Iterable[int]) -> Q | _AnyOfIds:
    """A filter on ``field`` being one of ``ids``: an array on PostgreSQL, IN elsewhere."""
    if connection.vendor == "postgresql":
        return _AnyOfIds(F(field), list(ids))
    return Q(**{f"{field}__in": list(ids)})


def score_responses(*, job: BulkJob, response_ids: Sequence[int]) -> ChunkOutcome:
    """Score one chunk's responses for ``job``; the caller owns the transaction.

    Responses outside the job's reach are refused, never scored. A response that
    cannot be graded is recorded as failed and the others go on. A stored score of a
    newer key version is kept (checked here for the report, and again inside the
    upsert, which is what guarantees it).
    """
    write = not job.dry_run
    # The chunk's attempts are found by response id first and named in the read: with
    # only the reach filters to plan from, on tables whose statistics lag a bulk load,
    # the read went through every response of the quiz (25 ms a chunk of 500 in 100,000).
    attempt_ids = sorted(
        set(
            Response.objects.filter(_ids_in("pk", response_ids)).values_list(
                "attempt_id", flat=True
            )
        )
    )
    if write:
        # Lock the responses' attempts in id order (a few per chunk, where locking
        # every response cost more than scoring it): every writer of an attempt's
        # scores takes that lock, so the stored scores read below stay the stored
        # ones until this chunk writes.
        list(
            Attempt.objects.select_for_update()
            .filter(_ids_in("pk", attempt_ids))
            .order_by("pk")
            .values_list("pk")
        )
    rows = list(
        responses_in_reach(user=job.started_by, organisation_id=job.organisation_id)
        .filter(_ids_in("pk", response_ids), _ids_in("attempt__id", attempt_ids))
        .annotate(
            stored=FilteredRelation("scores", condition=Q(scores__rules_version=job.rules_version))
        )
        .order_by("attempt_id", "pk")
        .values_list(
            "id",
            "attempt_id",
            "item_id",
            "answer",
            "attempt__user_id",
            "stored__score",
            "stored__max_score",
            "stored__key_version",
        )
    )
    items = gradable_items(
        (row[2] for row in rows), prefer_encounter_key=job.kind == BulkJobKind.RESCORE_KEY
    )
    catalogs = _worker_catalogs.current()
    loaded = catalogs.loaded
    changes: list[_ChangeRow] = []
    graded: list[tuple[int, int, int, ItemGrade, tuple[float, float, int] | None]] = []
    score_rows: list[ScoreRow] = []
    failed = 0
    for response_id, _attempt, item_id, answer, learner_id, *stored_score in rows:
        item = items[item_id]
        try:
            if isinstance(item, str):
                raise ValueError(item)
            (grade,) = grade_responses([(item, answer)], catalogs=catalogs)
        except Exception as error:  # a row's failure is recorded; the chunk goes on
            failed += 1
            changes.append(
                _change(
                    job.pk,
                    ChangeOutcome.FAILED,
                    learner_id=learner_id,
                    response_id=response_id,
                    item_id=item_id,
                    reason_code="grading_error",
                    reason=f"{type(error).__name__}: {error}"[:1000],
                )
            )
            continue
        before = None if stored_score[0] is None else tuple(stored_score)
        if before is not None and before[2] > item.key_version:
            changes.append(
                _change(
                    job.pk,
                    ChangeOutcome.KEPT_NEWER,
                    learner_id=learner_id,
                    response_id=response_id,
                    item_id=item_id,
                    before=before,
                    after=grade,
                    reason_code="newer_key_version",
                    reason=f"A score for key version {before[2]} is kept; this chunk "
                    f"computed version {item.key_version}.",
                )
            )
            continue
        graded.append((response_id, learner_id, item_id, grade, before))
        score_rows.append(
            score_row(response_id=response_id, grade=grade, key_version=item.key_version)
        )
    if catalogs.loaded > loaded:
        # The catalogs loaded for this chunk live as long as the process (see above).
        gc.freeze()
    if write and score_rows:
        written = scores_upsert(
            score_rows, rules_version=job.rules_version, graded_at=timezone.now()
        )
        attempt_totals_refresh(
            attempt_ids={row[1] for row in rows}, rules_version=job.rules_version
        )
    else:
        written = {row.response_id for row in score_rows}
    for response_id, learner_id, item_id, grade, before in graded:
        if response_id not in written:
            # Another writer stored a newer key's score after the read above.
            changes.append(
                _change(
                    job.pk,
                    ChangeOutcome.KEPT_NEWER,
                    learner_id=learner_id,
                    response_id=response_id,
                    item_id=item_id,
                    before=before,
                    after=grade,
                    reason_code="newer_key_version",
                    reason="A score for a newer key version was stored meanwhile; it is kept.",
                )
            )
        elif before is None or _differs(before, grade.score, grade.max_score):
            changes.append(
                _change(
                    job.pk,
                    ChangeOutcome.CHANGED if before else ChangeOutcome.SCORED,
                    learner_id=learner_id,
                    response_id=response_id,
                    item_id=item_id,
                    before=before,
                    after=grade,
                )
            )
    refused = sorted(set(response_ids) - {row[0] for row in rows})
    changes.extend(
        _change(
            job.pk,
            ChangeOutcome.FAILED,
            reason_code="out_of_reach",
            reason="Not a submitted response within this job's reach.",
            raw=str(response_id),
        )
        for response_id in refused
    )
    _changes_insert(changes)
    return ChunkOutcome(scored=len(rows) - failed, failed=failed + len(refused))


# ---------------------------------------------------------------------------- running


def _count_run(chunk_id: int) -> int:
    BulkJobChunk.objects.filter(pk=chunk_id).update(runs=F("runs") + 1)
    return BulkJobChunk.objects.values_list("runs", flat=True).get(pk=chunk_id)


def bulk_chunk_run(*, chunk_id: int) -> str:
    """Score one chunk, exactly once however often it is delivered.

    Returns what happened: ``done``, ``already_finished``, ``skipped`` (job no longer
    running), ``gave_up`` (run too often) or ``missing``. Exceptions mean "try again".
    """
    chunk = BulkJobChunk.objects.select_related("job").filter(pk=chunk_id).first()
    if chunk is None:
        return "missing"
    if chunk.status != ChunkStatus.PENDING:
        return "already_finished"
    job = chunk.job
    if job.status != BulkJobStatus.RUNNING:
        BulkJobChunk.objects.filter(pk=chunk_id, status=ChunkStatus.PENDING).update(
            status=ChunkStatus.SKIPPED, finished_at=timezone.now()
        )
        return "skipped"
    runs = _count_run(chunk_id)
    if runs > MAX_CHUNK_RUNS:
        bulk_chunk_fail(
            chunk_id=chunk_id,
            reason=f"Gave up after {runs - 1} runs that did not finish (worker lost each time?).",
        )
        return "gave_up"
    with transaction.atomic():
        locked = BulkJobChunk.objects.select_for_update().get(pk=chunk_id)
        if locked.status != ChunkStatus.PENDING:
            return "already_finished"
        _inject_fault(locked, runs)
        _serial_plans_only()
        outcome = score_responses(job=job, response_ids=locked.response_ids)
        now = timezone.now()
        locked.status = ChunkStatus.DONE
        locked.finished_at = now
        locked.error = ""
        locked.save(update_fields=["status", "finished_at", "error"])
        # Last in the transaction: the job row is the one every chunk updates.
        BulkJob.objects.filter(pk=job.pk).update(
            done=F("done") + outcome.scored,
            failed=F("failed") + outcome.failed,
            chunks_done=F("chunks_done") + 1,
            progress_at=now,
        )
    _finish_if_complete(job.pk)
    return "done"


def _serial_plans_only() -> None:
    """No parallel query in a chunk's transaction (PostgreSQL). Its statements touch
    a thousand rows or so by key, but on tables whose statistics lag a bulk load the
    planner expected tens of thousands and started parallel workers, which cost more
    than the query; the job is parallel across chunks already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")


def bulk_chunk_fail(*, chunk_id: int, reason: str) -> None:
    """Mark a chunk failed after its retries, with its responses as failed rows; the
    job goes on with its other chunks and ends ``failed`` naming this one."""
    with transaction.atomic():
        chunk = BulkJobChunk.objects.select_for_update().filter(pk=chunk_id).first()
        if chunk is None or chunk.status != ChunkStatus.PENDING:
            return
        now = timezone.now()
        chunk.status = ChunkStatus.FAILED
        chunk.error = reason[:2000]
        chunk.finished_at = now
        chunk.save(update_fields=["status", "error", "finished_at"])
        learners = dict(
            Response.objects.filter(pk__in=chunk.response_ids).values_list("id", "attempt__user_id")
        )
        BulkJobChange.objects.bulk_create(
            BulkJobChange(
                job_id=chunk.job_id,
                outcome=ChangeOutcome.FAILED,
                response_id=response_id if response_id in learners else None,
                learner_id=learners.get(response_id),
                reason_code="chunk_failed",
                reason=f"Chunk {chunk.number} (id {chunk.pk}) failed: {reason}"[:1000],
                raw=str(response_id),
            )
            for response_id in chunk.response_ids
        )
        BulkJob.objects.filter(pk=chunk.job_id).update(
            failed=F("failed") + len(chunk.response_ids),
            chunks_failed=F("chunks_failed") + 1,
            progress_at=now,
        )
    _finish_if_complete(chunk.job_id)


def _finish_if_complete(job_id: int) -> None:
    complete = BulkJob.objects.filter(
        pk=job_id,
        status=BulkJobStatus.RUNNING,
        chunks_total__lte=F("chunks_done") + F("chunks_failed"),
    )
    if not complete.exists():
        return
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job_id)
        if job.status != BulkJobStatus.RUNNING:
            return
        failures = list(
            job.chunks.filter(status=ChunkStatus.FAILED)
            .order_by("number")
            .values_list("id", "number", "error")
        )
        job.status = BulkJobStatus.FAILED if failures else BulkJobStatus.SUCCEEDED
        job.error_summary = "\n".join(
            f"Chunk {number} (id {chunk_id}): {error}" for chunk_id, number, error in failures
        )
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error_summary", "finished_at"])


# ---------------------------------------------------------------------------- faults


def _inject_fault(chunk: BulkJobChunk, runs: int) -> None:
    """Fault injection for the integration tests and drills, off unless the worker's
    environment sets ``BULK_FAULT_INJECT``; the errors are real database errors.

    Directives, separated by ``;``: ``db_error=N:K`` makes chunk number N raise a
    database error on its first K runs (``K`` = ``*``: on every run, a poison chunk);
    ``delay_ms=M`` slows every chunk by M milliseconds.
    """
    spec = os.environ.get("BULK_FAULT_INJECT", "")
    if not spec:
        return
    for directive in filter(None, (part.strip() for part in spec.split(";"))):
        name, _, value = directive.partition("=")
        if name == "delay_ms":
            time.sleep(int(value) / 1000)
        elif name == "db_error":
            number, _, times = value.partition(":")
            if int(number) == chunk.number and (times == "*" or runs <= int(times)):
                _raise_real_database_error()


def _raise_real_database_error() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A statement timeout cancels the query: psycopg raises QueryCanceled,
            # which Django surfaces as OperationalError, as for a real overload.
            cursor.execute("SET LOCAL statement_timeout = 1")
            cursor.execute("SELECT pg_sleep(0.2)")
        else:
            cursor.execute("SELECT * FROM bulk_fault_injected_missing_table")
