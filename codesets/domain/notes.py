"""Code references inside ICD-10-CM instructional notes.

The tabular writes its Excludes1 (and code first, use additional code ...) notes as prose
with the targets in the text: ``hypertension complicating pregnancy (O10-O11)``,
``diabetes mellitus (E08.-E13.-)``, ``concussion with other intracranial injuries
classified in subcategories S06.1- to S06.6-``. Grading needs the targets as
:class:`~codesets.domain.catalog.CodeRef` values to tell whether two reported codes
exclude each other, so this module turns the prose into references, keeping the note
text on each reference for the feedback a learner reads.

Two kinds of reference are deliberately left out, because a ``CodeRef`` cannot express
them and keeping them whole would report conflicts the tabular does not make:

* a reference narrowed by a character qualifier, such as ``(S42.- with 7th character B
  or C)`` (only the open fractures are excluded, not every S42 code) or ``(V01-V09 with
  5th character 1)``;
* code-shaped words that are not codes: ``vitamin B12``, ``influenza A/H1N1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from codesets.domain.catalog import CodeRef

# A code as the notes write it: letter, digit, digit or letter (C4A, D3A, M1A, O9A, Z3A),
# then optionally a dot and up to four characters. FY2026 added QA0 (genetic disorders),
# the first category with a letter second; only Q is allowed that shape, because other
# letter-letter-digit words in the notes are not codes (gangliosides GM1-GM3, GH1, PF4).
# Never preceded by a letter, digit or slash (A/H1N1), nor by "vitamin " (B12), and
# never followed by a letter or digit.
_CODE = (
    r"(?<![0-9A-Za-z/])(?<![Vv]itamin )"
    r"(?:[A-Z][0-9][0-9A-Z]|Q[A-Z][0-9])(?:\.[0-9A-Z]{1,4})?(?![0-9A-Za-z])"
)

# A reference: a code, its optional "-" / ".-" (meaning "and every code below"), and an
# optional second code that closes a range. The range separator is "-", an en dash, "to"
# or "through"; in "E08.-E13.-" and "O10-O11" the dash of the first code doubles as the
# separator, hence the zero-width ``(?<=-)`` alternative.
_REFERENCE = re.compile(
    rf"(?P<start>{_CODE})(?P<start_dash>\.?-)?"
    rf"(?:(?:\s*(?:-|–|\bto\b|\bthrough\b)\s*|(?<=-))(?P<end>{_CODE})(?P<end_dash>\.?-)?)?"
)

# "with 7th character B", "with 5th character .6", "with open fracture 7th character":
# the references just before it cover only some of their codes.
_CHARACTER_QUALIFIER = re.compile(r"\s*-?\s*with\b[^(),;]*?\b[4-7]th character", re.IGNORECASE)

# Excludes1 notes that name no code. On the April 2026 tabular 143 of the 5,407
# Excludes1 notes (chapters, sections and codes) yield no reference: 15 name codes only
# with a character qualifier (see the module docstring) and 128 (118 distinct texts) are
# prose only, of three sorts:
# * lead-ins whose targets follow in the next notes ("meningitis (in):", "complication
#   of:"): the targets are parsed from those notes, nothing is lost;
# * instructions without a target ("sepsis- code to infection", "current injury - see
#   Alphabetic Index", "cadaveric donor - omit code"): nothing to check mechanically, so
#   grading quotes them as teaching text and raises no conflict from them;
# * names of a condition without its code. Only "newborn atelectasis" (at J98.11) is one
#   whose codes are unambiguous, so it gets hand-written references, keyed by the code
#   that carries the note; the tabular importer adds them to that code's Excludes1 refs.
_NEWBORN_ATELECTASIS = "newborn atelectasis"
PROSE_EXCLUDES1_GAPS: Mapping[str, tuple[CodeRef, ...]] = {
    # P28.0 primary and P28.1- other and unspecified atelectasis of newborn.
    "J98.11": (CodeRef("range", "P28.0", "P28.1", _NEWBORN_ATELECTASIS),),
}


def parse_code_references(note_text: str) -> tuple[CodeRef, ...]:
    """Every code, prefix and range a note names, in the order written.

    Each reference carries ``note_text`` as its ``text``. A note without codes (prose
    only) yields an empty tuple.
    """
    refs: list[CodeRef] = []
    for match in _REFERENCE.finditer(note_text):
        if _CHARACTER_QUALIFIER.match(note_text, match.end()):
            continue
        start = match["start"]
        if match["end"]:
            refs.append(CodeRef("range", start, match["end"], note_text))
        elif match["start_dash"]:
            refs.append(CodeRef("prefix", start, text=note_text))
        else:
            refs.append(CodeRef("code", start, text=note_text))
    return _dropping_duplicates(refs)


def parse_note_refs(notes: Iterable[str]) -> tuple[CodeRef, ...]:
    """The references of several notes, in order, each note's text kept on its refs."""
    refs: list[CodeRef] = []
    for note in notes:
        refs.extend(parse_code_references(note))
    return _dropping_duplicates(refs)


def _dropping_duplicates(refs: Iterable[CodeRef]) -> tuple[CodeRef, ...]:
    # The same note sometimes names a target twice; one reference is enough to match.
    return tuple(dict.fromkeys(refs))
