"""A fixed-window request limiter on the cache (Redis in production, local memory
otherwise), for endpoints that can be scripted: code search, answer checks.

ASVS 2.4.1: anti-automation on business functions. The window is a wall-clock minute,
so a client gets at most ``limit`` requests per minute per scope and identity.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

View = Callable[..., HttpResponse]
# The clock the windows are cut from (a seam for tests that must stay in one window).
clock: Callable[[], float] = time.time


def client_identity(request: HttpRequest) -> str:
    """The signed-in user, else the client address (REMOTE_ADDR: the proxy in front
    of us is trusted to set it; X-Forwarded-For is not, since clients can forge it)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', 'unknown')}"


def hit(scope: str, identity: str, limit: int, window_seconds: int = 60) -> tuple[bool, int]:
    """Count one request; returns (allowed, seconds until the window resets)."""
    now = clock()
    window = int(now // window_seconds)
    key = f"ratelimit:{scope}:{identity}:{window}"
    # add() is atomic: only the first request of a window creates the counter.
    cache.add(key, 0, timeout=window_seconds + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: start the window again
        cache.set(key, 1, timeout=window_seconds + 5)
        count = 1
    retry_after = window_seconds - int(now % window_seconds)
    return count <= limit, retry_after


def rate_limited(scope: str, *, per_minute: int) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            allowed, retry_after = hit(scope, client_identity(request), per_minute)
            if allowed:
                return view(request, *args, **kwargs)
            message = (
                f"Too many requests: at most {per_minute} a minute. "
                f"Try again in {retry_after} seconds."
            )
            wants_json = "json" in request.headers.get("Accept", "") or request.path.startswith(
                "/codes/api/"
            )
            if wants_json:
                response: HttpResponse = JsonResponse({"error": message}, status=429)
            else:
                response = render(request, "errors/429.html", {"message": message}, status=429)
            response["Retry-After"] = str(retry_after)
            return response

        return wrapper

    return decorator
