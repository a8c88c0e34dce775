"""Forms for quizzes and attempts: quiz settings, assigning students, overriding a score."""

from __future__ import annotations

from django import forms

from quizzes.models import Quiz


class QuizForm(forms.ModelForm):
    class Meta:
        model = Quiz
        fields = [
            "title",
            "description",
            "mode",
            "time_limit_minutes",
            "attempts_allowed",
            "pass_mark_percent",
            "tries_per_item",
            "opens_at",
            "closes_at",
            "shuffle",
            "review_policy",
            "review_release_at",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "opens_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "closes_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "review_release_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }


class AssignForm(forms.Form):
    usernames = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Student usernames, separated by commas or spaces.",
    )


class ScoreOverrideForm(forms.Form):
    score = forms.FloatField(min_value=0, help_text="Points for this response.")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Kept with your name and the time; the learner's record shows it.",
    )
