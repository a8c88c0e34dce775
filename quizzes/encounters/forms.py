"""Forms for authoring encounters: the encounter, its key lines, the file import, and
picking generated exercises for a quiz."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from quizzes.models import Quiz, Sex

# Encounter files are a few kilobytes; anything far larger is not one.
MAX_IMPORT_BYTES = 256 * 1024


def _codes(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", " ").split() if part.strip()]


class EncounterForm(forms.Form):
    """The encounter's facts; its key lines come from the two line formsets."""

    slug = forms.SlugField(
        max_length=120, label="Identifier", help_text="Letters, digits and hyphens; unique."
    )
    title = forms.CharField(max_length=200)
    setting = forms.CharField(max_length=200, initial="physician office, professional claim")
    specialty = forms.CharField(max_length=40, initial="primary-care")
    date_of_service = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    patient_age_years = forms.IntegerField(min_value=0, max_value=124, label="Patient age (years)")
    patient_sex = forms.ChoiceField(choices=Sex.choices, label="Patient sex")
    difficulty = forms.TypedChoiceField(
        choices=[(1, "1 (basic)"), (2, "2"), (3, "3 (hard)")], coerce=int, initial=1
    )
    tags = forms.CharField(
        required=False, help_text="Comma-separated, e.g. icd-10-cm, cpt, laterality."
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 12}), label="Clinical note")

    def __init__(self, *args: Any, windows: list[tuple[str, dt.date, dt.date | None]], **kw: Any):
        super().__init__(*args, **kw)
        self.windows = windows

    def clean_date_of_service(self) -> dt.date:
        day: dt.date = self.cleaned_data["date_of_service"]
        if not any(start <= day and (end is None or day <= end) for _, start, end in self.windows):
            available = "; ".join(
                f"ICD-10-CM {version} ({start.isoformat()} to {end.isoformat() if end else 'open'})"
                for version, start, end in self.windows
            )
            raise ValidationError(
                f"No ICD-10-CM release covers {day.isoformat()}. Releases available: "
                f"{available or 'none imported'}.",
                code="no_release",
            )
        return day

    def document(self, diagnoses: list[dict], procedures: list[dict]) -> dict[str, Any]:
        """The encounter in the library's file shape."""
        data = self.cleaned_data
        return {
            "id": data["slug"],
            "title": data["title"],
            "setting": data["setting"],
            "specialty": data["specialty"],
            "date_of_service": data["date_of_service"],
            "patient": {"age_years": data["patient_age_years"], "sex": data["patient_sex"]},
            "difficulty": data["difficulty"],
            "tags": [tag.strip() for tag in data["tags"].split(",") if tag.strip()],
            "note": data["note"],
            "key": {"diagnoses": diagnoses, "procedures": procedures},
        }


class DiagnosisLineForm(forms.Form):
    code = forms.CharField(max_length=10, required=False)
    alternatives = forms.CharField(max_length=80, required=False)
    optional = forms.BooleanField(required=False)
    documented_as = forms.CharField(max_length=300, required=False)
    why = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def line(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("code"):
            return None
        line: dict[str, Any] = {"code": data["code"].strip()}
        if data.get("alternatives"):
            line["alternatives"] = _codes(data["alternatives"])
        if data.get("optional"):
            line["optional"] = True
        for name in ("documented_as", "why"):
            if data.get(name):
                line[name] = data[name].strip()
        return line


class ProcedureLineForm(DiagnosisLineForm):
    modifiers = forms.CharField(max_length=40, required=False)
    units = forms.IntegerField(min_value=1, max_value=9999, required=False)
    dx_pointers = forms.CharField(max_length=40, required=False, label="Dx pointers")

    field_order = ["code", "modifiers", "units", "dx_pointers", "alternatives", "optional"]

    def clean_dx_pointers(self) -> list[int]:
        try:
            return [int(part) for part in _codes(self.cleaned_data.get("dx_pointers") or "")]
        except ValueError:
            raise ValidationError("Pointers are numbers: 1, 2.", code="invalid") from None

    def line(self) -> dict[str, Any] | None:
        line = super().line()
        if line is None:
            return None
        data = self.cleaned_data
        line["modifiers"] = _codes(data.get("modifiers") or "")
        line["units"] = data.get("units") or 1
        line["dx_pointers"] = data.get("dx_pointers") or []
        return line


DiagnosisFormSet = forms.formset_factory(DiagnosisLineForm, extra=2, max_num=25)
ProcedureFormSet = forms.formset_factory(ProcedureLineForm, extra=2, max_num=25)


class AddExercisesForm(forms.Form):
    quiz = forms.ModelChoiceField(queryset=Quiz.objects.none())
    picks = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, choices=())

    def __init__(self, *args: Any, quizzes: Any, count: int, **kw: Any):
        super().__init__(*args, **kw)
        self.fields["quiz"].queryset = quizzes
        self.fields["picks"].choices = [(str(i), f"Exercise {i + 1}") for i in range(count)]


class EncounterImportForm(forms.Form):
    file = forms.FileField(help_text="One encounter in the library's YAML or JSON shape.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError("The file is larger than an encounter can be.", code="too_big")
        return upload
