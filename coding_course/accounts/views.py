from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from coding_course.accounts.forms import SignUpForm
from coding_course.accounts.models import Role
from coding_course.accounts.permissions import role_required


@require_http_methods(["GET", "POST"])
def signup_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your student account is ready.")
        return redirect("home")
    return render(request, "accounts/signup.html", {"form": form})


@role_required(Role.INSTRUCTOR)
def instructor_home_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/instructor_home.html")


@role_required(Role.EMPLOYER)
def employer_home_view(request: HttpRequest) -> HttpResponse:
    """The employer area is the organisation's assessments dashboard: named by its URL,
    so this bottom layer imports nothing of the assessments app."""
    return redirect("assessments:home")
