"""Bulk scoring through a real Redis, real Celery worker processes and PostgreSQL.

One world of 10,000 submitted responses (200 learners x 50 full-coding exercises) is
built once with bulk inserts and committed, because the worker processes must see it;
each test deletes the scores, starts a cohort scoring job over the world and checks
the invariant: the job succeeded, exactly one score per response, and the summed
scores equal a synchronous recomputation through the in-process submit path.

Why ``available_apps``: a transactional test's flush would empty the code sets, and
re-importing them costs about 15 s a test. The flush is limited to the sessions table;
this module commits its own rows once and deletes them at the end instead.

The workers use ``tests.bulk.worker_settings`` (short visibility timeout, fast retry
backoff, switches for recovery and early acknowledgement) and a Redis database of
their own (11), so another run's worker never takes these tasks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.services import redis_url, require

# No wrapping transaction (the workers must see what a test writes), and the flush after
# each test touches only the sessions table: the world and the code sets stay.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, available_apps=["django.contrib.sessions"]),
]

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 200
EXERCISES = 50
RESPONSES = LEARNERS * EXERCISES
REDIS_DB = 11
# Restored after this many seconds when the worker holding them died.
VISIBILITY_TIMEOUT = 4


def _redis_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["redis-cli", "-p", "6379", *args], capture_output=True, text=True, timeout=10
    )


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def broker_url() -> Iterator[str]:
    """The Celery app pointed at a Redis database of this module's own."""
    from tests.integration.conftest import celery_app_on

    parts = urlsplit(redis_url())
    try:
        with celery_app_on(urlunsplit(parts._replace(path=f"/{REDIS_DB}"))) as url:
            yield url
    finally:
        _forget_dead_broker_connections()


