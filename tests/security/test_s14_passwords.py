"""S14: password policy (ASVS 6.2)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.factories import TEST_PASSWORD, StudentFactory


@pytest.mark.parametrize(
    ("password", "error_code"),
    [
        ("Short1pass!", "password_too_short"),  # 11 characters
        ("password1234", "password_too_common"),
        ("123456789012345", "password_entirely_numeric"),
    ],
)
def test_weak_passwords_are_refused(password, error_code):
    with pytest.raises(ValidationError) as raised:
        validate_password(password)
    assert error_code in {error.code for error in raised.value.error_list}


def test_twelve_characters_of_anything_uncommon_are_enough():
    validate_password("mauve kettle")  # 12 characters, no composition rules


@pytest.mark.django_db
def test_no_forced_rotation(client):
    user = StudentFactory(last_login=timezone.now() - dt.timedelta(days=3 * 365))
    user.date_joined = timezone.now() - dt.timedelta(days=5 * 365)
    user.save()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
