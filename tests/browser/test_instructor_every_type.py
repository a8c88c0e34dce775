"""An instructor builds a practice quiz with one exercise of every type from an
encounter's exercises page and assigns it; the student checks every answer, submits
and reads the review. Screenshots of the take and review pages go to artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import screenshot
from tests.factories import TEST_PASSWORD, InstructorFactory, StudentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUIZ_TITLE = "Every exercise type"
# The seven exercise types in the order the exercises page generates them.
EVERY_TYPE = (
    "full_coding",
    "best_code",
    "code_family",
    "specificity",
    "sequencing",
    "linkage",
    "audit",
)


def _encounter_with_every_type() -> str:
    """The first library encounter (in slug order) whose seed-1 exercises, generated as
    the exercises page generates them, include all seven types."""
    from codesets.adapters import memory_catalog_for_date
    from quizzes.generation.encounters import bundled_library_path, load_library
    from quizzes.generation.generators import generate

    for spec in sorted(load_library(bundled_library_path()), key=lambda spec: spec.id):
        catalog = memory_catalog_for_date(spec.date_of_service)
        types = {exercise.type for exercise in generate(spec, catalog, types=EVERY_TYPE, seed=1)}
        if types == set(EVERY_TYPE):
            return spec.id
    raise AssertionError("no library encounter yields every exercise type")


def _log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def _code(line: Any) -> str:
    """A key line's code, whether the key stores plain strings or line objects."""
    return str(line["code"]) if isinstance(line, dict) else str(line)


def _fill_full_coding(page, key: dict[str, Any]) -> None:
    """Every diagnosis and procedure line of the key, through the line inputs."""
    for index, line in enumerate(key["diagnoses"], start=1):
        if index > 1:
            page.get_by_role("button", name="+ Diagnosis").click()
        page.get_by_label(f"Diagnosis {index} code").fill(_code(line))
    for index, line in enumerate(key["procedures"], start=1):
        if index > 1:
            page.get_by_role("button", name="+ Procedure or supply").click()
        name = f"Procedure line {index}"
        page.get_by_label(f"{name} code").fill(line["code"])
        page.get_by_label(f"{name} modifiers").fill(", ".join(line.get("modifiers", [])))
        page.get_by_label(f"{name} units").fill(str(line.get("units", 1)))
        page.get_by_label(f"{name} dx pointers").fill(
            ", ".join(str(p) for p in line.get("dx_pointers", []))
        )
    assert page.locator("#dx-lines > li").count() == len(key["diagnoses"])
    assert page.locator("#proc-lines > li").count() == len(key["procedures"])


def _fill_sequencing(page, order: list[str]) -> None:
    """Move each code up with its own button until the list reads in the key's order."""
    lines = page.locator("#order-lines > li")
    for position, code in enumerate(order):
        for _ in range(len(order)):
            shown = [lines.nth(i).get_attribute("data-code") for i in range(lines.count())]
            if shown.index(code) <= position:
                break
            page.get_by_role("button", name=f"Move {code} up").click()
    shown = [lines.nth(i).get_attribute("data-code") for i in range(lines.count())]
    assert shown == order


def _fill_linkage(page, links: dict[str, list[str]]) -> None:
    for label, codes in links.items():
        group = page.get_by_role("group", name=label)
        for code in codes:
            group.get_by_label(code, exact=True).check()


def _audit_fix(fix: Any) -> str:
    """A planted error's fix typed as the page asks: a code, a code with its modifiers
    ("99213-25"), or "delete"."""
    if fix is None:
        return "delete"
    if isinstance(fix, dict):
        return "-".join([str(fix["code"]), *(str(m) for m in fix.get("modifiers", []))])
    return str(fix)


def _fill_audit(page, errors: list[dict[str, Any]]) -> None:
    for error in errors:
        kind, index = re.fullmatch(r"(\w+)\[(\d+)\]", error["line"]).groups()
        label = f"{'Dx' if kind == 'diagnoses' else 'Line'} {int(index) + 1}"
        page.get_by_label(f"Fix for {label}").fill(_audit_fix(error.get("fix")))


def _answer(page, item) -> None:
    """Answer one exercise from its key, through the inputs the take page offers."""
    kind = item.exercise_type
    answer = item.exercise["answer"]
    if kind == "full_coding":
        _fill_full_coding(page, answer)
    elif kind == "sequencing":
        _fill_sequencing(page, [str(code) for code in answer])
    elif kind == "linkage":
        _fill_linkage(page, answer)
    elif kind == "audit":
        _fill_audit(page, answer)
    elif kind == "specificity":
        page.get_by_label("Code", exact=True).fill(str(answer))
    else:
        page.get_by_label(str(answer), exact=True).check()


