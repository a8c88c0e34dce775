"""Server-side role checks for views. Links are hidden too, but this is the guard."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from coding_course.accounts.errors import Forbidden, NotFound
from coding_course.accounts.models import Role

View = Callable[..., HttpResponse]


def role_required(*roles: Role) -> Callable[[View], View]:
    """Anonymous users go to the login page; signed-in users of another role get 403,
    or 404 when the URL names an object (an id in the path): answering 403 there would
    tell them the object exists (ASVS 8.2.2, security check S2).

    Site staff pass every role check, because they administer every area.
    """

    allowed = {str(role) for role in roles}

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.role not in allowed and not user.is_site_staff:  # type: ignore[union-attr]
                if kwargs:
                    raise NotFound("No such page.")
                raise Forbidden("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
