"""Learner-facing feedback, written the way a senior coder explains a correction.

Every message quotes the descriptors of the codes involved (from the catalog in force
on the date of service) and, for guideline findings, the guideline section or tabular
note that applies. Logic never reads these strings: it compares finding kinds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from codesets.domain.catalog import AGE_RANGES, CodeInfo, CodeRef
from codesets.domain.systems import System

GUIDELINES = "ICD-10-CM Official Guidelines for Coding and Reporting"

# Common modifiers and what they tell the payer (CMS and AMA published meanings).
MODIFIER_MEANINGS: dict[str, str] = {
    "24": "unrelated E/M service during a postoperative period",
    "25": "significant, separately identifiable E/M service on the day of another service",
    "26": "professional component only",
    "50": "bilateral procedure",
    "51": "multiple procedures",
    "57": "decision for surgery",
    "59": "distinct procedural service",
    "76": "repeat procedure by the same physician",
    "91": "repeat clinical diagnostic laboratory test",
    "LT": "left side",
    "RT": "right side",
    "NU": "new equipment",
    "RR": "rental",
    "UE": "used durable medical equipment",
    "TC": "technical component only",
    "XS": "separate structure or organ",
    "XU": "unusual non-overlapping service",
}

_SIDE_WORDS = re.compile(r"\b(right|left|bilateral)\b", re.IGNORECASE)


def describe(code: str, info: CodeInfo | None) -> str:
    """``J02.0 (Streptococcal pharyngitis)``, or the bare code when the catalog lacks it."""
    return f"{code} ({info.description})" if info is not None else code


def join_words(items: Sequence[str], last: str = "and") -> str:
    if not items:
        return "none"
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def modifier_list(modifiers: Sequence[str]) -> str:
    """``25 (significant, ...)``, so the learner sees why the modifier matters."""
    if not modifiers:
        return "no modifier"
    parts = [
        f"{mod} ({MODIFIER_MEANINGS[mod]})" if mod in MODIFIER_MEANINGS else mod
        for mod in modifiers
    ]
    return ("modifier " if len(parts) == 1 else "modifiers ") + join_words(parts)


# --- shape and validity --------------------------------------------------------------


def invalid_diagnosis_format(text: str) -> str:
    return (
        f"'{text}' is not shaped like an ICD-10-CM code. An ICD-10-CM code has 3 to 7 "
        "characters: a letter, a digit and a digit or letter (the category), then a dot "
        "and up to four more characters, as in J02.0 or S93.491A."
    )


def invalid_procedure_format(text: str) -> str:
    return (
        f"'{text}' is not shaped like a procedure code. CPT Category I codes are five "
        "digits (99213), Category II codes four digits and F (3008F), Category III codes "
        "four digits and T (0042T); HCPCS Level II codes are a letter and four digits "
        "(E0114)."
    )


def invalid_modifier(modifier: str, code: str) -> str:
    return (
        f"'{modifier}' on {code} is not a modifier: CPT and HCPCS modifiers are exactly two "
        "letters or digits, such as 25, 59, RT or NU."
    )


def cpt_among_diagnoses(code: str, info: CodeInfo | None) -> str:
    return (
        f"{describe(code, info)} is a CPT code, but this list takes ICD-10-CM diagnoses. "
        "Report the service on a procedure line and the condition that supports it here."
    )


def hcpcs_among_diagnoses(code: str, info: CodeInfo, icd_form: str) -> str:
    return (
        f"{describe(code, info)} is a HCPCS Level II code, not a diagnosis: {icd_form} does "
        "not exist in ICD-10-CM. Supplies, drugs and equipment go on procedure lines; this "
        "list takes the conditions that justify them."
    )


def icd_among_procedures(code: str, info: CodeInfo | None) -> str:
    return (
        f"{describe(code, info)} is an ICD-10-CM diagnosis code, but procedure lines take "
        "CPT or HCPCS Level II codes. Report the diagnosis in the diagnosis list and link "
        "the procedure to it with a diagnosis pointer."
    )


# CPT codes deleted by the AMA and the codes that replaced them (CPT 2021 deleted the
# level 1 new-patient office visit; CPT 2023 merged observation care into the hospital
# codes and deleted the level 1 consultations).
DELETED_CPT: dict[str, str] = {
    "99201": "99202",
    "99217": "99238",
    "99218": "99221",
    "99219": "99222",
    "99220": "99223",
    "99224": "99231",
    "99225": "99232",
    "99226": "99233",
    "99241": "99242",
    "99251": "99252",
}


def unknown_code(code: str, system: System, version: str, category: CodeInfo | None) -> str:
    release = f"the {system.value} {version} release" if version else f"the {system.value} release"
    message = (
        f"{code} is not a valid code in {release} in force on the date of service: it was "
        "deleted or never existed."
    )
    if system is System.CPT:
        replacement = DELETED_CPT.get(code)
        if replacement is not None:
            message += f" The AMA deleted {code}; {replacement} replaced it."
        return message + " Look the service up in the CPT index and confirm it in its section."
    if system is System.HCPCS:
        return message + (
            " Look the item up in the HCPCS Level II index (the Table of Drugs for drugs) "
            "and confirm it in the code list."
        )
    if category is not None and category.code != code:
        message += (
            f" Its category {describe(category.code, category)} exists: find the term in "
            "the Alphabetic Index and confirm the full code in the Tabular List."
        )
    else:
        message += " Find the term in the Alphabetic Index and confirm it in the Tabular List."
    return message


def not_billable(info: CodeInfo, example: CodeInfo | None) -> str:
    level = "category" if len(info.code.replace(".", "")) == 3 else "subcategory"
    if info.system is not System.ICD10CM:
        return f"{describe(info.code, info)} is a heading, not a code that can be reported."
    if example is None:
        return (
            f"{describe(info.code, info)} is a {level} heading, not a reportable code: it "
            f"needs more characters ({GUIDELINES}, Section I.B.2, level of detail)."
        )
    missing = len(example.code.replace(".", "")) - len(info.code.replace(".", ""))
    plural = "s" if missing != 1 else ""
    return (
        f"{describe(info.code, info)} is a {level} heading, not a reportable code: it needs "
        f"{missing} more character{plural}, for example {describe(example.code, example)}. "
        "Codes are reported to the highest number of characters available "
        f"({GUIDELINES}, Section I.B.2, level of detail)."
    )


_PLACEHOLDER_RULE = (
    "Codes in these categories take a 7th character, and when a code has fewer than six "
    "characters the empty positions are filled with the placeholder X so that the 7th "
    f"character stays in the 7th position ({GUIDELINES}, Section I.A.4, placeholder "
    "character, and Section I.A.5, 7th characters)."
)


def needs_seventh(info: CodeInfo, example: CodeInfo | None) -> str:
    sample = f" for example {describe(example.code, example)}" if example is not None else ""
    return (
        f"{describe(info.code, info)} cannot be reported without its 7th character, which "
        f"gives the encounter or episode:{sample}. {_PLACEHOLDER_RULE}"
    )


def placeholder_missing(text: str, intended: CodeInfo) -> str:
    return (
        f"'{text}' looks like {describe(intended.code, intended)} written without its X "
        f"placeholder. {_PLACEHOLDER_RULE} Report {intended.code}."
    )


def seventh_on_short_code(text: str, stem: CodeInfo, example: CodeInfo | None) -> str:
    sample = f", for example {describe(example.code, example)}" if example is not None else ""
    return (
        f"'{text}' puts a 7th character straight after {describe(stem.code, stem)}, which "
        f"needs more characters first{sample}. {_PLACEHOLDER_RULE}"
    )


# --- matching ------------------------------------------------------------------------


def correct_diagnosis(info: CodeInfo, first_listed: bool) -> str:
    sequencing = " and correctly listed first" if first_listed else ""
    return f"{describe(info.code, info)} is correct{sequencing}."


def correct_procedure(
    code: str, info: CodeInfo | None, modifiers: Sequence[str], units: int, in_place_of_59: str = ""
) -> str:
    details = []
    if modifiers:
        details.append(f"with {modifier_list(modifiers)}")
    if units != 1:
        details.append(f"{units} units")
    suffix = f", {', '.join(details)}" if details else ""
    message = f"{describe(code, info)} is correct{suffix}."
    if in_place_of_59:
        message += (
            f" {in_place_of_59} is accepted in place of 59: the X modifiers (XE, XS, XP, XU) "
            "are the more specific forms of 59 (CMS, MLN Matters SE1422)."
        )
    return message


def _sides(description: str) -> frozenset[str]:
    return frozenset(word.lower() for word in _SIDE_WORDS.findall(description))


def near_miss_aspect(reported: CodeInfo, key: CodeInfo) -> str:
    """What differs between two codes of one category: laterality, 7th character or
    specificity (anything else: a different type, site or complication)."""
    ours, theirs = reported.code.replace(".", ""), key.code.replace(".", "")
    if len(ours) == len(theirs) == 7 and ours[:6] == theirs[:6]:
        return "seventh"
    if len(ours) == len(theirs):
        differing = sum(1 for a, b in zip(ours, theirs, strict=True) if a != b)
        if differing == 1 and _sides(reported.description) != _sides(key.description):
            return "laterality"
    return "specificity"


def _side_name(description: str) -> str:
    sides = sorted(_sides(description))
    return " and ".join(sides) if sides else "unspecified side"


def partial_match(reported: CodeInfo, key: CodeInfo) -> str:
    ours, theirs = describe(reported.code, reported), describe(key.code, key)
    aspect = near_miss_aspect(reported, key)
    if aspect == "laterality":
        return (
            f"{ours} is close: right condition, wrong side. The documentation supports "
            f"{theirs}: {_side_name(key.description)}, not {_side_name(reported.description)}. "
            "Laterality is part of the code; take it from the note "
            f"({GUIDELINES}, Section I.B.13)."
        )
    if aspect == "seventh":
        injury = " (Section I.C.19.a for injuries)" if key.code[0] in "ST" else ""
        return (
            f"{ours} is close: the first six characters are right but the 7th character is "
            f"not. The documentation supports {theirs}. The 7th character describes the "
            f"encounter or episode of care, not the visit number{injury}; see {GUIDELINES}, "
            "Section I.A.5."
        )
    return (
        f"{ours} is in the right category but is not the code the documentation supports: "
        f"the key has {theirs}. Compare the two descriptors with the note and choose the most "
        "specific code it supports."
    )


def extra_diagnosis(info: CodeInfo) -> str:
    return (
        f"{describe(info.code, info)} is a valid code, but it is not in the answer key for "
        "this encounter. Report the conditions the note documents as treated, evaluated or "
        "affecting care."
    )


def extra_symptom(info: CodeInfo) -> str:
    return (
        f"{describe(info.code, info)} is not in the answer key: signs and symptoms that are "
        "routinely associated with a confirmed diagnosis are not coded separately "
        f"({GUIDELINES}, Section I.B.5)."
    )


def extra_external_cause(info: CodeInfo) -> str:
    return (
        f"{describe(info.code, info)} is not in the answer key. External cause codes are "
        "reported for as long as the documentation supports them, but their reporting is "
        f"not nationally mandated ({GUIDELINES}, Section I.C.20): this one costs nothing."
    )


def extra_alternative(code: str, info: CodeInfo | None, kept: str) -> str:
    return (
        f"{describe(code, info)} and {kept} are accepted alternatives for the same line of "
        "the key: report one of these."
    )


def optional_near_miss(reported: CodeInfo, key: CodeInfo | None, key_code: str) -> str:
    return (
        f"{describe(reported.code, reported)} is close to {describe(key_code, key)}, an "
        "optional line of the key (reporting it earns credit, leaving it out costs nothing): "
        "nothing is lost here. Compare the two descriptors with the note."
    )


def extra_procedure(info: CodeInfo) -> str:
    return (
        f"{describe(info.code, info)} is a valid code, but it is not in the answer key for "
        "this encounter. Report the services and items the note documents."
    )


def level_mismatch(
    reported: CodeInfo | None, code: str, key: CodeInfo | None, key_code: str
) -> str:
    return (
        f"{describe(code, reported)} is the right kind of service at the wrong level: the "
        f"key has {describe(key_code, key)}. The level follows the medical decision making "
        "(problems, data, risk: two of three) or the total time documented on the date of "
        "the encounter (CPT Evaluation and Management Services Guidelines)."
    )


def payer_code(reported: CodeInfo | None, code: str, key: CodeInfo | None, key_code: str) -> str:
    return (
        f"{describe(code, reported)} describes this service, but the payer on this claim "
        f"requires {describe(key_code, key)}: Medicare takes HCPCS G codes in place of these "
        "CPT codes (CMS Medicare Claims Processing Manual, Chapter 18)."
    )


def missing_diagnosis(
    key: CodeInfo | None,
    key_code: str,
    alternatives: Sequence[str],
    near_miss: str | None,
    attempt: str | None = None,
) -> str:
    message = (
        f"Missing {describe(key_code, key)}: the documentation supports this diagnosis and "
        "the answer does not report it."
    )
    if alternatives:
        message += f" {join_words(list(alternatives), 'or')} would also be accepted."
    if near_miss is not None:
        message += f" The near miss {near_miss} earns part of this line's credit."
    if attempt is not None:
        message += (
            f" {attempt} looks like an attempt at this code but is not a valid code (its own "
            "finding says why); it costs nothing more, and pointers to it count as pointing "
            "here."
        )
    return message


def missing_procedure(
    key: CodeInfo | None,
    key_code: str,
    modifiers: Sequence[str],
    units: int,
    near_miss: str | None = None,
) -> str:
    details = f" with {modifier_list(modifiers)}" if modifiers else ""
    quantity = f", {units} units" if units != 1 else ""
    message = (
        f"Missing {describe(key_code, key)}{details}{quantity}: the key has this service or "
        "item and the claim does not report it."
    )
    if near_miss is not None:
        message += f" The near miss {near_miss} earns part of this line's credit."
    return message


def duplicate(code: str, info: CodeInfo | None, first_line: str, system: System) -> str:
    if system is System.ICD10CM:
        return (
            f"{describe(code, info)} is reported twice (first on {first_line}). Each unique "
            f"ICD-10-CM code is reported only once for an encounter ({GUIDELINES}, Section "
            "I.B.12)."
        )
    return (
        f"{describe(code, info)} is reported twice with the same modifiers (first on "
        f"{first_line}). Report the service once, with the total number of units."
    )


def sequence_error(
    reported: CodeInfo | None,
    reported_code: str,
    key: CodeInfo | None,
    key_code: str,
    key_line: str,
) -> str:
    return (
        f"The first-listed diagnosis should be {describe(key_code, key)}, the condition "
        f"chiefly responsible for this encounter; it is reported on {key_line} while "
        f"{describe(reported_code, reported)} is listed first ({GUIDELINES}, Section II for "
        "the principal diagnosis, Section IV.A for the first-listed diagnosis in outpatient "
        "care)."
    )


# --- procedure details ---------------------------------------------------------------


def modifier_error(
    info: CodeInfo | None, code: str, expected: Sequence[str], reported: Sequence[str]
) -> str:
    return (
        f"{describe(code, info)} is the right code, but the modifiers are not: the "
        f"documentation calls for {modifier_list(expected)}, the answer reports "
        f"{modifier_list(reported)}."
    )


def units_error(
    info: CodeInfo | None, code: str, expected: int, reported: int, fractional: float | None = None
) -> str:
    if fractional is not None:
        message = (
            f"{describe(code, info)} is the right code, but {fractional:g} units cannot be "
            f"billed: units are whole numbers. The key has {expected}."
        )
    else:
        message = (
            f"{describe(code, info)} is the right code, but the units are not: the key has "
            f"{expected}, the answer reports {reported}."
        )
    if info is not None and info.billing_unit:
        message += (
            f" {code} is reported per {info.billing_unit}: divide the dose documented in the "
            "note by that amount and round up a part unit."
        )
    return message


def linkage_error(
    code: str,
    info: CodeInfo | None,
    expected: Sequence[str],
    reached: Sequence[str],
    out_of_range: Sequence[int],
    listed: int,
) -> str:
    message = (
        f"{describe(code, info)} should point at {join_words(list(expected))}, the diagnoses "
        f"that support it; its pointers reach {join_words(list(reached))}."
    )
    for pointer in out_of_range:
        message += (
            f" Pointer {pointer} does not exist: the claim lists {listed} diagnos"
            f"{'is' if listed == 1 else 'es'}."
        )
    return message + " Pointers tell the payer which diagnosis justifies each service."


# --- guideline rules -----------------------------------------------------------------


def excludes1(first: CodeInfo, second: CodeInfo, owner: CodeInfo, note: CodeRef) -> str:
    text = note.text or note.start
    return (
        f"{describe(first.code, first)} and {describe(second.code, second)} are never "
        f"reported together: the Excludes1 note at {describe(owner.code, owner)} says "
        f"\u201c{text}\u201d. Excludes1 means the two conditions cannot occur together; keep "
        f"the one the documentation supports ({GUIDELINES}, Section I.A.12.a)."
    )


def manifestation_first(info: CodeInfo, code_first: Sequence[str]) -> str:
    if code_first:
        note = f"its tabular entry says \u201cCode first {'; '.join(code_first)}\u201d"
    else:
        note = "its title says \u201cin diseases classified elsewhere\u201d"
    return (
        f"{describe(info.code, info)} is a manifestation code and cannot be listed first: "
        f"{note}. Sequence the underlying condition first and this code after it "
        f"({GUIDELINES}, Section I.A.13, etiology/manifestation convention)."
    )


def age_conflict(info: CodeInfo, age_years: int) -> str:
    group = info.age_group or ""
    low, high = AGE_RANGES[group]
    span = "age 0" if low == high == 0 else f"ages {low} to {high}"
    return (
        f"{describe(info.code, info)} is a {group} diagnosis ({span}), but the patient is "
        f"{age_years} years old. Check the age in the note and the code you selected (CMS "
        "Medicare Code Editor age edit)."
    )


def sex_conflict(info: CodeInfo, patient_sex: str, advisory: bool) -> str:
    expected = "female" if info.sex == "F" else "male"
    recorded = "female" if patient_sex == "F" else "male"
    message = (
        f"{describe(info.code, info)} is a diagnosis for {expected} patients, but the patient "
        f"is recorded as {recorded}."
    )
    if advisory:
        return message + (
            " CMS stopped applying this Medicare Code Editor edit to claims from 2024-10-01, "
            "so it costs no points here; still check the note, since a mismatch is often a "
            "coding or registration error."
        )
    return message + " The Medicare Code Editor sex edit applies on this date of service."
