"""Admin for assessments: staff inspect what the employer pages show, nothing more."""

from __future__ import annotations

from django.contrib import admin

from coding_course.assessments.models import Assessment, Candidate, SittingEvent


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ("title", "organisation", "source", "created_by", "created_at")
    list_filter = ("organisation", "source")
    search_fields = ("title",)
    raw_id_fields = ("created_by", "quiz")


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ("email", "assessment", "extra_minutes", "accepted_at", "expires_at")
    search_fields = ("email", "name")
    raw_id_fields = ("assessment", "user", "invited_by", "attempt")
    # The hash is useless to a person and must not be editable into a known value.
    exclude = ("token_hash",)


@admin.register(SittingEvent)
class SittingEventAdmin(admin.ModelAdmin):
    list_display = ("candidate", "kind", "item", "at")
    list_filter = ("kind",)
    raw_id_fields = ("candidate", "item")
