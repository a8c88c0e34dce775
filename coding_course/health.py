"""Operational checks behind /healthz: database, broker, worker."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection

from coding_course.celery import app


def check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the text helps operators
        return {"ok": False, "error": str(exc)[:200]}
    return {"ok": True, "vendor": connection.vendor, "ms": _ms(started)}


def check_broker() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"ok": True, "mode": "in-process (no REDIS_URL)"}
    started = time.perf_counter()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises several transport-specific errors
        return {"ok": False, "error": str(exc)[:200]}
    return {"ok": True, "mode": "redis", "ms": _ms(started)}


def check_worker() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"ok": True, "mode": "in-process", "workers": 0}
    try:
        replies = app.control.ping(timeout=1.0)
    except Exception as exc:  # broker down: reported by check_broker as well
        return {"ok": False, "error": str(exc)[:200], "workers": 0}
    return {"ok": bool(replies), "workers": len(replies)}


def health_report() -> dict[str, Any]:
    checks = {"database": check_database(), "broker": check_broker(), "worker": check_worker()}
    # A missing worker degrades bulk scoring but the site still serves pages.
    status = "ok"
    if not (checks["database"]["ok"] and checks["broker"]["ok"]):
        status = "down"
    elif not checks["worker"]["ok"]:
        status = "degraded"
    return {"status": status, "checks": checks}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
