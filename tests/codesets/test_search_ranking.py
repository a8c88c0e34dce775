"""Search ranked the way a coder judges an encoder (``search_codes`` contract, ranking).

Each query is what a coder types: abbreviations, lay terms, drug brand names, exact codes
of each family, common diagnoses and services of the curated CPT and HCPCS sets, and
typos. The expected code must be among the first ``top`` hits. The queries run on the
full ICD-10-CM release.
"""

from __future__ import annotations

import datetime as dt

import pytest

from codesets.models import Code
from codesets.search import search_codes
from codesets.search_vocabulary import VOCABULARY_PATH, parse_vocabulary, search_vocabulary

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("bundled_codesets"),
    pytest.mark.full_release,
]

IN_FORCE = dt.date(2026, 5, 1)

# (query, expected code, must be within the first N hits)
QUERIES: list[tuple[str, str, int]] = [
    # abbreviations
    ("htn", "I10", 1),
    ("HTN", "I10", 1),
    ("dm2", "E11.9", 3),
    ("t2dm", "E11.9", 3),
    ("ckd", "N18.9", 3),
    ("esrd", "N18.6", 3),
    ("aki", "N17.9", 3),
    ("uti", "N39.0", 1),
    ("gerd", "K21.9", 1),
    ("afib", "I48.91", 1),
    ("a fib", "I48.91", 3),
    ("chf", "I50.9", 1),
    ("bph", "N40.0", 3),
    ("bph", "N40.1", 3),
    ("copd", "J44.9", 3),
    ("cad", "I25.10", 3),
    ("mi", "I21.9", 3),
    ("uri", "J06.9", 3),
    ("om", "H66.90", 5),
    ("dvt", "I82.409", 5),
    ("pe", "I26.99", 5),
    ("oa", "M19.90", 5),
    ("ra", "M06.9", 5),
    ("tia", "G45.9", 3),
    ("hld", "E78.5", 3),
    ("osa", "G47.33", 3),
    ("adhd", "F90.9", 3),
    ("gad", "F41.1", 3),
    ("mdd", "F32.9", 3),
    ("ibs", "K58.9", 3),
    ("diabetes ckd", "E11.22", 5),
    ("type 2 diabetes with CKD", "E11.22", 3),
    ("htn ckd", "I12.9", 5),
    # lay terms
    ("high blood pressure", "I10", 3),
    ("heart attack", "I21.9", 3),
    ("stroke", "I63.9", 3),
    ("kidney stones", "N20.0", 3),
    ("pink eye", "H10.9", 3),
    ("flu shot", "Z23", 3),
    ("flu shot", "90688", 5),
    ("well child visit", "Z00.129", 3),
    ("sugar diabetes", "E11.9", 3),
    ("strep throat", "J02.0", 3),
    ("sore throat", "J02.9", 3),
    ("common cold", "J00", 3),
    ("ear infection", "H66.90", 3),
    ("shingles", "B02.9", 3),
    ("chickenpox", "B01.9", 3),
    ("whooping cough", "A37.90", 5),
    ("hay fever", "J30.9", 5),
    ("heartburn", "K21.9", 3),
    ("chest pressure", "R07.89", 1),
    ("nosebleed", "R04.0", 3),
    ("fainting", "R55", 3),
    ("hives", "L50.9", 3),
    ("stomach flu", "K52.9", 5),
    ("high cholesterol", "E78.00", 5),
    ("low blood sugar", "E16.2", 5),
    ("enlarged prostate", "N40.0", 3),
    ("bee sting", "T63.441A", 3),
    # common diagnoses, unqualified
    ("hypertension", "I10", 1),
    ("type 2 diabetes", "E11.9", 3),
    ("type 1 diabetes", "E10.9", 3),
    ("diabetes", "E11.9", 3),
    ("pneumonia", "J18.9", 1),
    ("asthma", "J45.909", 3),
    ("atrial fibrillation", "I48.91", 3),
    ("heart failure", "I50.9", 3),
    ("urinary tract infection", "N39.0", 3),
    ("chest pain", "R07.9", 3),
    ("migraine", "G43.909", 5),
    ("hypothyroidism", "E03.9", 3),
    ("anemia", "D64.9", 3),
    ("obesity", "E66.9", 3),
    ("depression", "F32.A", 3),
    ("anxiety", "F41.9", 3),
    ("acute bronchitis", "J20.9", 3),
    ("cellulitis", "L03.90", 5),
    ("gout", "M10.9", 3),
    ("syncope", "R55", 3),
    ("low back pain", "M54.50", 3),
    ("sepsis", "A41.9", 3),
    ("conjunctivitis", "H10.9", 3),
    ("otitis media", "H66.90", 3),
    ("influenza", "J11.1", 5),
    ("multiple sclerosis", "G35.D", 3),
    ("diabetic neuropathy", "E11.40", 3),
    ("diabetic foot ulcer", "E11.621", 3),
    # drug brand names
    ("toradol", "J1885", 1),
    ("rocephin", "J0696", 1),
    ("decadron", "J1100", 1),
    ("zofran", "J2405", 1),
    ("solu-medrol", "J2919", 1),
    ("depo-provera", "J1050", 1),
    ("kenalog", "J3301", 1),
    ("lasix", "J1938", 1),
    ("benadryl", "J1200", 1),
    ("phenergan", "J2550", 1),
    ("prolia", "J0897", 1),
    ("lovenox", "J1650", 3),
    ("narcan", "J2312", 3),
    ("remicade", "J1745", 3),
    ("botox", "J0585", 3),
    ("ancef", "J0690", 3),
    ("duoneb", "J7620", 3),
    ("mirena", "J7298", 3),
    # exact codes of each family, and look-alikes of another family
    ("G0439", "G0439", 1),
    ("J1100", "J1100", 1),
    ("G04.39", "G04.39", 1),
    ("J11.00", "J11.00", 1),
    ("99213", "99213", 1),
    ("I10", "I10", 1),
    ("e11.9", "E11.9", 1),
    ("E119", "E11.9", 1),
    ("J0696", "J0696", 1),
    ("Z00.129", "Z00.129", 1),
    # services of the curated CPT and HCPCS sets
    ("screening colonoscopy", "G0121", 5),
    ("colonoscopy with biopsy", "45380", 3),
    ("screening mammogram", "77067", 3),
    ("annual wellness visit", "G0439", 5),
    ("preventive visit established patient age 40", "99396", 3),
    ("vaccine administration", "90471", 5),
    ("influenza vaccine", "90688", 5),
    ("breast cancer", "C50.919", 3),
    ("lung cancer", "C34.90", 3),
    ("prostate cancer", "C61", 3),
    ("colon cancer", "C18.9", 3),
    ("wrist fracture", "S62.109A", 3),
    ("ankle fracture", "S82.899A", 3),
    ("vertigo", "R42", 3),
    ("fatigue", "R53.83", 3),
    ("nicotine dependence", "F17.200", 3),
    ("otitis externa", "H60.90", 3),
    ("covid", "U07.1", 3),
    ("covid vaccine", "Z23", 3),
    ("vitamin d deficiency", "E55.9", 3),
    ("acute kidney injury", "N17.9", 3),
    ("gi bleed", "K92.2", 3),
    ("sob", "R06.02", 3),
    ("copd exacerbation", "J44.1", 3),
    ("ckd stage 3", "N18.30", 3),
    ("er visit", "99283", 5),
    ("smoking cessation", "99406", 3),
    ("chest x-ray", "71046", 5),
    ("cbc", "85025", 3),
    ("urinalysis", "81003", 5),
    ("strep test", "87880", 3),
    ("b12 injection", "J3420", 3),
    ("colonoscopy", "45378", 3),
    ("neck pain", "M54.2", 1),
    ("parkinsons", "G20.A1", 3),
    ("alzheimer's", "G30.9", 3),
    ("prenatal visit", "Z34.90", 3),
    ("hyperlipidemia", "E78.5", 3),
    ("iron deficiency anemia", "D50.9", 3),
    ("pancreatitis", "K85.90", 3),
    ("hepatitis c", "B19.20", 3),
    ("annual physical", "Z00.00", 3),
    ("a1c", "83036", 3),
    # typos
    ("pnuemonia", "J18.9", 3),
    ("hypertenshun", "I10", 3),
    ("diabetis", "E11.9", 5),
    ("astma", "J45.909", 5),
    ("conjunctivitus", "H10.9", 5),
]


