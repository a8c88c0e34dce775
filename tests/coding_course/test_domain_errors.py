"""Domain errors become responses in one place: the middleware."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from coding_course.accounts.errors import Conflict, Forbidden, NotFound, Refused
from coding_course.accounts.middleware import DomainErrorMiddleware

pytestmark = pytest.mark.django_db


def _answer(error: Exception, **headers: str):
    request = RequestFactory().get("/somewhere", **headers)
    return DomainErrorMiddleware(lambda r: None).process_exception(request, error)


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        (NotFound("No such attempt."), 404, "We could not find that page"),
        (Forbidden(), 403, "You do not have access"),
        (Conflict("Already running."), 409, "Already running."),
        (Refused("Name a quiz."), 400, "Name a quiz."),
    ],
)
def test_each_kind_of_error_has_its_status_and_page(error, status, text):
    response = _answer(error)
    assert response.status_code == status
    assert text in response.content.decode()


def test_a_request_that_wants_json_gets_the_code_and_message():
    response = _answer(
        Conflict("Already running.", code="scope_busy"), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 409
    assert json.loads(response.content) == {"error": "scope_busy", "message": "Already running."}


def test_other_exceptions_are_left_to_django():
    assert _answer(ValueError("not ours")) is None
