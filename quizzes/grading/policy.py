"""Scoring weights: the one place that says what each finding is worth.

Every score stores :data:`RULES_VERSION`; changing a weight default, a rule or the
matching logic bumps it so that old scores are regraded instead of silently changing.

How a score is computed (default policy)
----------------------------------------
``max_score`` is the sum of the line weights of the *required* key lines: 2.0 per
diagnosis line, 0.5 per procedure line. Optional key lines add nothing to the maximum,
cost nothing when omitted and are not ``extra`` when reported.

Each finding carries ``points``, its effect relative to full marks, and
``score = clamp(max_score + sum(points), 0, max_score)``:

==========================  ==============================================================
finding                     points
==========================  ==============================================================
``correct``                 0
``missing``                 minus the key line's weight (the credit not earned)
``partial_match``           plus ``partial_credit`` x the key line's weight (it comes with
                            the ``missing`` finding for that key line, so the line nets
                            half its weight by default)
``extra`` and the invalid   minus ``extra`` x the line weight of that list (0.5 for a
kinds (``invalid_format``,  diagnosis, 0.125 for a procedure)
``wrong_family``,
``unknown_code``,
``not_billable``,
``missing_seventh_
character``)
``modifier_error``,         minus ``modifier_error`` / ``units_error`` / ``linkage_error``
``units_error``,            x the procedure line weight; together never more than
``linkage_error``           ``detail_cap`` x the line, so a matched code always keeps at
                            least half its line
``sequence_error``          minus ``sequence_error`` x a diagnosis line weight (0.5)
rule findings and           minus ``rule`` x the line weight of that list (0.5 for a
``duplicate``               diagnosis)
advisory findings           0
==========================  ==============================================================

The contract's worked example (key J02.0, R50.9, 99213-25 pointing at both, 87880;
answer J02.0, R50.9 and 99213 without the modifier pointing at J02.0 only) gives
max 2 x 2.0 + 2 x 0.5 = 5.0 and score 5.0 - 0.125 (modifier) - 0.125 (linkage) - 0.5
(87880 missing) = 4.25, that is 85 %. Diagnosis lines weigh four times a procedure line
because diagnosis selection (specificity, laterality, 7th characters, sequencing,
guideline conflicts) is what this course mostly teaches and grades; a per-exercise
override can rebalance them.

Practicode style
----------------
``practicode_style=True`` follows the scoring AAPC describes for its Practicode case
simulator: a score of correct codes divided by the larger of the number of codes in the
key and the number of codes entered, with no partial credit. Precisely:

* a required key line is credited (its full weight) only when it is matched exactly:
  the same code (or an accepted alternative) and, for a procedure, the same modifiers,
  units and diagnosis pointers; one wrong detail forfeits the whole line;
* a near miss (``partial_match``) earns nothing;
* the key's first-listed diagnosis is credited only when it is reported first (the
  primary-diagnosis field): a ``sequence_error`` forfeits that line;
* under-coding: with K the weight of the required key lines and C the weight credited,
  the score is C when the answer enters no more than K;
* over-coding: when the entered lines weigh E > K (every reported line counts, except
  those matched to optional key lines), the score is C x K / E. The difference is
  shared, in proportion to line weight, among the findings of entered lines that earned
  nothing (``extra``, ``partial_match``, the invalid kinds, ``duplicate``);
* guideline rule findings still deduct ``rule`` x the line weight, as in the default
  policy (Practicode has no such edits; a course that teaches them should grade them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

RULES_VERSION = "2026.1"


@dataclass(frozen=True, slots=True)
class ScoringPolicy:
    """Weights and deductions; see the module docstring for how they combine."""

    # Points a required key line is worth.
    diagnosis_line: float = 2.0
    procedure_line: float = 0.5
    # Fraction of the key line a near miss in the same category earns.
    partial_credit: float = 0.5
    # Fractions of the procedure line deducted for wrong details of a matched code.
    modifier_error: float = 0.25
    units_error: float = 0.25
    linkage_error: float = 0.25
    # Most of a matched procedure line that detail errors may take together.
    detail_cap: float = 0.5
    # Fraction of the list's line weight deducted per unsupported or invalid entry.
    extra: float = 0.25
    # Fraction of the list's line weight deducted per rule finding or duplicate.
    rule: float = 0.25
    # Fraction of a diagnosis line deducted for a wrong first-listed diagnosis.
    sequence_error: float = 0.25
    practicode_style: bool = False

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if spec.name == "practicode_style":
                if not isinstance(value, bool):
                    raise ValueError("practicode_style must be true or false")
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{spec.name} must be a number, not {value!r}")
            if value < 0:
                raise ValueError(f"{spec.name} must not be negative, got {value}")
            if spec.name not in ("diagnosis_line", "procedure_line") and value > 1:
                raise ValueError(f"{spec.name} is a fraction of a line: use 0 to 1, got {value}")

    def with_overrides(self, overrides: Mapping[str, object]) -> ScoringPolicy:
        """A copy with per-exercise overrides; unknown names raise ValueError."""
        known = {spec.name for spec in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(
                f"unknown scoring setting(s): {', '.join(unknown)}; "
                f"known settings are {', '.join(sorted(known))}"
            )
        return dataclasses.replace(self, **overrides)  # type: ignore[arg-type]


DEFAULT_POLICY = ScoringPolicy()