def _codes(query: str, limit: int = 10) -> list[str]:
    return [hit.code for hit in search_codes(query=query, day=IN_FORCE, limit=limit)]


def test_the_query_list_is_large_enough() -> None:
    assert len(QUERIES) >= 80
    assert len(set(QUERIES)) == len(QUERIES)


@pytest.mark.parametrize(("query", "expected", "top"), QUERIES)
def test_expected_code_ranks_near_the_top(query: str, expected: str, top: int) -> None:
    codes = _codes(query)
    assert expected in codes[:top], codes


def test_recall_over_the_query_list() -> None:
    found = sum(expected in _codes(query)[:top] for query, expected, top in QUERIES)
    assert found / len(QUERIES) == 1.0


@pytest.mark.parametrize(
    ("query", "first", "look_alike"),
    [("G0439", "G0439", "G04.39"), ("J1100", "J1100", "J11.00"), ("G04.39", "G04.39", "G0439")],
)
def test_exact_code_ranks_above_a_look_alike_of_another_family(
    query: str, first: str, look_alike: str
) -> None:
    codes = _codes(query)
    assert codes[0] == first
    assert look_alike in codes


def test_unqualified_term_ranks_the_nos_code_above_secondary_forms() -> None:
    codes = _codes("hypertension")
    assert codes[0] == "I10"
    assert codes.index("I10") < codes.index("I15.9")


