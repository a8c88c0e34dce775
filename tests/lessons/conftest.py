"""Fixtures for the lesson tests: the bundled course loaded into the test database (the
code sets are already there, imported once per session by tests/conftest.py)."""

from __future__ import annotations

import pytest

from coding_course.lessons.content import bundled_course_path, load_course_folder
from coding_course.lessons.models import Course, Lesson, LessonCompletion
from coding_course.lessons.services import course_load, enrollment_create


@pytest.fixture(scope="session")
def course_spec():
    return load_course_folder(bundled_course_path())


@pytest.fixture
def course(db, course_spec) -> Course:
    course_load(spec=course_spec)
    return Course.objects.get(slug=course_spec.slug)


@pytest.fixture
def enrolled(course, student):
    enrollment_create(user=student, course=course)
    return student


def complete_module(user, course: Course, module_slug: str) -> None:
    """Mark every lesson of one module complete, directly (prerequisites aside)."""
    for lesson in Lesson.objects.filter(module__course=course, module__slug=module_slug):
        LessonCompletion.objects.get_or_create(user=user, lesson=lesson)