@dataclass
class BulkWorld:
    owner: object
    quiz_id: int
    response_ids: list[int]
    expected_score: float
    expected_max: float
    database_url: str


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[BulkWorld]:
    """10,000 submitted responses, committed so that the workers see them."""
    with django_db_blocker.unblock():
        from django.db import connection

        require(
            connection.vendor == "postgresql",
            "the bulk integration tests need PostgreSQL (DATABASE_URL=postgres://...)",
        )
        from coding_course.accounts.models import Role, User
        from quizzes.encounters.services import encounter_library_load
        from quizzes.models import BulkJob, Quiz
        from tests.bulk.world import build_world, full_coding_encounters
        from tests.conftest import ensure_bundled_codesets

        ensure_bundled_codesets()
        encounter_library_load()
        owner = User.objects.create(username="bulk-integration-owner", role=Role.INSTRUCTOR)
        built = build_world(
            owner=owner,
            encounters=full_coding_encounters(EXERCISES),
            learners=LEARNERS,
            prefix="bulk-it",
        )
        assert len(built.response_ids) == RESPONSES
        score, maximum = built.expected_totals()
        settings = connection.settings_dict
        credentials = settings["USER"] + (
            f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
        )
        database_url = (
            f"postgres://{credentials}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
        try:
            yield BulkWorld(owner, built.quiz.pk, built.response_ids, score, maximum, database_url)
        finally:
            BulkJob.objects.filter(started_by=owner).delete()
            Quiz.objects.filter(pk=built.quiz.pk).delete()
            User.objects.filter(username__startswith="bulk-it-").delete()
            owner.delete()


@pytest.fixture
def fresh(world, broker_url) -> BulkWorld:
    """No scores and no running job for the world; an empty broker database."""
    from quizzes.models import BulkJob, BulkJobStatus, Score

    Score.objects.filter(response_id__in=world.response_ids).delete()
    BulkJob.objects.filter(started_by=world.owner, status=BulkJobStatus.RUNNING).update(
        status=BulkJobStatus.CANCELLED
    )
    import redis

    redis.Redis.from_url(broker_url).flushdb()
    return world


class Worker:
    """A ``celery worker`` process (two pool processes) in its own process group."""

    def __init__(self, world: BulkWorld, broker: str, **env: str) -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.bulk.worker_settings",
            "DATABASE_URL": world.database_url,
            "REDIS_URL": broker,
            "DEBUG": "false",
            "BULK_TEST_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        from coding_course.celery import app
        from tests.integration.conftest import _reset_connections

        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "coding_course",
                "worker",
                "-Q",
                "bulk_scoring",
                "--concurrency",
                "2",
                "--loglevel",
                "WARNING",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                f"bulk-it-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if app.control.ping(timeout=0.5):
                    return self
            except app.connection_for_write().connection_errors:
                # A pooled connection from before a Redis restart: drop it, retry.
                _reset_connections(app)
            if self.process.poll() is not None:
                pytest.fail("the Celery worker exited early")
        self.kill()
        pytest.fail("the Celery worker did not answer a ping within 60 s")

    def pool_children(self) -> list[int]:
        assert self.process is not None
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()
        return [int(pid) for pid in found]

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: no shutdown, no acknowledgement."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def workers(fresh, broker_url) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def _spawn(workers: list[Worker], world: BulkWorld, broker: str, **env: str) -> Worker:
    worker = Worker(world, broker, **env)
    # Listed before it starts, so that teardown stops it even if the start fails.
    workers.append(worker)
    return worker.start()


def _forget_dead_broker_connections() -> None:
    """After a Redis restart this process still holds sockets of the old server: the
    first broker call fails once on them (kombu then drops them), so make that call
    here rather than in the next test."""
    from coding_course.celery import app
    from tests.integration.conftest import _reset_connections

    _reset_connections(app)
    try:
        app.control.ping(timeout=0.2)
    except app.connection_for_write().connection_errors:
        pass
    _reset_connections(app)


# ---------------------------------------------------------------------------- harness


@dataclass(frozen=True)
class Outcome:
    """How a job ended: ``lost`` names the chunks still pending once the job stopped
    moving and the broker held no message for it (none queued, none unacknowledged)."""

    finished: bool
    status: str
    lost: list[int]
    seconds: float


def _broker_is_empty(broker: str) -> bool:
    import redis

    client = redis.Redis.from_url(broker)
    return client.llen("bulk_scoring") == 0 and client.zcard("unacked_index") == 0


def run_until_settled(job_id: int, broker: str, timeout: float, quiet: float = 12.0) -> Outcome:
    from quizzes.models import BulkJob, BulkJobStatus, ChunkStatus

    started = time.monotonic()
    last_progress = (-1, -1)
    last_change = started
    while time.monotonic() - started < timeout:
        job = BulkJob.objects.get(pk=job_id)
        if job.status != BulkJobStatus.RUNNING:
            return Outcome(True, job.status, [], time.monotonic() - started)
        progress = (job.chunks_done, job.chunks_failed)
        if progress != last_progress:
            last_progress, last_change = progress, time.monotonic()
        elif time.monotonic() - last_change > quiet and _broker_is_empty(broker):
            lost = list(
                job.chunks.filter(status=ChunkStatus.PENDING)
                .order_by("number")
                .values_list("number", flat=True)
            )
            return Outcome(False, job.status, lost, time.monotonic() - started)
        time.sleep(0.2)
    pytest.fail(f"job {job_id} neither finished nor settled within {timeout} s")


def _wait_for_chunks(job_id: int, done: int, timeout: float = 60) -> None:
    from quizzes.models import BulkJob

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if BulkJob.objects.get(pk=job_id).chunks_done >= done:
            return
        time.sleep(0.05)
    pytest.fail(f"job {job_id} did not reach {done} chunks within {timeout} s")


def _start_job(world: BulkWorld):
    from quizzes.bulk.services import bulk_job_start
    from quizzes.models import BulkJobKind

    return bulk_job_start(kind=BulkJobKind.COHORT, user=world.owner, scope={"quiz": world.quiz_id})


def assert_invariant(world: BulkWorld, job_id: int, outcome: Outcome) -> None:
    from django.db.models import Count, Sum

    from quizzes.grading.policy import RULES_VERSION
    from quizzes.models import BulkJob, BulkJobStatus, ChunkStatus, Score

    assert outcome.finished, f"lost chunks {outcome.lost}"
    job = BulkJob.objects.get(pk=job_id)
    assert job.status == BulkJobStatus.SUCCEEDED, job.error_summary
    assert (job.total, job.done, job.failed) == (RESPONSES, RESPONSES, 0)
    assert set(job.chunks.values_list("status", flat=True)) == {ChunkStatus.DONE}
    scores = Score.objects.filter(response_id__in=world.response_ids, rules_version=RULES_VERSION)
    summary = scores.aggregate(
        rows=Count("id"),
        responses=Count("response_id", distinct=True),
        score=Sum("score"),
        maximum=Sum("max_score"),
    )
    assert summary["rows"] == summary["responses"] == RESPONSES
    assert summary["score"] == pytest.approx(world.expected_score)
    assert summary["maximum"] == pytest.approx(world.expected_max)


# ---------------------------------------------------------------------------- tests


def test_a_10k_rescore_scores_each_response_once_with_the_synchronous_totals(
    fresh, workers, broker_url
):
    _spawn(workers, fresh, broker_url)
    job = _start_job(fresh)
    assert job.chunks_total >= 10
    outcome = run_until_settled(job.pk, broker_url, timeout=120)
    assert_invariant(fresh, job.pk, outcome)


def test_a_worker_killed_mid_job_loses_nothing(fresh, workers, broker_url):
    slow = {"BULK_FAULT_INJECT": "delay_ms=300", "BULK_TEST_RECOVER_ON_CONNECT": "0"}
    first = _spawn(workers, fresh, broker_url, **slow)
    job = _start_job(fresh)
    _wait_for_chunks(job.pk, 2)
    # One pool process killed: the task is rejected back to the queue (not acked).
    os.kill(first.pool_children()[0], signal.SIGKILL)
    _wait_for_chunks(job.pk, 5)
    # The whole worker killed: its unacknowledged messages return after the
    # visibility timeout, to a new worker.
    first.kill()
    from quizzes.models import BulkJob

    assert BulkJob.objects.get(pk=job.pk).chunks_done < job.chunks_total
    _spawn(workers, fresh, broker_url, **slow)
    outcome = run_until_settled(job.pk, broker_url, timeout=150)
    assert_invariant(fresh, job.pk, outcome)
    # Chunks killed mid-run were run again, and counted once.
    assert max(BulkJob.objects.get(pk=job.pk).chunks.values_list("runs", flat=True)) >= 2


def test_negative_control_early_acknowledgement_loses_a_chunk_the_harness_detects(
    fresh, workers, broker_url
):
    from quizzes.bulk.services import bulk_job_cancel

    early = {
        "BULK_FAULT_INJECT": "delay_ms=300",
        "BULK_TEST_RECOVER_ON_CONNECT": "0",
        "BULK_TEST_EARLY_ACK": "1",
    }
    first = _spawn(workers, fresh, broker_url, **early)
    job = _start_job(fresh)
    _wait_for_chunks(job.pk, 4)
    first.kill()
    _spawn(workers, fresh, broker_url, **early)
    outcome = run_until_settled(job.pk, broker_url, timeout=150)
    assert not outcome.finished
    assert outcome.lost, "early acknowledgement plus a killed worker must lose a chunk"
    bulk_job_cancel(job=job, by=fresh.owner)


def test_chunks_delivered_twice_change_nothing(fresh, workers, broker_url):
    from coding_course.celery import app
    from quizzes.bulk.services import enqueue_chunks
    from quizzes.models import BulkJob, Score

    _spawn(workers, fresh, broker_url)
    job = _start_job(fresh)
    chunk_ids = list(job.chunks.order_by("number").values_list("id", flat=True))
    # Every chunk is now in the queue twice, as after a visibility-timeout redelivery.
    enqueue_chunks(chunk_ids)
    outcome = run_until_settled(job.pk, broker_url, timeout=120)
    assert_invariant(fresh, job.pk, outcome)
    snapshot = list(
        Score.objects.filter(response_id__in=fresh.response_ids)
        .order_by("id")
        .values_list("id", "score", "graded_at")
    )
    # A third delivery after the job finished.
    again = app.send_task("quizzes.tasks.bulk_score_chunk", args=[chunk_ids[0]])
    assert again.get(timeout=30) == "already_finished"
    assert (
        list(
            Score.objects.filter(response_id__in=fresh.response_ids)
            .order_by("id")
            .values_list("id", "score", "graded_at")
        )
        == snapshot
    )
    job = BulkJob.objects.get(pk=job.pk)
    assert (job.done, job.chunks_done) == (RESPONSES, job.chunks_total)


def test_an_injected_database_error_is_retried_and_recovered(fresh, workers, broker_url):
    # Chunk 3 meets a real PostgreSQL error (statement timeout) on its first two runs.
    _spawn(workers, fresh, broker_url, BULK_FAULT_INJECT="db_error=3:2")
    job = _start_job(fresh)
    outcome = run_until_settled(job.pk, broker_url, timeout=120)
    assert_invariant(fresh, job.pk, outcome)
    assert job.chunks.get(number=3).runs == 3


def test_redis_restarted_mid_job_and_the_job_completes(fresh, workers, broker_url):
    require(_redis_cli("ping").stdout.strip() == "PONG", "redis-cli cannot reach Redis")
    _spawn(workers, fresh, broker_url, BULK_FAULT_INJECT="delay_ms=300")
    job = _start_job(fresh)
    _wait_for_chunks(job.pk, 3)
    # Without persistence every queued message is gone with the restart; the workers
    # requeue the pending chunks from the database when they reconnect.
    _redis_cli("shutdown", "nosave")
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/ci.log",
        ],
        check=True,
        timeout=20,
    )
    deadline = time.monotonic() + 30
    while _redis_cli("ping").stdout.strip() != "PONG":
        assert time.monotonic() < deadline, "Redis did not come back"
        time.sleep(0.2)
    _forget_dead_broker_connections()
    outcome = run_until_settled(job.pk, broker_url, timeout=150, quiet=20)
    assert_invariant(fresh, job.pk, outcome)


def test_a_poison_chunk_fails_the_job_with_its_id_while_the_others_complete(
    fresh, workers, broker_url
):
    from quizzes.models import BulkJobStatus, ChunkStatus, Score

    _spawn(workers, fresh, broker_url, BULK_FAULT_INJECT="db_error=5:*")
    job = _start_job(fresh)
    outcome = run_until_settled(job.pk, broker_url, timeout=150)
    assert outcome.finished
    assert outcome.status == BulkJobStatus.FAILED
    job.refresh_from_db()
    poison = job.chunks.get(number=5)
    assert poison.status == ChunkStatus.FAILED
    assert poison.runs == 6  # the first run and five retries
    assert f"Chunk 5 (id {poison.pk})" in job.error_summary
    assert "OperationalError" in job.error_summary
    assert set(job.chunks.exclude(pk=poison.pk).values_list("status", flat=True)) == {
        ChunkStatus.DONE
    }
    scored = set(
        Score.objects.filter(response_id__in=fresh.response_ids).values_list(
            "response_id", flat=True
        )
    )
    assert scored == set(fresh.response_ids) - set(poison.response_ids)
    assert job.done == RESPONSES - len(poison.response_ids)
