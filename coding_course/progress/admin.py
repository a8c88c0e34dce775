from __future__ import annotations

from django.contrib import admin

from coding_course.progress.models import LearnerGroup


@admin.register(LearnerGroup)
class LearnerGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "owner__username"]
    filter_horizontal = ["students"]
    raw_id_fields = ["owner"]