def test_qualified_term_keeps_its_qualifier() -> None:
    assert _codes("secondary hypertension")[0].startswith("I15")
    assert "I10" not in _codes("secondary hypertension")


def test_brand_name_is_not_taken_for_a_misspelling() -> None:
    codes = _codes("toradol")
    assert codes[0] == "J1885"
    assert not any(code.startswith(("W", "X", "Y")) for code in codes)


# The curated vocabulary file ------------------------------------------------------


def test_vocabulary_file_loads() -> None:
    vocabulary = search_vocabulary()
    assert len(vocabulary.expansions) >= 150
    assert len(vocabulary.defaults) >= 80
    assert ("htn",) in vocabulary.expansions
    assert vocabulary.defaults[("hypertension",)] == "I10"
    assert VOCABULARY_PATH.name == "search_vocabulary.yaml"


def test_every_vocabulary_term_finds_a_code() -> None:
    vocabulary = search_vocabulary()
    missing = [
        " ".join(term)
        for key, targets in vocabulary.expansions.items()
        for term in (key, *targets)
        if not _codes(" ".join(term), limit=1)
    ]
    assert missing == []


def test_every_default_is_a_billable_icd10cm_code_found_by_its_term() -> None:
    vocabulary = search_vocabulary()
    codes = set(
        Code.objects.filter(
            release__system="ICD-10-CM", billable=True, code__in=set(vocabulary.defaults.values())
        ).values_list("code", flat=True)
    )
    assert set(vocabulary.defaults.values()) <= codes
    wrong = {
        " ".join(term): code
        for term, code in vocabulary.defaults.items()
        if _codes(" ".join(term), limit=3)[:1] != [code]
    }
    assert wrong == {}


def test_vocabulary_rejects_malformed_entries() -> None:
    with pytest.raises(ValueError, match="needs a list"):
        parse_vocabulary({"abbreviations": {"htn": "hypertension"}})
    with pytest.raises(ValueError, match="must be a mapping"):
        parse_vocabulary({"defaults": ["I10"]})
