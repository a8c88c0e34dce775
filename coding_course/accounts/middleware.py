"""Session timeouts (ASVS 7.3): idle for privileged roles, absolute for everyone; and
the one mapping of domain errors to responses."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from coding_course.accounts.errors import Conflict, DomainError, Forbidden, NotFound

_STARTED = "session_started_at"
_SEEN = "session_seen_at"


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            started = request.session.setdefault(_STARTED, now)
            seen = request.session.get(_SEEN, now)
            idle_limit = settings.SESSION_IDLE_TIMEOUT_PRIVILEGED
            expired = now - started > settings.SESSION_ABSOLUTE_TIMEOUT or (
                user.is_privileged and now - seen > idle_limit
            )
            if expired:
                logout(request)
                messages.info(request, "Your session expired. Please sign in again.")
            else:
                request.session[_SEEN] = now
        return self.get_response(request)


class DomainErrorMiddleware:
    """The one place where domain errors become responses.

    A :class:`~coding_course.accounts.errors.DomainError` that a view lets through is
    answered with its status: the friendly 404 or 403 page, a short page with the
    message for a refusal (400) or a conflict (409), or ``{"error": code, "message":
    ...}`` when the request wants JSON (the take page's fetch calls). Anything else is
    left to Django.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        status = exception.status
        if _wants_json(request):
            return JsonResponse(
                {"error": exception.code, "message": exception.message}, status=status
            )
        if isinstance(exception, NotFound):
            return render(request, "errors/404.html", status=404)
        if isinstance(exception, Forbidden):
            return render(request, "errors/403.html", status=403)
        return render(
            request,
            "errors/refused.html",
            {"message": exception.message, "conflict": isinstance(exception, Conflict)},
            status=status,
        )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "") or (
        request.content_type == "application/json"
    )
