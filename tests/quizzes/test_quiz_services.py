"""Services for quizzes: drawing, starting, autosave, the server-side timer, submit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from quizzes import errors, scoring
from quizzes.attempts import services
from quizzes.grading.policy import RULES_VERSION
from quizzes.models import AttemptStatus, QuizMode, Response, Score, ScoreOverride
from tests.quizzes.factories import quiz_with_items

CYSTITIS = "a-pc-acute-cystitis-hematuria"
RIGHT_ANSWER = {
    "diagnoses": ["N30.01"],
    "procedures": [
        {"code": "99213", "modifiers": [], "units": 1, "dx_pointers": [1]},
        {"code": "81002", "modifiers": [], "units": 1, "dx_pointers": [1]},
        {"code": "81025", "modifiers": [], "units": 1, "dx_pointers": [1]},
    ],
}

POOL = [
    (1, ["cpt", "difficulty-1", "icd-10-cm"]),
    (2, ["difficulty-2", "icd-10-cm"]),
    (3, ["cpt", "difficulty-2", "hcpcs", "icd-10-cm"]),
    (4, ["difficulty-3", "hcpcs", "icd-10-cm"]),
    (5, ["chapter-19", "difficulty-3", "icd-10-cm"]),
]


@pytest.mark.parametrize(
    ("blueprint", "expected_size", "allowed"),
    [
        ([], 5, {1, 2, 3, 4, 5}),
        ([{"by": "family", "value": "hcpcs", "count": 1}], 1, {3, 4}),
        ([{"by": "difficulty", "value": 2, "count": 5}], 2, {2, 3}),
        ([{"by": "chapter", "value": "19", "count": 1}], 1, {5}),
        (
            [
                {"by": "family", "value": "hcpcs", "count": 2},
                {"by": "family", "value": "cpt", "count": 2},
            ],
            3,
            {1, 3, 4},
        ),
    ],
)
def test_draw_follows_the_blueprint_without_repeats(blueprint, expected_size, allowed):
    drawn = services.draw_items(items=POOL, blueprint=blueprint, seed=7, shuffle=True)
    assert len(drawn) == expected_size
    assert len(set(drawn)) == len(drawn)
    assert set(drawn) <= allowed


def test_draw_is_stable_for_a_seed_and_varies_across_seeds():
    blueprint = [{"by": "tag", "value": "icd-10-cm", "count": 3}]
    draws = {
        seed: services.draw_items(items=POOL, blueprint=blueprint, seed=seed, shuffle=True)
        for seed in range(20)
    }
    assert all(
        services.draw_items(items=POOL, blueprint=blueprint, seed=seed, shuffle=True) == draw
        for seed, draw in draws.items()
    )
    assert len({tuple(draw) for draw in draws.values()}) > 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, {"diagnoses": [], "procedures": []}),
        (
            {"diagnoses": [" n30.01 "], "procedures": [{"code": "99213", "modifiers": "25, 59"}]},
            {
                "diagnoses": ["n30.01"],
                "procedures": [
                    {"code": "99213", "modifiers": ["25", "59"], "units": 1, "dx_pointers": []}
                ],
            },
        ),
        (
            {"procedures": [{"code": "J1885", "units": "x", "dx_pointers": "1, 2, 99, a"}]},
            {
                "diagnoses": [],
                "procedures": [
                    {"code": "J1885", "modifiers": [], "units": 1, "dx_pointers": [1, 2]}
                ],
            },
        ),
        ({"diagnoses": ["A" * 500] * 100}, {"diagnoses": ["A" * 40] * 30, "procedures": []}),
    ],
)
def test_clean_answer_keeps_a_bounded_full_coding_shape(raw, expected):
    assert services.clean_answer("full_coding", raw) == expected


def test_start_needs_an_assignment_an_open_quiz_and_an_attempt_left(library, student):
    quiz = quiz_with_items(encounters=[library[CYSTITIS]], attempts_allowed=1)
    with pytest.raises(errors.NotAssigned):
        services.attempt_start(quiz=quiz, user=student)
    services.assignment_ensure(quiz=quiz, student=student)
    quiz.opens_at = timezone.now() + dt.timedelta(days=1)
    quiz.save()
    with pytest.raises(errors.QuizNotOpen):
        services.attempt_start(quiz=quiz, user=student)
    quiz.opens_at = None
    quiz.save()
    attempt = services.attempt_start(quiz=quiz, user=student)
    assert services.attempt_start(quiz=quiz, user=student) == attempt  # resumed, not new
    services.attempt_submit(attempt=attempt)
    with pytest.raises(errors.NoAttemptsLeft):
        services.attempt_start(quiz=quiz, user=student)


def test_submit_grades_with_the_engine_and_a_second_submit_changes_nothing(library, student):
    quiz = quiz_with_items(encounters=[library[CYSTITIS]], students=[student])
    attempt = services.attempt_start(quiz=quiz, user=student)
    item = quiz.items.get()
    services.response_save(attempt=attempt, item=item, answer=RIGHT_ANSWER)

    first = services.attempt_submit(attempt=attempt)
    score = Score.objects.get(response__attempt=attempt)
    assert (first.status, first.percent, score.percent) == (AttemptStatus.SUBMITTED, 100.0, 100.0)
    assert score.rules_version == RULES_VERSION
    assert {f["kind"] for f in score.findings} == {"correct"}

    second = services.attempt_submit(attempt=attempt, now=timezone.now() + dt.timedelta(hours=1))
    assert (second.finished_at, second.score) == (first.finished_at, first.score)
    assert Score.objects.filter(response__attempt=attempt).count() == 1
    assert Score.objects.get().graded_at == score.graded_at
    with pytest.raises(errors.AttemptClosed):
        services.response_save(attempt=attempt, item=item, answer={"diagnoses": ["J02.0"]})
    assert Response.objects.get().answer == RIGHT_ANSWER


def test_deadline_is_enforced_by_the_server_with_the_saved_answers(library, student):
    quiz = quiz_with_items(
        encounters=[library[CYSTITIS]], students=[student], time_limit_minutes=10
    )
    start = timezone.now()
    attempt = services.attempt_start(quiz=quiz, user=student, now=start)
    assert attempt.deadline == start + dt.timedelta(minutes=10)
    item = quiz.items.get()
    services.response_save(
        attempt=attempt, item=item, answer=RIGHT_ANSWER, now=start + dt.timedelta(minutes=9)
    )

    late = start + dt.timedelta(minutes=11)
    with pytest.raises(errors.AttemptClosed):
        services.response_save(
            attempt=attempt, item=item, answer={"diagnoses": ["J02.0"]}, now=late
        )
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.finished_at == attempt.deadline
    assert attempt.percent == 100.0  # graded on what was saved before the deadline
    assert Response.objects.get().answer == RIGHT_ANSWER


def test_practice_checks_are_limited_per_item_and_refused_in_exams(library, student):
    quiz = quiz_with_items(encounters=[library[CYSTITIS]], students=[student], tries_per_item=2)
    attempt = services.attempt_start(quiz=quiz, user=student)
    item = quiz.items.get()
    results = [
        services.response_check(attempt=attempt, item=item, answer={"diagnoses": ["N30.00"]})
        for _ in range(2)
    ]
    assert [r.tries_left for r in results] == [1, 0]
    assert results[0].grade.percent < 100
    with pytest.raises(errors.TriesExhausted):
        services.response_check(attempt=attempt, item=item, answer=RIGHT_ANSWER)

    exam = quiz_with_items(encounters=[library[CYSTITIS]], students=[student], mode=QuizMode.EXAM)
    exam_attempt = services.attempt_start(quiz=exam, user=student)
    with pytest.raises(errors.CheckNotAllowed):
        services.response_check(attempt=exam_attempt, item=exam.items.get(), answer=RIGHT_ANSWER)


@pytest.mark.parametrize(
    ("finding", "hidden"),
    [
        ({"kind": "missing", "line": "", "code": "N30.01", "message": "N30.01 missing"}, "N30.01"),
        (
            {"kind": "partial_match", "line": "diagnoses[0]", "code": "N30.00",
             "expected": ["N30.01"], "message": "key N30.01 is more specific"},
            "N30.01",
        ),
        (
            {"kind": "modifier_error", "line": "procedures[0]", "code": "99213",
             "expected": ["25"], "message": "needs modifier 25"},
            "25",
        ),
    ],
)  # fmt: skip
def test_feedback_before_review_names_no_key_value(finding, hidden):
    shown = scoring.findings_without_key([finding])
    assert hidden not in str([{k: v for k, v in f.items() if k != "code"} for f in shown])
    assert all("expected" not in f for f in shown)


def test_override_is_kept_with_who_and_why_and_moves_the_total(library, student, instructor):
    quiz = quiz_with_items(encounters=[library[CYSTITIS]], students=[student], owner=instructor)
    attempt = services.attempt_submit(attempt=services.attempt_start(quiz=quiz, user=student))
    response = Response.objects.get(attempt=attempt)
    assert attempt.score == 0
    with pytest.raises(ValueError, match="reason"):
        services.score_override(response=response, score=1, reason=" ", by=instructor)
    services.score_override(response=response, score=2.0, reason="Accepted N30.00", by=instructor)
    override = ScoreOverride.objects.get()
    attempt.refresh_from_db()
    assert (override.by, override.reason) == (instructor, "Accepted N30.00")
    assert attempt.score == 2.0


@pytest.mark.parametrize(
    ("policy", "release_in_hours", "submitted", "allowed"),
    [
        ("after_submit", None, True, True),
        ("after_submit", None, False, False),
        ("after_release", -1, True, True),
        ("after_release", 1, True, False),
        ("after_release", None, True, False),
        ("never", None, True, False),
    ],
)
def test_review_is_allowed_only_as_the_quiz_says(
    library, student, policy, release_in_hours, submitted, allowed
):
    from quizzes.attempts.selectors import review_allowed

    release = None
    if release_in_hours is not None:
        release = timezone.now() + dt.timedelta(hours=release_in_hours)
    quiz = quiz_with_items(
        encounters=[library[CYSTITIS]],
        students=[student],
        review_policy=policy,
        review_release_at=release,
    )
    attempt = services.attempt_start(quiz=quiz, user=student)
    if submitted:
        attempt = services.attempt_submit(attempt=attempt)
    assert review_allowed(attempt=attempt) is allowed
