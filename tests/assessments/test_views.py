"""Assessment pages: organisation isolation on every id route (walked from the URL
resolver), candidates who never see keys or each other, invitation links end to end,
CSV lists and exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from coding_course.accounts.models import User
from coding_course.assessments import services
from coding_course.assessments.invitation_csv import MAX_BYTES
from coding_course.assessments.models import Assessment, Candidate, SittingEvent
from quizzes.models import Attempt, AttemptStatus, BulkJob, QuizItem, Score
from tests.assessments.conftest import last_signed_link, small_blueprint
from tests.factories import InstructorFactory, StaffFactory, StudentFactory

pytestmark = pytest.mark.django_db


def _id_routes() -> dict[str, list[str]]:
    """Every route of the assessments app that takes an id, with its id names."""
    (resolver,) = [
        pattern
        for pattern in get_resolver().url_patterns
        if isinstance(pattern, URLResolver) and pattern.namespace == "assessments"
    ]
    routes = {}
    for pattern in resolver.url_patterns:
        assert isinstance(pattern, URLPattern)
        ids = [name for name, conv in pattern.pattern.converters.items() if name.endswith("_id")]
        if ids:
            routes[pattern.name] = ids
    return routes


# How each id route is addressed with another organisation's objects.
MANAGER_ROUTES = {
    "detail": lambda o: {"assessment_id": o.assessment.pk},
    "invite": lambda o: {"assessment_id": o.assessment.pk},
    "invite_list": lambda o: {"assessment_id": o.assessment.pk},
    "score_cohort": lambda o: {"assessment_id": o.assessment.pk},
    "rescore_preview": lambda o: {"assessment_id": o.assessment.pk},
    "results": lambda o: {"assessment_id": o.assessment.pk},
    "results_csv": lambda o: {"assessment_id": o.assessment.pk},
    "resend": lambda o: {"assessment_id": o.assessment.pk, "candidate_id": o.candidates[0].pk},
    "accommodation": lambda o: {
        "assessment_id": o.assessment.pk,
        "candidate_id": o.candidates[0].pk,
    },
    "candidate_report": lambda o: {
        "assessment_id": o.assessment.pk,
        "candidate_id": o.candidates[0].pk,
    },
}
CANDIDATE_ROUTES = {
    "sitting": lambda o: {"candidate_id": o.candidates[0].pk},
    "sitting_take": lambda o: {"candidate_id": o.candidates[0].pk},
    "sitting_event": lambda o: {"candidate_id": o.candidates[0].pk},
    "sitting_submit": lambda o: {"candidate_id": o.candidates[0].pk},
}


def test_every_id_route_is_in_the_isolation_sweep():
    """A new route that takes an id must be added to the sweep below."""
    assert set(_id_routes()) == set(MANAGER_ROUTES) | set(CANDIDATE_ROUTES)


def _snapshot():
    return (
        sorted(Assessment.objects.values_list("id", "title")),
        sorted(
            Candidate.objects.values_list(
                "id", "email", "extra_minutes", "token_hash", "accepted_at", "user_id"
            )
        ),
        sorted(Attempt.objects.values_list("id", "status", "deadline", "score")),
        SittingEvent.objects.count(),
        BulkJob.objects.count(),
        len(mail.outbox),
    )


def _posts(client: Client, url: str):
    yield client.post(url, {"extra_minutes": "5", "email": "x@y.test"})
    yield client.post(url, json.dumps({"kind": "view"}), content_type="application/json")


@pytest.mark.parametrize("name", sorted(MANAGER_ROUTES))
def test_another_organisations_ids_are_404_for_a_manager(client, world, name):
    client.force_login(world.a.manager)
    url = reverse(f"assessments:{name}", kwargs=MANAGER_ROUTES[name](world.b))
    before = _snapshot()
    assert client.get(url).status_code == 404
    for response in _posts(client, url):
        assert response.status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("name", ["resend", "accommodation", "candidate_report"])
def test_a_candidate_id_from_another_organisation_under_an_own_assessment_is_404(
    client, world, name
):
    client.force_login(world.a.manager)
    url = reverse(
        f"assessments:{name}",
        kwargs={"assessment_id": world.a.assessment.pk, "candidate_id": world.b.candidates[0].pk},
    )
    before = _snapshot()
    assert client.get(url).status_code == 404
    assert client.post(url, {"extra_minutes": "5"}).status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("name", sorted(MANAGER_ROUTES))
@pytest.mark.parametrize("role", ["candidate", "student", "instructor"])
def test_manager_id_routes_are_404_for_every_other_role(client, world, name, role):
    user = {
        "candidate": lambda: world.a.candidates[0].user,
        "student": StudentFactory,
        "instructor": InstructorFactory,
    }[role]()
    client.force_login(user)
    url = reverse(f"assessments:{name}", kwargs=MANAGER_ROUTES[name](world.a))
    before = _snapshot()
    assert client.get(url).status_code == 404
    for response in _posts(client, url):
        assert response.status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("name", sorted(CANDIDATE_ROUTES))
@pytest.mark.parametrize("who", ["other_candidate_same_org", "other_org_candidate", "manager"])
def test_a_sitting_is_404_for_anyone_but_its_candidate(client, world, name, who):
    user = {
        "other_candidate_same_org": world.a.candidates[1].user,
        "other_org_candidate": world.b.candidates[0].user,
        "manager": world.a.manager,
    }[who]
    client.force_login(user)
    url = reverse(f"assessments:{name}", kwargs=CANDIDATE_ROUTES[name](world.a))
    before = _snapshot()
    assert client.get(url).status_code == 404
    for response in _posts(client, url):
        assert response.status_code == 404
    assert _snapshot() == before


def test_lists_and_exports_show_only_the_own_organisation(client, world):
    client.force_login(world.a.manager)
    home = client.get(reverse("assessments:home")).content.decode()
    assert "Assessment org-a" in home
    assert "Assessment org-b" not in home
    employer_area = client.get(reverse("accounts:employer_home"), follow=True)
    assert employer_area.status_code == 200
    assert b"Assessment org-a" in employer_area.content
    assert b"Assessment org-b" not in employer_area.content
    results = client.get(reverse("assessments:results", args=[world.a.assessment.pk]))
    csv_text = client.get(
        reverse("assessments:results_csv", args=[world.a.assessment.pk])
    ).content.decode()
    for body in (results.content.decode(), csv_text):
        assert "ann@a.test" in body or "ann" in body
        assert "bea@b.test" not in body
        assert "bob@b.test" not in body
    detail = client.get(reverse("assessments:detail", args=[world.a.assessment.pk])).content
    assert b"bea@b.test" not in detail
    # The quizzes a new assessment may be built from never include B's assessment quiz.
    create = client.get(reverse("assessments:create")).content.decode()
    assert "Assessment org-b" not in create


def test_staff_see_every_organisation(client, world):
    client.force_login(StaffFactory())
    home = client.get(reverse("assessments:home")).content.decode()
    assert "Assessment org-a" in home
    assert "Assessment org-b" in home
    url = reverse("assessments:results", args=[world.b.assessment.pk])
    assert client.get(url).status_code == 200


def test_students_and_instructors_cannot_open_the_employer_area(client, world):
    for user in (world.a.candidates[0].user, InstructorFactory()):
        client.force_login(user)
        assert client.get(reverse("assessments:home")).status_code == 403
        assert client.get(reverse("assessments:create")).status_code == 403


# ---------------------------------------------------------------------------
# Results pages and exports


def test_results_page_shows_ranking_distribution_reliability_and_items(client, world):
    client.force_login(world.a.manager)
    response = client.get(reverse("assessments:results", args=[world.a.assessment.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert body.index("ann@a.test") < body.index("abe@a.test")  # ranked best first
    assert "KR-20" in body or "Cronbach" in body
    assert "<meter" in body
    assert "Per-exercise statistics" in body


def test_the_candidate_report_is_printable(client, world):
    client.force_login(world.a.manager)
    ann = world.a.candidates[0]
    url = reverse("assessments:candidate_report", args=[world.a.assessment.pk, ann.pk])
    body = client.get(url).content.decode()
    assert "Rank 1 of 2" in body
    assert "percentile 75.0" in body
    assert "By code family" in body
    assert "By skill" in body
    assert "css/assessments.css" in body
    assert "js/assessment_report.js" in body
    assert "abe@a.test" not in body  # one candidate per report


def test_the_csv_export_neutralises_formulas(client, world):
    Candidate.objects.filter(pk=world.a.candidates[0].pk).update(name='=HYPERLINK("http://x")')
    client.force_login(world.a.manager)
    response = client.get(reverse("assessments:results_csv", args=[world.a.assessment.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == ["rank", "name", "email", "status", "score"]
    assert rows[1][:3] == ["1", '\'=HYPERLINK("http://x")', "ann@a.test"]
    assert rows[2][2] == "abe@a.test"


def test_results_page_queries_do_not_grow_with_the_cohort(
    client, world, accepted, django_assert_max_num_queries
):
    from tests.assessments.conftest import sit

    client.force_login(world.a.manager)
    url = reverse("assessments:results", args=[world.a.assessment.pk])
    for number in range(4):
        sit(accepted(world.a.assessment, f"more{number}@a.test"), answers=number)
    with django_assert_max_num_queries(20):
        assert client.get(url).status_code == 200


# ---------------------------------------------------------------------------
# Candidates never see keys or each other


def _key_texts(assessment) -> set[str]:
    texts = set()
    for item in assessment.quiz.items.all():
        key = item.exercise["answer"]
        for line in key.get("diagnoses", []) + key.get("procedures", []):
            texts.add(line["code"])
            texts.update(line.get("alternatives", []))
            if line.get("why"):
                texts.add(line["why"][:60])
    return texts


def test_a_candidate_never_receives_a_key(client, world, accepted):
    from quizzes.models import QuizItem

    candidate = accepted(world.a.assessment, "keys@a.test")
    client.force_login(candidate.user)
    keys = _key_texts(world.a.assessment)
    bodies = [client.get(reverse("assessments:sitting", args=[candidate.pk]))]
    client.post(reverse("assessments:sitting", args=[candidate.pk]))
    candidate.refresh_from_db()
    for position in range(1, len(candidate.attempt.item_ids) + 1):
        page = client.get(reverse("assessments:sitting_take", args=[candidate.pk]), {"q": position})
        assert page.status_code == 200
        assert "no-store" in page["Cache-Control"]
        bodies.append(page)
    item = QuizItem.objects.get(pk=candidate.attempt.item_ids[0])
    bodies.append(
        client.post(
            reverse("assessments:sitting_event", args=[candidate.pk]),
            json.dumps({"kind": "view", "item": item.pk}),
            content_type="application/json",
        )
    )
    client.post(reverse("assessments:sitting_submit", args=[candidate.pk]))
    bodies.append(client.get(reverse("assessments:sitting", args=[candidate.pk])))
    bodies.append(client.get(reverse("assessments:mine")))
    # The quizzes review of the same attempt: the quiz never reveals its key.
    bodies.append(client.get(reverse("quizzes:attempt_review", args=[candidate.attempt_id])))
    for response in bodies:
        body = response.content.decode()
        leaked = sorted(text for text in keys if text in body)
        assert not leaked, (response.request["PATH_INFO"], leaked)


def test_a_candidate_sees_only_their_own_assessments(client, world):
    ann = world.a.candidates[0]
    client.force_login(ann.user)
    body = client.get(reverse("assessments:mine")).content.decode()
    assert "Assessment org-a" in body
    assert "Assessment org-b" not in body
    assert "abe@a.test" not in body
    sitting = client.get(reverse("assessments:sitting", args=[ann.pk])).content.decode()
    assert "abe@a.test" not in sitting
    assert "Submitted" in sitting


# ---------------------------------------------------------------------------
# The timed sitting through the pages


def test_an_expired_sitting_is_shown_as_time_up_and_submitted_by_a_post(client, library, accepted):
    from tests.factories import EmployerFactory

    assessment = small_blueprint(EmployerFactory())
    candidate = accepted(assessment, "late@x.test", extra_minutes=5)
    services.sitting_start(candidate=candidate, now=timezone.now() - dt.timedelta(minutes=36))
    client.force_login(candidate.user)
    # Reading the pages changes nothing: the take page sends the candidate to the
    # sitting page, which says the time is up and offers the submit.
    take = client.get(reverse("assessments:sitting_take", args=[candidate.pk]))
    assert take.status_code == 302
    assert take["Location"] == reverse("assessments:sitting", args=[candidate.pk])
    sitting = client.get(take["Location"])
    submit_url = reverse("assessments:sitting_submit", args=[candidate.pk])
    assert b"Time is up" in sitting.content
    assert f'action="{submit_url}"'.encode() in sitting.content
    attempt = Attempt.objects.get(pk=candidate.attempt_id)
    assert attempt.status == AttemptStatus.IN_PROGRESS
    assert not Score.objects.filter(response__attempt=attempt).exists()
    # The POST submits, at the limit (35 minutes in).
    assert client.post(submit_url).status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.finished_at == attempt.deadline


def test_the_take_page_reports_page_events_with_the_csrf_header(library, accepted):
    from tests.factories import EmployerFactory

    assessment = small_blueprint(EmployerFactory())
    candidate = accepted(assessment, "csrf@x.test")
    attempt = services.sitting_start(candidate=candidate)
    client = Client(enforce_csrf_checks=True)
    client.force_login(candidate.user)
    page = client.get(reverse("assessments:sitting_take", args=[candidate.pk]))
    body = page.content.decode()
    assert "js/assessment_take.js" in body
    assert 'id="assessment-config"' in body
    url = reverse("assessments:sitting_event", args=[candidate.pk])
    payload = json.dumps({"kind": "hidden", "item": attempt.item_ids[0]})
    assert client.post(url, payload, content_type="application/json").status_code == 403
    token = client.cookies["csrftoken"].value
    response = client.post(
        url, payload, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200
    assert response.json() == {"recorded": True}
    assert SittingEvent.objects.filter(candidate=candidate, kind="hidden").count() == 1


# ---------------------------------------------------------------------------
# Invitations end to end


@pytest.fixture
def invited(library, invite):
    from tests.factories import EmployerFactory

    assessment = small_blueprint(EmployerFactory())
    candidate, signed = invite(assessment, "newbie@x.test", name="New Bie")
    return candidate, reverse("assessments:invitation", args=[signed])


def test_a_new_candidate_sets_a_password_of_12_characters_or_more(client, invited):
    candidate, url = invited
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # opening the link does not use it
    short = client.post(url, {"name": "New Bie", "password1": "short1", "password2": "short1"})
    assert short.status_code == 400
    assert not User.objects.filter(email="newbie@x.test").exists()
    good = "a sturdy passphrase 42"
    response = client.post(url, {"name": "New Bie", "password1": good, "password2": good})
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.user.email == "newbie@x.test"
    assert candidate.user.role == "student"
    assert response["Location"] == reverse("assessments:sitting", args=[candidate.pk])
    assert client.get(response["Location"]).status_code == 200  # signed in


def test_a_used_link_says_so(client, invited):
    _, url = invited
    good = "a sturdy passphrase 42"
    client.post(url, {"password1": good, "password2": good})
    other = Client()
    response = other.get(url)
    assert response.status_code == 410
    assert b"already been used" in response.content
    assert other.post(url, {"password1": good, "password2": good}).status_code == 410
    assert User.objects.filter(email="newbie@x.test").count() == 1


def test_a_tampered_link_says_so(client, invited):
    _, url = invited
    response = client.get(url[:-3] + "xx/")
    assert response.status_code == 400
    assert b"changed or cut short" in response.content


def test_an_expired_link_says_so(client, invited):
    candidate, url = invited
    Candidate.objects.filter(pk=candidate.pk).update(expires_at=timezone.now())
    response = client.get(url)
    assert response.status_code == 410
    assert b"has expired" in response.content


def test_an_existing_account_links_after_signing_in(client, invited):
    candidate, url = invited
    user = StudentFactory(email="NewBie@x.test")
    page = client.get(url).content.decode()
    assert "already have an account" in page
    assert "next=" in page
    client.force_login(user)
    response = client.post(url)
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.user == user


def test_a_link_opened_in_another_persons_session_is_not_used(client, invited):
    candidate, url = invited
    client.force_login(StudentFactory(email="someone@else.test"))
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    candidate.refresh_from_db()
    assert candidate.accepted_at is None


# ---------------------------------------------------------------------------
# Inviting through the pages


def _upload(client, assessment, content: bytes, name: str = "list.csv"):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(reverse("assessments:invite_list", args=[assessment.pk]), {"file": upload})


def test_a_csv_list_with_bad_rows_invites_nobody_and_names_the_rows(client, world):
    client.force_login(world.a.manager)
    before = Candidate.objects.count()
    response = _upload(
        client,
        world.a.assessment,
        b"email,name\nok@a.test,Ok\nnot-an-email,Bad\nann@a.test,Again\n",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-code="invalid_email"' in body
    assert 'data-code="already_invited"' in body
    assert "nobody was invited" in body
    assert Candidate.objects.count() == before


def test_an_oversized_or_binary_list_is_refused(client, world):
    client.force_login(world.a.manager)
    before = Candidate.objects.count()
    big = b"email\n" + b"x" * (MAX_BYTES + 1)
    assert _upload(client, world.a.assessment, big).status_code == 413
    assert (
        _upload(client, world.a.assessment, b"\x89PNG\r\n\x1a\n\x00", "list.csv").status_code == 400
    )
    assert Candidate.objects.count() == before


def test_a_good_list_invites_everyone_by_email(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.a.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(
            client,
            world.a.assessment,
            b"email,name,extra_minutes\nNew1@a.test,One,\nnew2@a.test,Two,20\n",
        )
    assert response.status_code == 302
    two = Candidate.objects.get(assessment=world.a.assessment, email="new2@a.test")
    assert two.extra_minutes == 20
    assert last_signed_link("new1@a.test")
    assert last_signed_link("new2@a.test")


def test_one_invitation_through_the_page(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.a.manager)
    url = reverse("assessments:invite", args=[world.a.assessment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "solo@a.test", "name": "", "extra_minutes": "0"})
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["solo@a.test"]
    assert "Assessment org-a" in mail.outbox[-1].subject
    again = client.post(url, {"email": "SOLO@a.test", "name": "", "extra_minutes": "0"})
    assert again.status_code == 400
    assert b"already invited" in again.content


def test_an_accommodation_is_set_from_the_candidate_list(client, world, accepted):
    candidate = accepted(world.a.assessment, "acc@a.test")
    client.force_login(world.a.manager)
    url = reverse("assessments:accommodation", args=[world.a.assessment.pk, candidate.pk])
    assert client.post(url, {"extra_minutes": "25"}).status_code == 302
    candidate.refresh_from_db()
    assert candidate.extra_minutes == 25


def test_creating_an_assessment_from_the_page(client, library):
    from tests.factories import EmployerFactory

    manager = EmployerFactory()
    client.force_login(manager)
    response = client.post(
        reverse("assessments:create"),
        {
            "title": "Outpatient coder",
            "source": "blueprint",
            "icd_count": "3",
            "cpt_count": "2",
            "hcpcs_count": "1",
            "difficulty_min": "2",
            "difficulty_max": "3",
            "time_limit_minutes": "45",
            "pass_mark_percent": "75",
            "invitation_days": "5",
        },
    )
    assert response.status_code == 302
    assessment = Assessment.objects.get(title="Outpatient coder")
    assert assessment.organisation == manager.organisation
    assert assessment.quiz.items.count() == 6
    assert (assessment.quiz.time_limit_minutes, assessment.invitation_days) == (45, 5)
    refused = client.post(
        reverse("assessments:create"),
        {
            "title": "Impossible",
            "source": "blueprint",
            "icd_count": "0",
            "cpt_count": "0",
            "hcpcs_count": "40",
            "difficulty_min": "3",
            "difficulty_max": "3",
            "time_limit_minutes": "45",
            "pass_mark_percent": "75",
            "invitation_days": "5",
        },
    )
    assert refused.status_code == 400
    assert b"Not enough encounters" in refused.content
    assert QuizItem.objects.filter(quiz__title="Impossible").count() == 0
