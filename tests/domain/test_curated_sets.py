"""The bundled curated CPT and HCPCS Level II sets: required content, validity, metadata,
the loader's validation, and a cross-check of every HCPCS entry against the official CMS
January 2026 file when the shared reference folder is present."""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from codesets.domain.shapes import canonical, cpt_category, has_shape
from codesets.domain.systems import System
from codesets.importers.curated import (
    CuratedSet,
    CuratedSetError,
    bundled_cpt_path,
    bundled_hcpcs_path,
    load_curated,
)
from codesets.importers.hcpcs_cms import HcpcsFile, is_active, parse_hcpcs_file
from tests.domain.test_hcpcs_cms import REFERENCE_FILE

JAN_1_2026 = dt.date(2026, 1, 1)


@pytest.fixture(scope="module")
def hcpcs() -> CuratedSet:
    return load_curated(bundled_hcpcs_path())


@pytest.fixture(scope="module")
def cpt() -> CuratedSet:
    return load_curated(bundled_cpt_path())


def codes_of(curated: CuratedSet) -> set[str]:
    return {info.code for info in curated.codes}


def words(text: str) -> list[str]:
    return text.split()


# --- required content --------------------------------------------------------------------

REQUIRED_HCPCS = words("""
A0021 A0425 A0426 A0427 A0428 A0429 A0430 A0431 A0432 A0433 A0434 A0435 A0436
A4253 A4259 A4550 A6216
E0100 E0105 E0110 E0111 E0112 E0113 E0114 E0130 E0135 E0143 E0148 E0149 E0156 E0163 E0165
E0260 E0431 E0439 E0470 E0570 E0601 E0607 E0630 E0650 E0730 E0776 E0784 E1130 E1161
G0008 G0009 G0010 G0101 G0102 G0103 G0105 G0121 G0402 G0438 G0439 G0442 G0444 G0446 G0447
G0468 G2211
J0561 J0696 J1100 J1200 J1745 J1885 J2405 J2550 J3301 J3420 J7030 J7040 J7050 J7120 J7613
J7620 J9035 J9045 J9171 J9201 J9267 J9355
K0001 K0002 K0003 K0004 K0005 K0006 K0007 K0552
L0120 L0650 L1810 L1820 L1832 L1902 L1906 L3260 L3809 L3908 L3915 L3916 L3917 L4360 L4361
L4386 L4387
Q0091 Q2035 Q2036 Q2037 Q2038 Q2039
""") + [f"Q{number:04d}" for number in range(4001, 4052)]

# Listed in early planning but terminated by CMS before 2026-01-01 (replacements in
# brackets are in the set): J0171 (J0165), J1030 and J1040 (J1010), J2001 (J2003).
TERMINATED_HCPCS = ["J0171", "J1030", "J1040", "J2001", "K0553", "J2920", "J2930"]

REQUIRED_HCPCS_MODIFIERS = words("""
RT LT NU RR UE KX GA GY GZ XS XE XP XU TC QW GC GT E1 E2 E3 E4 FA F1 F2 F3 F4 F5 F6 F7 F8 F9
TA T1 T2 T3 T4 T5 T6 T7 T8 T9 LC LD RC CR KH KI KJ QK QX QZ AA
""")

