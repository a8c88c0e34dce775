"""A real Celery worker process against a real Redis, for the integration tests."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.services import redis_url

ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict[str, str], queues: str = "default,bulk_scoring") -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "coding_course",
            "worker",
            "-Q",
            queues,
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@contextmanager
def celery_app_on(url: str) -> Iterator[str]:
    """Point the Celery app at a real Redis (tests default to in-process tasks), and
    back again on exit."""
    from coding_course.celery import app

    previous = {
        "broker_url": app.conf.broker_url,
        "result_backend": app.conf.result_backend,
        "task_always_eager": app.conf.task_always_eager,
    }
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    _reset_connections(app)
    try:
        yield url
    finally:
        app.conf.update(**previous)
        _reset_connections(app)


@pytest.fixture
def celery_broker(settings) -> Iterator[str]:
    with celery_app_on(redis_url()) as url:
        yield url


def _reset_connections(app) -> None:
    """Drop pools and the cached result backend built for the previous URLs."""
    # kombu keeps pools in a global registry keyed by connection: closing one would
    # poison that entry, so just forget it.
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture
def celery_worker_process(celery_broker) -> Iterator[subprocess.Popen]:
    env = {
        **os.environ,
        "REDIS_URL": celery_broker,
        "DJANGO_SETTINGS_MODULE": "coding_course.settings.local",
        "DEBUG": "false",
    }
    worker = start_worker(env)
    from coding_course.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            break
        if worker.poll() is not None:
            output = worker.stdout.read().decode() if worker.stdout else ""
            pytest.fail(f"the Celery worker exited early:\n{output}")
    else:
        worker.kill()
        pytest.fail("the Celery worker did not answer a ping within 60 s")
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.fixture(autouse=True)
def one_at_a_time() -> Iterator[None]:
    """Integration tests run one at a time on this machine, whichever xdist worker or
    pytest session runs them: their Celery workers share one Redis (a neighbour's worker
    would take this test's chunks, find no such chunk in its own database and
    acknowledge them), and one test restarts Redis. (xdist's loadgroup did not keep
    them on one worker here, so a file lock does.)"""
    path = Path(tempfile.gettempdir()) / "coding_course_integration.lock"
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
