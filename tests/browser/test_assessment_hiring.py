"""A hiring manager creates an assessment, invites two candidates by e-mail, both sit
it through their invitation links, and the manager reads the ranking and one
candidate's printable report. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.browser.conftest import screenshot
from tests.factories import TEST_PASSWORD, EmployerFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://\S+/assessments/invitations/\S+/")
PASSWORD = "a candidate passphrase 2024"


def _invitation_link(email: str) -> str:
    for message in reversed(mail.outbox):
        if email in message.to:
            return LINK.search(message.body).group(0)
    raise AssertionError(f"no invitation to {email}")


def _diagnoses(item_id: int) -> list[str]:
    from quizzes.models import QuizItem

    key = QuizItem.objects.get(pk=item_id).exercise["answer"]
    return [line["code"] for line in key["diagnoses"]]


def _sit(page, link: str, name: str, exercises_to_answer: int) -> None:
    """Accept the invitation as a new candidate and answer the first exercises'
    diagnoses from the keyboard, then finish."""
    from coding_course.assessments.models import Candidate

    page.goto(link)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    screenshot(page, f"assessment-invitation-{name.split()[0].lower()}")
    page.get_by_role("button", name="Create account and continue").click()
    page.get_by_role("button", name="Start the assessment").click()
    page.wait_for_url(re.compile(r"/assessments/sittings/\d+/take"))
    candidate = Candidate.objects.get(name=name)
    for number in range(1, exercises_to_answer + 1):
        codes = _diagnoses(candidate.attempt.item_ids[number - 1])
        # The key never reaches the candidate's browser before they type it.
        html = page.content()
        assert not [code for code in codes if code in html]
        page.get_by_label("Diagnosis 1 code").click()
        for index, code in enumerate(codes):
            if index:
                page.keyboard.press("Enter")
            page.keyboard.type(code)
        page.get_by_text("All changes saved").wait_for()
        if number == 1 and name.startswith("Ana"):
            screenshot(page, "assessment-take")
        page.get_by_role("link", name="Next →").click()
        page.get_by_text(f"Exercise {number + 1} of").wait_for()
    page.get_by_role("button", name="Finish and submit").click()
    page.wait_for_url(re.compile(r"/assessments/sittings/\d+/$"))
    page.get_by_text("Thank you").wait_for()


def test_a_hiring_manager_compares_two_candidates(page, browser, live_server, codesets):
    from coding_course.assessments.models import Assessment, Candidate, SittingEvent
    from quizzes.encounters.services import encounter_library_load

    encounter_library_load()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    organisation = OrganisationFactory(name="Riverside Billing", slug="riverside")
    EmployerFactory(username="hiring1", organisation=organisation, first_name="Maya")

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("hiring1")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    page.get_by_role("link", name="Assessments").first.click()
    page.get_by_role("link", name="New assessment").click()
    page.get_by_label("Title").fill("Outpatient coder II")
    page.get_by_label(re.compile("ICD-10-CM")).fill("3")
    page.get_by_label(re.compile("CPT")).fill("2")
    page.get_by_label(re.compile("HCPCS")).fill("1")
    page.get_by_label("Time limit (minutes)").fill("40")
    page.get_by_label("Pass mark (%)").fill("60")
    screenshot(page, "assessment-create")
    page.get_by_role("button", name="Create assessment").click()
    page.get_by_text("Assessment created").wait_for()
    assessment = Assessment.objects.get(title="Outpatient coder II")
    assert assessment.quiz.items.count() == 6

    for email, name, extra in (
        ("ana@candidates.test", "Ana Ruiz", "0"),
        ("ben@candidates.test", "Ben Okafor", "10"),
    ):
        page.get_by_label("Candidate's e-mail").fill(email)
        page.get_by_label("Name (optional)").fill(name)
        page.get_by_label("Extra minutes (accommodation)").fill(extra)
        page.get_by_role("button", name="Send invitation").click()
        page.get_by_text(f"Invitation sent to {email}").wait_for()
    screenshot(page, "assessment-detail-invited")

    for email, name, answered in (
        ("ana@candidates.test", "Ana Ruiz", 3),
        ("ben@candidates.test", "Ben Okafor", 1),
    ):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        candidate_page = context.new_page()
        candidate_page.set_default_timeout(15_000)
        candidate_page.on("pageerror", lambda error: errors.append(str(error)))
        _sit(candidate_page, _invitation_link(email), name, answered)
        context.close()

    ana = Candidate.objects.get(email="ana@candidates.test")
    ben = Candidate.objects.get(email="ben@candidates.test")
    assert ana.attempt.is_submitted
    assert ben.attempt.is_submitted
    # Ben's accommodation: ten minutes more than Ana's 40.
    allowed = {c.name: c.attempt.deadline - c.attempt.started_at for c in (ana, ben)}
    assert (allowed["Ben Okafor"] - allowed["Ana Ruiz"]).total_seconds() == 600
    assert SittingEvent.objects.filter(candidate=ana, kind="view").count() >= 4

    page.goto(f"/assessments/{assessment.pk}/results")
    ranking = page.get_by_role("table").first
    rows = ranking.locator("tbody tr")
    assert rows.count() == 2
    assert "Ana Ruiz" in rows.nth(0).inner_text()
    assert "Ben Okafor" in rows.nth(1).inner_text()
    page.get_by_text("Cronbach's alpha").first.wait_for()
    screenshot(page, "assessment-results")

    rows.nth(0).get_by_role("link", name=re.compile("Report")).click()
    page.get_by_role("heading", name="Ana Ruiz").wait_for()
    assert page.get_by_text("Rank 1 of 2").is_visible()
    screenshot(page, "assessment-report")
    page.emulate_media(media="print")
    screenshot(page, "assessment-report-print")
    assert not page.locator("header nav").is_visible()
    assert errors == []