REQUIRED_CPT = (
    [str(n) for n in (*range(99202, 99206), *range(99211, 99216), *range(99221, 99224))]
    + [str(n) for n in (*range(99231, 99237), 99238, 99239, *range(99281, 99286), 99291, 99292)]
    + [str(n) for n in (*range(99381, 99388), *range(99391, 99398), 99401, 99406, 99417)]
    + [str(n) for n in (99421, 99422, 99423, 99495, 99496, 99497)]
    + words("""
10060 10061 10120 10140 11042 11102 11103 11104 11105 11106 11107 11200 11300 11400 11600
11720 11721 11730 11750 12001 12002 12004 12005 12006 12007 12011 12031 12032 12041 12051
13100 13131 17000 17003 17004 17110 17111 20552 20553 20600 20604 20605 20606 20610 20611
23650 24640 25500 25600 25605 26720 27786 28470 29105 29125 29130 29405 29425 29515 29540
29580 29881 30901 31231 36415 36416 43235 43239 45378 45380 45385 46600 47562 49505 51702
55700 57452 57454 58300 59400 59409 59410 59510 59025 64483 65205 66984 69209 69210
70450 70486 71045 71046 71047 71048 71250 71260 71275 72040 72100 72110 72141 72148 73000
73030 73060 73070 73080 73090 73100 73110 73120 73130 73140 73502 73560 73562 73564 73590
73600 73610 73620 73630 73650 73660 73721 74018 74019 74176 74177 74178 76536 76700 76705
76770 76801 76805 76811 76813 76815 76817 76830 76856 77063 77067 77080 78452
80048 80050 80053 80061 80069 80076 81000 81001 81002 81003 81025 82043 82270 82274 82947
82948 82962 83036 83655 84153 84443 85025 85027 85610 86580 86592 86701 86703 87070 87081
87086 87088 87210 87426 87430 87502 87804 87807 87811 87880 88305 88142 88175 87624 87491
87591
90460 90461 90471 90472 90474 90619 90648 90651 90656 90658 90670 90671 90677 90680 90681
90686 90688 90700 90707 90710 90713 90714 90715 90716 90723 90732 90734 90736 90739 90744
90746 90750 90791 90792 90832 90834 90837 90839 90846 90847 90853 92002 92004 92012 92014
92507 92551 92552 92567 93000 93005 93010 93015 93017 93018 93224 93306 93307 93880 93922
93970 94010 94060 94640 94664 94760 94761 95004 95165 96127 96160 96372 96374 96375 96360
96361 96365 96366 96413 96415 96417 97110 97112 97140 97161 97162 97163 97530 98940 98941
99173 99177
1036F 2022F 3044F 3046F 3051F 3052F 3074F 3075F 3078F 3079F 4004F 1125F
""")
)

# Deleted from CPT before 2026: office new-patient level 1 (2021), office and inpatient
# consultation level 1 and observation codes (2023), prolonged services with and without
# direct contact (2024), telephone E/M (2025).
DELETED_CPT = [
    "99201", "99241", "99251", "99217", "99218", "99219", "99220", "99224", "99225",
    "99226", "99354", "99355", "99356", "99357", "99441", "99442", "99443", "73500",
]  # fmt: skip

REQUIRED_CPT_MODIFIERS = words("22 24 25 26 27 50 51 52 53 57 58 59 62 76 77 78 79 80 82 91 95")


@pytest.mark.parametrize("code", REQUIRED_HCPCS)
def test_required_hcpcs_codes_are_present(hcpcs: CuratedSet, code: str) -> None:
    assert code in codes_of(hcpcs)


@pytest.mark.parametrize("code", TERMINATED_HCPCS)
def test_terminated_hcpcs_codes_are_absent(hcpcs: CuratedSet, code: str) -> None:
    assert code not in codes_of(hcpcs)


@pytest.mark.parametrize("code", REQUIRED_HCPCS_MODIFIERS)
def test_required_hcpcs_modifiers_are_present(hcpcs: CuratedSet, code: str) -> None:
    assert code in {m.code for m in hcpcs.modifiers}


@pytest.mark.parametrize("code", REQUIRED_CPT)
def test_required_cpt_codes_are_present(cpt: CuratedSet, code: str) -> None:
    assert code in codes_of(cpt)


@pytest.mark.parametrize("code", DELETED_CPT)
def test_deleted_cpt_codes_are_absent(cpt: CuratedSet, code: str) -> None:
    assert code not in codes_of(cpt)


@pytest.mark.parametrize("code", REQUIRED_CPT_MODIFIERS)
def test_required_cpt_modifiers_are_present(cpt: CuratedSet, code: str) -> None:
    assert code in {m.code for m in cpt.modifiers}


def test_set_sizes(hcpcs: CuratedSet, cpt: CuratedSet) -> None:
    assert len(hcpcs.codes) >= 300
    assert len(hcpcs.modifiers) >= 40
    assert len(cpt.codes) >= 260
    assert len(cpt.modifiers) >= 21


def test_category_iii_has_at_least_five_codes(cpt: CuratedSet) -> None:
    assert sum(cpt_category(info.code) == "III" for info in cpt.codes) >= 5


def test_g2211_is_hcpcs_not_cpt(hcpcs: CuratedSet, cpt: CuratedSet) -> None:
    assert "G2211" in codes_of(hcpcs)
    assert "G2211" not in codes_of(cpt)


