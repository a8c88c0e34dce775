"""DbCatalog and the in-memory catalog loader, against the bundled releases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from codesets.adapters import DbCatalog, catalog_for_date, memory_catalog_for_date
from codesets.domain.catalog import NoReleaseInForce, ancestors
from codesets.domain.systems import System

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("bundled_codesets", "fresh_memory_catalogs"),
]

IN_FORCE = dt.date(2026, 5, 1)


def test_catalog_for_date_answers_the_protocol() -> None:
    catalog = catalog_for_date(IN_FORCE)
    release = catalog.release(System.ICD10CM)
    assert release is not None
    assert release.version == "2026-04"
    entry = catalog.get(System.ICD10CM, "G01")
    assert entry is not None
    assert entry.manifestation
    assert entry.code_first
    assert any(ref.start == "A54.81" for ref in entry.excludes1)
    assert catalog.children(System.ICD10CM, "J02") == ("J02.0", "J02.8", "J02.9")
    assert catalog.get(System.ICD10CM, "Z99.999") is None
    unit = catalog.get(System.HCPCS, "J1885")
    assert unit is not None
    assert unit.billing_unit == "15 mg"


def test_get_is_cached_per_instance(django_assert_num_queries: Callable[..., Any]) -> None:
    catalog = catalog_for_date(IN_FORCE)
    with django_assert_num_queries(1):
        catalog.get(System.ICD10CM, "O80")
        catalog.get(System.ICD10CM, "O80")


def test_prefetch_reads_codes_and_ancestors_in_one_query(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    catalog = catalog_for_date(IN_FORCE)
    assert isinstance(catalog, DbCatalog)
    with django_assert_num_queries(1):
        catalog.prefetch(["s93401a", "J02.0", "99213", "E0114", "Q99.999"])
    with django_assert_num_queries(0):
        found = catalog.get(System.ICD10CM, "S93.401A")
        chain = [entry.code for entry in ancestors(catalog, System.ICD10CM, "S93.401A")]
        assert catalog.get(System.CPT, "99213") is not None
        assert catalog.get(System.HCPCS, "E0114") is not None
        assert catalog.get(System.ICD10CM, "Q99.999") is None
    assert found is not None
    assert found.billable
    assert chain == ["S93.401", "S93.40", "S93.4", "S93"]


def test_catalog_for_a_date_without_release_raises() -> None:
    with pytest.raises(NoReleaseInForce):
        catalog_for_date(dt.date(2026, 11, 27))


@pytest.mark.full_release
def test_memory_catalog_loads_each_release_once() -> None:
    first = memory_catalog_for_date(IN_FORCE)
    second = memory_catalog_for_date(dt.date(2026, 6, 30))
    assert len(first.entries[System.ICD10CM]) == 98186
    assert first.entries[System.ICD10CM] is second.entries[System.ICD10CM]
    entry = first.get(System.ICD10CM, "O80")
    assert entry is not None
    assert (entry.age_group, entry.sex) == ("maternity", "F")
    assert first.children(System.ICD10CM, "J02") == ["J02.0", "J02.8", "J02.9"]


def test_memory_and_database_catalogs_agree() -> None:
    memory = memory_catalog_for_date(IN_FORCE)
    database = catalog_for_date(IN_FORCE)
    for system, code in [
        (System.ICD10CM, "G01"),
        (System.ICD10CM, "S06.0X1A"),
        (System.CPT, "99214"),
        (System.HCPCS, "J1885"),
    ]:
        assert memory.get(system, code) == database.get(system, code)


@pytest.mark.full_release
def test_the_database_catalog_equals_the_parsed_release_code_for_code(db):
    """Grading through the database must see exactly what the parser produced: every
    field of every ICD-10-CM entry, including Excludes1 notes written at a chapter or
    a section, which the importer folds into each category."""
    import datetime as dt

    from codesets.adapters import memory_catalog_for_date
    from codesets.domain.systems import System
    from codesets.importers.icd10cm_tabular import (
        bundled_tabular_path,
        code_infos,
        parse_tabular,
    )
    from codesets.importers.mce_attributes import derive_mce_attributes

    release = parse_tabular(bundled_tabular_path())
    mce = derive_mce_attributes(entry.code for entry in release.codes if entry.billable)
    catalog = memory_catalog_for_date(dt.date(2026, 6, 1))
    mismatched = [
        info.code
        for info in code_infos(release, mce)
        if catalog.get(System.ICD10CM, info.code) != info
    ]
    assert mismatched == []
