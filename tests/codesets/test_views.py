"""Public search page, its JSON endpoint and the code page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from codesets.models import Code, Release

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bundled_codesets")]


def _detail(system: str, code: str) -> str:
    return reverse("codesets:code_detail", args=[system, code])


@pytest.mark.full_release
def test_search_page_works_without_javascript(client: Client) -> None:
    response = client.get(reverse("codesets:search"), {"q": "strep throat", "date": "2026-05-01"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{_detail("ICD-10-CM", "J02.0")}"' in html
    assert 'aria-live="polite"' in html
    assert '<label for="code-search-q"' in html
    assert "js/code_search.js" in html


def test_search_page_empty_and_filtered(client: Client) -> None:
    assert client.get(reverse("codesets:search")).status_code == 200
    html = client.get(
        reverse("codesets:search"), {"q": "established office", "system": "CPT"}
    ).content.decode()
    assert "99213" in html
    assert "J02.0" not in html


def test_search_api_returns_the_command_shape(client: Client) -> None:
    response = client.get(
        reverse("codesets:search_api"), {"q": "s52.52", "date": "2026-05-01", "limit": 3}
    )
    assert response.status_code == 200
    assert response.json() == [
        {
            "code": "S52.52",
            "system": "ICD-10-CM",
            "description": "Torus fracture of lower end of radius",
            "billable": False,
        },
        {
            "code": "S52.521",
            "system": "ICD-10-CM",
            "description": "Torus fracture of lower end of right radius",
            "billable": False,
        },
        {
            "code": "S52.521A",
            "system": "ICD-10-CM",
            "description": (
                "Torus fracture of lower end of right radius, initial encounter for closed fracture"
            ),
            "billable": True,
        },
    ]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "x", "date": "not-a-date"}, 400),
        ({"q": "x", "system": "LOINC"}, 400),
        ({"q": "x", "limit": "500"}, 400),
        ({"q": ""}, 200),
    ],
)
def test_search_api_validates_its_parameters(
    client: Client, params: dict[str, str], status: int
) -> None:
    assert client.get(reverse("codesets:search_api"), params).status_code == status


def test_code_page_shows_seventh_character_table_and_ancestors(
    client: Client, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    with django_assert_max_num_queries(10):
        response = client.get(_detail("ICD-10-CM", "S93.401A"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "7th characters" in html
    assert 'class="table-warning" aria-current="true"' in html
    assert "initial encounter" in html
    for ancestor in ["S93", "S93.4", "S93.40", "S93.401"]:
        assert f'href="{_detail("ICD-10-CM", ancestor)}"' in html
    assert "Injuries to the ankle and foot" in html


def test_code_page_links_codes_inside_notes(client: Client) -> None:
    html = client.get(_detail("ICD-10-CM", "J02")).content.decode()
    assert "Excludes1" in html
    assert f'<a class="code" href="{_detail("ICD-10-CM", "J06.0")}">J06.0</a>' in html


def test_code_page_shows_mce_attributes(client: Client) -> None:
    html = client.get(_detail("ICD-10-CM", "O80")).content.decode()
    assert "Maternity (ages 9 to 64)" in html
    assert "Female patients only" in html


def test_cpt_page_shows_the_ama_notice(client: Client) -> None:
    html = client.get(_detail("CPT", "99213")).content.decode()
    assert "American Medical Association" in html
    assert "our own summaries" in html


def test_hcpcs_page_shows_billing_unit(client: Client) -> None:
    html = client.get(_detail("HCPCS", "J1885")).content.decode()
    assert "15 mg" in html


def test_note_text_is_escaped_before_codes_are_linked(client: Client) -> None:
    release = Release.objects.create(
        system="ICD-10-CM",
        version="escape-test",
        effective_from=dt.date(2099, 1, 1),
        source="test",
        content_hash="x",
    )
    Code.objects.create(
        release=release,
        code="A00",
        code_key="A00",
        description="Cholera",
        billable=False,
        position=0,
    )
    Code.objects.create(
        release=release,
        code="A00.1",
        code_key="A001",
        description="Cholera due to El Tor",
        billable=True,
        parent_code="A00",
        position=1,
        notes={"excludes1": ['<script>alert("x")</script> see A00 & more']},
    )
    html = client.get(_detail("ICD-10-CM", "A00.1"), {"version": "escape-test"}).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert (
        f'<a class="code" href="{_detail("ICD-10-CM", "A00")}?version=escape-test">A00</a>' in html
    )
    assert "&amp; more" in html


def test_code_page_redirects_to_the_canonical_address(client: Client) -> None:
    response = client.get("/codes/icd-10-cm/s93401a/")
    assert response.status_code == 301
    assert response["Location"] == _detail("ICD-10-CM", "S93.401A")


@pytest.mark.parametrize("url", ["/codes/ICD-10-CM/Z99.999/", "/codes/LOINC/1234-5/"])
def test_unknown_code_or_system_is_404(client: Client, url: str) -> None:
    assert client.get(url).status_code == 404
