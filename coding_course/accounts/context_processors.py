"""Navigation entries per role, so the base layout shows only what a role can use.

Hiding a link is a convenience; every view still checks the role on the server.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse


def navigation(request: HttpRequest) -> dict[str, list[tuple[str, str]]]:
    user = getattr(request, "user", None)
    items: list[tuple[str, str]] = []
    if user is not None and user.is_authenticated:
        items.append(("Home", reverse("home")))
        items.append(("Quizzes", reverse("quizzes:quiz_list")))
        if not user.is_employer:
            items.append(("Lessons", reverse("lessons:course_list")))
        if user.is_student:
            items.append(("Progress", reverse("progress:mine")))
        if user.is_instructor or user.is_site_staff:
            items.append(("Learners", reverse("progress:group_list")))
            items.append(("Authoring", reverse("quizzes:author_home")))
        if user.is_employer or user.is_site_staff:
            items.append(("Assessments", reverse("assessments:home")))
        if user.is_site_staff:
            items.append(("Operations", reverse("healthz")))
    items.append(("Code search", reverse("codesets:search")))
    return {"nav_items": items}
