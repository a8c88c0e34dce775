"""The code sets the test databases hold (``tests/conftest.py``): the small ICD-10-CM set
under the real release's metadata by default, the full release for a marked test."""

from __future__ import annotations

import pytest

from codesets import services
from codesets.importers.icd10cm_tabular import parse_tabular
from codesets.models import Code, Release
from tests.conftest import small_tabular_path

pytestmark = pytest.mark.django_db

FULL_CODES = 98186


def _icd10cm_release() -> Release:
    return Release.objects.get(system="ICD-10-CM", version=services.BUNDLED_ICD10CM_VERSION)


def test_a_test_gets_the_small_set_as_the_bundled_release(request: pytest.FixtureRequest) -> None:
    if request.config.getoption("full_release"):
        pytest.skip("--full-release gives every test the full release")
    release = _icd10cm_release()
    assert (release.effective_from, release.effective_to, release.source) == (
        services.BUNDLED_ICD10CM_FROM,
        services.BUNDLED_ICD10CM_TO,
        services.BUNDLED_ICD10CM_SOURCE,
    )
    small = parse_tabular(small_tabular_path())
    assert release.code_count == Code.objects.filter(release=release).count()
    assert release.code_count == len(small.codes) < FULL_CODES
    assert Release.objects.filter(system__in=["CPT", "HCPCS"]).count() == 2


@pytest.mark.full_release
def test_a_marked_test_gets_the_full_release() -> None:
    release = _icd10cm_release()
    assert release.code_count == Code.objects.filter(release=release).count() == FULL_CODES
