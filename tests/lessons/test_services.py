"""Loading the course, enrolment, completion with prerequisites, practice answers."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from coding_course.lessons.models import (
    Course,
    Enrollment,
    Lesson,
    LessonCompletion,
    Module,
    PracticeAnswer,
)
from coding_course.lessons.practice import PracticeChoice, PracticeItem
from coding_course.lessons.selectors import course_outline, lessons_tagged
from coding_course.lessons.services import (
    LOCKED,
    NOT_ENROLLED,
    LessonUnavailable,
    course_load,
    enrollment_create,
    lesson_complete,
    practice_answer_record,
)
from tests.lessons.conftest import complete_module

pytestmark = pytest.mark.django_db


def test_loading_twice_changes_nothing(course, course_spec):
    report = course_load(spec=course_spec)
    assert report.lessons == len(course_spec.lessons())
    assert len(report.unchanged) == report.lessons
    assert report.created == report.updated == report.kept_edits == []
    assert Course.objects.count() == 1
    assert Module.objects.count() == 5
    assert Lesson.objects.count() == len(course_spec.lessons())


def test_module_prerequisites_follow_the_files(course):
    required = {
        module.slug: sorted(m.slug for m in module.prerequisites.all())
        for module in Module.objects.filter(course=course)
    }
    assert required == {
        "foundations": [],
        "icd-10-cm": ["foundations"],
        "cpt": ["icd-10-cm"],
        "hcpcs-level-ii": ["cpt"],
        "linkage": ["hcpcs-level-ii"],
    }


def test_an_instructor_edit_survives_a_reload_unless_overwritten(course, course_spec):
    lesson = Lesson.objects.get(slug="laterality")
    lesson.body_md += "\nAn instructor's note.\n"
    lesson.save()

    report = course_load(spec=course_spec)
    assert report.kept_edits == ["laterality"]
    assert "An instructor's note." in Lesson.objects.get(slug="laterality").body_md

    report = course_load(spec=course_spec, overwrite_edits=True)
    assert report.updated == ["laterality"]
    assert "An instructor's note." not in Lesson.objects.get(slug="laterality").body_md


def test_a_changed_file_updates_the_lesson(course, course_spec):
    first = course_spec.modules[0]
    changed_lesson = dataclasses.replace(first.lessons[0], title="A new title")
    changed_module = dataclasses.replace(first, lessons=(changed_lesson, *first.lessons[1:]))
    spec = dataclasses.replace(course_spec, modules=(changed_module, *course_spec.modules[1:]))
    report = course_load(spec=spec)
    assert report.updated == [changed_lesson.slug]
    assert Lesson.objects.get(slug=changed_lesson.slug).title == "A new title"


def test_load_course_command_reports_counts_and_is_idempotent(course):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("load_course", "--strict", stdout=out, stderr=err)
    assert "5 modules, 27 lessons (0 created, 0 updated, 27 unchanged" in out.getvalue()
    assert "code links" in out.getvalue()
    assert err.getvalue() == ""


def test_enrolling_twice_keeps_one_enrolment(course, student):
    first = enrollment_create(user=student, course=course)
    assert enrollment_create(user=student, course=course) == first
    assert Enrollment.objects.filter(user=student).count() == 1


def test_completing_requires_enrolment(course, student):
    lesson = Lesson.objects.get(slug="why-coding-exists")
    with pytest.raises(LessonUnavailable) as error:
        lesson_complete(user=student, lesson=lesson)
    assert error.value.reason == NOT_ENROLLED


def test_a_locked_module_cannot_be_completed(course, enrolled):
    lesson = Lesson.objects.get(slug="laterality")
    with pytest.raises(LessonUnavailable) as error:
        lesson_complete(user=enrolled, lesson=lesson)
    assert error.value.reason == LOCKED
    assert [module.slug for module in error.value.missing] == ["foundations"]
    assert not LessonCompletion.objects.filter(user=enrolled).exists()


def test_finishing_a_module_opens_the_next_one(course, enrolled):
    outline = course_outline(course=course, user=enrolled)
    assert [row.locked for row in outline.modules] == [False, True, True, True, True]
    assert outline.next_lesson.slug == "why-coding-exists"

    for slug in ("why-coding-exists", "three-code-sets"):
        lesson_complete(user=enrolled, lesson=Lesson.objects.get(slug=slug))
    outline = course_outline(course=course, user=enrolled)
    assert [row.locked for row in outline.modules] == [False, False, True, True, True]
    assert outline.modules[0].finished
    assert outline.next_lesson.slug == "icd-10-cm-structure"
    assert outline.done_count == 2


def test_completing_twice_is_one_completion(course, enrolled):
    lesson = Lesson.objects.get(slug="why-coding-exists")
    assert lesson_complete(user=enrolled, lesson=lesson) == lesson_complete(
        user=enrolled, lesson=lesson
    )


def test_continue_skips_completed_lessons_out_of_order(course, enrolled):
    complete_module(enrolled, course, "foundations")
    lesson_complete(user=enrolled, lesson=Lesson.objects.get(slug="icd-10-cm-structure"))
    lesson_complete(user=enrolled, lesson=Lesson.objects.get(slug="conventions-and-notes"))
    assert course_outline(course=course, user=enrolled).next_lesson.slug == "index-and-tabular"


ITEM = PracticeItem(
    position=1,
    encounter="enc",
    exercise_type="best_code",
    line="key.diagnoses[0]",
    question="Which code?",
    case="",
    choices=(PracticeChoice("J02.0", "J02.0 Strep"), PracticeChoice("J02.9", "J02.9 NOS")),
    answer="J02.0",
    explanation="Because.",
)


def test_the_first_practice_answer_stands(course, enrolled):
    lesson = Lesson.objects.get(slug="why-coding-exists")
    first = practice_answer_record(user=enrolled, lesson=lesson, item=ITEM, chosen="J02.9")
    again = practice_answer_record(user=enrolled, lesson=lesson, item=ITEM, chosen="J02.0")
    assert again == first
    assert (first.correct, first.chosen, first.encounter) == (False, "J02.9", "enc")
    assert PracticeAnswer.objects.count() == 1


def test_a_choice_not_offered_is_refused(course, enrolled):
    lesson = Lesson.objects.get(slug="why-coding-exists")
    with pytest.raises(ValidationError) as error:
        practice_answer_record(user=enrolled, lesson=lesson, item=ITEM, chosen="Z00.00")
    assert error.value.code == "invalid_choice"


@pytest.mark.parametrize(
    ("tags", "first"),
    [
        (["missing_seventh_character"], "seventh-characters-and-placeholders"),
        (["units_error", "hcpcs-drugs"], "drugs-and-billing-units"),
        (["excludes1_conflict"], "excludes1-and-excludes2"),
        (["cpt-em"], "em-level-selection"),
    ],
)
def test_lessons_tagged_points_a_weak_area_at_its_lesson(course, tags, first):
    found = lessons_tagged(tags=tags, course=course)
    assert found[0].slug == first
    assert all(set(tags) & set(lesson.tags) for lesson in found)
