"""A student enrols, opens a lesson, answers a practice exercise, follows a code link
and marks the lesson complete, in a real browser. Screenshots of the course page and a
lesson page go to artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser.conftest import screenshot
from tests.factories import TEST_PASSWORD, StudentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def loaded_course(codesets) -> Iterator[None]:
    """The course in the live server's database (a transactional test may start empty)."""
    from coding_course.lessons.content import bundled_course_path, load_course_folder
    from coding_course.lessons.services import course_load

    course_load(spec=load_course_folder(bundled_course_path()))
    return


def test_student_enrols_reads_a_lesson_and_completes_it(page, loaded_course):
    from coding_course.lessons.models import LessonCompletion, PracticeAnswer

    StudentFactory(username="learner7")
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("learner7")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")

    page.goto("/learn/")
    page.wait_for_url("**/learn/medical-coding-essentials/")
    page.get_by_role("button", name="Enrol in this course").click()
    page.get_by_text("You are enrolled in Medical coding essentials.").wait_for()
    assert page.get_by_text("Opens when you finish").first.is_visible()
    screenshot(page, "lessons-course")

    page.get_by_role("link", name=re.compile("^Continue: Why coding exists")).click()
    page.get_by_role("heading", name="Why coding exists and how a claim carries codes").wait_for()
    assert page.get_by_text("After this lesson you can").is_visible()

    # A practice exercise: no answer on the page until one is chosen.
    exercise = page.locator("#practice-1")
    assert exercise.get_by_text("The answer is").count() == 0
    exercise.locator("input[type=radio]").first.check()
    exercise.get_by_role("button", name="Check my answer").click()
    page.locator("#practice-1 .alert").wait_for()
    assert re.search(r"Correct\.|Not quite\.", page.locator("#practice-1 .alert").inner_text())
    assert PracticeAnswer.objects.count() == 1
    screenshot(page, "lessons-lesson")

    # A code in the prose links to its page in the code browser, titled with its descriptor.
    link = page.locator("a.code-link", has_text="J02.0").first
    assert link.get_attribute("title") == "ICD-10-CM J02.0: Streptococcal pharyngitis"
    link.click()
    page.wait_for_url("**/codes/ICD-10-CM/J02.0/")
    assert page.get_by_role("heading", name=re.compile("Streptococcal pharyngitis")).is_visible()
    page.go_back()

    page.get_by_role("button", name="Mark lesson complete").click()
    page.wait_for_url("**/learn/medical-coding-essentials/three-code-sets/")
    assert page.get_by_text("Lesson complete. Next: The three code sets at a glance.").is_visible()
    assert LessonCompletion.objects.filter(lesson__slug="why-coding-exists").count() == 1

    # A lesson of a locked module explains what to finish first.
    response = page.goto("/learn/medical-coding-essentials/laterality/")
    assert response.status == 403
    assert page.get_by_role("heading", name="This lesson is not open yet").is_visible()
