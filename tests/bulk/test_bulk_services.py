"""Bulk scoring services, run in-process (the embedded default without a broker)."""

from __future__ import annotations

import pytest

from coding_course.accounts.errors import NotFound
from quizzes import errors
from quizzes.bulk import services
from quizzes.grading.policy import RULES_VERSION
from quizzes.models import (
    Attempt,
    BulkJob,
    BulkJobChange,
    BulkJobChunk,
    BulkJobKind,
    BulkJobStatus,
    ChangeOutcome,
    ChunkStatus,
    Score,
)
from tests.bulk.world import build_world
from tests.factories import EmployerFactory, InstructorFactory, OrganisationFactory


def _start(capture, **kwargs):
    with capture(execute=True):
        job = services.bulk_job_start(**kwargs)
    job.refresh_from_db()
    return job


def _world_scores(world):
    return Score.objects.filter(response_id__in=world.response_ids, rules_version=RULES_VERSION)


@pytest.mark.parametrize(
    ("pairs", "size", "expected"),
    [
        ([], 3, []),
        ([(1, 10), (1, 11), (2, 12), (2, 13)], 3, [[10, 11, 12, 13]]),
        ([(1, 10), (1, 11), (1, 12), (2, 13)], 3, [[10, 11, 12], [13]]),
        # One attempt longer than twice the size is split rather than kept whole.
        ([(1, n) for n in range(7)], 3, [[0, 1, 2, 3, 4, 5], [6]]),
        ([(1, 1), (2, 2), (3, 3), (4, 4)], 2, [[1, 2], [3, 4]]),
    ],
)
def test_chunks_are_cut_at_attempt_boundaries(pairs, size, expected):
    assert services.chunk_response_ids(pairs, size) == expected


def test_cohort_scoring_scores_every_response_once_with_the_synchronous_totals(
    world, instructor, django_capture_on_commit_callbacks
):
    job = _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.COHORT,
        user=instructor,
        scope={"quiz": world.quiz.pk},
    )
    assert job.status == BulkJobStatus.SUCCEEDED
    assert (job.total, job.done, job.failed) == (20, 20, 0)
    assert job.chunks_total == job.chunks_done == 5
    scores = _world_scores(world)
    assert scores.count() == len(world.response_ids)
    total, maximum = world.expected_totals()
    assert sum(s.score for s in scores) == pytest.approx(total)
    assert sum(s.max_score for s in scores) == pytest.approx(maximum)
    assert all(s.releases.get("ICD-10-CM") == "2026-04" for s in scores)
    # Attempt totals follow the scores.
    attempt = Attempt.objects.get(pk=world.attempt_ids[0])
    mine = scores.filter(response__attempt=attempt)
    assert attempt.score == pytest.approx(sum(s.score for s in mine))
    # Every response was new: one "scored" row each.
    assert job.changes.filter(outcome=ChangeOutcome.SCORED).count() == 20


def test_a_second_run_changes_no_score_and_records_no_change(
    world, instructor, django_capture_on_commit_callbacks
):
    scope = {"quiz": world.quiz.pk}
    _start(
        django_capture_on_commit_callbacks, kind=BulkJobKind.COHORT, user=instructor, scope=scope
    )
    first = {s.response_id: (s.score, s.max_score) for s in _world_scores(world)}
    again = _start(
        django_capture_on_commit_callbacks, kind=BulkJobKind.COHORT, user=instructor, scope=scope
    )
    assert again.status == BulkJobStatus.SUCCEEDED
    assert {s.response_id: (s.score, s.max_score) for s in _world_scores(world)} == first
    assert again.changes.count() == 0


def test_a_chunk_delivered_again_after_it_finished_does_nothing(
    world, instructor, django_capture_on_commit_callbacks
):
    job = _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.COHORT,
        user=instructor,
        scope={"quiz": world.quiz.pk},
    )
    chunk = job.chunks.first()
    before = list(_world_scores(world).values_list("id", "graded_at"))
    assert services.bulk_chunk_run(chunk_id=chunk.pk) == "already_finished"
    job.refresh_from_db()
    assert (job.done, job.chunks_done) == (20, 5)
    assert list(_world_scores(world).values_list("id", "graded_at")) == before


def _change_key(encounter):
    """A new key version: the first diagnosis becomes another billable code."""
    key = dict(encounter.key)
    diagnoses = [dict(line) for line in key["diagnoses"]]
    diagnoses[0]["code"] = "R69"
    key["diagnoses"] = diagnoses
    encounter.key = key
    encounter.key_version += 1
    encounter.save()


