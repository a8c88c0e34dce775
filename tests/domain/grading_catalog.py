"""A small, real catalog for the grading tests and the grading benchmark.

ICD-10-CM entries are real FY2026 codes with their tabular descriptors, parent chains,
Excludes1 and code-first notes, and Medicare Code Editor age and sex attributes. HCPCS
Level II entries carry their CMS descriptors. CPT descriptors are short plain-English
summaries written for this project (the AMA's descriptors are licensed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from codesets.domain.catalog import AgeGroup, CodeInfo, CodeRef, InMemoryCatalog, ReleaseInfo, Sex
from codesets.domain.systems import System
from quizzes.grading.engine import grade
from quizzes.grading.policy import DEFAULT_POLICY, ScoringPolicy
from quizzes.grading.types import (
    AnswerKey,
    AnswerProcedure,
    AnswerSheet,
    Encounter,
    Finding,
    GradeResult,
    KeyDiagnosis,
    KeyProcedure,
    Patient,
)

ICD_RELEASE = ReleaseInfo(
    System.ICD10CM, "2026-04", dt.date(2026, 4, 1), dt.date(2026, 9, 30), "test catalog"
)
CPT_RELEASE = ReleaseInfo(
    System.CPT, "2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31), "test catalog"
)
HCPCS_RELEASE = ReleaseInfo(
    System.HCPCS, "2026-04", dt.date(2026, 4, 1), dt.date(2026, 6, 30), "test catalog"
)


def code(text: str, note: str) -> CodeRef:
    return CodeRef("code", text, text=note)


def prefix(text: str, note: str) -> CodeRef:
    return CodeRef("prefix", text, text=note)


def span(start: str, end: str, note: str) -> CodeRef:
    return CodeRef("range", start, end, text=note)


def _icd(
    entry: str,
    description: str,
    parent: str | None = None,
    *,
    billable: bool = True,
    needs_seventh: bool = False,
    age: AgeGroup | None = None,
    sex: Sex | None = None,
    manifestation: bool = False,
    excludes1: tuple[CodeRef, ...] = (),
    code_first: tuple[str, ...] = (),
) -> CodeInfo:
    return CodeInfo(
        code=entry,
        system=System.ICD10CM,
        description=description,
        billable=billable and not needs_seventh,
        parent=parent,
        needs_seventh=needs_seventh,
        age_group=age,
        sex=sex,
        manifestation=manifestation,
        excludes1=excludes1,
        code_first=code_first,
    )


def _header(
    entry: str, description: str, parent: str | None = None, excludes1: tuple[CodeRef, ...] = ()
) -> CodeInfo:
    """A category or subcategory: not reportable by itself."""
    return _icd(entry, description, parent, billable=False, excludes1=excludes1)


def _seventh(stem: str, description: str, parent: str, characters: str = "A") -> list[CodeInfo]:
    """A 6-character code that needs a 7th character, with its 7th-character codes."""
    meanings = {"A": "initial encounter", "D": "subsequent encounter", "S": "sequela"}
    entries = [_icd(stem, description, parent, needs_seventh=True)]
    entries.extend(
        _icd(f"{stem}{char}", f"{description}, {meanings[char]}", stem) for char in characters
    )
    return entries


DIABETES_E10 = (
    prefix("E08", "diabetes mellitus due to underlying condition (E08.-)"),
    prefix("E09", "drug or chemical induced diabetes mellitus (E09.-)"),
    prefix("O24.4", "gestational diabetes (O24.4-)"),
    code("R73.9", "hyperglycemia NOS (R73.9)"),
    code("P70.2", "neonatal diabetes mellitus (P70.2)"),
    prefix("E13", "postpancreatectomy diabetes mellitus (E13.-)"),
    prefix("E11", "type 2 diabetes mellitus (E11.-)"),
)
DIABETES_E11 = (
    prefix("E08", "diabetes mellitus due to underlying condition (E08.-)"),
    prefix("E09", "drug or chemical induced diabetes mellitus (E09.-)"),
    prefix("O24.4", "gestational diabetes (O24.4-)"),
    code("P70.2", "neonatal diabetes mellitus (P70.2)"),
    prefix("E13", "postpancreatectomy diabetes mellitus (E13.-)"),
    prefix("E10", "type 1 diabetes mellitus (E10.-)"),
)

ICD10CM_CODES: list[CodeInfo] = [
    # Pharyngitis and upper respiratory infections.
    _icd(
        "J02",
        "Acute pharyngitis",
        billable=False,
        excludes1=(
            code("J06.0", "acute laryngopharyngitis (J06.0)"),
            code("J36", "peritonsillar abscess (J36)"),
            code("J39.1", "pharyngeal abscess (J39.1)"),
            code("J39.0", "retropharyngeal abscess (J39.0)"),
        ),
    ),
    _icd("J02.0", "Streptococcal pharyngitis", "J02"),
    _icd("J02.8", "Acute pharyngitis due to other specified organisms", "J02"),
    _icd("J02.9", "Acute pharyngitis, unspecified", "J02"),
    _icd(
        "J06",
        "Acute upper respiratory infections of multiple and unspecified sites",
        billable=False,
        excludes1=(
            code("J22", "acute respiratory infection NOS (J22)"),
            code("J02.0", "streptococcal pharyngitis (J02.0)"),
        ),
    ),
    _icd("J06.0", "Acute laryngopharyngitis", "J06"),
    _icd("J06.9", "Acute upper respiratory infection, unspecified", "J06"),
    # Fever.
    _icd(
        "R50",
        "Fever of other and unknown origin",
        billable=False,
        excludes1=(
            code("R68.83", "chills without fever (R68.83)"),
            prefix("R56.0", "febrile convulsions (R56.0-)"),
            code("O75.2", "fever of unknown origin during labor (O75.2)"),
            code("P81.9", "fever of unknown origin in newborn (P81.9)"),
            code("R68.0", "hypothermia due to illness (R68.0)"),
            code("T88.3", "malignant hyperthermia due to anesthesia (T88.3)"),
            code("O86.4", "puerperal pyrexia NOS (O86.4)"),
        ),
    ),
    _icd("R50.8", "Other specified fever", "R50", billable=False),
    _icd("R50.81", "Fever presenting with conditions classified elsewhere", "R50.8"),
    _icd(
        "R50.82",
        "Postprocedural fever",
        "R50.8",
        excludes1=(
            code("R50.84", "posttransfusion fever (R50.84)"),
            code("R50.83", "postvaccination (postimmunization) fever (R50.83)"),
        ),
    ),
    _icd("R50.83", "Postvaccination fever", "R50.8"),
    _icd("R50.84", "Febrile nonhemolytic transfusion reaction", "R50.8"),
    _icd("R50.9", "Fever, unspecified", "R50"),
    _icd("R56", "Convulsions, not elsewhere classified", billable=False),
    _icd("R56.0", "Febrile convulsions", "R56", billable=False),
    _icd("R56.00", "Simple febrile convulsions", "R56.0"),
    _icd("P81", "Other disturbances of temperature regulation of newborn", billable=False),
    _icd("P81.9", "Disturbance of temperature regulation of newborn, unspecified", "P81"),
    # Ankle sprains: 7th characters, laterality, specificity.
    _header("S93", "Dislocation and sprain of joints and ligaments at ankle, foot and toe level"),
    _header("S93.4", "Sprain of ankle", "S93"),
    _header("S93.40", "Sprain of unspecified ligament of ankle", "S93.4"),
    *_seventh("S93.401", "Sprain of unspecified ligament of right ankle", "S93.40"),
    *_seventh("S93.402", "Sprain of unspecified ligament of left ankle", "S93.40"),
    _header("S93.41", "Sprain of calcaneofibular ligament", "S93.4"),
    *_seventh("S93.411", "Sprain of calcaneofibular ligament of right ankle", "S93.41"),
    _header("S93.49", "Sprain of other ligament of ankle", "S93.4"),
    *_seventh("S93.491", "Sprain of other ligament of right ankle", "S93.49", "ADS"),
    *_seventh("S93.492", "Sprain of other ligament of left ankle", "S93.49"),
    *_seventh("S93.499", "Sprain of other ligament of unspecified ankle", "S93.49"),
    # Concussion and poisoning: X placeholders before the 7th character.
    _header("S06", "Intracranial injury", excludes1=(code("S09.90", "head injury NOS (S09.90)"),)),
    _header("S06.0", "Concussion", "S06"),
    _header("S06.0X", "Concussion", "S06.0"),
    *_seventh("S06.0X0", "Concussion without loss of consciousness", "S06.0X"),
    *_seventh("S06.0X1", "Concussion with loss of consciousness of 30 minutes or less", "S06.0X"),
    _header("T36", "Poisoning by, adverse effect of and underdosing of systemic antibiotics"),
    _header("T36.0", "Poisoning by, adverse effect of and underdosing of penicillins", "T36"),
    _header("T36.0X", "Poisoning by, adverse effect of and underdosing of penicillins", "T36.0"),
    *_seventh("T36.0X1", "Poisoning by penicillins, accidental (unintentional)", "T36.0X"),
    # Diabetes: Excludes1 notes at the category (prefix form) and at the code.
    _icd(
        "E08",
        "Diabetes mellitus due to underlying condition",
        billable=False,
        excludes1=(
            prefix("E10", "type 1 diabetes mellitus (E10.-)"),
            prefix("E11", "type 2 diabetes mellitus (E11.-)"),
        ),
    ),
    _icd("E08.9", "Diabetes mellitus due to underlying condition without complications", "E08"),
    _icd("E10", "Type 1 diabetes mellitus", billable=False, excludes1=DIABETES_E10),
    _icd("E10.9", "Type 1 diabetes mellitus without complications", "E10"),
    _icd("E11", "Type 2 diabetes mellitus", billable=False, excludes1=DIABETES_E11),
    _icd(
        "E11.6",
        "Type 2 diabetes mellitus with other specified complications",
        "E11",
        billable=False,
    ),
    _icd("E11.65", "Type 2 diabetes mellitus with hyperglycemia", "E11.6"),
    _icd(
        "E11.9",
        "Type 2 diabetes mellitus without complications",
        "E11",
        excludes1=(
            code("E11.A", "type 2 diabetes mellitus, without complications in remission (E11.A)"),
        ),
    ),
    _icd(
        "E11.A",
        "Type 2 diabetes mellitus without complications in remission",
        "E11",
        excludes1=(
            span("E11.0", "E11.8", "type 2 diabetes mellitus, with complications (E11.0-E11.8)"),
        ),
    ),
    _icd(
        "R73",
        "Elevated blood glucose level",
        billable=False,
        excludes1=(
            span("E08", "E13", "diabetes mellitus (E08-E13)"),
            prefix(
                "O24",
                "diabetes mellitus in pregnancy, childbirth and the puerperium (O24.-)",
            ),
            span("P70.0", "P70.2", "neonatal disorders (P70.0-P70.2)"),
            code("E89.1", "postsurgical hypoinsulinemia (E89.1)"),
        ),
    ),
    _icd("R73.9", "Hyperglycemia, unspecified", "R73"),
    # Hypertension and pregnancy: Excludes1 ranges at the code.
    _icd(
        "I10",
        "Essential (primary) hypertension",
        excludes1=(
            span(
                "O10",
                "O11",
                "hypertensive disease complicating pregnancy, childbirth and the puerperium "
                "(O10-O11, O13-O16)",
            ),
            span(
                "O13",
                "O16",
                "hypertensive disease complicating pregnancy, childbirth and the puerperium "
                "(O10-O11, O13-O16)",
            ),
        ),
    ),
    _icd(
        "O13",
        "Gestational [pregnancy-induced] hypertension without significant proteinuria",
        billable=False,
    ),
    _icd(
        "O13.3",
        "Gestational [pregnancy-induced] hypertension without significant proteinuria, "
        "third trimester",
        "O13",
        age="maternity",
        sex="F",
    ),
    _icd("O80", "Encounter for full-term uncomplicated delivery", age="maternity", sex="F"),
    # Lipids: an Excludes1 range at the category.
    _icd(
        "E78",
        "Disorders of lipoprotein metabolism and other lipidemias",
        billable=False,
        excludes1=(span("E75.0", "E75.3", "sphingolipidosis (E75.0-E75.3)"),),
    ),
    _icd("E78.5", "Hyperlipidemia, unspecified", "E78"),
    _icd(
        "E75",
        "Disorders of sphingolipid metabolism and other lipid storage disorders",
        billable=False,
    ),
    _icd("E75.2", "Other sphingolipidosis", "E75", billable=False),
    _icd("E75.22", "Gaucher disease", "E75.2"),
    # Urinary: an Excludes1 prefix at the code.
    _icd("N39", "Other disorders of urinary system", billable=False),
    _icd(
        "N39.0",
        "Urinary tract infection, site not specified",
        "N39",
        excludes1=(
            prefix("B37.4", "candidiasis of urinary tract (B37.4-)"),
            code("P39.3", "neonatal urinary tract infection (P39.3)"),
            prefix("N30", "cystitis (N30.-)"),
            prefix("N34", "urethritis (N34.-)"),
        ),
    ),
    _icd("N30", "Cystitis", billable=False),
    _icd("N30.0", "Acute cystitis", "N30", billable=False),
    _icd("N30.00", "Acute cystitis without hematuria", "N30.0"),
    # Age and sex edits.
    _icd("N40", "Benign prostatic hyperplasia", billable=False),
    _icd(
        "N40.0",
        "Benign prostatic hyperplasia without lower urinary tract symptoms",
        "N40",
        age="adult",
        sex="M",
    ),
    _icd("C61", "Malignant neoplasm of prostate", sex="M"),
    _icd(
        "N94",
        "Pain and other conditions associated with female genital organs and menstrual cycle",
        billable=False,
    ),
    _icd("N94.6", "Dysmenorrhea, unspecified", "N94", sex="F"),
    _icd(
        "Z38", "Liveborn infants according to place of birth and type of delivery", billable=False
    ),
    _icd("Z38.0", "Single liveborn infant, born in hospital", "Z38", billable=False),
    _icd("Z38.00", "Single liveborn infant, delivered vaginally", "Z38.0", age="newborn"),
    _icd(
        "Z00",
        "Encounter for general examination without complaint, suspected or reported diagnosis",
        billable=False,
    ),
    _icd("Z00.0", "Encounter for general adult medical examination", "Z00", billable=False),
    _icd(
        "Z00.00",
        "Encounter for general adult medical examination without abnormal findings",
        "Z00.0",
        age="adult",
    ),
    _icd(
        "Z00.1",
        "Encounter for newborn, infant and child health examinations",
        "Z00",
        billable=False,
    ),
    _icd("Z00.12", "Encounter for routine child health examination", "Z00.1", billable=False),
    _icd(
        "Z00.129",
        "Encounter for routine child health examination without abnormal findings",
        "Z00.12",
        age="pediatric",
    ),
    _icd(
        "P07",
        "Disorders of newborn related to short gestation and low birth weight, not elsewhere "
        "classified",
        billable=False,
    ),
    _icd("P07.3", "Preterm [premature] newborn [other]", "P07", billable=False),
    _icd("P07.30", "Preterm newborn, unspecified weeks of gestation", "P07.3"),
    # Etiology and manifestation.
    _icd(
        "G01",
        "Meningitis in bacterial diseases classified elsewhere",
        manifestation=True,
        code_first=("underlying disease",),
        excludes1=(code("A39.0", "meningococcal (A39.0)"),),
    ),
    _icd("A39", "Meningococcal infection", billable=False),
    _icd("A39.0", "Meningococcal meningitis", "A39"),
    _icd("G00", "Bacterial meningitis, not elsewhere classified", billable=False),
    _icd("G00.1", "Pneumococcal meningitis", "G00"),
    # Otitis media: laterality in the 6th character.
    _icd("H66", "Suppurative and unspecified otitis media", billable=False),
    _icd("H66.9", "Otitis media, unspecified", "H66", billable=False),
    _icd("H66.90", "Otitis media, unspecified, unspecified ear", "H66.9"),
    _icd("H66.91", "Otitis media, unspecified, right ear", "H66.9"),
    _icd("H66.92", "Otitis media, unspecified, left ear", "H66.9"),
    _icd("H66.93", "Otitis media, unspecified, bilateral", "H66.9"),
    # External cause (optional key lines).
    _icd("Y93", "Activity codes", billable=False),
    _icd(
        "Y93.6",
        "Activities involving other sports and athletics played as a team or group",
        "Y93",
        billable=False,
    ),
    _icd("Y93.67", "Activity, basketball", "Y93.6"),
    _icd("D25", "Leiomyoma of uterus", billable=False),
    _icd("D25.9", "Leiomyoma of uterus, unspecified", "D25", sex="F"),
]


def _cpt(entry: str, summary: str) -> CodeInfo:
    return CodeInfo(entry, System.CPT, summary, billable=True)


CPT_CODES: list[CodeInfo] = [
    _cpt("99203", "New patient office visit, low medical decision making"),
    _cpt("99213", "Established patient office visit, low medical decision making"),
    _cpt("99214", "Established patient office visit, moderate medical decision making"),
    _cpt("87880", "Rapid group A streptococcus antigen test, direct optical observation"),
    _cpt("73610", "Ankle x-ray, complete, at least three views"),
    _cpt("96372", "Therapeutic injection, subcutaneous or intramuscular"),
    _cpt("3008F", "Body mass index documented (performance measure)"),
]


def _hcpcs(entry: str, description: str, billing_unit: str | None = None) -> CodeInfo:
    return CodeInfo(entry, System.HCPCS, description, billable=True, billing_unit=billing_unit)


HCPCS_CODES: list[CodeInfo] = [
    _hcpcs(
        "E0114",
        "Crutches underarm, other than wood, adjustable or fixed, pair, with pads, tips and "
        "handgrips",
    ),
    _hcpcs(
        "E0110",
        "Crutches, forearm, includes crutches of various materials, adjustable or fixed, pair, "
        "complete with tips and handgrips",
    ),
    _hcpcs("J1885", "Injection, ketorolac tromethamine, per 15 mg", "15 mg"),
    _hcpcs("J0696", "Injection, ceftriaxone sodium, per 250 mg", "250 mg"),
    _hcpcs(
        "L1906",
        "Ankle foot orthosis, multiligamentous ankle support, prefabricated, off-the-shelf",
    ),
]


def build_catalog() -> InMemoryCatalog:
    """A fresh catalog holding the three releases above."""
    catalog = InMemoryCatalog()
    catalog.add_release(ICD_RELEASE, ICD10CM_CODES)
    catalog.add_release(CPT_RELEASE, CPT_CODES)
    catalog.add_release(HCPCS_RELEASE, HCPCS_CODES)
    return catalog


# --- helpers shared by the grading tests ---------------------------------------------

DATE_OF_SERVICE = dt.date(2026, 5, 15)
CATALOG = build_catalog()


def key_of(
    diagnoses: Sequence[str | KeyDiagnosis] = (),
    procedures: Sequence[str | KeyProcedure] = (),
) -> AnswerKey:
    """An answer key from codes (plain strings are required lines without details)."""
    return AnswerKey(
        diagnoses=tuple(KeyDiagnosis(d) if isinstance(d, str) else d for d in diagnoses),
        procedures=tuple(KeyProcedure(p) if isinstance(p, str) else p for p in procedures),
    )


def sheet_of(
    diagnoses: Sequence[str] = (), procedures: Sequence[str | AnswerProcedure] = ()
) -> AnswerSheet:
    return AnswerSheet(
        diagnoses=tuple(diagnoses),
        procedures=tuple(AnswerProcedure(p) if isinstance(p, str) else p for p in procedures),
    )


def grade_answer(
    key: AnswerKey,
    answer: AnswerSheet,
    *,
    patient: Patient | None = None,
    day: dt.date = DATE_OF_SERVICE,
    policy: ScoringPolicy = DEFAULT_POLICY,
) -> GradeResult:
    return grade(
        key=key,
        answer=answer,
        encounter=Encounter(date_of_service=day, patient=patient),
        catalog=CATALOG,
        policy=policy,
    )


def kinds(result: GradeResult) -> list[tuple[str, str | None, str]]:
    """(kind, code, line) of every finding, in order: what most tests compare."""
    return [(finding.kind, finding.code, str(finding.line)) for finding in result.findings]


def only(result: GradeResult, kind: str) -> Finding:
    """The single finding of ``kind`` (fails the test when there are none or several)."""
    found = [finding for finding in result.findings if finding.kind == kind]
    assert len(found) == 1, f"expected one {kind}, got {kinds(result)}"
    return found[0]
