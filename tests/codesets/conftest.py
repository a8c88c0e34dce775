"""Fixtures for the code-set tests.

``bundled_codesets`` makes sure the bundled releases (full ICD-10-CM April 2026, curated
CPT and HCPCS) are committed in the test database (see ``tests/conftest.py``), so every
test, each in its own rolled-back transaction, sees them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django import DjangoDbBlocker

from codesets.adapters import clear_memory_catalogs
from tests.conftest import ensure_bundled_codesets

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


@pytest.fixture(scope="session")
def bundled_codesets(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> None:
    with django_db_blocker.unblock():
        ensure_bundled_codesets()


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
