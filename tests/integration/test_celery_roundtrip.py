from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration


def test_a_real_worker_completes_a_task_over_redis(celery_worker_process):
    from coding_course.tasks import health_ping

    token = uuid.uuid4().hex
    result = health_ping.apply_async(args=[token])
    assert result.get(timeout=30) == f"pong:{token}"
    # It really went through the broker and a worker, not in-process.
    assert result.backend.__class__.__name__ == "RedisBackend"


@pytest.mark.django_db
def test_healthz_sees_the_broker_and_the_worker(client, settings, celery_worker_process):
    settings.REDIS_URL = "redis://set-by-fixture"
    body = client.get("/healthz").json()
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["worker"]["workers"] >= 1
    assert body["status"] == "ok"
