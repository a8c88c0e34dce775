"""Learning-path pages: access, enrolment, locks (403), practice secrecy, completion,
resume, CSRF, sanitised instructor edits and bounded queries."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from coding_course.accounts.models import Role
from coding_course.lessons.models import Lesson, LessonCompletion, PracticeAnswer
from coding_course.lessons.selectors import lesson_practice
from tests.factories import EmployerFactory, UserFactory
from tests.lessons.conftest import complete_module

pytestmark = pytest.mark.django_db

COURSE = "medical-coding-essentials"


def _url(name: str, *args: object) -> str:
    return reverse(f"lessons:{name}", args=args)


def _lesson(slug: str) -> str:
    return _url("lesson_detail", COURSE, slug)


def test_anonymous_visitors_are_sent_to_log_in(client, course):
    response = client.get(_url("course_detail", COURSE))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_employers_have_no_course_pages(client, course):
    client.force_login(EmployerFactory())
    # The course page names an object (its slug): a role without lessons gets 404.
    assert client.get(_url("course_detail", COURSE)).status_code == 404


def test_the_course_list_opens_the_only_course(client, course, student):
    client.force_login(student)
    response = client.get(_url("course_list"))
    assert response.status_code == 302
    assert response["Location"] == _url("course_detail", COURSE)


def test_before_enrolling_the_course_page_offers_enrolment_only(client, course, student):
    client.force_login(student)
    html = client.get(_url("course_detail", COURSE)).content.decode()
    assert "Enrol in this course" in html
    assert f'href="{_lesson("why-coding-exists")}"' not in html
    assert "Module 5: Linkage and medical necessity" in html
    response = client.get(_lesson("why-coding-exists"))
    assert response.status_code == 302
    assert response["Location"] == _url("course_detail", COURSE)


def test_enrolment_needs_post_and_a_csrf_token(course, student):
    client = Client(enforce_csrf_checks=True)
    client.force_login(student)
    assert client.get(_url("enrol", COURSE)).status_code == 405
    assert client.post(_url("enrol", COURSE)).status_code == 403
    page = client.get(_url("course_detail", COURSE)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(_url("enrol", COURSE), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert student.enrollments.count() == 1


def test_after_enrolling_the_course_page_shows_progress_and_continue(client, course, enrolled):
    client.force_login(enrolled)
    html = client.get(_url("course_detail", COURSE)).content.decode()
    assert "Enrol in this course" not in html
    assert f'<a class="btn btn-primary" href="{_lesson("why-coding-exists")}">Continue' in html
    assert "0 of 27 lessons complete" in html
    assert "Opens when you finish <strong>Foundations</strong>" in html
    # Lessons of a locked module are listed but not linked.
    assert f'href="{_lesson("laterality")}"' not in html


def test_a_locked_lesson_answers_403_and_says_what_to_finish(client, course, enrolled):
    client.force_login(enrolled)
    response = client.get(_lesson("laterality"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "This lesson is not open yet" in html
    assert "<li>Foundations</li>" in html
    assert client.post(_url("lesson_complete", COURSE, "laterality")).status_code == 403
    assert not LessonCompletion.objects.exists()


def test_a_lesson_page_links_its_codes_and_lists_objectives(client, course, enrolled):
    client.force_login(enrolled)
    response = client.get(_lesson("why-coding-exists"))
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        '<a class="code code-link" href="/codes/ICD-10-CM/J02.0/" '
        'title="ICD-10-CM J02.0: Streptococcal pharyngitis">J02.0</a>'
    ) in html
    assert 'href="/codes/CPT/87880/"' in html
    assert "After this lesson you can" in html
    assert "[[" not in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_practice_answers_stay_on_the_server_until_the_learner_answers(client, course, enrolled):
    client.force_login(enrolled)
    lesson = Lesson.objects.get(slug="why-coding-exists")
    items = lesson_practice(lesson=lesson, user=enrolled)
    assert len(items) == 3
    html = client.get(_lesson(lesson.slug)).content.decode()
    assert html.count('type="radio"') == sum(len(item.choices) for item in items)
    for item in items:
        first_line = item.explanation.splitlines()[0]
        assert first_line not in html
        assert "The answer is" not in html

    item = items[0]
    wrong = next(choice.value for choice in item.choices if choice.value != item.answer)
    response = client.post(
        _url("practice_answer", COURSE, lesson.slug, 0), {"item": item.key, "choice": wrong}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#practice-1")
    html = client.get(_lesson(lesson.slug)).content.decode()
    assert "Not quite." in html
    assert "The answer is" in html
    assert item.explanation.splitlines()[0][:40] in html.replace("&#x27;", "'")
    answer = PracticeAnswer.objects.get(user=enrolled, lesson=lesson, position=0)
    assert (answer.chosen, answer.correct, answer.encounter) == (wrong, False, item.encounter)
    # The other items still hide theirs.
    assert html.count("The answer is") == 1


def test_a_stale_or_unknown_practice_item_records_nothing(client, course, enrolled):
    client.force_login(enrolled)
    lesson = Lesson.objects.get(slug="why-coding-exists")
    item = lesson_practice(lesson=lesson, user=enrolled)[1]
    for position, key in ((1, "other|best_code|x"), (9, item.key)):
        response = client.post(
            _url("practice_answer", COURSE, lesson.slug, position),
            {"item": key, "choice": item.answer},
            follow=True,
        )
        assert "This practice exercise has changed" in response.content.decode()
    assert not PracticeAnswer.objects.exists()


def test_marking_complete_moves_on_and_unlocks_the_next_module(client, course, enrolled):
    client.force_login(enrolled)
    response = client.post(_url("lesson_complete", COURSE, "why-coding-exists"))
    assert response["Location"] == _lesson("three-code-sets")
    response = client.post(_url("lesson_complete", COURSE, "three-code-sets"))
    assert response["Location"] == _lesson("icd-10-cm-structure")
    assert client.get(_lesson("icd-10-cm-structure")).status_code == 200
    html = client.get(_url("course_detail", COURSE)).content.decode()
    assert "2 of 27 lessons complete" in html
    assert f'href="{_lesson("icd-10-cm-structure")}">Continue' in html
    assert client.get(_url("lesson_complete", COURSE, "laterality")).status_code == 405


def test_after_the_last_lesson_the_course_says_so(client, course, enrolled):
    for module in ("foundations", "icd-10-cm", "cpt", "hcpcs-level-ii"):
        complete_module(enrolled, course, module)
    client.force_login(enrolled)
    client.post(_url("lesson_complete", COURSE, "linkage-and-medical-necessity"))
    response = client.post(_url("lesson_complete", COURSE, "reviewing-a-claim"), follow=True)
    assert "You have completed every lesson." in response.content.decode()


HOSTILE_EDIT = (
    "<script>alert('pwned')</script>\n\n<img src=x onerror=alert(2)>\n\n"
    "[click](javascript:alert(3))\n\n<svg><script>alert(4)</script></svg>\n\n"
    '<iframe src="https://evil.example/"></iframe>\n\n<p style="display:none">x</p>\n\n'
    "A real code: [[I10]]."
)


def test_a_malicious_instructor_edit_renders_inert(client, course, enrolled):
    lesson = Lesson.objects.get(slug="why-coding-exists")
    lesson.body_md = HOSTILE_EDIT
    lesson.save()
    client.force_login(enrolled)
    html = client.get(_lesson(lesson.slug)).content.decode()
    body = html.split('<div class="lesson-body">', 1)[1].split("</div>", 1)[0]
    for fragment in ("<script", "alert(", "onerror", "javascript:", "<svg", "<iframe", "style="):
        assert fragment not in body
    assert 'href="/codes/ICD-10-CM/I10/"' in body


def test_the_admin_preview_is_sanitised_too(client, course):
    admin = UserFactory(role=Role.STAFF, is_staff=True, is_superuser=True)
    lesson = Lesson.objects.get(slug="why-coding-exists")
    lesson.body_md = HOSTILE_EDIT
    lesson.save()
    client.force_login(admin)
    response = client.get(reverse("admin:lessons_lesson_change", args=[lesson.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Preview (sanitised, as learners see it)" in html
    assert "<script>alert('pwned')" not in html
    assert not re.search(r"<img[^>]*onerror", html)
    assert 'href="/codes/ICD-10-CM/I10/"' in html


def test_pages_read_a_bounded_number_of_rows(
    client, course, enrolled, django_assert_max_num_queries
):
    complete_module(enrolled, course, "foundations")
    client.force_login(enrolled)
    client.get(_lesson("laterality"))  # warm the process-wide catalog and library caches
    with django_assert_max_num_queries(12):
        assert client.get(_url("course_detail", COURSE)).status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get(_lesson("laterality")).status_code == 200
