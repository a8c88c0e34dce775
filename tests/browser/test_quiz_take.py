"""A student takes a practice quiz in a real browser, from the keyboard, and reads
the explanations. Screenshots of the take and review pages go to artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot
from tests.factories import TEST_PASSWORD, StudentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CYSTITIS = "a-pc-acute-cystitis-hematuria"


def _type_line(page, *cells: str) -> None:
    """Type the cells of one procedure line, Tab between them, as a coder would."""
    for index, cell in enumerate(cells):
        if index:
            page.keyboard.press("Tab")
        page.keyboard.type(cell)


def test_student_codes_a_practice_quiz_from_the_keyboard(page, codesets):
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    from quizzes.encounters.services import encounter_library_load
    from quizzes.models import Encounter, Response
    from tests.quizzes.factories import quiz_with_items

    encounter_library_load()
    student = StudentFactory(username="coder1")
    second = Encounter.objects.exclude(slug=CYSTITIS).order_by("slug").first()
    quiz_with_items(
        encounters=[Encounter.objects.get(slug=CYSTITIS), second],
        students=[student],
        title="Practice: urinary symptoms",
        tries_per_item=3,
    )

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("coder1")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    page.goto("/quizzes/")
    page.get_by_role("link", name=re.compile("Practice: urinary symptoms")).click()
    page.get_by_role("button", name="Start attempt").click()
    page.wait_for_url(re.compile(r"/quizzes/attempts/\d+/$"))

    # A near miss first: the descriptor preview and the practice feedback react.
    page.get_by_label("Diagnosis 1 code").click()
    page.keyboard.type("n30.00")
    preview = page.locator("#dx-lines .line-preview").first
    preview.filter(has_text="Acute cystitis without hematuria").wait_for()
    page.get_by_role("button", name="Check answer").click()
    feedback = page.locator("#feedback")
    feedback.get_by_text("Right category").wait_for()
    assert "N30.01" not in page.content()  # the key stays on the server
    assert page.locator("#tries-left").inner_text() == "2"

    # Fix it and code the procedure lines without the mouse.
    page.get_by_label("Diagnosis 1 code").fill("")
    page.get_by_label("Diagnosis 1 code").focus()
    page.keyboard.type("N3001")
    page.get_by_label("Procedure line 1 code").focus()
    _type_line(page, "99213", "", "1", "1")
    page.keyboard.press("Enter")
    _type_line(page, "81002", "", "1", "1")
    page.keyboard.press("Enter")
    _type_line(page, "81025", "", "1", "1")
    page.keyboard.press("Enter")
    page.keyboard.type("99999")
    page.keyboard.press("Alt+Backspace")  # a stray line removed from the keyboard
    assert page.locator("#proc-lines > li").count() == 3
    page.get_by_label("Flag this exercise for review").check()
    page.get_by_text("All changes saved").wait_for()
    page.locator("#proc-lines .line-preview").nth(2).filter(has_text="pregnancy").wait_for()
    page.get_by_role("button", name="Check answer").click()
    feedback.get_by_text("All correct!").wait_for()
    screenshot(page, "quiz-take")

    # Autosave: a reload keeps every line and the flag.
    page.reload()
    assert page.get_by_label("Procedure line 3 code").input_value() == "81025"
    assert page.get_by_label("Flag this exercise for review").is_checked()
    assert page.get_by_role("link", name=re.compile("Exercise 1, answered, flagged")).is_visible()
    response = Response.objects.get(item__encounter__slug=CYSTITIS)
    assert response.answer["diagnoses"] == ["N3001"]

    page.get_by_role("link", name="Next →").click()
    page.get_by_text("Exercise 2 of 2").wait_for()
    page.get_by_role("button", name="Finish and submit").click()
    page.wait_for_url(re.compile(r"/review$"))
    assert page.get_by_role("heading", name=re.compile("your result")).is_visible()
    page.get_by_text("Answer key and rationale").first.wait_for()
    assert page.get_by_text(re.compile("N30.0 acute cystitis is subdivided")).is_visible()
    assert page.locator(".finding-ok").count() >= 4
    screenshot(page, "quiz-review")
    assert script_errors == []


def test_instructor_fixes_a_header_code_generates_exercises_and_builds_a_quiz(page, codesets):
    from quizzes.models import Encounter, QuizItem
    from tests.factories import InstructorFactory

    InstructorFactory(username="teacher1")
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("teacher1")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")

    page.goto("/quizzes/author/quizzes/new")
    page.get_by_label("Title").fill("Throat infections")
    page.get_by_role("button", name="Save quiz").click()
    page.get_by_text("Quiz saved.").wait_for()

    page.goto("/quizzes/author/encounters/new")
    page.get_by_label("Identifier").fill("throat-strep")
    page.get_by_label("Title").fill("Sore throat, rapid strep positive")
    page.get_by_label("Patient age (years)").fill("34")
    page.get_by_label("Patient sex").select_option("F")
    page.get_by_label("Clinical note").fill("Two days of sore throat. Rapid strep positive.")
    page.locator("#id_dx-0-code").fill("J02")
    page.locator("#id_dx-0-why").fill("Streptococcal pharyngitis, confirmed by the test.")
    page.locator("#id_proc-0-code").fill("87880")
    page.locator("#id_proc-0-dx_pointers").fill("1")
    page.get_by_role("button", name="Check and save").click()
    error = page.locator("#id_dx-0-code ~ .invalid-feedback, #error_1_id_dx-0-code")
    error.first.wait_for()
    assert "category heading" in error.first.inner_text()
    screenshot(page, "author-header-code-rejected")
    assert not Encounter.objects.filter(slug="throat-strep").exists()

    page.locator("#id_dx-0-code").fill("J02.0")
    page.get_by_role("button", name="Check and save").click()
    page.wait_for_url("**/throat-strep/exercises")
    page.get_by_text("its key passed every check").wait_for()
    page.locator("input[name=picks]").first.check()
    page.locator("input[name=picks]").nth(1).check()
    page.get_by_label("Quiz").select_option(label="Throat infections")
    page.get_by_role("button", name="Add the ticked exercises").click()
    page.get_by_text("Added 2 exercise(s).").wait_for()
    assert QuizItem.objects.filter(quiz__title="Throat infections").count() == 2
    screenshot(page, "author-quiz-built")
