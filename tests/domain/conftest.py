"""Shared fixtures of the pure tests."""

from __future__ import annotations

import datetime as dt

import pytest

from codesets.domain.catalog import InMemoryCatalog, ReleaseInfo
from codesets.domain.systems import System
from codesets.importers.curated import bundled_cpt_path, bundled_hcpcs_path, load_curated
from codesets.importers.icd10cm_tabular import (
    TabularRelease,
    bundled_tabular_path,
    code_infos,
    parse_tabular,
)
from codesets.importers.mce_attributes import derive_mce_attributes

# The window CMS gives the April 2026 ICD-10-CM update (in force until FY2027 starts).
ICD10CM_2026_04 = ReleaseInfo(
    System.ICD10CM, "2026-04", dt.date(2026, 4, 1), dt.date(2026, 9, 30), "bundled tabular"
)


@pytest.fixture(scope="session")
def icd10cm_release() -> TabularRelease:
    """The bundled April 2026 ICD-10-CM tabular, parsed once per test session (~2 s)."""
    return parse_tabular(bundled_tabular_path())


@pytest.fixture(scope="session")
def full_catalog(icd10cm_release: TabularRelease) -> InMemoryCatalog:
    """Every bundled code set as one catalog: the full ICD-10-CM release with its MCE
    attributes and the curated CPT and HCPCS Level II sets (~3 s once per session)."""
    mce = derive_mce_attributes(entry.code for entry in icd10cm_release.billable_codes())
    catalog = InMemoryCatalog()
    catalog.add_release(ICD10CM_2026_04, code_infos(icd10cm_release, mce))
    for path in (bundled_cpt_path(), bundled_hcpcs_path()):
        curated = load_curated(path)
        catalog.add_release(curated.release, curated.codes)
    return catalog
