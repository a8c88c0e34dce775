"""Admin for quizzes: staff can inspect and correct what the site pages do not expose."""

from __future__ import annotations

from django.contrib import admin

from quizzes.models import (
    Assignment,
    Attempt,
    Encounter,
    Quiz,
    QuizItem,
    Response,
    Score,
    ScoreOverride,
)


class QuizItemInline(admin.TabularInline):
    model = QuizItem
    extra = 0
    fields = ("position", "encounter", "exercise_type", "seed", "key_version")
    raw_id_fields = ("encounter",)


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "mode", "time_limit_minutes", "attempts_allowed")
    list_filter = ("mode", "review_policy")
    search_fields = ("title",)
    raw_id_fields = ("owner",)
    inlines = [QuizItemInline]


@admin.register(Encounter)
class EncounterAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "source", "difficulty", "date_of_service", "key_version")
    list_filter = ("source", "difficulty", "specialty")
    search_fields = ("slug", "title")
    readonly_fields = ("content_hash", "key_version")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("quiz", "student", "assigned_by", "assigned_at")
    raw_id_fields = ("quiz", "student", "assigned_by")


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ("pk", "quiz", "user", "number", "status", "percent", "started_at")
    list_filter = ("status",)
    raw_id_fields = ("quiz", "user")


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("pk", "attempt", "item", "flagged", "tries", "updated_at")
    raw_id_fields = ("attempt", "item")


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ("response", "rules_version", "score", "max_score", "percent")
    list_filter = ("rules_version",)
    raw_id_fields = ("response",)


@admin.register(ScoreOverride)
class ScoreOverrideAdmin(admin.ModelAdmin):
    list_display = ("response", "score", "by", "at")
    raw_id_fields = ("response", "by")
