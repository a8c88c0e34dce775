"""Which release answers for a date, and the code page read model."""

from __future__ import annotations

import datetime as dt

import pytest

from codesets.domain.catalog import NoReleaseInForce
from codesets.domain.systems import System
from codesets.models import Code, Release
from codesets.selectors import code_page, release_in_force, releases_for_search, releases_in_force

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bundled_codesets")]


def _release(version: str, start: dt.date, end: dt.date | None) -> Release:
    return Release.objects.create(
        system=System.CPT.value,
        version=version,
        effective_from=start,
        effective_to=end,
        source="test",
        content_hash=version,
    )


@pytest.fixture
def two_cpt_windows() -> tuple[Release, Release]:
    return (
        _release("test-2024", dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
        _release("test-2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2024, 1, 1), "test-2024"),
        (dt.date(2024, 12, 31), "test-2024"),
        (dt.date(2025, 1, 1), "test-2025"),
        (dt.date(2025, 6, 15), "test-2025"),
        (dt.date(2026, 5, 1), "2026"),
    ],
)
def test_release_in_force_picks_the_window_holding_the_date(
    two_cpt_windows: tuple[Release, Release], day: dt.date, expected: str
) -> None:
    assert release_in_force(system=System.CPT, day=day).version == expected


def test_a_date_in_no_window_names_the_available_releases(
    two_cpt_windows: tuple[Release, Release],
) -> None:
    with pytest.raises(NoReleaseInForce) as error:
        release_in_force(system=System.CPT, day=dt.date(2019, 6, 1))
    message = str(error.value)
    assert "no CPT release is in force on 2019-06-01" in message
    assert "test-2024 (2024-01-01 to 2024-12-31)" in message
    assert "test-2025 (2025-01-01 to 2025-12-31)" in message


def test_overlapping_windows_prefer_the_later_start() -> None:
    _release("test-open", dt.date(2030, 1, 1), None)
    _release("test-later", dt.date(2030, 7, 1), dt.date(2030, 12, 31))
    assert release_in_force(system=System.CPT, day=dt.date(2030, 8, 1)).version == "test-later"
    assert release_in_force(system=System.CPT, day=dt.date(2031, 8, 1)).version == "test-open"


def test_releases_in_force_raises_for_a_system_without_one() -> None:
    with pytest.raises(NoReleaseInForce, match="ICD-10-CM"):
        releases_in_force(day=dt.date(2026, 11, 27))
    chosen = releases_in_force(day=dt.date(2026, 5, 1))
    assert {system: r.version for system, r in chosen.items()} == {
        System.ICD10CM: "2026-04",
        System.CPT: "2026",
        System.HCPCS: "2026-01",
    }


def test_search_without_a_date_falls_back_to_the_newest_release(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("codesets.selectors.timezone.localdate", lambda: dt.date(2026, 11, 27))
    chosen = {r.system: r.version for r in releases_for_search()}
    assert chosen == {"ICD-10-CM": "2026-04", "CPT": "2026", "HCPCS": "2026-01"}


def test_search_with_a_date_is_strict_for_a_named_system() -> None:
    with pytest.raises(NoReleaseInForce, match="2026-04"):
        releases_for_search(day=dt.date(2026, 11, 27), system=System.ICD10CM)
    assert [r.system for r in releases_for_search(day=dt.date(2026, 11, 27))] == ["CPT", "HCPCS"]


def test_code_page_of_a_seventh_character_code() -> None:
    page = code_page(system=System.ICD10CM, code="s93401a")
    assert page is not None
    assert page.code == "S93.401A"
    assert [a.code for a in page.ancestors] == ["S93", "S93.4", "S93.40", "S93.401"]
    assert page.chapter == ("19", page.chapter[1])
    assert page.section is not None
    assert page.section[0] == "S90-S99"
    assert page.seventh is not None
    assert page.seventh.defined_at == "S93"
    assert page.seventh.current == "A"
    assert dict(page.seventh.characters)["A"] == "initial encounter"
    assert [s.code for s in page.siblings if s.current] == ["S93.401A"]


def test_code_page_links_only_codes_the_release_has() -> None:
    page = code_page(system=System.ICD10CM, code="J02")
    assert page is not None
    excludes1 = next(group for group in page.notes if group.kind == "excludes1")
    links = [segment.link for note in excludes1.notes for segment in note if segment.link]
    assert "J06.0" in links
    assert all(Code.objects.filter(release__version="2026-04", code=c).exists() for c in links)
    assert [c.code for c in page.children] == ["J02.0", "J02.8", "J02.9"]


def test_code_page_is_none_for_an_unknown_code() -> None:
    assert code_page(system=System.ICD10CM, code="Z99.999") is None
