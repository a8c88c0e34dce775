"""Bulk scoring throughput: the same responses scored three ways in one run.

1. ``in_memory``: the pure engine over answers already in memory, the catalog loaded
   (the limit: no database, no broker, no serialisation).
2. ``celery``: a cohort scoring job through Redis and a Celery worker with two pool
   processes, reading and writing PostgreSQL in chunks (bulk upserts), timed from the
   job's start to its last chunk; the workers are warmed up by a small job first so
   both have their catalog loaded, as the in-memory path has.
3. ``naive``: a per-response ORM loop (load the response, grade it through the
   in-process submit path, ``update_or_create`` its score) on a sample.

The script creates its own PostgreSQL database (``cc_bench_bulk``; dropped at the end),
imports the bundled code sets and the encounter library, and builds the world with
bulk inserts (not timed). Prints ONE JSON object with ``in_memory_per_s``,
``celery_per_s``, ``naive_per_s``, ``celery_vs_memory`` and ``celery_vs_naive``.

Run from the repository root with PostgreSQL and Redis up:
``.venv/bin/python benchmarks/bulk_scoring.py`` (``--learners 2000`` x 50 exercises
= 100,000 responses by default).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# The script runs from a checkout, not an installed package.
sys.path.insert(0, str(ROOT))

DATABASE = "cc_bench_bulk"
EXERCISES = 50


def _admin(server_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(server_url + "postgres", autocommit=True) as connection:
        connection.execute(statement)


def _configure(server_url: str, redis_base: str) -> dict[str, str]:
    """Environment for this process and the worker: our database, our Redis db."""
    parts = urlsplit(redis_base)
    redis = urlunsplit(parts._replace(path="/12"))
    env = {
        "DATABASE_URL": server_url + DATABASE,
        "REDIS_URL": redis,
        "DJANGO_SETTINGS_MODULE": "coding_course.settings.local",
        "DEBUG": "false",
        "LOG_LEVEL": "ERROR",
    }
    os.environ.update(env)
    return env


def _prepare(learners: int):
    from django.core.management import call_command

    from codesets.services import import_bundled
    from coding_course.accounts.models import Role, User
    from quizzes.encounters.services import encounter_library_load
    from tests.bulk.world import build_world, full_coding_encounters

    call_command("migrate", verbosity=0)
    import_bundled()
    encounter_library_load()
    owner = User.objects.create(username="bench-owner", role=Role.INSTRUCTOR)
    encounters = full_coding_encounters(EXERCISES)
    warmup = build_world(owner=owner, encounters=encounters, learners=30, prefix="warm")
    world = build_world(owner=owner, encounters=encounters, learners=learners, prefix="bench")
    return owner, warmup, world


def _in_memory(world) -> float:
    """The workers' grading work in one process: the scoring adapter grading every
    response (findings serialised) with in-memory catalogs loaded first."""
    from quizzes.models import Response
    from quizzes.scoring import Catalogs, gradable_items, grade_responses

    rows = list(Response.objects.filter(pk__in=world.response_ids).values_list("item_id", "answer"))
    items = gradable_items({item for item, _ in rows})
    pairs = [(items[item_id], answer) for item_id, answer in rows]
    catalogs = Catalogs(memory=True)
    grade_responses(pairs[:1], catalogs=catalogs)
    started = time.perf_counter()
    grade_responses(pairs, catalogs=catalogs)
    return len(pairs) / (time.perf_counter() - started)


def _naive(world, sample: int) -> float:
    from quizzes.models import Response, Score
    from quizzes.scoring import response_grade

    ids = world.response_ids[:: max(len(world.response_ids) // sample, 1)][:sample]
    started = time.perf_counter()
    for response_id in ids:
        response = Response.objects.select_related("item__encounter").get(pk=response_id)
        grade = response_grade(item=response.item, answer=response.answer)
        Score.objects.update_or_create(
            response=response,
            rules_version="bench-naive",
            defaults={
                "score": grade.score,
                "max_score": grade.max_score,
                "percent": grade.percent,
                "findings": grade.findings,
            },
        )
    return len(ids) / (time.perf_counter() - started)


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    from coding_course.celery import app

    worker = subprocess.Popen(
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
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the Celery worker did not start")
    return worker


def _run_job(owner, world, timeout: float = 900) -> tuple[float, object]:
    from quizzes.bulk.services import bulk_job_start
    from quizzes.models import BulkJob, BulkJobKind, BulkJobStatus

    started = time.perf_counter()
    job = bulk_job_start(kind=BulkJobKind.COHORT, user=owner, scope={"quiz": world.quiz.pk})
    while True:
        job = BulkJob.objects.get(pk=job.pk)
        if job.status != BulkJobStatus.RUNNING:
            return time.perf_counter() - started, job
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"job {job.pk} did not finish in {timeout} s")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=2000, help="x 50 exercises")
    parser.add_argument("--naive-sample", type=int, default=500)
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/")
    )
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()

    _admin(args.server, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    _admin(args.server, f"CREATE DATABASE {DATABASE}")
    env = _configure(args.server, args.redis)
    worker = None
    try:
        import django

        django.setup()
        import redis
        from django.db import connections

        from quizzes.bulk.services import chunk_size
        from quizzes.models import Score

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        owner, warmup, world = _prepare(args.learners)
        load_before = os.getloadavg()[0]
        in_memory = _in_memory(world)
        naive = _naive(world, args.naive_sample)
        worker = _start_worker(env)
        _run_job(owner, warmup)
        seconds, job = _run_job(owner, world)
        scored = Score.objects.filter(
            response_id__in=world.response_ids, rules_version=job.rules_version
        ).count()
        if job.status != "succeeded" or scored != len(world.response_ids):
            raise SystemExit(f"the bulk job did not score everything: {job.status}, {scored}")
        celery = len(world.response_ids) / seconds
        print(
            json.dumps(
                {
                    "responses": len(world.response_ids),
                    "chunks": job.chunks_total,
                    "chunk_size": chunk_size(),
                    "worker_processes": 2,
                    "naive_sample": args.naive_sample,
                    "celery_seconds": round(seconds, 2),
                    "in_memory_per_s": round(in_memory, 1),
                    "celery_per_s": round(celery, 1),
                    "naive_per_s": round(naive, 1),
                    "celery_vs_memory": round(celery / in_memory, 3),
                    "celery_vs_naive": round(celery / naive, 1),
                    # Other work on the machine shares its CPUs with all three ways.
                    "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                }
            )
        )
        connections.close_all()
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        _admin(args.server, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    main()
