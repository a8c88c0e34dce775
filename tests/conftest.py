"""Shared fixtures. Django is imported lazily so `pytest -p no:django tests/domain`
can load this file without Django configured."""

from __future__ import annotations

import pytest


@pytest.fixture
def student(db):
    from tests.factories import StudentFactory

    return StudentFactory()


@pytest.fixture
def instructor(db):
    from tests.factories import InstructorFactory

    return InstructorFactory()


@pytest.fixture
def employer(db):
    from tests.factories import EmployerFactory

    return EmployerFactory()


@pytest.fixture
def staff_user(db):
    from tests.factories import StaffFactory

    return StaffFactory()