def test_dry_run_reports_per_learner_changes_and_apply_writes_them(
    world, instructor, django_capture_on_commit_callbacks
):
    from quizzes.bulk.selectors import bulk_job_learner_changes

    _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.COHORT,
        user=instructor,
        scope={"quiz": world.quiz.pk},
    )
    item = world.items[0]
    _change_key(item.encounter)
    before = {s.response_id: s.score for s in _world_scores(world)}

    dry = _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.RESCORE_KEY,
        user=instructor,
        scope={"item": item.pk},
        dry_run=True,
    )
    assert dry.status == BulkJobStatus.SUCCEEDED
    assert dry.dry_run
    # Nothing written: scores and the exercise's key are as they were.
    assert {s.response_id: s.score for s in _world_scores(world)} == before
    item.refresh_from_db()
    assert item.key_version == 1
    changed = list(dry.changes.filter(outcome=ChangeOutcome.CHANGED))
    assert changed, "the new key must change some scores"
    assert all(c.before_score == before[c.response_id] for c in changed)
    per_learner = bulk_job_learner_changes(job=dry)
    assert sum(row.responses for row in per_learner) == len(changed)
    assert {row.username for row in per_learner} <= {p.username for p in world.learners}

    with django_capture_on_commit_callbacks(execute=True):
        applied = services.bulk_job_apply(job=dry, by=instructor)
    applied.refresh_from_db()
    assert applied.confirms_id == dry.pk
    assert applied.status == BulkJobStatus.SUCCEEDED
    item.refresh_from_db()
    assert item.key_version == 2
    after = {s.response_id: s.score for s in _world_scores(world)}
    assert {c.response_id: c.after_score for c in changed} == {
        rid: after[rid] for rid in (c.response_id for c in changed)
    }
    assert all(s.key_version == 2 for s in _world_scores(world).filter(response__item=item))
    with pytest.raises(errors.NotApplicable):
        services.bulk_job_apply(job=dry, by=instructor)


def test_a_second_rescore_of_a_running_scope_is_refused(world, instructor):
    scope = {"quiz": world.quiz.pk}
    # Without capturing on-commit callbacks the first job's chunks never run: it stays
    # running, as it would while a worker is busy with it.
    first = services.bulk_job_start(kind=BulkJobKind.COHORT, user=instructor, scope=scope)
    assert first.status == BulkJobStatus.RUNNING
    with pytest.raises(errors.ScopeBusy) as refused:
        services.bulk_job_start(kind=BulkJobKind.COHORT, user=instructor, scope=scope)
    assert refused.value.running == first
    assert BulkJob.objects.filter(scope_key=first.scope_key).count() == 1
    # Another scope is not blocked.
    other = services.bulk_job_start(
        kind=BulkJobKind.RESCORE_KEY, user=instructor, scope={"item": world.items[0].pk}
    )
    assert other.status == BulkJobStatus.RUNNING


def test_cancel_skips_pending_chunks_and_frees_the_scope(world, instructor):
    scope = {"quiz": world.quiz.pk}
    job = services.bulk_job_start(kind=BulkJobKind.COHORT, user=instructor, scope=scope)
    first_chunk = job.chunks.order_by("number").first()
    assert services.bulk_chunk_run(chunk_id=first_chunk.pk) == "done"
    services.bulk_job_cancel(job=job, by=instructor)
    job.refresh_from_db()
    assert job.status == BulkJobStatus.CANCELLED
    assert job.finished_at is not None
    statuses = list(job.chunks.order_by("number").values_list("status", flat=True))
    assert statuses == [ChunkStatus.DONE] + [ChunkStatus.SKIPPED] * 4
    # A late delivery of a skipped chunk scores nothing.
    last = job.chunks.order_by("number").last()
    assert services.bulk_chunk_run(chunk_id=last.pk) == "already_finished"
    assert _world_scores(world).count() == len(first_chunk.response_ids)
    # The scope is free again.
    assert services.bulk_job_start(kind=BulkJobKind.COHORT, user=instructor, scope=scope)


