"""S13: session lifecycle (ASVS 7.2.4, 7.3, 7.4)."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from tests.factories import TEST_PASSWORD, EmployerFactory, StaffFactory, StudentFactory

pytestmark = pytest.mark.django_db


def login(client: Client, user) -> None:
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302


def is_signed_in(client: Client) -> bool:
    return b"Log out" in client.get("/").content


def test_login_issues_a_new_session_key(client):
    user = StudentFactory()
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    login(client, user)
    assert client.session.session_key != before


def test_an_old_cookie_replayed_after_logout_is_anonymous(client):
    user = StudentFactory()
    login(client, user)
    stolen = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    replay = Client()
    replay.cookies["sessionid"] = stolen
    assert not is_signed_in(replay)


def test_a_deactivated_user_is_anonymous_on_the_next_request(client):
    user = StudentFactory()
    login(client, user)
    assert is_signed_in(client)
    user.is_active = False
    user.save()
    assert not is_signed_in(client)


@pytest.mark.parametrize("factory", [StaffFactory, EmployerFactory])
def test_privileged_sessions_time_out_when_idle(client, settings, factory):
    user = factory()
    login(client, user)
    session = client.session
    session["session_seen_at"] = time.time() - settings.SESSION_IDLE_TIMEOUT_PRIVILEGED - 5
    session.save()
    assert not is_signed_in(client)


def test_students_are_not_subject_to_the_idle_timeout(client, settings):
    user = StudentFactory()
    login(client, user)
    session = client.session
    session["session_seen_at"] = time.time() - settings.SESSION_IDLE_TIMEOUT_PRIVILEGED - 5
    session.save()
    assert is_signed_in(client)


@pytest.mark.parametrize("factory", [StudentFactory, StaffFactory])
def test_every_session_has_an_absolute_lifetime(client, settings, factory):
    user = factory()
    login(client, user)
    session = client.session
    session["session_started_at"] = time.time() - settings.SESSION_ABSOLUTE_TIMEOUT - 5
    session.save()
    assert not is_signed_in(client)