def _check(page, kind: str) -> None:
    """Press "Check answer" and wait for the feedback the endpoint sends back."""
    with page.expect_response(re.compile(r"/items/\d+/check$")) as checked:
        page.get_by_role("button", name="Check answer").click()
    response = checked.value
    assert response.status == 200, f"{kind}: check answered {response.status}"
    feedback = page.locator("#feedback")
    summary = feedback.locator(".alert")
    summary.wait_for()
    assert re.search(r"Score [\d.]+ of [\d.]+", summary.inner_text()), summary.inner_text()
    assert feedback.locator(".finding").count() >= 1, f"{kind}: no finding in the feedback"
    if kind != "full_coding":
        assert "All correct!" in summary.inner_text(), f"{kind}: {feedback.inner_text()}"


def test_instructor_adds_every_exercise_type_and_a_student_takes_them(
    page, browser, live_server, codesets
):
    from playwright.sync_api import expect

    from quizzes.encounters.services import encounter_library_load
    from quizzes.models import Attempt, ExerciseType, QuizItem, Response

    assert set(EVERY_TYPE) == set(ExerciseType.values)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    encounter_library_load()
    slug = _encounter_with_every_type()
    InstructorFactory(username="teacher1")
    StudentFactory(username="coder1")

    # The instructor creates a practice quiz.
    _log_in(page, "teacher1")
    page.goto("/quizzes/author/")
    page.get_by_role("link", name="New quiz").click()
    page.get_by_label("Title").fill(QUIZ_TITLE)
    page.get_by_label("Mode").select_option("practice")
    page.get_by_role("button", name="Save quiz").click()
    page.get_by_text("Quiz saved.").wait_for()

    # One exercise of every type from the encounter's exercises page.
    page.get_by_role("link", name="Authoring").first.click()
    row = page.get_by_role("row").filter(has_text=slug)
    row.get_by_role("link", name="Exercises").click()
    page.wait_for_url(f"**/{slug}/exercises")
    for kind in EVERY_TYPE:
        page.get_by_label(re.compile(rf"^Exercise \d+: {kind}$")).first.check()
    page.get_by_label("Quiz").select_option(label=QUIZ_TITLE)
    page.get_by_role("button", name="Add the ticked exercises").click()
    page.get_by_text("Added 7 exercise(s).").wait_for()
    items = page.get_by_role("region", name=re.compile("Exercises")).locator("ol > li")
    assert items.count() == 7
    assert sorted(
        QuizItem.objects.filter(quiz__title=QUIZ_TITLE).values_list("exercise_type", flat=True)
    ) == sorted(EVERY_TYPE)

    # ...and assigns it.
    page.get_by_label("Usernames").fill("coder1")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.get_by_text("Assigned to 1 student(s).").wait_for()

    # The student answers and checks every exercise, then submits.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    try:
        student = context.new_page()
        student.set_default_timeout(15_000)
        student.on("pageerror", lambda error: script_errors.append(str(error)))
        student.on("dialog", lambda dialog: dialog.accept())
        _log_in(student, "coder1")
        student.goto("/quizzes/")
        student.get_by_role("link", name=QUIZ_TITLE).click()
        student.get_by_role("button", name="Start attempt").click()
        student.wait_for_url(re.compile(r"/quizzes/attempts/\d+/$"))
        attempt = Attempt.objects.get(quiz__title=QUIZ_TITLE, user__username="coder1")
        asked = QuizItem.objects.in_bulk(attempt.item_ids)
        assert len(attempt.item_ids) == 7
        for number, item_id in enumerate(attempt.item_ids, start=1):
            item = asked[item_id]
            student.get_by_text(f"Exercise {number} of 7").wait_for()
            _answer(student, item)
            _check(student, item.exercise_type)
            if item.exercise_type == "full_coding":
                expect(student.locator(".line-preview", has_text="looking up")).to_have_count(0)
                screenshot(student, "instructor-every-type-take")
            if number < 7:
                student.get_by_role("link", name="Next →").click()
        student.get_by_role("button", name="Finish and submit").click()
        student.wait_for_url(re.compile(r"/review$"))

        # The review shows findings for every exercise.
        student.get_by_role("heading", name=re.compile("your result")).wait_for()
        reviewed = student.locator("article.review-item")
        assert reviewed.count() == 7
        headings = [reviewed.nth(i).locator("h2").inner_text() for i in range(7)]
        labels = [ExerciseType(kind).label for kind in EVERY_TYPE]
        assert sorted(heading.split(" · ")[1] for heading in headings) == sorted(labels)
        for index in range(7):
            findings = reviewed.nth(index).locator(".finding")
            assert findings.count() >= 1, f"no finding shown for {headings[index]}"
        screenshot(student, "instructor-every-type-review")
    finally:
        context.close()

    attempt.refresh_from_db()
    assert attempt.is_submitted
    assert attempt.score is not None
    responses = Response.objects.filter(attempt=attempt)
    assert responses.count() == 7
    assert not responses.filter(scores__isnull=True).exists()
    assert script_errors == []
