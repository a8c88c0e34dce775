"""Navigation entries per role, so the base layout shows only what a role can use."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse


def navigation(request: HttpRequest) -> dict[str, list[tuple[str, str]]]:
    user = getattr(request, "user", None)
    items: list[tuple[str, str]] = [("Code search", reverse("codesets:search"))]
    if user is None or not user.is_authenticated:
        return {"nav_items": items}
    items.insert(0, ("Home", reverse("home")))
    if user.is_instructor or user.is_site_staff:
        items.append(("Instructor", reverse("accounts:instructor_home")))
    if user.is_employer or user.is_site_staff:
        items.append(("Employer", reverse("accounts:employer_home")))
    if user.is_site_staff:
        items.append(("Operations", reverse("healthz")))
    return {"nav_items": items}
