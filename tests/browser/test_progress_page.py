"""A student who finished two quizzes opens their progress page in a real browser: the
figures, the charts with their text alternatives and the recommended lesson. The
screenshot goes to artifacts/screenshots/progress-student.png."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser.conftest import screenshot
from tests.factories import TEST_PASSWORD, InstructorFactory, StudentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def loaded_course(codesets) -> Iterator[None]:
    """The course in the live server's database (a transactional test may start empty)."""
    from coding_course.lessons.content import bundled_course_path, load_course_folder
    from coding_course.lessons.services import course_load

    course_load(spec=load_course_folder(bundled_course_path()))
    return


def test_student_sees_accuracy_error_patterns_and_what_to_study_next(page, loaded_course):
    from tests.progress.factories import two_quizzes_history

    student = StudentFactory(username="progress-learner")
    two_quizzes_history(student, InstructorFactory())
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("progress-learner")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")

    page.get_by_role("link", name="Progress").first.click()
    page.wait_for_url("**/progress/")
    assert page.get_by_role("heading", name="Your progress").is_visible()
    for name in (
        "Scores over time",
        "Accuracy by code family",
        "Accuracy by ICD-10-CM chapter",
        "Accuracy by CPT section",
        "Error patterns",
    ):
        assert page.get_by_role("img", name=name).is_visible()
    # The chart's data table is there for screen readers, hidden from view.
    chapters = page.get_by_role("table", name="Accuracy by ICD-10-CM chapter")
    assert (
        chapters.get_by_role("row", name="Ch. 19 Injury and poisoning 0% of 2 checks").count() == 1
    )
    box = chapters.locator("xpath=..").bounding_box()
    assert box["width"] <= 1
    assert box["height"] <= 1
    next_steps = page.locator("section", has=page.get_by_role("heading", name="Recommended next"))
    first = next_steps.locator(".recommendation").first
    assert "Ch. 19 Injury and poisoning" in first.inner_text()
    lesson = first.get_by_role("link", name="Injuries and external causes")
    assert lesson.is_visible()
    screenshot(page, "progress-student")
    assert lesson.get_attribute("href") == (
        "/learn/medical-coding-essentials/injuries-and-external-causes/"
    )


def test_instructor_makes_a_group_and_follows_its_weakest_area(page, loaded_course):
    from tests.progress.factories import two_quizzes_history

    teacher = InstructorFactory(username="progress-teacher")
    two_quizzes_history(StudentFactory(username="ana"), teacher)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("progress-teacher")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")

    page.get_by_role("link", name="Learners").click()
    page.get_by_label("Group name").fill("Evening cohort")
    page.get_by_role("button", name="Create group").click()
    page.get_by_text("Group Evening cohort created.").wait_for()
    page.get_by_label("Student's username").fill("ana")
    page.get_by_role("button", name="Add to group").click()
    page.get_by_text("ana is now in Evening cohort.").wait_for()
    member = page.get_by_role("row", name=re.compile(r"^ana "))
    assert "Ch. 19 Injury and poisoning (0%)" in member.inner_text()
    assert page.get_by_role("heading", name="Weakest areas").is_visible()
    screenshot(page, "progress-group")

    member.get_by_role("link", name="ana", exact=True).click()
    page.get_by_role("heading", name="Progress of ana").wait_for()
    assert page.get_by_role("img", name="Error patterns").is_visible()