def test_a_score_of_a_newer_key_is_never_replaced_by_an_older_one(
    world, instructor, django_capture_on_commit_callbacks
):
    _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.COHORT,
        user=instructor,
        scope={"quiz": world.quiz.pk},
    )
    item = world.items[0]
    newer = _world_scores(world).filter(response__item=item)
    newer.update(key_version=5, score=-1.0)
    job = _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.RESCORE_KEY,
        user=instructor,
        scope={"item": item.pk},
    )
    assert job.status == BulkJobStatus.SUCCEEDED
    assert set(newer.values_list("score", "key_version")) == {(-1.0, 5)}
    assert job.changes.filter(outcome=ChangeOutcome.KEPT_NEWER).count() == newer.count()


def test_a_transient_database_error_is_retried_and_the_job_recovers(
    world, instructor, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setenv("BULK_FAULT_INJECT", "db_error=2:2")
    job = _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.COHORT,
        user=instructor,
        scope={"quiz": world.quiz.pk},
    )
    assert job.status == BulkJobStatus.SUCCEEDED
    assert job.chunks.get(number=2).runs == 3
    assert _world_scores(world).count() == len(world.response_ids)


def test_a_poison_chunk_fails_the_job_with_its_id_while_the_others_complete(
    world, instructor, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setenv("BULK_FAULT_INJECT", "db_error=3:*")
    job = _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.COHORT,
        user=instructor,
        scope={"quiz": world.quiz.pk},
    )
    poison = job.chunks.get(number=3)
    assert job.status == BulkJobStatus.FAILED
    assert poison.status == ChunkStatus.FAILED
    assert poison.runs == 6
    assert f"Chunk 3 (id {poison.pk})" in job.error_summary
    assert (job.chunks_done, job.chunks_failed) == (4, 1)
    assert job.failed == len(poison.response_ids)
    scored = set(_world_scores(world).values_list("response_id", flat=True))
    assert scored == set(world.response_ids) - set(poison.response_ids)
    failed_rows = job.changes.filter(outcome=ChangeOutcome.FAILED, reason_code="chunk_failed")
    assert set(failed_rows.values_list("response_id", flat=True)) == set(poison.response_ids)


def test_a_chunk_that_keeps_dying_is_given_up_after_the_run_cap(world, instructor):
    job = services.bulk_job_start(
        kind=BulkJobKind.COHORT, user=instructor, scope={"quiz": world.quiz.pk}
    )
    chunk = job.chunks.first()
    BulkJobChunk.objects.filter(pk=chunk.pk).update(runs=services.MAX_CHUNK_RUNS)
    assert services.bulk_chunk_run(chunk_id=chunk.pk) == "gave_up"
    chunk.refresh_from_db()
    assert chunk.status == ChunkStatus.FAILED
    assert "Gave up" in chunk.error


def test_a_failing_row_is_recorded_and_the_others_are_scored(
    world, instructor, django_capture_on_commit_callbacks
):
    from quizzes.models import Response

    broken = world.response_ids[1]
    # Units that are not a number cannot be read by the grader.
    Response.objects.filter(pk=broken).update(
        answer={"procedures": [{"code": "99213", "units": "many"}]}
    )
    job = _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.COHORT,
        user=instructor,
        scope={"quiz": world.quiz.pk},
    )
    assert job.status == BulkJobStatus.SUCCEEDED
    assert (job.done, job.failed) == (19, 1)
    row = job.changes.get(outcome=ChangeOutcome.FAILED)
    assert row.response_id == broken
    assert row.reason_code == "grading_error"


def test_a_chunk_handed_another_organisations_responses_refuses_them(
    encounters, small_chunks, django_capture_on_commit_callbacks
):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    employer_a = EmployerFactory(organisation=org_a)
    employer_b = EmployerFactory(organisation=org_b)
    world_a = build_world(
        owner=employer_a,
        encounters=encounters[:2],
        learners=2,
        prefix="a",
        organisation_id=org_a.pk,
    )
    world_b = build_world(
        owner=employer_b,
        encounters=encounters[:2],
        learners=2,
        prefix="b",
        organisation_id=org_b.pk,
    )
    job = services.bulk_job_start(
        kind=BulkJobKind.COHORT, user=employer_a, scope={"quiz": world_a.quiz.pk}
    )
    assert job.organisation_id == org_a.pk
    # A chunk forged to carry B's responses under A's job.
    forged = BulkJobChunk.objects.create(job=job, number=99, response_ids=world_b.response_ids[:3])
    BulkJob.objects.filter(pk=job.pk).update(chunks_total=job.chunks_total + 1)
    assert services.bulk_chunk_run(chunk_id=forged.pk) == "done"
    assert not Score.objects.filter(response_id__in=world_b.response_ids).exists()
    refused = BulkJobChange.objects.filter(job=job, reason_code="out_of_reach")
    assert sorted(int(r) for r in refused.values_list("raw", flat=True)) == sorted(
        world_b.response_ids[:3]
    )
    # And B's quiz cannot be named as A's scope at all.
    with pytest.raises(NotFound):
        services.bulk_job_start(
            kind=BulkJobKind.COHORT, user=employer_a, scope={"quiz": world_b.quiz.pk}
        )


