"""The bundled course (recommendations name its lessons) and the known two-quiz history."""

from __future__ import annotations

import pytest

from tests.factories import InstructorFactory, StudentFactory
from tests.lessons.conftest import course, course_spec  # noqa: F401 (fixtures reused here)
from tests.progress.factories import two_quizzes_history


@pytest.fixture
def learner_with_history(course):  # noqa: F811 (the imported fixture)
    student = StudentFactory(username="ana")
    two_quizzes_history(student, InstructorFactory())
    return student
