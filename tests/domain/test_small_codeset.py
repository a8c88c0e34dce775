"""The small ICD-10-CM set the Django tests run against (``tests/codeset_subset.py``)
is a faithful cut of the bundled release: the same rows, and the same exercises,
distractors, template keys and key checks as the full release gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesets.domain.catalog import InMemoryCatalog
from codesets.domain.systems import System
from codesets.importers.icd10cm_tabular import TabularRelease, bundled_tabular_path, parse_tabular
from quizzes.generation.distractors import near_misses
from quizzes.generation.encounters import EncounterSpec, bundled_library_path, load_library
from quizzes.generation.generators import generate
from quizzes.generation.templates import build_variants, bundled_templates_path, load_templates
from quizzes.generation.validation import check_key
from tests.codeset_subset import named_codes, write_small_tabular


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[TabularRelease, set[str]]:
    """The small tabular as the Django tests import it, parsed, and its categories."""
    path = Path(tmp_path_factory.mktemp("small-icd10cm")) / "small.xml"
    kept = write_small_tabular(bundled_tabular_path(), path, named_codes())
    return parse_tabular(path), kept


@pytest.fixture(scope="module")
def small_catalog(full_catalog: InMemoryCatalog, small) -> InMemoryCatalog:
    """The full catalog's entries for the small set's codes, CPT and HCPCS whole."""
    release, _ = small
    catalog = InMemoryCatalog()
    icd = full_catalog.entries[System.ICD10CM]
    catalog.add_release(
        full_catalog.releases[System.ICD10CM], [icd[entry.code] for entry in release.codes]
    )
    for system in (System.CPT, System.HCPCS):
        catalog.add_release(full_catalog.releases[system], full_catalog.entries[system].values())
    return catalog


def _library_and_variants(catalog: InMemoryCatalog) -> list[EncounterSpec]:
    specs = load_library(bundled_library_path())
    for template in load_templates(bundled_templates_path()):
        specs.extend(build_variants(template, catalog))
    return specs


def test_the_small_set_is_whole_categories_of_the_bundled_rows(
    icd10cm_release: TabularRelease, small
) -> None:
    release, kept = small
    assert release.chapters == icd10cm_release.chapters
    assert release.sections == icd10cm_release.sections
    assert list(release.codes) == [
        entry for entry in icd10cm_release.codes if entry.code[:3] in kept
    ]
    assert 0 < len(release.codes) < len(icd10cm_release.codes) // 2


def test_the_library_and_template_keys_are_in_the_small_set(
    full_catalog: InMemoryCatalog, small
) -> None:
    _, kept = small
    codes = {
        code
        for spec in _library_and_variants(full_catalog)
        for line in spec.key.diagnoses
        for code in (line.code, *line.alternatives)
    }
    assert len(codes) > 100
    assert {code[:3] for code in codes} <= kept


def test_keys_distractors_and_exercises_are_the_same_on_the_small_set(
    full_catalog: InMemoryCatalog, small_catalog: InMemoryCatalog
) -> None:
    specs = _library_and_variants(full_catalog)
    assert _library_and_variants(small_catalog) == specs
    for spec in specs:
        assert check_key(spec, small_catalog) == check_key(spec, full_catalog), spec.id
        for line in spec.key.diagnoses:
            for code in line.accepted:
                assert near_misses(small_catalog, code, patient=None, exclude=()) == (
                    near_misses(full_catalog, code, patient=None, exclude=())
                ), code
        for seed in (1, 2):
            on_small = [exercise.as_json() for exercise in generate(spec, small_catalog, seed=seed)]
            on_full = [exercise.as_json() for exercise in generate(spec, full_catalog, seed=seed)]
            assert on_small == on_full, spec.id
