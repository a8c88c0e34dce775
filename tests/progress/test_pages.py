"""Progress pages with a known history: the figures, the charts, the recommendation,
who may see whose progress, and the query bound for a long history."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coding_course.lessons.models import Lesson, LessonCompletion
from coding_course.progress import selectors, services
from coding_course.progress.analytics import Skill
from coding_course.progress.models import LearnerGroup
from quizzes.models import Attempt, AttemptStatus, Quiz, QuizItem, Response, Score, ScoreOverride
from tests.factories import InstructorFactory, StaffFactory, StudentFactory
from tests.progress.factories import encounter_make, exercise_payload, finding

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_the_report_of_two_quizzes_has_the_known_figures(learner_with_history):
    progress = selectors.learner_progress(learner=learner_with_history)
    report = progress.report
    assert report.responses == 4
    assert [(s.attempt.quiz_title, s.percent) for s in report.attempts] == [
        ("Injuries", 60.0),
        ("Respiratory and E/M", 89.6),
    ]
    assert {a.area.key: (a.right, a.checks) for a in report.families} == {
        "icd-10-cm": (4, 6),
        "cpt": (3, 5),
    }
    assert [(a.area.key, a.percent) for a in report.chapters] == [
        ("chapter-10", 100.0),
        ("chapter-18", 100.0),
        ("chapter-19", 0.0),
        ("chapter-20", 100.0),
    ]
    assert [(a.area.key, a.percent) for a in report.sections] == [
        ("cpt-em", 100.0),
        ("cpt-surgery", 50.0),
        ("cpt-lab", 0.0),
    ]
    assert {s.skill: s.errors for s in report.skills if s.errors} == {
        Skill.LATERALITY: 1,
        Skill.SEVENTH_CHARACTER: 1,
        Skill.MODIFIERS: 1,
        Skill.LINKAGE: 1,
    }
    assert report.overall.percent == 63.6
    assert report.median_minutes_per_encounter == 12.5
    # Chapter 19 is the weakest area (the lab line is a single check: too little to judge).
    assert [(w.accuracy.area.key, w.accuracy.percent) for w in report.weakest] == [
        ("chapter-19", 0.0),
        ("cpt-surgery", 50.0),
    ]
    first = progress.recommendations[0]
    assert first.weak.tags == (
        "chapter-19",
        "laterality",
        "7th-character",
        "missing_seventh_character",
    )
    assert first.lesson.slug == "injuries-and-external-causes"
    assert [q.title for q in first.quizzes] == []  # nothing is assigned to this learner
    assert progress.recommendations[1].lesson.slug == "modifiers-25-and-59"


def test_the_student_sees_accuracy_errors_and_the_recommended_lesson(learner_with_history):
    LessonCompletion.objects.create(
        user=learner_with_history, lesson=Lesson.objects.get(slug="why-coding-exists")
    )
    client = Client()
    client.force_login(learner_with_history)
    response = client.get(reverse("progress:mine"))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    text = _text(response)
    assert "Lessons completed 1 of 27" in text
    assert "Overall accuracy 63.6%" in text
    assert "Speed (median per encounter) 12.5 min" in text
    # Each chart is an SVG image named by its title and description, with its data table.
    body = response.content.decode()
    for chart in ("scores", "families", "chapters", "sections", "errors"):
        assert f'aria-labelledby="chart-{chart}-title chart-{chart}-desc"' in body
    assert body.count('<div class="visually-hidden"><table>') == 5
    assert "ICD-10-CM 66.7% of 6 checks" in text
    assert "CPT 60% of 5 checks" in text
    assert "Ch. 19 Injury and poisoning 0% of 2 checks" in text
    assert "Laterality 1 error" in text
    assert "7th character 1 error" in text
    lesson = Lesson.objects.get(slug="injuries-and-external-causes")
    recommended = re.search(r'id="next-h".*?<a href="([^"]+)">([^<]+)</a>', body, re.S)
    assert recommended.groups() == (lesson.get_absolute_url(), "Injuries and external causes")
    assert 'style="' not in body
    assert "<script>" not in body


def test_latest_current_score_counts_and_overrides_are_honoured(learner_with_history):
    attempt = Attempt.objects.get(quiz__title="Respiratory and E/M")
    item = QuizItem.objects.get(quiz=attempt.quiz, exercise_type="full_coding")
    response = Response.objects.get(attempt=attempt, item=item)
    # An older rules version's score is ignored while the current one exists.
    Score.objects.create(
        response=response, rules_version="2025.1", score=0.0, max_score=5.0, percent=0.0
    )
    ScoreOverride.objects.create(response=response, score=2.0, reason="old", by=attempt.quiz.owner)
    ScoreOverride.objects.create(response=response, score=5.0, reason="x", by=attempt.quiz.owner)
    report = selectors.learner_progress(learner=learner_with_history).report
    assert report.attempts[1].percent == 100.0
    # The overridden response's four checks now count as right: the lab line included.
    assert {a.area.key: a.percent for a in report.sections}["cpt-lab"] == 100.0


@pytest.fixture
def groups(learner_with_history):
    mine = InstructorFactory(username="teacher")
    other = InstructorFactory(username="other-teacher")
    group = services.group_create(owner=mine, name="Evening cohort")
    services.group_student_add(group=group, username="ANA")
    outsider = StudentFactory(username="outsider")
    services.group_student_add(
        group=services.group_create(owner=other, name="Day cohort"), username="outsider"
    )
    return mine, other, group, outsider


def test_an_instructor_sees_the_learners_of_their_groups_only(groups, learner_with_history):
    mine, other, _, outsider = groups
    client = Client()
    client.force_login(mine)
    page = client.get(reverse("progress:learner", args=[learner_with_history.pk]))
    assert page.status_code == 200
    assert "Ch. 19 Injury and poisoning 0% of 2 checks" in _text(page)
    assert client.get(reverse("progress:learner", args=[outsider.pk])).status_code == 404
    assert client.get(reverse("progress:learner", args=[mine.pk])).status_code == 404
    other_group = LearnerGroup.objects.get(name="Day cohort")
    assert client.get(other_group.get_absolute_url()).status_code == 404
    client.force_login(other)
    assert (
        client.get(reverse("progress:learner", args=[learner_with_history.pk])).status_code == 404
    )
    client.force_login(StaffFactory())
    assert client.get(reverse("progress:learner", args=[outsider.pk])).status_code == 200


def test_students_see_only_their_own_progress(groups, learner_with_history):
    _, _, group, outsider = groups
    client = Client()
    client.force_login(outsider)
    # Pages about another learner or a group answer as if they did not exist.
    assert (
        client.get(reverse("progress:learner", args=[learner_with_history.pk])).status_code == 404
    )
    assert client.get(group.get_absolute_url()).status_code == 404
    own = client.get(reverse("progress:mine"))
    assert own.status_code == 200
    assert "No graded quiz answers yet" in _text(own)
    assert (
        client.get(reverse("progress:mine").replace("progress/", "progress/learners/")).status_code
        == 403
    )


def test_group_summary_names_the_weakest_area_across_the_group(groups, learner_with_history):
    mine, _, group, _ = groups
    second = StudentFactory(username="ben")
    group.students.add(second)
    quiz = Quiz.objects.create(title="Drills", owner=mine)
    item = QuizItem.objects.create(
        quiz=quiz,
        encounter=encounter_make(tags=["icd-10-cm", "chapter-19"]),
        exercise_type="full_coding",
        exercise=exercise_payload("full_coding"),
        labels=["icd-10-cm", "chapter-19"],
    )
    start = timezone.now() - dt.timedelta(hours=1)
    attempt = Attempt.objects.create(
        quiz=quiz,
        user=second,
        seed=1,
        item_ids=[item.pk],
        status=AttemptStatus.SUBMITTED,
        started_at=start,
        finished_at=start + dt.timedelta(minutes=6),
    )
    Score.objects.create(
        response=Response.objects.create(attempt=attempt, item=item),
        rules_version="2026.1",
        score=2.0,
        max_score=2.0,
        percent=100.0,
        findings=[finding("correct", "diagnoses[0]", "S93.401A")] * 2,
    )
    client = Client()
    client.force_login(mine)
    page = client.get(group.get_absolute_url())
    assert page.status_code == 200
    summary = page.context["summary"]
    assert [m.learner.username for m in summary.members] == ["ana", "ben"]
    # Pooled: chapter 19 has 2 of 4 checks right, still below CPT surgery's 1 of 2.
    assert [(w.accuracy.area.key, w.accuracy.percent) for w in summary.pooled.weakest] == [
        ("chapter-19", 50.0),
        ("cpt-surgery", 50.0),
    ]
    assert "Weakest areas" in _text(page)
    assert 'aria-labelledby="group-chapters-title group-chapters-desc"' in page.content.decode()


def test_instructors_create_groups_and_add_students_by_username(learner_with_history):
    teacher = InstructorFactory()
    client = Client()
    client.force_login(teacher)
    created = client.post(reverse("progress:group_list"), {"name": "Cohort A"})
    group = LearnerGroup.objects.get(owner=teacher)
    assert created["Location"] == group.get_absolute_url()
    assert "already have" in _text(
        client.post(reverse("progress:group_list"), {"name": "Cohort A"})
    )
    client.post(group.get_absolute_url(), {"username": "ana"})
    assert list(group.students.values_list("username", flat=True)) == ["ana"]
    refused = client.post(group.get_absolute_url(), {"username": teacher.username})
    assert "No student has the username" in _text(refused)
    client.post(reverse("progress:group_student_remove", args=[group.pk, learner_with_history.pk]))
    assert group.students.count() == 0


def test_the_page_of_500_graded_responses_runs_a_bounded_number_of_queries(
    course, django_assert_max_num_queries
):
    student = StudentFactory()
    owner = InstructorFactory()
    encounters = [
        encounter_make(tags=["icd-10-cm", f"chapter-{n}", "cpt", "cpt-em"]) for n in (4, 9, 10, 19)
    ]
    start = timezone.now() - dt.timedelta(days=30)
    findings = [
        finding("correct", "diagnoses[0]", "E11.9"),
        finding("partial_match", "diagnoses[1]", "I10", expected=["I11.9"], message="specific"),
        finding("missing", "key.diagnoses[1]", "I11.9"),
        finding("modifier_error", "procedures[0]", "99213", expected=["25"]),
    ]
    for quiz_number in range(10):
        quiz = Quiz.objects.create(title=f"Drill {quiz_number}", owner=owner)
        items = QuizItem.objects.bulk_create(
            QuizItem(
                quiz=quiz,
                encounter=encounters[i % 4],
                exercise_type="full_coding",
                exercise=exercise_payload("full_coding"),
                labels=list(encounters[i % 4].tags),
                position=i,
            )
            for i in range(50)
        )
        attempt = Attempt.objects.create(
            quiz=quiz,
            user=student,
            seed=1,
            item_ids=[i.pk for i in items],
            status=AttemptStatus.SUBMITTED,
            started_at=start + dt.timedelta(days=quiz_number),
            finished_at=start + dt.timedelta(days=quiz_number, minutes=100),
        )
        responses = Response.objects.bulk_create(
            Response(attempt=attempt, item=item) for item in items
        )
        Score.objects.bulk_create(
            Score(
                response=r,
                rules_version="2026.1",
                score=2.0,
                max_score=4.5,
                percent=44.4,
                findings=findings,
            )
            for r in responses
        )
    assert Score.objects.filter(response__attempt__user=student).count() == 500
    client = Client()
    client.force_login(student)
    # Session and user (2), attempts, responses, scores (3), lessons (2), quizzes and
    # library for recommendations (2), lessons_tagged per weak area (2), the session's
    # activity stamp (3): none of them grows with the number of responses.
    with django_assert_max_num_queries(14):
        page = client.get(reverse("progress:mine"))
    assert page.status_code == 200
    assert page.context["report"].responses == 500
    assert "Speed (median per encounter) 2.0 min" in _text(page)
