"""Fixtures for the code-set tests.

``import_bundled_once`` puts the bundled releases (full ICD-10-CM April 2026, curated CPT
and HCPCS) into the test database once per database per process; the session fixture
``bundled_codesets`` calls it with database access unblocked, so the rows are committed
and every test (each in its own rolled-back transaction) sees them. It can move to
``tests/conftest.py`` unchanged when other apps need the code sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from pytest_django import DjangoDbBlocker

from codesets.adapters import clear_memory_catalogs
from codesets.services import import_bundled

_IMPORTED: set[str] = set()

SMALL_TABULAR = """<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
  <version>2099</version>
  <chapter>
    <name>1</name>
    <desc>Certain infectious and parasitic diseases (A00-B99)</desc>
    <section id="A00-A09">
      <desc>Intestinal infectious diseases (A00-A09)</desc>
      <diag>
        <name>A00</name>
        <desc>Cholera</desc>
        <diag>
          <name>A00.0</name>
          <desc>Cholera due to Vibrio cholerae 01, biovar cholerae</desc>
          <inclusionTerm><note>Classical cholera</note></inclusionTerm>
        </diag>
        <diag>
          <name>A00.9</name>
          <desc>Cholera, unspecified</desc>
          <excludes1><note>other intestinal infections (A08.-)</note></excludes1>
        </diag>
      </diag>
    </section>
  </chapter>
</ICD10CM.tabular>
"""


def import_bundled_once() -> None:
    """Import the bundled sets into the current database unless this process did."""
    name = str(connection.settings_dict["NAME"])
    if name in _IMPORTED:
        return
    import_bundled()
    clear_memory_catalogs()
    _IMPORTED.add(name)


@pytest.fixture(scope="session")
def bundled_codesets(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> None:
    with django_db_blocker.unblock():
        import_bundled_once()


@pytest.fixture
def small_tabular(tmp_path: Path) -> Path:
    path = tmp_path / "icd10cm-tabular-small.xml"
    path.write_text(SMALL_TABULAR, encoding="utf-8")
    return path


@pytest.fixture
def fresh_memory_catalogs() -> Iterator[None]:
    clear_memory_catalogs()
    yield
    clear_memory_catalogs()