# --- validity ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fixture", "system"), [("hcpcs", System.HCPCS), ("cpt", System.CPT)])
def test_every_code_is_canonical_billable_and_described(
    request: pytest.FixtureRequest, fixture: str, system: System
) -> None:
    curated: CuratedSet = request.getfixturevalue(fixture)
    for info in curated.codes:
        assert info.system is system
        assert has_shape(info.code, system), info.code
        assert canonical(info.code, system) == info.code
        assert info.billable
        assert info.parent is None
        assert len(info.description) >= 5, info.code
        assert curated.placement(info.code) is not None


def test_modifiers_are_two_characters_and_not_mixed(hcpcs: CuratedSet, cpt: CuratedSet) -> None:
    assert all(m.system is System.HCPCS and not m.code.isdigit() for m in hcpcs.modifiers)
    assert all(m.system is System.CPT and m.code.isdigit() for m in cpt.modifiers)
    assert all(len(m.code) == 2 and m.description for m in (*hcpcs.modifiers, *cpt.modifiers))


def test_every_j_code_has_a_billing_unit(hcpcs: CuratedSet) -> None:
    j_codes = [info for info in hcpcs.codes if info.code.startswith("J")]
    assert len(j_codes) >= 40
    assert all(info.billing_unit for info in j_codes)


@pytest.mark.parametrize(
    ("code", "unit"),
    [
        ("J1885", "15 mg"),
        ("J0696", "250 mg"),
        ("J3301", "10 mg"),
        ("J2550", "up to 50 mg"),
        ("J1100", "1 mg"),
        ("J7030", "1000 cc"),
    ],
)
def test_known_billing_units(hcpcs: CuratedSet, code: str, unit: str) -> None:
    info = hcpcs.get(code)
    assert info is not None
    assert info.billing_unit == unit


CPT_SECTION_OF = [
    ("99213", "Evaluation and Management"),
    ("99497", "Evaluation and Management"),
    ("00812", "Anesthesia"),
    ("01967", "Anesthesia"),
    ("10060", "Surgery"),
    ("69210", "Surgery"),
    ("70450", "Radiology"),
    ("78452", "Radiology"),
    ("80053", "Pathology and Laboratory"),
    ("88305", "Pathology and Laboratory"),
    ("90471", "Medicine"),
    ("93306", "Medicine"),
    ("99177", "Medicine"),
    ("3044F", "Category II performance measurement"),
    ("0714T", "Category III emerging technology"),
]


@pytest.mark.parametrize(("code", "section"), CPT_SECTION_OF)
def test_cpt_codes_sit_in_their_section(cpt: CuratedSet, code: str, section: str) -> None:
    placed = cpt.placement(code)
    assert placed is not None
    assert placed[0].name == section
    assert placed[0].cpt_category == cpt_category(code)


@pytest.mark.parametrize(
    ("code", "section", "group"),
    [
        ("A0425", "Transportation services, medical and surgical supplies, miscellaneous",
         "Ambulance services"),
        ("E0114", "Durable medical equipment", "Crutches"),
        ("E0143", "Durable medical equipment", "Walkers"),
        ("J1885", "Drugs administered other than oral method and chemotherapy drugs",
         "Drugs administered other than oral method"),
        ("Q4010", "Temporary codes (Q codes)", "Casting and splinting supplies"),
    ],
)  # fmt: skip
def test_hcpcs_codes_sit_in_their_section_and_category(
    hcpcs: CuratedSet, code: str, section: str, group: str
) -> None:
    placed = hcpcs.placement(code)
    assert placed is not None
    assert (placed[0].name, placed[1].name) == (section, group)


# --- release metadata ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "system", "version"),
    [("hcpcs", System.HCPCS, "2026-01"), ("cpt", System.CPT, "2026")],
)
def test_release_metadata(
    request: pytest.FixtureRequest, fixture: str, system: System, version: str
) -> None:
    release = request.getfixturevalue(fixture).release
    assert release.system is system
    assert release.version == version
    assert release.effective_from == dt.date(2026, 1, 1)
    assert release.effective_to == dt.date(2026, 12, 31)
    assert release.source.startswith("coding_course curated set")


def test_cpt_notice_credits_the_ama_and_names_the_import_command(cpt: CuratedSet) -> None:
    assert "registered trademark of the American Medical Association" in cpt.notice
    assert "our own summaries" in cpt.notice
    assert "import_codesets --cpt FILE" in cpt.notice


# --- loader validation ---------------------------------------------------------------------

