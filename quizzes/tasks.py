"""Celery tasks: bulk scoring (routed to the ``bulk_scoring`` queue by name) and the
periodic close of attempts whose time is up.

A task takes ids and calls one service, and is safe to run twice. The chunk task
acknowledges late and is rejected back to the queue when its worker process dies, so a
killed worker loses nothing; the service counts runs and fails a chunk that keeps
dying. Any exception is retried with exponential backoff and jitter; after the last
retry the chunk is marked failed and the job goes on with its other chunks.

Broker data can also be lost outright (Redis restarted without persistence). The
database knows every pending chunk, so each worker requeues them whenever it
(re)connects to the broker (:class:`RequeuePendingChunks`, added to the worker by
``coding_course.celery``), unless the setting ``BULK_RECOVER_ON_CONNECT`` is false;
the beat schedule also requeues them every few minutes.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from celery import bootsteps, shared_task
from django.conf import settings
from django.db import connections
from django.utils import timezone

from quizzes.attempts.services import attempts_expire_due
from quizzes.bulk import services as bulk_services

logger = logging.getLogger(__name__)

MAX_RETRIES = 5


def retry_delay(retries: int) -> float:
    """Seconds before retry ``retries + 1``: doubling from the configured base, capped,
    with jitter so chunks that failed together do not retry together."""
    base = float(getattr(settings, "BULK_RETRY_BACKOFF_SECONDS", 1.0))
    return min(base * 2**retries, 60.0) * random.uniform(0.5, 1.0)


@shared_task(
    bind=True,
    name="quizzes.tasks.bulk_score_chunk",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def bulk_score_chunk_task(self: Any, chunk_id: int) -> str:
    """Score one chunk. Idempotent: a chunk already done is not scored again."""
    attempt = self.request.retries
    while True:
        try:
            return bulk_services.bulk_chunk_run(chunk_id=chunk_id)
        except Exception as error:
            if attempt >= self.max_retries:
                bulk_services.bulk_chunk_fail(
                    chunk_id=chunk_id,
                    reason=f"{type(error).__name__} after {attempt} retries: {error}",
                )
                return "failed"
            if not self.request.is_eager:
                raise self.retry(exc=error, countdown=retry_delay(attempt)) from error
            # In-process (no broker) Celery would propagate the retry as an error:
            # back off and try again here instead.
            time.sleep(retry_delay(attempt))
            attempt += 1


@shared_task(name="quizzes.tasks.bulk_jobs_requeue")
def bulk_jobs_requeue_task() -> dict[int, int]:
    """Requeue the pending chunks of running jobs (for a periodic schedule)."""
    return bulk_services.bulk_jobs_requeue()


@shared_task(name="quizzes.tasks.attempts_expire")
def attempts_expire_task() -> int:
    """Submit the attempts whose time is up (every minute, from the beat schedule).
    Idempotent: a submitted attempt is left as it is, so overlapping runs are harmless."""
    return attempts_expire_due(now=timezone.now())


class RequeuePendingChunks(bootsteps.StartStopStep):
    """On every broker connection (the first and each reconnection), queue again the
    pending chunks of running jobs: messages lost with the broker come back from the
    database. Chunks that were not lost run twice at worst, which changes nothing."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, consumer: Any) -> None:
        if not getattr(settings, "BULK_RECOVER_ON_CONNECT", True):
            return
        try:
            requeued = bulk_services.bulk_jobs_requeue()
        except Exception:
            logger.exception("could not requeue pending bulk chunks")
            return
        finally:
            # The worker's main process forks pool processes: keep no connection open.
            connections.close_all()
        if requeued:
            logger.warning("requeued pending bulk chunks: %s", requeued)
