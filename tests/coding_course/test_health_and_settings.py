from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_reports_each_dependency(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert set(body["checks"]) == {"database", "broker", "worker"}
    assert body["checks"]["database"]["ok"] is True
    assert body["status"] in {"ok", "degraded"}
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_check_deploy_with_production_settings_is_clean():
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for their own process; a deploy
    # check must not inherit it.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "coding_course.settings.production",
        "SECRET_KEY": "x" * 20 + "a-real-looking-secret-key-with-entropy-9f8e7d6c5b4a",
        "ALLOWED_HOSTS": "coding.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "coding_course.settings.production"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_ci_runs_against_postgresql_when_configured(settings):
    """In CI the suite must run on PostgreSQL (DATABASE_URL), never silently on SQLite."""
    from tests.services import IN_CI

    if not IN_CI and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("not in CI and no PostgreSQL DATABASE_URL")
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
