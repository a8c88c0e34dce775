from __future__ import annotations

import pytest
from django.urls import reverse

from coding_course.accounts.models import Role, User
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

# Page, roles allowed, and where an allowed role lands (None: the page itself).
ROLE_PAGES = [
    ("accounts:instructor_home", {Role.INSTRUCTOR, Role.STAFF}, None),
    # The employer area is the assessments dashboard, reached by its URL name.
    ("accounts:employer_home", {Role.EMPLOYER, Role.STAFF}, "assessments:home"),
]


@pytest.mark.parametrize(("url_name", "allowed", "lands_on"), ROLE_PAGES)
@pytest.mark.parametrize("user_fixture", ["student", "instructor", "employer", "staff_user"])
def test_role_pages_are_enforced_on_the_server(
    client, request, url_name, allowed, lands_on, user_fixture
):
    user = request.getfixturevalue(user_fixture)
    client.force_login(user)
    response = client.get(reverse(url_name))
    if user.role not in allowed:
        assert response.status_code == 403
        assert b"You do not have access" in response.content
    elif lands_on is None:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"] == reverse(lands_on)
        assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("url_name", [name for name, _, _ in ROLE_PAGES])
def test_anonymous_users_are_sent_to_login(client, url_name):
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert f"next={url}" in response["Location"]


def test_signup_creates_a_student_and_logs_in(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "newlearner",
            "email": "NewLearner@Example.test",
            "password1": "a long enough passphrase 7",
            "password2": "a long enough passphrase 7",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newlearner")
    assert user.role == Role.STUDENT
    assert user.email == "newlearner@example.test"
    home = client.get(reverse("home"))
    assert b"Student home" in home.content


def test_signup_refuses_a_short_common_password(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "x1",
            "email": "x1@example.test",
            "password1": "password",
            "password2": "password",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="x1").exists()
    assert b"at least 12 characters" in response.content
    assert b"too common" in response.content


def test_login_and_role_home_pages(client, instructor):
    response = client.post(
        reverse("accounts:login"), {"username": instructor.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert b"Instructor home" in client.get(reverse("home")).content


def test_password_reset_sends_an_email(client, student, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": student.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/password/reset/" in mailoutbox[0].body


def test_employer_must_belong_to_an_organisation():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="orphan", role=Role.EMPLOYER)


def test_friendly_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"We could not find that page" in response.content


def test_demo_accounts_are_created_once():
    from coding_course.accounts.services import demo_accounts_ensure

    first = demo_accounts_ensure()
    assert {a.role for a in first} == {r.value for r in Role}
    assert all(a.password for a in first)
    second = demo_accounts_ensure()
    assert all(a.password is None for a in second)
    demo_student = User.objects.get(username="demo_student")
    password = next(a.password for a in first if a.username == "demo_student")
    assert demo_student.check_password(password)
    assert User.objects.get(username="demo_employer").organisation is not None
