"""S7: six wrong logins for one account (django-axes) (ASVS 6.3.1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import TEST_PASSWORD, StudentFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def attempt(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_the_sixth_login_is_refused_even_with_the_right_password(client):
    victim = StudentFactory()
    bystander = StudentFactory()
    statuses = [attempt(client, victim.username, "wrong password").status_code for _ in range(5)]
    # The first four are ordinary failures; the fifth reaches the limit and locks.
    assert statuses[:4] == [200] * 4
    assert "_auth_user_id" not in client.session
    refused = attempt(client, victim.username, TEST_PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    assert b"Too many failed sign-in attempts" in refused.content

    # Another account from the same address still works.
    other = attempt(client, bystander.username, TEST_PASSWORD)
    assert other.status_code == 302
    assert client.session["_auth_user_id"] == str(bystander.pk)


def test_login_works_again_after_the_cool_off(client, settings):
    from axes.models import AccessAttempt

    victim = StudentFactory()
    for _ in range(6):
        attempt(client, victim.username, "wrong password")
    assert attempt(client, victim.username, TEST_PASSWORD).status_code == 429
    # Age the recorded failures past the cool-off period.
    past = timezone.now() - dt.timedelta(hours=settings.AXES_COOLOFF_TIME + 1)
    AccessAttempt.objects.update(attempt_time=past)
    try:
        from axes.models import AccessAttemptExpiration

        AccessAttemptExpiration.objects.update(expires_at=past)
    except ImportError:  # older axes versions have no expiration table
        pass
    response = attempt(client, victim.username, TEST_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(victim.pk)
