"""S11: lesson Markdown is sanitised after rendering (ASVS 1.3.1, 1.3.5).

A lesson whose body carries every classic payload is stored and opened through the
lesson page by an enrolled student; the page must keep none of them, while ordinary
Markdown (a heading, emphasis, a plain https link) still renders.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from coding_course.lessons.models import Course, Lesson, Module
from coding_course.lessons.services import enrollment_create
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

# (payload in the Markdown, pattern that must not be in the page)
PAYLOADS = [
    ('<script>alert("s11-script")</script>', r"<script>alert|s11-script"),
    ('<img src="x" onerror="alert(\'s11-img\')">', r"onerror|s11-img"),
    ('<svg><script>alert("s11-svg")</script></svg>', r"<svg|s11-svg"),
    ('<iframe src="https://evil.test/s11-frame"></iframe>', r"<iframe|s11-frame"),
    ("[click me](javascript:alert('s11-link'))", r"(?i)javascript:"),
    ('<p style="position:fixed" id="s11-style">styled</p>', r"\sstyle=|position:fixed"),
    ('<a href="JaVaScRiPt:alert(1)">mixed case</a>', r"(?i)javascript:"),
    ("<div onmouseover=\"alert('s11-hover')\">hover</div>", r"onmouseover|s11-hover"),
]

BODY = "\n\n".join(
    [
        "## Safe heading s11",
        "Some *emphasis* and a [reference](https://www.cms.gov/) link.",
        *(payload for payload, _ in PAYLOADS),
    ]
)


@pytest.fixture
def hostile_lesson(db):
    course = Course.objects.create(
        slug="s11-course", title="S11 course", codes_as_of=dt.date(2026, 7, 1)
    )
    module = Module.objects.create(course=course, slug="s11-module", title="S11 module")
    return Lesson.objects.create(module=module, slug="s11-lesson", title="S11", body_md=BODY)


def test_the_lesson_page_keeps_none_of_the_payloads(world, hostile_lesson):
    student = world.a.students[0]
    enrollment_create(user=student, course=hostile_lesson.module.course)
    response = signed_in(student).get(hostile_lesson.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    # The control: ordinary Markdown renders.
    assert "Safe heading s11</h2>" in page
    assert "<em>emphasis</em>" in page
    assert 'href="https://www.cms.gov/"' in page
    kept = [pattern for _, pattern in PAYLOADS if re.search(pattern, page)]
    assert kept == []
