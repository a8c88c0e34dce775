"""Lesson Markdown renders inert (security test S11) and code markers become links."""

from __future__ import annotations

import re

import pytest

from codesets.domain.systems import System
from coding_course.lessons.markdown import (
    code_markers,
    code_problems,
    link_code_markers,
    markdown_to_safe_html,
    render_lesson_markdown,
)

DESCRIPTIONS = {
    (
        System.ICD10CM,
        "S93.401A",
    ): "Sprain of unspecified ligament of right ankle, initial encounter",
    (System.CPT, "99213"): "Established patient office visit",
    (System.HCPCS, "E0143"): 'Folding walker with wheels <b>"new"</b>',
}


def describe(system: System, code: str) -> str | None:
    return DESCRIPTIONS.get((system, code))


# Each row: a hostile lesson fragment and what must not survive rendering.
HOSTILE = [
    ("script tag", "Before <script>alert('x')</script> after", ["<script", "alert("]),
    ("img onerror", '<img src="x" onerror="alert(1)">', ["<img", "onerror"]),
    ("svg with script", "<svg><script>alert(1)</script></svg>", ["<svg", "<script", "alert("]),
    ("svg onload", '<svg onload="alert(1)"><circle r="4"/></svg>', ["<svg", "onload"]),
    ("iframe", '<iframe src="https://evil.example/"></iframe>', ["<iframe", "evil.example"]),
    ("javascript link", "[click me](javascript:alert(1))", ["javascript:", "alert("]),
    ("mixed-case scheme", "[x](JaVaScRiPt:alert(1))", ["javascript:", "alert("]),
    ("encoded scheme", '<a href="jav&#x61;script:alert(1)">x</a>', ["script:", "alert("]),
    ("data url link", "[x](data:text/html;base64,PHNjcmlwdD4=)", ["data:"]),
    ("style attribute", '<p style="position:fixed;top:0">cover</p>', ["style="]),
    ("style tag", "<style>body{display:none}</style>text", ["<style", "display:none"]),
    ("event handler", '<a href="/x" onclick="steal()">x</a>', ["onclick", "steal("]),
    ("object", '<object data="x.swf"></object>', ["<object"]),
    ("form", '<form action="https://evil.example"><input name="p"></form>', ["<form", "<input"]),
    ("marker in a link target", '[x]([[I10]] "t")', ['<a class="code']),
]


@pytest.mark.parametrize(("case", "source", "forbidden"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_markdown_renders_inert(case, source, forbidden):
    html = str(render_lesson_markdown(source, describe)).lower()
    for fragment in forbidden:
        assert fragment.lower() not in html, f"{case}: {fragment!r} survived in {html!r}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("## Heading\n\n**bold** and *em*", ['<h2 class="h4 mt-4">Heading</h2>', "<strong>"]),
        ("[code browser](/codes/)", ['href="/codes/"']),
        ("[CMS](https://www.cms.gov/)", ['href="https://www.cms.gov/"', 'rel="noopener']),
        ("| a | b |\n|---|---|\n| 1 | 2 |", ['<table class="table', "<td>1</td>"]),
        ("- one\n- two", ["<ul>", "<li>one</li>"]),
    ],
)
def test_safe_markdown_keeps_its_formatting(source, expected):
    html = markdown_to_safe_html(source)
    for fragment in expected:
        assert fragment in html


def test_markers_become_links_titled_with_the_descriptor():
    html = str(render_lesson_markdown("Code [[S93.401A]] then [[99213]]-25.", describe))
    assert (
        '<a class="code code-link" href="/codes/ICD-10-CM/S93.401A/" '
        'title="ICD-10-CM S93.401A: Sprain of unspecified ligament of right ankle, '
        'initial encounter">S93.401A</a>'
    ) in html
    assert 'href="/codes/CPT/99213/"' in html
    assert "</a>-25." in html


def test_descriptors_are_escaped_in_the_link_title():
    html = str(render_lesson_markdown("A walker, [[E0143]].", describe))
    assert "&lt;b&gt;&quot;new&quot;&lt;/b&gt;" in html
    assert "<b>" not in html


def test_unknown_and_malformed_markers_do_not_link():
    html = str(render_lesson_markdown("[[Q99.999X]], [[1234]] and [[i10]]", describe))
    assert "code-link" not in html
    assert '<span class="code text-danger"' in html
    assert "[[1234]]" in html
    assert "[[i10]]" in html


def test_markers_in_attributes_are_never_replaced():
    html = markdown_to_safe_html('<abbr title="see [[I10]]">HTN</abbr>')
    assert "[[" not in html
    assert str(link_code_markers(html, describe)) == html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[S93.401A]]", [(System.ICD10CM, "S93.401A")]),
        (
            "[[I10]] [[99213]] [[0714T]]",
            [(System.ICD10CM, "I10"), (System.CPT, "99213"), (System.CPT, "0714T")],
        ),
        ("[[E0143]] [[E11.65]]", [(System.HCPCS, "E0143"), (System.ICD10CM, "E11.65")]),
        ("[[1234]]", [(None, "1234")]),
        ("no markers [I10] [[ ]] [[i10]]", []),
    ],
)
def test_code_markers_name_the_family_by_shape(text, expected):
    assert [(m.system, m.code) for m in code_markers(text)] == expected


def test_code_problems_name_the_lesson_and_the_code():
    problems = code_problems(
        [("01-good.md", "[[S93.401A]] [[99213]]"), ("02-bad.md", "x [[Q99.999X]] y [[1234]]")],
        describe,
    )
    assert [str(problem) for problem in problems] == [
        "02-bad.md: [[Q99.999X]] is not in the ICD-10-CM release in force",
        "02-bad.md: [[1234]] is not shaped like a code",
    ]


def test_rendered_links_carry_no_inline_script_or_style():
    html = str(render_lesson_markdown("[[S93.401A]] [[99213]]", describe))
    assert not re.search(r"\son\w+=|style=|javascript:", html)
