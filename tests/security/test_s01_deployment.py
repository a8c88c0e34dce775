"""S1: deployment checklist headers and error pages (Django's check --deploy is run in
tests/coding_course/test_health_and_settings.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_headers(settings, monkeypatch):
    """The security settings of coding_course.settings.production, on the test site."""
    import importlib

    monkeypatch.setenv("SECRET_KEY", "a-test-only-secret-key-long-enough-to-look-real-1234")
    production = importlib.import_module("coding_course.settings.production")

    for name in (
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    ):
        setattr(settings, name, getattr(production, name))
    return settings


def test_html_responses_carry_the_security_headers(client, production_headers):
    response = client.get("/", secure=True)
    assert response.status_code == 200
    hsts = response["Strict-Transport-Security"]
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 365 * 24 * 3600
    assert "includeSubDomains" in hsts
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_plain_http_is_redirected_to_https(client, production_headers):
    response = client.get("/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@pytest.mark.urls("tests.security.urls_with_error")
def test_an_error_page_shows_no_traceback(client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get("/__broken__")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert "Traceback" not in body
    assert "0xDEADBEEF" not in body
    assert "RuntimeError" not in body