MINIMAL_HCPCS: dict[str, Any] = {
    "release": {
        "system": "HCPCS",
        "version": "test",
        "effective_from": dt.date(2026, 1, 1),
        "effective_to": dt.date(2026, 12, 31),
    },
    "notice": "Test set.",
    "sections": [
        {
            "name": "Drugs",
            "ranges": [["J0000", "J9999"]],
            "categories": [
                {
                    "name": "Injections",
                    "codes": [{"code": "J1885", "description": "A drug", "billing_unit": "15 mg"}],
                }
            ],
        }
    ],
    "modifiers": [{"code": "RT", "description": "Right side"}],
}

MINIMAL_CPT: dict[str, Any] = {
    "release": {"system": "CPT", "version": "test", "effective_from": "2026-01-01"},
    "notice": "Test set.",
    "sections": [
        {
            "name": "Evaluation and Management",
            "ranges": [["99202", "99499"]],
            "cpt_category": "I",
            "subsections": [
                {"name": "Office", "codes": [{"code": "99213", "description": "A visit"}]}
            ],
        }
    ],
    "modifiers": [{"code": "25", "description": "Separate visit"}],
}


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def first_code(document: dict[str, Any]) -> dict[str, Any]:
    section = document["sections"][0]
    groups = section.get("categories") or section["subsections"]
    entry: dict[str, Any] = groups[0]["codes"][0]
    return entry


def test_minimal_documents_load(tmp_path: Path) -> None:
    hcpcs_set = load_curated(write(tmp_path, MINIMAL_HCPCS))
    assert [(i.code, i.billing_unit) for i in hcpcs_set.codes] == [("J1885", "15 mg")]
    cpt_set = load_curated(write(tmp_path, MINIMAL_CPT))
    assert cpt_set.release.effective_to is None
    assert [i.code for i in cpt_set.codes] == ["99213"]


def drop_unit(doc: dict[str, Any]) -> None:
    del first_code(doc)["billing_unit"]


def duplicate_code(doc: dict[str, Any]) -> None:
    doc["sections"][0]["categories"][0]["codes"].append(dict(first_code(doc)))


def out_of_range(doc: dict[str, Any]) -> None:
    first_code(doc)["code"] = "A0425"


def bad_shape(doc: dict[str, Any]) -> None:
    first_code(doc)["code"] = "J18850"


def lower_case(doc: dict[str, Any]) -> None:
    first_code(doc)["code"] = "j1885"


def unknown_key(doc: dict[str, Any]) -> None:
    first_code(doc)["billing_units"] = "15 mg"


def numeric_modifier(doc: dict[str, Any]) -> None:
    doc["modifiers"].append({"code": "25", "description": "CPT modifier"})


def duplicate_modifier(doc: dict[str, Any]) -> None:
    doc["modifiers"].append({"code": "RT", "description": "again"})


def empty_description(doc: dict[str, Any]) -> None:
    first_code(doc)["description"] = "  "


def backwards_window(doc: dict[str, Any]) -> None:
    doc["release"]["effective_to"] = dt.date(2025, 1, 1)


def icd_release(doc: dict[str, Any]) -> None:
    doc["release"]["system"] = "ICD-10-CM"


def missing_notice(doc: dict[str, Any]) -> None:
    del doc["notice"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (drop_unit, r"\(J1885\): a J code needs a billing_unit"),
        (duplicate_code, r"codes\[1\] \(J1885\): duplicate of the entry at"),
        (out_of_range, "outside the ranges of section 'Drugs'"),
        (bad_shape, "not a canonical HCPCS code"),
        (lower_case, "not a canonical HCPCS code"),
        (unknown_key, "unknown key billing_units"),
        (numeric_modifier, "HCPCS Level II modifiers contain a letter"),
        (duplicate_modifier, r"modifiers\[1\]: duplicate"),
        (empty_description, "description: expected non-empty text"),
        (backwards_window, "effective_to is before effective_from"),
        (icd_release, "curated sets exist for CPT and HCPCS only"),
        (missing_notice, "top level: missing notice"),
    ],
)
def test_invalid_hcpcs_documents_are_rejected(tmp_path: Path, mutate: Any, message: str) -> None:
    document = copy.deepcopy(MINIMAL_HCPCS)
    mutate(document)
    with pytest.raises(CuratedSetError, match=rf"^set\.yaml: .*{message}"):
        load_curated(write(tmp_path, document))


