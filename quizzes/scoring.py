"""Scoring: the one adapter from stored quiz rows to the pure grading entry and back.

Every path that grades goes through here: attempt submission, the practice check,
bulk rescoring and cohort scoring, answer-sheet imports, employer assessments and lesson
practice. It turns a stored item into a validated :class:`~quizzes.grading.exercises.Exercise`
(:func:`gradable_item`), chooses the catalog for each date of service once per batch
(:class:`Catalogs`), grades with :func:`~quizzes.grading.exercises.grade_exercise`, and
writes scores through one writer (:func:`scores_upsert`), which upserts on (response,
rules version), so writing the same score twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from codesets.adapters import DbCatalog, NotLoaded, memory_catalog
from codesets.domain.catalog import Catalog, InMemoryCatalog
from codesets.domain.systems import System
from codesets.models import Release
from codesets.selectors import ReleaseTable
from quizzes.grading.exercises import (
    Exercise,
    ExerciseSchemaError,
    ExerciseType,
    clean_answer,
    exercise_from_json,
    findings_before_review,
    grade_exercise,
)
from quizzes.grading.policy import RULES_VERSION
from quizzes.grading.types import Encounter as GradingEncounter
from quizzes.grading.types import Patient
from quizzes.models import Attempt, Encounter, QuizItem, Score, ScoreOverride

__all__ = [
    "SCORE_WRITTEN_FIELDS",
    "Catalogs",
    "GradableItem",
    "ItemGrade",
    "ScoreRow",
    "attempt_totals_refresh",
    "clean_answer",
    "findings_without_key",
    "gradable_item",
    "gradable_items",
    "grade_responses",
    "practice_choice_grade",
    "response_grade",
    "score_row",
    "scores_upsert",
]


@dataclass(frozen=True)
class ItemGrade:
    """A graded response: the numbers, the findings as stored JSON and the code-set
    release versions the grade used (by system)."""

    score: float
    max_score: float
    findings: list[dict[str, Any]] = field(default_factory=list)
    releases: dict[str, str] = field(default_factory=dict)

    @property
    def percent(self) -> float:
        if self.max_score <= 0:
            return 100.0
        return round(100.0 * self.score / self.max_score, 2)


@dataclass(frozen=True)
class GradableItem:
    """A stored item as grading needs it: the validated exercise, the encounter's facts
    and the key version the exercise was built from."""

    item_id: int
    exercise: Exercise
    encounter: GradingEncounter
    key_version: int


def grading_encounter(*, date_of_service: dt.date, age_years: int, sex: str) -> GradingEncounter:
    recorded = "F" if sex == "F" else "M" if sex == "M" else None
    return GradingEncounter(
        date_of_service=date_of_service, patient=Patient(age_years=age_years, sex=recorded)
    )


def gradable_item(item: QuizItem) -> GradableItem:
    """An item whose encounter is loaded (``select_related("encounter")``)."""
    encounter: Encounter = item.encounter
    return GradableItem(
        item_id=item.pk,
        exercise=exercise_from_json(item.exercise, exercise_type=item.exercise_type),
        encounter=grading_encounter(
            date_of_service=encounter.date_of_service,
            age_years=encounter.patient_age_years,
            sex=encounter.patient_sex,
        ),
        key_version=item.key_version,
    )


def gradable_items(
    item_ids: Iterable[int], *, prefer_encounter_key: bool = False
) -> dict[int, GradableItem | str]:
    """Items by id in one query; an item whose payload cannot be read maps to the reason.

    A rescore after a key change grades full coding against the encounter's newer key
    even before it is copied onto the item (a dry run), with that key's version.
    """
    rows = QuizItem.objects.filter(pk__in=set(item_ids)).values(
        "id",
        "exercise_type",
        "exercise",
        "key_version",
        "encounter__key",
        "encounter__key_version",
        "encounter__date_of_service",
        "encounter__patient_age_years",
        "encounter__patient_sex",
    )
    items: dict[int, GradableItem | str] = {}
    for row in rows:
        payload = row["exercise"]
        key_version = row["key_version"]
        newer = row["encounter__key_version"] > key_version
        if prefer_encounter_key and newer and row["exercise_type"] == ExerciseType.FULL_CODING:
            payload = {**payload, "answer": row["encounter__key"]}
            key_version = row["encounter__key_version"]
        try:
            exercise = exercise_from_json(payload, exercise_type=row["exercise_type"])
        except ExerciseSchemaError as error:
            items[row["id"]] = f"The exercise cannot be graded: {error}."
            continue
        items[row["id"]] = GradableItem(
            item_id=row["id"],
            exercise=exercise,
            encounter=grading_encounter(
                date_of_service=row["encounter__date_of_service"],
                age_years=row["encounter__patient_age_years"],
                sex=row["encounter__patient_sex"],
            ),
            key_version=key_version,
        )
    return items


def _codes_named(exercise: Exercise, answer: Mapping[str, Any]) -> set[str]:
    """Every code text an exercise and an answer name: what a prefetch must read."""
    codes: set[str] = set(exercise.choices) | set(exercise.order)
    if exercise.choice:
        codes.add(exercise.choice)
    if exercise.key is not None:
        for line in exercise.key.diagnoses:
            codes.update(line.accepted)
        for proc in exercise.key.procedures:
            codes.update(proc.accepted)
    for _, linked in exercise.links:
        codes.update(linked)
    for value in answer.values():
        if isinstance(value, str):
            codes.add(value)
        elif isinstance(value, list):
            for entry in value:
                if isinstance(entry, str):
                    codes.add(entry)
                elif isinstance(entry, Mapping):
                    codes.add(str(entry.get("code", "")))
    return {code for code in codes if code}


class Catalogs:
    """The catalog for each date of service, chosen once per batch of responses.

    One query reads the release table; each set of releases in force gets one catalog:
    the in-memory one when this process already holds it (or, with ``memory=True`` for
    bulk workers, loading it), else a database catalog into which :meth:`prepare` reads
    every code the batch names, and their ancestors, in one query.
    """

    def __init__(self, *, memory: bool = False) -> None:
        self._memory = memory
        self._table: ReleaseTable | None = None
        self._by_releases: dict[tuple[int, ...], Catalog] = {}

    @property
    def loaded(self) -> int:
        """How many sets of releases have a catalog here."""
        return len(self._by_releases)

    def _releases(self, day: dt.date) -> dict[System, Release]:
        if self._table is None:
            self._table = ReleaseTable.load()
        return self._table.in_force(day)

    def for_date(self, day: dt.date) -> Catalog:
        releases = self._releases(day)
        signature = tuple(release.pk for release in releases.values())
        catalog = self._by_releases.get(signature)
        if catalog is None:
            try:
                catalog = memory_catalog(releases, load=self._memory)
            except NotLoaded:
                catalog = DbCatalog(releases)
            self._by_releases[signature] = catalog
        return catalog

    def prepare(self, pairs: Iterable[tuple[GradableItem, Mapping[str, Any]]]) -> None:
        """Prefetch, per database catalog, every code the batch names."""
        wanted: dict[int, tuple[DbCatalog, set[str]]] = {}
        for item, answer in pairs:
            catalog = self.for_date(item.encounter.date_of_service)
            if isinstance(catalog, DbCatalog):
                codes = wanted.setdefault(id(catalog), (catalog, set()))[1]
                codes.update(_codes_named(item.exercise, answer))
        for catalog, codes in wanted.values():
            catalog.prefetch(codes)


def _item_grade(item: GradableItem, answer: Mapping[str, Any], catalogs: Catalogs) -> ItemGrade:
    result = grade_exercise(
        item.exercise,
        answer,
        encounter=item.encounter,
        catalog=catalogs.for_date(item.encounter.date_of_service),
    )
    return ItemGrade(
        score=result.score,
        max_score=result.max_score,
        findings=[finding.as_json() for finding in result.findings],
        releases=dict(result.releases),
    )


def grade_responses(
    pairs: Sequence[tuple[GradableItem, Mapping[str, Any]]], *, catalogs: Catalogs | None = None
) -> list[ItemGrade]:
    """Grade each (item, stored answer) pair, choosing catalogs once for the batch."""
    catalogs = catalogs or Catalogs()
    catalogs.prepare(pairs)
    return [_item_grade(item, answer, catalogs) for item, answer in pairs]


def response_grade(*, item: QuizItem, answer: Mapping[str, Any]) -> ItemGrade:
    """Grade one stored answer to one item (its encounter loaded)."""
    return grade_responses([(gradable_item(item), answer)])[0]


def practice_choice_grade(
    *,
    exercise_type: str,
    choices: Sequence[str],
    answer: str,
    chosen: str,
    date_of_service: dt.date | None,
) -> ItemGrade:
    """A lesson's single-choice practice item, graded like any quiz exercise (without a
    date of service, against no code set: the messages then quote bare codes)."""
    # "Which diagnosis is listed first" is a choice among codes, like a best-code item.
    as_type = ExerciseType.BEST_CODE if exercise_type == ExerciseType.SEQUENCING else exercise_type
    exercise = exercise_from_json({"type": as_type, "choices": list(choices), "answer": answer})
    given = clean_answer(exercise.type, {"value": chosen})
    if date_of_service is None:
        result = grade_exercise(
            exercise,
            given,
            encounter=GradingEncounter(date_of_service=dt.date.today()),
            catalog=InMemoryCatalog(),
        )
        findings = [finding.as_json() for finding in result.findings]
        return ItemGrade(result.score, result.max_score, findings, dict(result.releases))
    item = GradableItem(
        item_id=0,
        exercise=exercise,
        encounter=GradingEncounter(date_of_service=date_of_service),
        key_version=0,
    )
    return grade_responses([(item, given)])[0]


def findings_without_key(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Feedback for a learner before review is allowed (see ``findings_before_review``)."""
    return findings_before_review(list(findings))


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