def test_an_instructor_cannot_rescore_another_instructors_quiz(world):
    with pytest.raises(NotFound):
        services.bulk_job_start(
            kind=BulkJobKind.COHORT, user=InstructorFactory(), scope={"quiz": world.quiz.pk}
        )


def test_rescore_under_old_rules_scores_the_current_version_and_keeps_the_old(
    world, instructor, django_capture_on_commit_callbacks
):
    Score.objects.bulk_create(
        Score(response_id=rid, rules_version="0.9", score=0, max_score=1, percent=0)
        for rid in world.response_ids[:8]
    )
    with pytest.raises(errors.InvalidScope):
        services.bulk_job_start(
            kind=BulkJobKind.RESCORE_RULES, user=instructor, scope={"rules_version": RULES_VERSION}
        )
    job = _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.RESCORE_RULES,
        user=instructor,
        scope={"rules_version": "0.9"},
    )
    assert job.total == 8
    assert job.status == BulkJobStatus.SUCCEEDED
    assert _world_scores(world).count() == 8
    assert Score.objects.filter(rules_version="0.9").count() == 8


def test_a_new_release_rescores_other_release_scores_and_lists_invalidated_keys(
    world, instructor, django_capture_on_commit_callbacks
):
    import datetime as dt

    from codesets.models import Code, Release

    _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.COHORT,
        user=instructor,
        scope={"quiz": world.quiz.pk},
    )
    current = Release.objects.get(system="ICD-10-CM", version="2026-04")
    key_code = world.items[0].encounter.key["diagnoses"][0]["code"]
    newer = Release.objects.create(
        system="ICD-10-CM",
        version="2026-10-test",
        effective_from=dt.date(2026, 10, 1),
        source="test",
        content_hash="x",
    )
    kept = Code.objects.filter(release=current).exclude(code=key_code)[:50]
    Code.objects.bulk_create(
        Code(
            release=newer,
            code=code.code,
            code_key=code.code_key,
            description=code.description,
            billable=code.billable,
            position=code.position,
        )
        for code in kept
    )
    job = _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.RESCORE_RELEASE,
        user=instructor,
        scope={"release": newer.pk},
    )
    # The world's encounters are dated before the new release: nothing to rescore, but
    # the deleted key code is listed.
    assert job.total == 0
    assert job.status == BulkJobStatus.SUCCEEDED
    listed = [k for k in job.report["invalidated_keys"] if k["code"] == key_code]
    assert listed
    assert listed[0]["reason"] == "deleted"
    assert listed[0]["in_window"] is False
    # Scores that recorded another release of the same family, in the window, are found.
    _world_scores(world).filter(response_id__in=world.response_ids[:4]).update(
        releases={"ICD-10-CM": "2025-10"}
    )
    again = _start(
        django_capture_on_commit_callbacks,
        kind=BulkJobKind.RESCORE_RELEASE,
        user=instructor,
        scope={"release": current.pk},
    )
    assert again.total == 4
    assert again.done == 4
    assert set(
        _world_scores(world)
        .filter(response_id__in=world.response_ids[:4])
        .values_list("releases__ICD-10-CM", flat=True)
    ) == {"2026-04"}


def test_requeue_sends_the_pending_chunks_of_running_jobs_again(
    world, instructor, django_capture_on_commit_callbacks
):
    job = services.bulk_job_start(
        kind=BulkJobKind.COHORT, user=instructor, scope={"quiz": world.quiz.pk}
    )
    # The broker lost every message: nothing ran. Recovery queues them again.
    queued = services.bulk_jobs_requeue()
    assert queued == {job.pk: 5}
    job.refresh_from_db()
    assert job.status == BulkJobStatus.SUCCEEDED
    assert _world_scores(world).count() == len(world.response_ids)
