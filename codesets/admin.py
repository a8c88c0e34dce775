"""Admin views of the code sets: read-only, because releases change only by import
(``import_codesets``), which keeps counts, hashes and search indexes consistent."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from codesets.models import Chapter, Code, Modifier, Release, Section


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = (
        "system",
        "version",
        "effective_from",
        "effective_to",
        "code_count",
        "billable_count",
        "imported_at",
    )
    list_filter = ("system",)


@admin.register(Code)
class CodeAdmin(ReadOnlyAdmin):
    list_display = ("code", "description", "billable", "release")
    list_filter = ("release", "billable")
    search_fields = ("=code", "code_key")
    list_select_related = ("release",)
    show_full_result_count = False


@admin.register(Chapter)
class ChapterAdmin(ReadOnlyAdmin):
    list_display = ("number", "description", "first_code", "last_code", "release")
    list_filter = ("release",)


@admin.register(Section)
class SectionAdmin(ReadOnlyAdmin):
    list_display = ("ident", "description", "chapter", "release")
    list_filter = ("release",)


@admin.register(Modifier)
class ModifierAdmin(ReadOnlyAdmin):
    list_display = ("code", "description", "release")
    list_filter = ("release",)
