"""Versioned releases of ICD-10-CM, CPT and HCPCS Level II, and their codes.

A release is in force from ``effective_from`` to ``effective_to`` (inclusive); several
releases of one system coexist and a date of service picks one. Codes keep everything
grading and teaching need: the tree, billability, instructional notes (as text and, for
Excludes1, as structured references), 7th-character tables and the Medicare Code
Editor attributes.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q


class SystemChoices(models.TextChoices):
    ICD10CM = "ICD-10-CM", "ICD-10-CM"
    CPT = "CPT", "CPT"
    HCPCS = "HCPCS", "HCPCS Level II"


class Release(models.Model):
    system = models.CharField(max_length=12, choices=SystemChoices.choices)
    version = models.CharField(max_length=40)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=500)
    # Shown wherever the release's descriptions appear (the AMA notice for CPT).
    notice = models.TextField(blank=True)
    # SHA-256 of the imported file(s): a second import of the same input is a no-op.
    content_hash = models.CharField(max_length=64)
    imported_at = models.DateTimeField(auto_now_add=True)
    code_count = models.PositiveIntegerField(default=0)
    billable_count = models.PositiveIntegerField(default=0)
    # SHA-256 of a file applied on top of the release (the licensed CPT descriptors), so
    # applying the same file twice is also a no-op.
    supplement_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["system", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["system", "version"], name="release_unique_version"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="release_window_ordered",
                violation_error_message="A release cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.version}"


class Chapter(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="chapters")
    number = models.CharField(max_length=10)
    description = models.CharField(max_length=300)
    first_code = models.CharField(max_length=10)
    last_code = models.CharField(max_length=10)
    position = models.PositiveIntegerField()
    # Instructional notes written at the chapter, by kind (as on Code.notes).
    notes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["release", "position"]
        constraints = [
            models.UniqueConstraint(fields=["release", "number"], name="chapter_unique_number")
        ]

    def __str__(self) -> str:
        return f"Chapter {self.number} {self.description}"


class Section(models.Model):
    """A block of categories (ICD-10-CM "A00-A09") or a CPT/HCPCS grouping."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="sections")
    chapter = models.CharField(max_length=10, blank=True)
    ident = models.CharField(max_length=40)
    description = models.CharField(max_length=300)
    position = models.PositiveIntegerField()
    # Instructional notes written at the block, by kind (as on Code.notes).
    notes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["release", "position"]
        constraints = [
            models.UniqueConstraint(fields=["release", "ident"], name="section_unique_ident")
        ]

    def __str__(self) -> str:
        return f"{self.ident} {self.description}"


class Code(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=10)
    # The code upper-cased without its dot ("S52521A"): code-prefix search reads it.
    code_key = models.CharField(max_length=10)
    description = models.TextField()
    billable = models.BooleanField()
    parent_code = models.CharField(max_length=10, blank=True)
    chapter = models.CharField(max_length=10, blank=True)
    section = models.CharField(max_length=40, blank=True)
    # Tabular order, for children and siblings listings.
    position = models.PositiveIntegerField()
    needs_seventh = models.BooleanField(default=False)
    placeholder = models.BooleanField(default=False)
    # Medicare Code Editor attributes (ICD-10-CM).
    age_group = models.CharField(max_length=10, blank=True)
    sex = models.CharField(max_length=1, blank=True)
    manifestation = models.BooleanField(default=False)
    unacceptable_pdx = models.BooleanField(default=False)
    # HCPCS drugs: quantity per unit ("15 mg").
    billing_unit = models.CharField(max_length=60, blank=True)
    # Instructional notes by kind ("excludes1", "inclusionTerm", "codeFirst", ...).
    notes = models.JSONField(default=dict, blank=True)
    # Structured Excludes1 references: [[kind, start, end, note text], ...].
    excludes1 = models.JSONField(default=list, blank=True)
    # 7th-character table where it is defined: {"A": "initial encounter", ...}.
    seventh_characters = models.JSONField(default=dict, blank=True)
    # Description plus inclusion terms, lower-cased: what word search matches.
    search_text = models.TextField(blank=True)
    # Length of the description without a 7th-character meaning: word search lists
    # shorter (more general) entries first and keeps a code's 7th characters together.
    rank_length = models.PositiveIntegerField(default=0)
    # The code's place in the static search order, unique across releases (see
    # search_order_of). The SQLite word index uses it as its rowid, so a common word's
    # best candidates come first without sorting every match.
    search_order = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["release", "position"]
        constraints = [
            models.UniqueConstraint(fields=["release", "code"], name="code_unique_in_release")
        ]
        indexes = [
            models.Index(fields=["release", "parent_code"], name="code_parent_idx"),
            models.Index(fields=["release", "code_key"], name="code_key_idx"),
            models.Index(fields=["search_order"], name="code_search_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # bulk_create skips save(): the import service sets search_order itself.
        if not self.search_order and self.release_id is not None:
            self.search_order = search_order_of(
                billable=self.billable,
                rank_length=self.rank_length,
                position=self.position,
                release_id=self.release_id,
            )
        super().save(*args, **kwargs)


def search_order_of(*, billable: bool, rank_length: int, position: int, release_id: int) -> int:
    """A code's place in the static search order, unique across releases.

    Billable codes first, then shorter descriptions, then tabular order; the release id
    (modulo 10,000) in the lowest digits keeps codes of different releases apart.
    """
    return (
        (0 if billable else 1) * 10**15
        + min(rank_length, 9_999) * 10**11
        + min(position, 9_999_999) * 10**4
        + release_id % 10**4
    )


class Modifier(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="modifiers")
    code = models.CharField(max_length=2)
    description = models.CharField(max_length=300)

    class Meta:
        ordering = ["release", "code"]
        constraints = [
            models.UniqueConstraint(fields=["release", "code"], name="modifier_unique_in_release")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class SearchWord(models.Model):
    """Every word of every imported ``search_text``: the vocabulary that a misspelled
    query word is corrected against (trigram similarity on PostgreSQL). Shared by all
    releases; a word left behind by a deleted release only costs a failed correction."""

    word = models.CharField(max_length=60, unique=True)

    def __str__(self) -> str:
        return self.word
