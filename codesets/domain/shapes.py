"""Code shapes and normalisation for ICD-10-CM, CPT and HCPCS Level II.

Input is accepted in any case, with or without the ICD-10-CM dot and with surrounding
spaces; output is the canonical form of the command contracts: ICD-10-CM with the dot
after the third character (``S52.521A``), CPT as five characters (``99213``, ``0001F``,
``0042T``), HCPCS Level II as a letter and four digits (``E0114``).
"""

from __future__ import annotations

import re

from codesets.domain.systems import System

# ICD-10-CM: a letter, then two digits or letters (categories such as C4A, D3A, M1A,
# Z3A and, from FY2026, QA0), then up to four more characters after the dot. "U" codes
# are CDC emergency codes and also ICD-10-CM.
_ICD_COMPACT = re.compile(r"^[A-Z][0-9A-Z][0-9A-Z](?:[0-9A-Z]{1,4})?$")
# CPT Category I: five digits. Category II: four digits and F. Category III: four digits
# and T. (Category I codes that end in a letter do not exist; "M" and "U" suffixes are
# AMA administrative code sets that we do not grade.)
_CPT = re.compile(r"^(?:[0-9]{5}|[0-9]{4}[FT])$")
# HCPCS Level II: one letter A-V followed by four digits.
_HCPCS = re.compile(r"^[A-V][0-9]{4}$")
# Modifiers: two characters, digits or letters (25, 59, RT, LT, XS, F1, E4 ...).
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")

_NOISE = re.compile(r"[\s.\-]")


def compact(text: str) -> str:
    """Upper-case and strip spaces, dots and hyphens: ``" s52.521a "`` gives ``S52521A``."""
    return _NOISE.sub("", text).upper()


def looks_like_icd10cm(text: str) -> bool:
    return bool(_ICD_COMPACT.match(compact(text)))


def looks_like_cpt(text: str) -> bool:
    return bool(_CPT.match(compact(text)))


def looks_like_hcpcs(text: str) -> bool:
    return bool(_HCPCS.match(compact(text)))


def looks_like_modifier(text: str) -> bool:
    return bool(_MODIFIER.match(compact(text)))


def icd10cm_canonical(text: str) -> str:
    """Canonical ICD-10-CM form, with the dot after the category when more follows."""
    raw = compact(text)
    return raw if len(raw) <= 3 else f"{raw[:3]}.{raw[3:]}"


def family_of(text: str) -> System | None:
    """The family whose shape the text has, or None when it has none.

    Five digits are CPT; a letter and four digits are HCPCS Level II; ICD-10-CM codes
    have a letter, a digit and then a digit or letter, so ``E0114`` is ambiguous by shape
    alone: it is both a valid-looking HCPCS code and an ICD-10-CM-shaped string. Callers
    that know the expected family use :func:`has_shape` instead; this function prefers
    HCPCS for a letter plus four digits without a dot, and ICD-10-CM when a dot is given.
    """
    raw = compact(text)
    if _CPT.match(raw):
        return System.CPT
    if "." in text and _ICD_COMPACT.match(raw):
        return System.ICD10CM
    if _HCPCS.match(raw):
        return System.HCPCS
    if _ICD_COMPACT.match(raw):
        return System.ICD10CM
    return None


def has_shape(text: str, system: System) -> bool:
    """True when the text is shaped like a code of ``system``."""
    raw = compact(text)
    if system is System.ICD10CM:
        return bool(_ICD_COMPACT.match(raw))
    if system is System.CPT:
        return bool(_CPT.match(raw))
    return bool(_HCPCS.match(raw))


def canonical(text: str, system: System) -> str:
    """Canonical form of a code known (or expected) to belong to ``system``."""
    if system is System.ICD10CM:
        return icd10cm_canonical(text)
    return compact(text)


def procedure_system(text: str) -> System | None:
    """CPT or HCPCS for a procedure line, by shape; None when neither."""
    raw = compact(text)
    if _CPT.match(raw):
        return System.CPT
    if _HCPCS.match(raw):
        return System.HCPCS
    return None


def cpt_category(code: str) -> str:
    """CPT category of a canonical CPT code: ``I``, ``II`` (ends in F) or ``III`` (T)."""
    if code.endswith("F"):
        return "II"
    if code.endswith("T"):
        return "III"
    return "I"
