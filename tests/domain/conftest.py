"""Shared fixtures of the pure tests."""

from __future__ import annotations

import pytest

from codesets.importers.icd10cm_tabular import TabularRelease, bundled_tabular_path, parse_tabular


@pytest.fixture(scope="session")
def icd10cm_release() -> TabularRelease:
    """The bundled April 2026 ICD-10-CM tabular, parsed once per test session (~2 s)."""
    return parse_tabular(bundled_tabular_path())
