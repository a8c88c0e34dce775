"""Import services: idempotent, all-or-nothing, and complete for the bundled sets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from codesets.importers.icd10cm_tabular import bundled_tabular_path
from codesets.models import Code, Modifier, Release, SearchWord
from codesets.services import (
    CodesetImportError,
    release_import_cpt_licensed,
    release_import_hcpcs_cms,
    release_import_icd10cm,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bundled_codesets")]

HCPCS_REFERENCE = Path("/work/shared/reference/hcpcs/HCPC2026_JAN_ANWEB_01122026.txt")


def _import_small(path: Path, version: str = "test-2099") -> object:
    return release_import_icd10cm(
        path=path,
        version=version,
        effective_from=dt.date(2099, 1, 1),
        effective_to=dt.date(2099, 12, 31),
        source="test file",
    )


def _snapshot() -> tuple[int, int, int, list[tuple[str, str]]]:
    return (
        Release.objects.count(),
        Code.objects.count(),
        SearchWord.objects.count(),
        sorted(Release.objects.values_list("version", "content_hash")),
    )


@pytest.mark.full_release
def test_bundled_icd10cm_counts_match_the_release() -> None:
    release = Release.objects.get(system="ICD-10-CM", version="2026-04")
    assert (release.code_count, release.billable_count) == (98186, 74719)
    assert Code.objects.filter(release=release).count() == 98186
    assert Code.objects.filter(release=release, billable=True).count() == 74719


@pytest.mark.parametrize(
    ("code", "age_group", "sex", "manifestation"),
    [("O80", "maternity", "F", False), ("N40.0", "adult", "M", False), ("G01", "", "", True)],
)
def test_mce_attributes_are_stored_at_import(
    code: str, age_group: str, sex: str, manifestation: bool
) -> None:
    row = Code.objects.get(release__version="2026-04", code=code)
    assert (row.age_group, row.sex, row.manifestation) == (age_group, sex, manifestation)


def test_search_text_holds_description_and_inclusion_terms() -> None:
    row = Code.objects.get(release__version="2026-04", code="J02.0")
    assert (
        row.search_text == "streptococcal pharyngitis septic pharyngitis streptococcal sore throat"
    )


def test_small_import_then_second_run_is_unchanged(small_tabular: Path) -> None:
    first = _import_small(small_tabular)
    assert (first.status, first.codes, first.billable) == ("created", 3, 2)
    rows = list(Code.objects.filter(release__version="test-2099").values_list("id", "code"))
    before = _snapshot()

    second = _import_small(small_tabular)

    assert second.status == "unchanged"
    assert "unchanged" in second.describe()
    assert _snapshot() == before
    assert list(Code.objects.filter(release__version="test-2099").values_list("id", "code")) == rows


def test_changed_content_replaces_the_release_in_place(small_tabular: Path) -> None:
    _import_small(small_tabular)
    release_id = Release.objects.get(version="test-2099").id
    small_tabular.write_text(
        small_tabular.read_text().replace("Cholera, unspecified", "Cholera, type not stated")
    )

    result = _import_small(small_tabular)

    assert result.status == "replaced"
    assert Release.objects.get(version="test-2099").id == release_id
    row = Code.objects.get(release_id=release_id, code="A00.9")
    assert row.description == "Cholera, type not stated"
    assert row.excludes1 == [["prefix", "A08", "", "other intestinal infections (A08.-)"]]


@pytest.mark.parametrize("keep_fraction", [0.5, 0.9])
def test_truncated_bundled_file_is_refused_and_nothing_changes(
    tmp_path: Path, keep_fraction: float
) -> None:
    data = bundled_tabular_path().read_bytes()
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(data[: int(len(data) * keep_fraction)])
    before = _snapshot()

    with pytest.raises(CodesetImportError) as error:
        _import_small(truncated, version="2026-04")

    assert "\n" not in str(error.value)
    assert "truncated.xml" in str(error.value)
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("<html><body>not a tabular</body></html>", "not an ICD-10-CM tabular"),
        ("", "wrong.xml is not"),
    ],
)
def test_foreign_or_empty_file_is_refused(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "wrong.xml"
    path.write_text(content)
    before = _snapshot()
    with pytest.raises(CodesetImportError, match=fragment):
        _import_small(path)
    assert _snapshot() == before


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CodesetImportError, match="cannot read"):
        _import_small(tmp_path / "absent.xml")


def test_window_that_ends_before_it_starts_is_refused(small_tabular: Path) -> None:
    with pytest.raises(CodesetImportError, match="cannot end"):
        release_import_icd10cm(
            path=small_tabular,
            version="backwards",
            effective_from=dt.date(2099, 2, 1),
            effective_to=dt.date(2099, 1, 1),
            source="test",
        )


def test_licensed_cpt_file_replaces_descriptions_and_notice(tmp_path: Path) -> None:
    path = tmp_path / "cpt.tsv"
    path.write_text(
        "Code\tDescriptor\n99213\tLicensed descriptor for an office visit\n"
        "99999\tA code our set lacks\n25\tLicensed modifier descriptor\n"
    )
    release = Release.objects.get(system="CPT", version="2026")
    assert "our own summaries" in release.notice
    codes_before = release.code_count

    result = release_import_cpt_licensed(path=path, version="2026")

    release.refresh_from_db()
    assert result.status == "updated"
    assert "American Medical Association. All rights reserved" in release.notice
    assert "our own" not in release.notice
    row = Code.objects.get(release=release, code="99213")
    assert (row.description, row.search_text) == (
        "Licensed descriptor for an office visit",
        "licensed descriptor for an office visit",
    )
    assert Code.objects.filter(release=release, code="99999").exists()
    assert release.code_count == codes_before + 1
    assert Modifier.objects.get(release=release, code="25").description == (
        "Licensed modifier descriptor"
    )
    assert release_import_cpt_licensed(path=path, version="2026").status == "unchanged"


def test_licensed_cpt_file_needs_an_existing_release(tmp_path: Path) -> None:
    path = tmp_path / "cpt.tsv"
    path.write_text("99213\tText\n")
    with pytest.raises(CodesetImportError, match="no CPT release '1999'"):
        release_import_cpt_licensed(path=path, version="1999")


def test_bad_licensed_cpt_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cpt.tsv"
    path.write_text("99213\tText\nnot a line\n")
    with pytest.raises(CodesetImportError, match="line 2"):
        release_import_cpt_licensed(path=path, version="2026")


def test_hcpcs_cms_file_gives_full_coverage_with_curated_units() -> None:
    if not HCPCS_REFERENCE.exists():
        pytest.skip("the CMS HCPCS reference file is not available")
    result = release_import_hcpcs_cms(
        path=HCPCS_REFERENCE,
        version="test-cms",
        effective_from=dt.date(2026, 1, 1),
        effective_to=dt.date(2026, 3, 31),
    )
    assert result.status == "created"
    assert result.codes > 5000
    rows = {
        row.code: row
        for row in Code.objects.filter(release__version="test-cms", code__in=["J1885", "E0114"])
    }
    assert rows["J1885"].billing_unit == "15 mg"
    assert rows["E0114"].description.lower().startswith("crutches underarm")
    assert rows["E0114"].section  # the curated sub-group "Crutches"
    assert Modifier.objects.filter(release__version="test-cms", code="RT").exists()
    second = release_import_hcpcs_cms(
        path=HCPCS_REFERENCE,
        version="test-cms",
        effective_from=dt.date(2026, 1, 1),
        effective_to=dt.date(2026, 3, 31),
    )
    assert second.status == "unchanged"


def test_truncated_hcpcs_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hcpcs.txt"
    path.write_text("3" * 40 + "\n")
    before = _snapshot()
    with pytest.raises(CodesetImportError, match=r"hcpcs\.txt"):
        release_import_hcpcs_cms(
            path=path, version="bad", effective_from=dt.date(2026, 1, 1), effective_to=None
        )
    assert _snapshot() == before
