"""Session timeouts (ASVS 7.3): idle for privileged roles, absolute for everyone."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

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
