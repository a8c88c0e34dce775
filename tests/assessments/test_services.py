"""Assessment services: the fixed form and its fairness, invitations, the timed
sitting with accommodations, page events, cohort scoring and key corrections."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

import pytest
from django.core import signing
from django.utils import timezone

from coding_course.assessments import selectors, services
from coding_course.assessments.models import Candidate, SittingEvent
from quizzes.attempts.services import quiz_item_add, response_save
from quizzes.bulk import services as bulk_services
from quizzes.errors import AttemptClosed
from quizzes.models import AttemptStatus, BulkJobStatus, QuizItem, QuizMode
from tests.assessments.conftest import exact_answer, small_blueprint
from tests.factories import EmployerFactory, InstructorFactory, StudentFactory
from tests.quizzes.factories import QuizFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    return EmployerFactory()


# ---------------------------------------------------------------------------
# The fixed form


def test_a_blueprint_draws_each_family_at_an_even_difficulty_mix(library, manager):
    assessment = services.assessment_create_from_blueprint(
        user=manager,
        settings=services.AssessmentSettings(
            title="Full test", time_limit_minutes=90, pass_mark_percent=70
        ),
        sections={"ICD-10-CM": 10, "CPT": 6, "HCPCS": 4},
        difficulty_min=2,
        difficulty_max=3,
        seed=11,
    )
    quiz = assessment.quiz
    assert (quiz.mode, quiz.attempts_allowed, quiz.time_limit_minutes) == (QuizMode.EXAM, 1, 90)
    items = list(quiz.items.select_related("encounter"))
    assert len(items) == 20
    assert len({item.encounter_id for item in items}) == 20  # no encounter twice
    mix = Counter(
        (next(lab for lab in item.labels if lab.startswith("section-")), item.encounter.difficulty)
        for item in items
    )
    # Round-robin over difficulties 2 and 3: 5 + 5, 3 + 3, 2 + 2.
    assert mix == {
        ("section-icd-10-cm", 2): 5,
        ("section-icd-10-cm", 3): 5,
        ("section-cpt", 2): 3,
        ("section-cpt", 3): 3,
        ("section-hcpcs", 2): 2,
        ("section-hcpcs", 3): 2,
    }
    for item in items:
        family_tag = next(lab for lab in item.labels if lab.startswith("section-"))
        assert family_tag.removeprefix("section-") in item.encounter.tags


def test_the_same_seed_draws_the_same_form(library, manager):
    first = small_blueprint(manager, seed=5)
    second = small_blueprint(manager, seed=5)
    encounters = [
        list(a.quiz.items.order_by("position").values_list("encounter_id", flat=True))
        for a in (first, second)
    ]
    assert encounters[0] == encounters[1]


def test_a_blueprint_the_bank_cannot_fill_is_refused_and_names_the_family(library, manager):
    with pytest.raises(services.BlueprintShortfall) as short:
        services.assessment_create_from_blueprint(
            user=manager,
            settings=services.AssessmentSettings(
                title="Too big", time_limit_minutes=30, pass_mark_percent=70
            ),
            sections={"HCPCS": 40},
            difficulty_min=3,
            difficulty_max=3,
        )
    assert "HCPCS: 40 asked" in str(short.value)


@pytest.mark.parametrize(
    ("count", "available", "expected"),
    [
        (10, {2: 20, 3: 20}, {2: 5, 3: 5}),
        (5, {1: 9, 2: 9, 3: 9}, {1: 2, 2: 2, 3: 1}),
        (10, {2: 3, 3: 20}, {2: 3, 3: 7}),  # a scarce level gives what it has
        (10, {2: 3, 3: 4}, {2: 3, 3: 4}),  # short: the caller reports it
    ],
)
def test_spread_fills_difficulty_levels_round_robin(count, available, expected):
    assert services._spread(count, available) == expected


def test_every_candidate_gets_the_same_exercises_in_their_own_order(library, manager, accepted):
    assessment = small_blueprint(manager)
    orders = []
    for email in ("c1@x.test", "c2@x.test", "c3@x.test", "c4@x.test"):
        candidate = accepted(assessment, email)
        orders.append(services.sitting_start(candidate=candidate).item_ids)
    assert all(sorted(order) == sorted(orders[0]) for order in orders)
    assert len({tuple(order) for order in orders}) > 1  # shuffled per candidate
    difficulty = dict(
        QuizItem.objects.filter(pk__in=orders[0]).values_list("pk", "encounter__difficulty")
    )
    mixes = {tuple(sorted(difficulty[i] for i in order)) for order in orders}
    assert len(mixes) == 1


def test_an_assessment_from_a_quiz_freezes_one_draw_of_its_blueprint(library, manager):
    encounters = [e for e in library.values() if e.difficulty == 2][:3]
    source = QuizFactory(
        owner=InstructorFactory(),
        mode=QuizMode.EXAM,
        blueprint=[{"by": "difficulty", "value": 2, "count": 2}],
    )
    for encounter in encounters:
        quiz_item_add(quiz=source, encounter=encounter)
    assert source in selectors.source_quizzes_for_user(user=manager)
    assessment = services.assessment_create_from_quiz(
        user=manager,
        settings=services.AssessmentSettings(
            title="From quiz", time_limit_minutes=20, pass_mark_percent=50
        ),
        source=source,
        seed=3,
    )
    copied = list(assessment.quiz.items.all())
    assert len(copied) == 2
    assert assessment.quiz.blueprint == []  # every candidate answers both
    assert {item.exercise["answer"]["diagnoses"][0]["code"] for item in copied} <= {
        e.key["diagnoses"][0]["code"] for e in encounters
    }
    # An assessment's own quiz is never offered as a source, to this or any organisation.
    assert assessment.quiz not in selectors.source_quizzes_for_user(user=manager)
    assert assessment.quiz not in selectors.source_quizzes_for_user(user=EmployerFactory())


# ---------------------------------------------------------------------------
# Invitations


def test_an_invitation_stores_only_a_hash_of_its_token(library, manager, invite):
    assessment = small_blueprint(manager)
    candidate, signed = invite(assessment, "Cand@Example.test", name="Cand")
    assert candidate.email == "cand@example.test"
    token = signing.TimestampSigner(salt=services.INVITATION_SALT).unsign(signed).split(".")[1]
    assert candidate.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in candidate.token_hash
    assert services.invitation_check(signed=signed).pk == candidate.pk


def test_inviting_an_address_twice_is_refused(library, manager, invite):
    assessment = small_blueprint(manager)
    invite(assessment, "dup@example.test")
    with pytest.raises(services.AlreadyInvited):
        invite(assessment, "DUP@example.test")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # signature changed
        lambda s: "9999" + s[s.index(".") :],  # another candidate id
        lambda s: s.split(":")[0],  # timestamp and signature cut off
        lambda s: s + "x",
    ],
)
def test_a_tampered_link_is_refused(library, manager, invite, tamper):
    assessment = small_blueprint(manager)
    _, signed = invite(assessment, "t@example.test")
    with pytest.raises(services.InvitationInvalid) as invalid:
        services.invitation_check(signed=tamper(signed))
    assert invalid.value.code == "tampered"


def test_a_link_expires_at_its_stored_expiry(library, manager, invite):
    assessment = small_blueprint(manager)
    candidate, signed = invite(assessment, "late@example.test")
    assert candidate.expires_at - candidate.invited_at == dt.timedelta(days=7)
    services.invitation_check(signed=signed, now=candidate.expires_at - dt.timedelta(seconds=1))
    with pytest.raises(services.InvitationInvalid) as invalid:
        services.invitation_check(signed=signed, now=candidate.expires_at)
    assert invalid.value.code == "expired"


def test_a_link_older_than_the_signature_cap_is_expired(library, manager, invite, monkeypatch):
    assessment = small_blueprint(manager)
    _, signed = invite(assessment, "old@example.test")
    later = timezone.now().timestamp() + (services.MAX_INVITATION_DAYS + 1) * 86400
    monkeypatch.setattr(signing.time, "time", lambda: later)
    with pytest.raises(services.InvitationInvalid) as invalid:
        services.invitation_check(signed=signed)
    assert invalid.value.code == "expired"


def test_a_link_works_once(library, manager, invite):
    assessment = small_blueprint(manager)
    _, signed = invite(assessment, "once@example.test")
    user = StudentFactory(email="once@example.test")
    candidate = services.invitation_accept(signed=signed, user=user)
    assert candidate.user == user
    assert candidate.accepted_at is not None
    for attempt in (
        lambda: services.invitation_check(signed=signed),
        lambda: services.invitation_accept(signed=signed, user=StudentFactory()),
    ):
        with pytest.raises(services.InvitationInvalid) as invalid:
            attempt()
        assert invalid.value.code == "used"
    assert Candidate.objects.get(pk=candidate.pk).user == user


def test_a_new_link_replaces_the_old_one(
    library, manager, invite, django_capture_on_commit_callbacks
):
    from tests.assessments.conftest import last_signed_link, link_for

    assessment = small_blueprint(manager)
    candidate, old = invite(assessment, "again@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        services.candidate_reinvite(candidate=candidate, by=manager, link_for=link_for)
    new = last_signed_link("again@example.test")
    assert new != old
    with pytest.raises(services.InvitationInvalid) as invalid:
        services.invitation_check(signed=old)
    assert invalid.value.code == "superseded"
    assert services.invitation_check(signed=new).pk == candidate.pk
    services.invitation_accept(signed=new, user=StudentFactory())
    with pytest.raises(services.AssessmentError):
        services.candidate_reinvite(candidate=candidate, by=manager, link_for=link_for)


def test_new_candidate_accounts_are_students_with_unique_usernames(db):
    first = services.candidate_account_create(
        email="sam@example.test", name="Sam Doe", password="a long passphrase 12"
    )
    second = services.candidate_account_create(
        email="sam@other.test", name="", password="a long passphrase 12"
    )
    assert (first.username, second.username) == ("sam", "sam2")
    assert (first.role, first.first_name, first.last_name) == ("student", "Sam", "Doe")
    assert first.check_password("a long passphrase 12")


# ---------------------------------------------------------------------------
# The timed sitting


@pytest.mark.parametrize(
    ("extra", "closes_after", "expected_minutes"),
    [
        (0, None, 30),
        (10, None, 40),  # the accommodation adds to the limit
        (0, 20, 20),  # the window's close cuts the limit
        (10, 20, 30),  # ... but not the accommodation: close + extra
    ],
)
def test_the_deadline_adds_the_accommodation(
    library, manager, accepted, extra, closes_after, expected_minutes
):
    start = timezone.now()
    closes = start + dt.timedelta(minutes=closes_after) if closes_after else None
    assessment = small_blueprint(manager, closes_at=closes)
    candidate = accepted(assessment, "timed@example.test", extra_minutes=extra)
    attempt = services.sitting_start(candidate=candidate, now=start)
    assert attempt.deadline == start + dt.timedelta(minutes=expected_minutes)


def test_the_server_submits_a_sitting_at_its_time_limit(library, manager, accepted):
    start = timezone.now() - dt.timedelta(minutes=45)
    assessment = small_blueprint(manager)  # 30 minutes
    candidate = accepted(assessment, "slow@example.test", extra_minutes=10)
    attempt = services.sitting_start(candidate=candidate, now=start)
    item = QuizItem.objects.get(pk=attempt.item_ids[0])
    response_save(
        attempt=attempt, item=item, answer=exact_answer(item), now=start + dt.timedelta(minutes=39)
    )
    # A save after the deadline is refused, and the sitting is submitted at the limit.
    with pytest.raises(AttemptClosed):
        response_save(attempt=attempt, item=item, answer={}, now=start + dt.timedelta(minutes=41))
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.finished_at == start + dt.timedelta(minutes=40)
    assert attempt.score
    assert attempt.score > 0


def test_expired_sittings_are_closed_without_the_candidate_returning(library, manager, accepted):
    start = timezone.now() - dt.timedelta(hours=2)
    assessment = small_blueprint(manager)
    gone = accepted(assessment, "gone@example.test")
    services.sitting_start(candidate=gone, now=start)
    fresh = accepted(assessment, "fresh@example.test")
    services.sitting_start(candidate=fresh)
    assert services.sittings_expire_due(assessment=assessment) == 1
    gone.attempt.refresh_from_db()
    fresh.attempt.refresh_from_db()
    assert gone.attempt.status == AttemptStatus.SUBMITTED
    assert fresh.attempt.status == AttemptStatus.IN_PROGRESS


def test_a_sitting_cannot_start_outside_the_window(library, manager, accepted):
    assessment = small_blueprint(manager, opens_at=timezone.now() + dt.timedelta(days=1))
    candidate = accepted(assessment, "early@example.test")
    with pytest.raises(services.SittingNotOpen):
        services.sitting_start(candidate=candidate)


def test_starting_twice_resumes_the_one_attempt(library, manager, accepted):
    assessment = small_blueprint(manager)
    candidate = accepted(assessment, "twice@example.test")
    first = services.sitting_start(candidate=candidate)
    assert services.sitting_start(candidate=candidate).pk == first.pk


def test_extra_time_granted_during_a_sitting_moves_its_deadline(library, manager, accepted):
    start = timezone.now()
    assessment = small_blueprint(manager)
    candidate = accepted(assessment, "grant@example.test")
    attempt = services.sitting_start(candidate=candidate, now=start)
    services.accommodation_set(candidate=candidate, extra_minutes=15, now=start)
    attempt.refresh_from_db()
    assert attempt.deadline == start + dt.timedelta(minutes=45)
    services.sitting_submit(candidate=candidate)
    with pytest.raises(services.SittingClosed):
        services.accommodation_set(candidate=candidate, extra_minutes=30)


def test_page_events_are_recorded_only_while_the_sitting_runs(library, manager, accepted):
    assessment = small_blueprint(manager)
    candidate = accepted(assessment, "events@example.test")
    assert not services.sitting_event_record(candidate=candidate, kind="view", item_id=None)
    attempt = services.sitting_start(candidate=candidate)
    item_id = attempt.item_ids[0]
    other = small_blueprint(manager, seed=99).quiz.items.values_list("pk", flat=True).first()
    assert services.sitting_event_record(candidate=candidate, kind="view", item_id=item_id)
    assert services.sitting_event_record(candidate=candidate, kind="hidden", item_id=item_id)
    assert not services.sitting_event_record(candidate=candidate, kind="bogus", item_id=item_id)
    assert not services.sitting_event_record(candidate=candidate, kind="view", item_id=other)
    services.sitting_submit(candidate=candidate)
    candidate.refresh_from_db()
    assert not services.sitting_event_record(candidate=candidate, kind="visible", item_id=item_id)
    assert SittingEvent.objects.filter(candidate=candidate).count() == 2


def test_page_events_stop_at_the_cap(library, manager, accepted, monkeypatch):
    monkeypatch.setattr(services, "MAX_EVENTS_PER_SITTING", 3)
    assessment = small_blueprint(manager)
    candidate = accepted(assessment, "flood@example.test")
    attempt = services.sitting_start(candidate=candidate)
    results = [
        services.sitting_event_record(candidate=candidate, kind="view", item_id=attempt.item_ids[0])
        for _ in range(5)
    ]
    assert results == [True, True, True, False, False]


def test_time_per_exercise_and_departures_from_events_by_hand():
    t0 = timezone.now()

    def at(seconds: int) -> dt.datetime:
        return t0 + dt.timedelta(seconds=seconds)

    events = [
        ("view", 1, at(0)),  # exercise 1 on screen 0-50
        ("hidden", 1, at(50)),  # away 50-80: not counted for any exercise
        ("visible", 1, at(80)),  # exercise 1 again 80-100
        ("view", 2, at(100)),  # exercise 2 100-160
        ("view", 1, at(160)),  # exercise 1 160-200 (the finish)
        ("view", 2, at(250)),  # after the finish: ignored
    ]
    activity = selectors.activity_from_events(events, end=at(200))
    # Exercise 1: 50 + 20 + 40 = 110 s; exercise 2: 60 s; one departure.
    assert activity.seconds_by_item == {1: 110.0, 2: 60.0}
    assert activity.left_page == 1


# ---------------------------------------------------------------------------
# Results, cohort scoring and key corrections


def test_results_rank_the_cohort(world):
    results = selectors.assessment_results(assessment=world.a.assessment)
    ranking = results.ranking
    assert [row.candidate.email for row in ranking] == ["ann@a.test", "abe@a.test"]
    best, second = ranking
    assert (best.rank, best.percent, best.passed) == (1, 100.0, True)
    # Two candidates: the best has 1 below -> (1 + 0.5)/2 = 75; the other 25.
    assert (best.percentile, second.percentile) == (75.0, 25.0)
    assert best.by_family == {"ICD-10-CM": 100.0, "CPT": 100.0, "HCPCS": 100.0}
    assert second.skill_errors["Code selection"] > 0
    assert results.reliability.value is not None
    # Only this organisation's candidates are in its results.
    assert {row.candidate.email for row in results.rows} == {"ann@a.test", "abe@a.test"}


def test_cohort_scoring_runs_as_a_bulk_job_over_the_assessment(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.cohort_score(assessment=world.a.assessment, user=world.a.manager)
    job.refresh_from_db()
    assert job.status == BulkJobStatus.SUCCEEDED
    assert job.organisation_id == world.a.organisation.pk
    item_count = world.a.assessment.quiz.items.count()
    assert job.total == 2 * item_count  # both candidates, every exercise; no org B row


def test_a_corrected_key_rescores_every_candidate_after_a_dry_run(
    world, django_capture_on_commit_callbacks
):
    assessment = world.a.assessment
    item = assessment.quiz.items.select_related("encounter").order_by("position").first()
    encounter = item.encounter
    dropped = encounter.key["diagnoses"][-1]["code"]
    kept = len(encounter.key["diagnoses"]) - 1
    # A valid corrected key: pointers to the dropped line go with it.
    encounter.key = {
        **encounter.key,
        "diagnoses": encounter.key["diagnoses"][:-1],
        "procedures": [
            {**line, "dx_pointers": [p for p in line.get("dx_pointers", []) if p <= kept]}
            for line in encounter.key["procedures"]
        ],
    }
    encounter.key_version += 1
    encounter.save()
    before = selectors.assessment_results(assessment=assessment)
    assert before.stale_items == 1
    assert before.key_changes == []

    with django_capture_on_commit_callbacks(execute=True):
        preview = services.key_rescore_preview(assessment=assessment, user=world.a.manager)
    preview.refresh_from_db()
    assert preview.dry_run
    assert preview.status == BulkJobStatus.SUCCEEDED
    item.refresh_from_db()
    assert item.key_version == encounter.key_version - 1  # a dry run changes nothing

    with django_capture_on_commit_callbacks(execute=True):
        applied = bulk_services.bulk_job_apply(job=preview, by=world.a.manager)
    applied.refresh_from_db()
    assert applied.status == BulkJobStatus.SUCCEEDED
    item.refresh_from_db()
    assert item.key_version == encounter.key_version
    assert dropped not in [line["code"] for line in item.exercise["answer"]["diagnoses"]]

    after = selectors.assessment_results(assessment=assessment)
    assert after.stale_items == 0
    (change,) = after.key_changes
    assert change.job.pk == applied.pk
    assert change.items_refreshed == 1
    assert change.candidates_changed == 2
    ann = world.a.candidates[0]
    (score_change,) = selectors.candidate_score_changes(assessment=assessment, candidate=ann)
    assert score_change.before != score_change.after
    # Organisation B's assessment is untouched.
    assert selectors.assessment_results(assessment=world.b.assessment).key_changes == []


def test_the_sitting_helper_scores_partial_answers_lower(world):
    ann, abe = world.a.candidates
    assert ann.attempt.percent > abe.attempt.percent
