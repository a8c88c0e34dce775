from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from coding_course.health import health_report
from quizzes.api import quizzes_for_student


def home_view(request: HttpRequest) -> HttpResponse:
    """The landing page for visitors, and each role's home page once signed in."""
    if not request.user.is_authenticated:
        return render(request, "home/anonymous.html")
    role = request.user.role  # type: ignore[union-attr]
    template = {
        "student": "home/student.html",
        "instructor": "home/instructor.html",
        "employer": "home/employer.html",
        "staff": "home/staff.html",
    }.get(role, "home/student.html")
    context = {}
    if role == "student":
        context["assigned"] = quizzes_for_student(user=request.user)
    return render(request, template, context)


@never_cache
def healthz_view(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] != "down" else 503)


def error_403_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def error_404_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def error_500_view(request: HttpRequest) -> HttpResponse:
    # No context processors that touch the database: the error may be the database.
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)
