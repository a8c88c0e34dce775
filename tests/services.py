"""Real services for the tests: Redis and PostgreSQL.

Outside CI a missing service skips the tests that need it; with CI=true it fails
them, so CI can never go green by skipping the integration suite.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(reason)


def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:  # connection refused, DNS, auth: all mean "not available"
        require(False, f"Redis is not reachable at {url}: {exc}")
    return url
