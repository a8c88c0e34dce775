"""Search semantics of the ``search_codes`` contract, on the bundled releases."""

from __future__ import annotations

import datetime as dt

import pytest

from codesets.domain.catalog import NoReleaseInForce
from codesets.domain.systems import System
from codesets.search import code_prefix_of, search_codes, words_of

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("bundled_codesets"),
    pytest.mark.full_release,
]

IN_FORCE = dt.date(2026, 5, 1)


def _codes(query: str, **kwargs: object) -> list[str]:
    return [hit.code for hit in search_codes(query=query, day=IN_FORCE, **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("s52.52", "S5252"),
        (" S52 52 ", "S5252"),
        ("992", "992"),
        ("e0114", "E0114"),
        ("s", "S"),
        ("strep", None),
        ("strep throat", None),
        ("b12 deficiency", None),
    ],
)
def test_code_shaped_queries(query: str, expected: str | None) -> None:
    assert code_prefix_of(query) == expected


def test_words_are_folded_like_the_index() -> None:
    assert words_of("Ménière's  DISEASE, 10+") == ["meniere", "s", "disease", "10"]


@pytest.mark.parametrize("query", ["s52.52", "S5252", " s52.52 "])
def test_code_prefix_lists_the_code_then_its_descendants_in_tabular_order(query: str) -> None:
    codes = _codes(query, limit=12)
    assert codes[:4] == ["S52.52", "S52.521", "S52.521A", "S52.521D"]
    assert all(code.startswith("S52.52") for code in codes)


def test_a_lone_letter_lists_codes_in_code_order() -> None:
    codes = _codes("s", limit=5)
    assert codes == sorted(codes)
    assert all(code.startswith("S") for code in codes)


def test_exact_code_comes_first_even_among_longer_codes() -> None:
    assert _codes("J02.0")[0] == "J02.0"
    assert _codes("e0114")[0] == "E0114"


@pytest.mark.parametrize(
    ("query", "expected", "within"),
    [
        ("strep throat", "J02.0", 3),
        ("throat strep", "J02.0", 3),
        ("crutches", "E0114", 10),
        ("pneumonia unspecified organism", "J18.9", 3),
        ("type 2 diabetes without complications", "E11.9", 3),
    ],
)
def test_word_queries_find_the_expected_code(query: str, expected: str, within: int) -> None:
    assert expected in _codes(query)[:within]


def test_established_patient_office_visit_finds_the_cpt_visits() -> None:
    codes = _codes("established patient office visit")
    assert {"99212", "99213", "99214", "99215"} <= set(codes)


def test_every_word_must_match() -> None:
    hits = search_codes(query="cholera zebra", day=IN_FORCE)
    assert hits == []


def test_billable_codes_rank_before_headers() -> None:
    hits = search_codes(query="pneumonia", day=IN_FORCE, limit=20)
    billable = [hit.billable for hit in hits]
    assert billable == sorted(billable, reverse=True)
    assert billable[0] is True


def test_system_filter() -> None:
    hits = search_codes(query="office visit", system=System.CPT, day=IN_FORCE, limit=20)
    assert hits
    assert {hit.system for hit in hits} == {"CPT"}


@pytest.mark.parametrize(
    ("query", "expected_word"), [("pnuemonia", "pneumonia"), ("diabtes", "diabetes")]
)
def test_misspelled_words_still_find_something(query: str, expected_word: str) -> None:
    hits = search_codes(query=query, day=IN_FORCE)
    assert hits
    assert expected_word in hits[0].description.lower()


def test_date_without_a_release_is_an_error() -> None:
    with pytest.raises(NoReleaseInForce):
        search_codes(query="cholera", day=dt.date(2019, 1, 1))


def test_hit_shape() -> None:
    hit = search_codes(query="J02.0", day=IN_FORCE)[0]
    assert hit.as_dict() == {
        "code": "J02.0",
        "system": "ICD-10-CM",
        "description": "Streptococcal pharyngitis",
        "billable": True,
    }