def unquoted_cpt(doc: dict[str, Any]) -> None:
    first_code(doc)["code"] = 99213


def category_ii_in_category_i(doc: dict[str, Any]) -> None:
    doc["sections"][0]["ranges"] = [["0001F", "9999F"], ["99202", "99499"]]
    first_code(doc)["code"] = "3044F"


def lettered_cpt_modifier(doc: dict[str, Any]) -> None:
    doc["modifiers"][0]["code"] = "RT"


def missing_cpt_category(doc: dict[str, Any]) -> None:
    del doc["sections"][0]["cpt_category"]


def bad_date(doc: dict[str, Any]) -> None:
    doc["release"]["effective_from"] = "January 2026"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (unquoted_cpt, "code 99213 must be a quoted string"),
        (category_ii_in_category_i, r"\(3044F\): not a Category I code"),
        (lettered_cpt_modifier, "CPT modifiers are two digits"),
        (missing_cpt_category, "missing cpt_category"),
        (bad_date, "'January 2026' is not a YYYY-MM-DD date"),
    ],
)
def test_invalid_cpt_documents_are_rejected(tmp_path: Path, mutate: Any, message: str) -> None:
    document = copy.deepcopy(MINIMAL_CPT)
    mutate(document)
    with pytest.raises(CuratedSetError, match=rf"^set\.yaml: .*{message}"):
        load_curated(write(tmp_path, document))


@pytest.mark.parametrize("text", ["release: [unclosed", "- just a list"])
def test_malformed_yaml_is_rejected(tmp_path: Path, text: str) -> None:
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CuratedSetError, match=r"^set\.yaml: "):
        load_curated(path)


def test_missing_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(CuratedSetError, match="cannot read"):
        load_curated(tmp_path / "absent.yaml")


# --- cross-check against the official CMS file ---------------------------------------------


@pytest.fixture(scope="module")
def cms_file() -> HcpcsFile:
    if not REFERENCE_FILE.exists():
        pytest.skip(f"CMS reference file not present at {REFERENCE_FILE}")
    return parse_hcpcs_file(REFERENCE_FILE)


def test_every_curated_hcpcs_code_is_active_in_the_cms_file(
    hcpcs: CuratedSet, cms_file: HcpcsFile
) -> None:
    missing = [i.code for i in hcpcs.codes if cms_file.get(i.code) is None]
    inactive = [
        i.code
        for i in hcpcs.codes
        if (entry := cms_file.get(i.code)) is not None and not is_active(entry, JAN_1_2026)
    ]
    assert missing == []
    assert inactive == []


def test_every_curated_hcpcs_modifier_is_active_in_the_cms_file(
    hcpcs: CuratedSet, cms_file: HcpcsFile
) -> None:
    official = {m.code: m for m in cms_file.modifiers}
    bad = [
        m.code
        for m in hcpcs.modifiers
        if m.code not in official or not is_active(official[m.code], JAN_1_2026)
    ]
    assert bad == []


_QUANTITY = re.compile(r"\d[\d,.]*\s*[a-z]+")


def test_billing_units_agree_with_the_cms_descriptors(
    hcpcs: CuratedSet, cms_file: HcpcsFile
) -> None:
    """Each quantity in our unit (``15 mg``) appears, as a whole number, in the CMS text."""
    disagreements = []
    checked = 0
    for info in hcpcs.codes:
        entry = cms_file.get(info.code)
        if info.billing_unit is None or entry is None:
            continue
        official = entry.long_description.lower()
        for quantity in _QUANTITY.findall(info.billing_unit.lower()):
            checked += 1
            if not re.search(rf"(?<![\d.,]){re.escape(quantity)}\b", official):
                disagreements.append((info.code, quantity))
    assert checked >= 80
    assert disagreements == []


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def test_descriptions_are_our_own_not_the_cms_text(hcpcs: CuratedSet, cms_file: HcpcsFile) -> None:
    """No curated code or modifier description repeats a CMS long or short descriptor,
    ignoring case, spaces and punctuation."""
    official = {r.code: r for r in (*cms_file.codes, *cms_file.modifiers)}
    copied = [
        entry.code
        for entry in (*hcpcs.codes, *hcpcs.modifiers)
        if _letters(entry.description)
        in {
            _letters(official[entry.code].long_description),
            _letters(official[entry.code].short_description),
        }
    ]
    assert copied == []
