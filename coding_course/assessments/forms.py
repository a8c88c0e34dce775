"""Forms for assessments: create, invite (one address or a list), accommodate, accept."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from coding_course.assessments.invitation_csv import MAX_BYTES, MAX_EXTRA_MINUTES
from coding_course.assessments.models import AssessmentSource
from coding_course.assessments.services import AssessmentSettings

_LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AssessmentForm(forms.Form):
    title = forms.CharField(max_length=200)
    source = forms.ChoiceField(
        choices=AssessmentSource.choices,
        widget=forms.RadioSelect,
        initial=AssessmentSource.BLUEPRINT,
    )
    quiz = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Exam quiz",
        help_text="Used when the source is an existing exam quiz.",
    )
    icd_count = forms.IntegerField(min_value=0, max_value=40, initial=10, label="ICD-10-CM")
    cpt_count = forms.IntegerField(min_value=0, max_value=40, initial=6, label="CPT")
    hcpcs_count = forms.IntegerField(min_value=0, max_value=40, initial=4, label="HCPCS")
    difficulty_min = forms.TypedChoiceField(
        choices=[(1, "1"), (2, "2"), (3, "3")], coerce=int, initial=2, label="Difficulty from"
    )
    difficulty_max = forms.TypedChoiceField(
        choices=[(1, "1"), (2, "2"), (3, "3")], coerce=int, initial=3, label="Difficulty to"
    )
    time_limit_minutes = forms.IntegerField(
        min_value=1, max_value=600, initial=60, label="Time limit (minutes)"
    )
    pass_mark_percent = forms.IntegerField(
        min_value=0, max_value=100, initial=70, label="Pass mark (%)"
    )
    opens_at = forms.DateTimeField(required=False, widget=_LOCAL_DATETIME, label="Opens")
    closes_at = forms.DateTimeField(required=False, widget=_LOCAL_DATETIME, label="Closes")
    invitation_days = forms.IntegerField(
        min_value=1, max_value=30, initial=7, label="Invitation links valid for (days)"
    )

    def __init__(self, *args: Any, quizzes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["quiz"].queryset = quizzes  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("source") == AssessmentSource.QUIZ and not data.get("quiz"):
            self.add_error("quiz", ValidationError("Choose the exam quiz.", code="required"))
        if data.get("source") == AssessmentSource.BLUEPRINT:
            counts = [data.get(name) or 0 for name in ("icd_count", "cpt_count", "hcpcs_count")]
            if not sum(counts):
                self.add_error(
                    "icd_count", ValidationError("Ask for one encounter at least.", code="empty")
                )
            low, high = data.get("difficulty_min"), data.get("difficulty_max")
            if low is not None and high is not None and low > high:
                self.add_error(
                    "difficulty_max",
                    ValidationError("The range ends below its start.", code="bad_range"),
                )
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error(
                "closes_at", ValidationError("It must close after it opens.", code="bad_window")
            )
        return data

    def settings(self) -> AssessmentSettings:
        data = self.cleaned_data
        return AssessmentSettings(
            title=data["title"],
            time_limit_minutes=data["time_limit_minutes"],
            pass_mark_percent=data["pass_mark_percent"],
            opens_at=data.get("opens_at"),
            closes_at=data.get("closes_at"),
            invitation_days=data["invitation_days"],
        )

    def sections(self) -> dict[str, int]:
        data = self.cleaned_data
        return {
            "ICD-10-CM": data["icd_count"] or 0,
            "CPT": data["cpt_count"] or 0,
            "HCPCS": data["hcpcs_count"] or 0,
        }


class InviteForm(forms.Form):
    email = forms.EmailField(label="Candidate's e-mail")
    name = forms.CharField(max_length=150, required=False, label="Name (optional)")
    extra_minutes = forms.IntegerField(
        min_value=0, max_value=MAX_EXTRA_MINUTES, initial=0, label="Extra minutes (accommodation)"
    )


class InviteListForm(forms.Form):
    file = forms.FileField(
        label="CSV list",
        help_text=f"Columns: email, and optionally name and extra_minutes. At most "
        f"{MAX_BYTES // 1024} KB.",
    )


class AccommodationForm(forms.Form):
    extra_minutes = forms.IntegerField(
        min_value=0, max_value=MAX_EXTRA_MINUTES, label="Extra minutes"
    )


class NewCandidateAccountForm(forms.Form):
    """A new candidate's account: the e-mail is the invitation's, never typed."""

    name = forms.CharField(max_length=150, required=False, label="Your name")
    password1 = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label="Choose a password",
        help_text="At least 12 characters.",
    )
    password2 = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label="Repeat the password",
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", ValidationError("The passwords differ.", code="mismatch"))
        elif first:
            probe = get_user_model()(username=self.email.split("@")[0], email=self.email)
            try:
                validate_password(first, user=probe)
            except ValidationError as problems:
                self.add_error("password1", problems)
        return data
