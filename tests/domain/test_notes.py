"""Code references parsed from ICD-10-CM instructional notes."""

from __future__ import annotations

import pytest

from codesets.domain.catalog import CodeRef
from codesets.domain.notes import PROSE_EXCLUDES1_GAPS, parse_code_references, parse_note_refs

CONCUSSION = (
    "concussion with other intracranial injuries classified in subcategories S06.1- to "
    "S06.6-, and S06.81- to S06.89-, code to specified intracranial injury"
)


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        # Single codes, with and without a dot.
        ("(A00)", [("code", "A00", "")]),
        ("neonatal diabetes mellitus (P70.2)", [("code", "P70.2", "")]),
        ("excessive crying of infant (baby) R68.11", [("code", "R68.11", "")]),
        # Dash prefixes.
        ("acute appendicitis (K35.-)", [("prefix", "K35", "")]),
        ("gestational diabetes (O24.4-)", [("prefix", "O24.4", "")]),
        ("traumatic diffuse cerebral edema (S06.1X-)", [("prefix", "S06.1X", "")]),
        ("injury to visual cortex S04.04-", [("prefix", "S04.04", "")]),
        # An unclosed parenthesis in the source does not lose the reference.
        ("absence of knee joint (Z89.52-", [("prefix", "Z89.52", "")]),
        # Ranges in every spelling the tabular uses.
        ("hypertension complicating pregnancy (O10-O11)", [("range", "O10", "O11")]),
        ("diabetes mellitus (E08.-E13.-)", [("range", "E08", "E13")]),
        ("(K50.0-K50.9)", [("range", "K50.0", "K50.9")]),
        ("localized abdominal pain (R10.1-R10.4-)", [("range", "R10.1", "R10.4")]),
        ("conditions in (A00 - A09)", [("range", "A00", "A09")]),
        ("conditions in (A00 – A09)", [("range", "A00", "A09")]),
        (CONCUSSION, [("range", "S06.1", "S06.6"), ("range", "S06.81", "S06.89")]),
        (
            "conditions classifiable to S06.0- to S06.8-code to specified intracranial injury",
            [("range", "S06.0", "S06.8")],
        ),
        ("activities specified in categories Y93.0-Y93.A", [("range", "Y93.0", "Y93.A")]),
        # Categories with a letter in third (or second) position.
        ("Merkel cell carcinoma (C4A.-)", [("prefix", "C4A", "")]),
        ("benign carcinoid tumors (D3A.0-)", [("prefix", "D3A.0", "")]),
        ("chronic gout (M1A.-)", [("prefix", "M1A", "")]),
        ("weeks of gestation of pregnancy (Z3A.-)", [("prefix", "Z3A", "")]),
        ("pregnancy, childbirth and the puerperium (O00-O9A)", [("range", "O00", "O9A")]),
        ("congenital malformations (Q00-QA0)", [("range", "Q00", "QA0")]),
        # Several references in one parenthesis, and prose around them.
        (
            "hypertensive disease complicating pregnancy (O10-O11, O13-O16)",
            [("range", "O10", "O11"), ("range", "O13", "O16")],
        ),
        (
            "diabetic acidosis - see categories E08-E10, E11, E13 with ketoacidosis",
            [("range", "E08", "E10"), ("code", "E11", ""), ("code", "E13", "")],
        ),
        (
            "chronic gout (M1A.-) and gout NOS (M10.9)",
            [("prefix", "M1A", ""), ("code", "M10.9", "")],
        ),
        (
            "coalworker pneumoconiosis with tuberculosis, any type in A15 (J65)",
            [("code", "A15", ""), ("code", "J65", "")],
        ),
        # Code-shaped words that are not codes.
        ("vitamin B12 deficiency (E53.8)", [("code", "E53.8", "")]),
        ("influenza A/H1N1 (J10.-)", [("prefix", "J10", "")]),
        ("GM2 gangliosidosis (E75.0-)", [("prefix", "E75.0", "")]),
        ("HIV disease (B20)", [("code", "B20", "")]),
        # A target named twice counts once.
        ("appendicitis (K35.-), acute appendicitis (K35.-)", [("prefix", "K35", "")]),
    ],
)
def test_references_in_a_note(note: str, expected: list[tuple[str, str, str]]) -> None:
    refs = parse_code_references(note)

    assert [(ref.kind, ref.start, ref.end) for ref in refs] == expected
    assert all(ref.text == note for ref in refs)


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        # A character qualifier narrows the reference below what a CodeRef can say.
        ("open skull fracture (S02.- with 7th character B)", []),
        ("open fracture of ankle, foot and toes (S92.-with 7th character B)", []),
        ("open fracture of elbow and forearm (S52.- with open fracture 7th character)", []),
        ("amnestic syndrome (F10-F19 with 5th character .6)", []),
        ("leukemia in remission C91.0-C95.9 with 5th character 1", []),
        # Only the qualified reference is dropped.
        (
            "open fracture (S42.- with 7th character B or C) or burn (T20.-)",
            [("prefix", "T20", "")],
        ),
        # A qualifier in prose ("with ketoacidosis") does not drop anything.
        ("diabetes (E11) with ketoacidosis", [("code", "E11", "")]),
        # Prose only.
        ("certain localized infections - see body system-related chapters", []),
        ("meningitis (in):", []),
        ("aftercare for injury- code the injury with 7th character D", []),
        ("", []),
    ],
)
def test_qualified_and_prose_notes(note: str, expected: list[tuple[str, str, str]]) -> None:
    refs = parse_code_references(note)

    assert [(ref.kind, ref.start, ref.end) for ref in refs] == expected


@pytest.mark.parametrize(
    ("note", "code", "excluded"),
    [
        (CONCUSSION, "S06.5X0A", True),
        (CONCUSSION, "S06.0X0A", False),
        (CONCUSSION, "S06.9X0A", False),
        (CONCUSSION, "S06.825A", True),
        (CONCUSSION, "S06.A0XA", False),
        ("diabetes mellitus (E08.-E13.-)", "E11.9", True),
        ("diabetes mellitus (E08.-E13.-)", "E14", False),
        ("acute appendicitis (K35.-)", "K35.80", True),
        ("acute appendicitis (K35.-)", "K36", False),
        ("(K50.0-K50.9)", "K50.011", True),
        ("(K50.0-K50.9)", "K51.00", False),
        ("chronic gout (M1A.-)", "M1A.0710", True),
        ("chronic gout (M1A.-)", "M10.9", False),
    ],
)
def test_parsed_references_match_the_codes_they_name(note: str, code: str, excluded: bool) -> None:
    refs = parse_code_references(note)

    assert any(ref.matches(code) for ref in refs) is excluded


def test_note_lists_keep_order_and_each_note_text() -> None:
    notes = ["type 1 diabetes mellitus (E10.-)", "meningitis (in):", "neonatal (P70.2)"]

    refs = parse_note_refs(notes)

    assert refs == (
        CodeRef("prefix", "E10", text=notes[0]),
        CodeRef("code", "P70.2", text=notes[2]),
    )


def test_hand_written_gap_references_name_codes_in_canonical_form() -> None:
    assert PROSE_EXCLUDES1_GAPS, "the gap table documents at least the known gap"
    for code, refs in PROSE_EXCLUDES1_GAPS.items():
        assert code == code.upper()
        assert "." in code
        assert refs
        assert all(ref.text for ref in refs)
