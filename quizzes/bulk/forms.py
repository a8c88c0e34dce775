"""Forms for bulk jobs: what to rescore, and the answer sheet to import."""

from __future__ import annotations

from typing import Any

from django import forms

from quizzes.models import BulkJobKind


class RescoreForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            (BulkJobKind.RESCORE_KEY, BulkJobKind.RESCORE_KEY.label),
            (BulkJobKind.COHORT, BulkJobKind.COHORT.label),
            (BulkJobKind.RESCORE_RULES, BulkJobKind.RESCORE_RULES.label),
            (BulkJobKind.RESCORE_RELEASE, BulkJobKind.RESCORE_RELEASE.label),
        ]
    )
    quiz = forms.IntegerField(required=False, min_value=1)
    item = forms.IntegerField(required=False, min_value=1)
    encounter = forms.IntegerField(required=False, min_value=1)
    rules_version = forms.CharField(required=False, max_length=20)
    release = forms.IntegerField(required=False, min_value=1)
    dry_run = forms.BooleanField(required=False)

    def scope(self) -> dict[str, Any]:
        names = ("item", "quiz", "encounter", "rules_version", "release")
        return {name: self.cleaned_data[name] for name in names if self.cleaned_data.get(name)}


class AnswerSheetForm(forms.Form):
    sheet = forms.FileField()