# ---------------------------------------------------------------------------
# Attempt totals


def attempt_totals_refresh(
    *, attempt_ids: Iterable[int], rules_version: str = RULES_VERSION
) -> None:
    """Recompute attempts' totals from their scores under ``rules_version``, an
    instructor's latest override taking precedence: the sums in one aggregate query, one
    update. An attempt without scores totals 0 of 0 (100 %). Used after an override
    and by every bulk chunk; a chunk's caller holds the attempts' locks."""
    ids = sorted(set(attempt_ids))
    latest_override = ScoreOverride.objects.filter(response_id=OuterRef("response_id")).order_by(
        "-at", "-id"
    )
    sums = dict.fromkeys(ids, (0.0, 0.0))
    for attempt_id, total, maximum in (
        Score.objects.filter(response__attempt_id__in=ids, rules_version=rules_version)
        .values("response__attempt_id")
        .annotate(
            total=Sum(Coalesce(Subquery(latest_override.values("score")[:1]), F("score"))),
            maximum=Sum("max_score"),
        )
        .values_list("response__attempt_id", "total", "maximum")
    ):
        sums[attempt_id] = (total, maximum)
    Attempt.objects.bulk_update(
        [
            Attempt(
                pk=attempt_id,
                score=round(total, 4),
                max_score=round(maximum, 4),
                percent=round(100.0 * total / maximum, 2) if maximum else 100.0,
            )
            for attempt_id, (total, maximum) in sums.items()
        ],
        ["score", "max_score", "percent"],
    )
