"""Scoring weights and pricing: the one place that says what each finding is worth.

Detection and pricing are apart: the engine, the rules and the exercise graders report
findings with no points, each with the line it is about; :func:`price` gives every
finding its points from the policy and computes the score. Every score stores
:data:`RULES_VERSION`; changing a weight default, a rule, the matching logic or the
grading of any exercise type bumps it so that old scores are regraded instead of
silently changing.

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

Fair-scoring rules (docs/decisions/0010)
----------------------------------------
On top of the table above: an invalid code that is the learner's attempt at a key line
costs nothing of its own (the line's ``missing`` is the cost, counted once); the
findings on one answer line never cost more than ``line_cap`` of its weight together;
a score keeps ``line_cap`` of the weight of the required lines matched exactly;
``level_mismatch`` and ``payer_code`` are near misses priced like ``partial_match``;
advisory findings cost nothing. Practicode style has no cap and no floor.

Other exercise types
--------------------
Every exercise type is priced here too, each of its lines weighing its own setting:
a choice (best code, code family, specificity) is worth ``choice`` and an ``incorrect``
choice costs all of it; a sequencing exercise is worth ``sequence_position`` per
mandated order (the first-listed diagnosis, each manifestation after its etiology), and
an order broken costs its weight; a linkage
exercise is worth ``link`` per required link, and a missing or unsupported link costs
its weight; an audit is worth ``audit_error`` per planted error, an error left unfixed
(``missing``) costs its weight and a needless change to a correct claim line (``extra``)
costs ``needless_fix`` x that weight.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from quizzes.grading.kinds import (
    NEAR_MISS_KINDS,
    RULE_KINDS,
    VALIDITY_KINDS,
    FindingKind,
    LineList,
    LineRef,
)
from quizzes.grading.types import Finding

# 2026.2: every exercise type graded by the pure engine and priced by the policy.
# 2026.3: fair scoring (docs/decisions/0010): attempts at a key line, per-line caps,
# advisory external causes, procedure near misses, mandated sequencing, per-link credit.
RULES_VERSION = "2026.3"

# Settings that are weights of a line rather than fractions of one.
_LINE_WEIGHTS = frozenset(
    {"diagnosis_line", "procedure_line", "choice", "sequence_position", "link", "audit_error"}
)


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
    # Most of its own weight that the findings on one answer line may cost together.
    line_cap: float = 0.5
    # Weights of the lines of the other exercise types.
    choice: float = 1.0
    sequence_position: float = 1.0
    link: float = 1.0
    audit_error: float = 1.0
    # Fraction of an audit line deducted for changing a line that was correct.
    needless_fix: float = 0.5
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
            if spec.name not in _LINE_WEIGHTS and value > 1:
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


def line_weight(policy: ScoringPolicy, line_list: LineList) -> float:
    """What one line of ``line_list`` is worth under ``policy``."""
    if line_list in (LineList.DIAGNOSES, LineList.KEY_DIAGNOSES):
        return policy.diagnosis_line
    if line_list in (LineList.PROCEDURES, LineList.KEY_PROCEDURES):
        return policy.procedure_line
    if line_list is LineList.ANSWER:
        return policy.choice
    if line_list is LineList.ORDER:
        return policy.sequence_position
    if line_list is LineList.LINKS:
        return policy.link
    return policy.audit_error


@dataclass(frozen=True, slots=True)
class Detection:
    """A finding as detected, before pricing.

    ``entered``: the finding stands for a line the answer entered (Practicode's "codes
    entered"). ``costs``: False for a finding that is shown but free: one that always
    comes with another finding on the same line that already costs (a malformed
    modifier), or an invalid code that is the learner's attempt at a key line the answer
    otherwise lacks (that line's ``missing`` finding is the cost, counted once).
    """

    finding: Finding
    entered: bool = False
    costs: bool = True


# Findings of entered lines that earned nothing: in Practicode style they share the
# over-coding penalty.
_UNCREDITED_KINDS = frozenset(
    {FindingKind.EXTRA, FindingKind.DUPLICATE, *NEAR_MISS_KINDS, *VALIDITY_KINDS}
)
_DETAIL_KINDS = (FindingKind.MODIFIER_ERROR, FindingKind.UNITS_ERROR, FindingKind.LINKAGE_ERROR)
_CLAIM_LISTS = (LineList.CLAIM_DIAGNOSES, LineList.CLAIM_PROCEDURES)
_EXERCISE_LISTS = (LineList.ANSWER, LineList.ORDER, LineList.LINKS)


@dataclass(frozen=True, slots=True)
class Priced:
    findings: tuple[Finding, ...]
    score: float


def price(
    detections: Sequence[Detection], *, max_score: float, policy: ScoringPolicy = DEFAULT_POLICY
) -> Priced:
    """Give every detected finding its points and compute the score (see the module
    docstring): ``score = clamp(max_score + sum(points), 0, max_score)``."""
    practicode = policy.practicode_style
    details = _detail_fractions(policy)
    budgets: dict[LineRef, float] = {}
    findings: list[Finding] = []
    total = entered = credited = 0.0
    shares: list[tuple[int, float]] = []
    for detection in detections:
        finding = detection.finding
        weight = line_weight(policy, finding.line.list)
        points = _points(finding, weight, policy, details, budgets) if detection.costs else 0.0
        if points:
            finding = dataclasses.replace(finding, points=points)
        if detection.entered:
            entered += weight
            if finding.kind is FindingKind.CORRECT:
                credited += weight
            if finding.kind in _UNCREDITED_KINDS:
                shares.append((len(findings), weight))
        findings.append(finding)
        total += points
    if not practicode:
        # Practicode style forfeits whole lines by design: no cap there.
        total += _cap_lines(findings, policy)
    if practicode and entered > max_score and shares:
        rule_total = sum(f.points for f in findings if f.kind in RULE_KINDS)
        total += _share_overcoding(findings, shares, max_score, entered, total - rule_total)
    # A key code reported right is never worth nothing: whatever else the answer adds,
    # the score keeps ``line_cap`` of the weight of the required lines matched exactly.
    floor = 0.0 if practicode else policy.line_cap * credited
    score = min(max_score, max(floor, max_score + total))
    return Priced(tuple(findings), round(score, 4))


def _detail_fractions(policy: ScoringPolicy) -> tuple[dict[FindingKind, float], float]:
    if policy.practicode_style:
        # One wrong detail forfeits the whole line.
        return dict.fromkeys(_DETAIL_KINDS, 1.0), 1.0
    fractions = {
        FindingKind.MODIFIER_ERROR: policy.modifier_error,
        FindingKind.UNITS_ERROR: policy.units_error,
        FindingKind.LINKAGE_ERROR: policy.linkage_error,
    }
    return fractions, policy.detail_cap


def _points(
    finding: Finding,
    weight: float,
    policy: ScoringPolicy,
    details: tuple[dict[FindingKind, float], float],
    budgets: dict[LineRef, float],
) -> float:
    """The points of one finding on a line of ``weight``; Practicode-style variants as
    the module docstring describes."""
    kind = finding.kind
    practicode = policy.practicode_style
    line_list = finding.line.list
    if finding.advisory or kind is FindingKind.CORRECT:
        return 0.0
    if line_list in _EXERCISE_LISTS:
        # A wrong choice, position or link costs its whole line.
        return -weight
    if line_list in _CLAIM_LISTS:
        return -weight if kind is FindingKind.MISSING else -policy.needless_fix * weight
    if kind is FindingKind.MISSING:
        return -weight
    if kind in NEAR_MISS_KINDS:
        return 0.0 if practicode else policy.partial_credit * weight
    if kind is FindingKind.EXTRA or kind in VALIDITY_KINDS:
        return 0.0 if practicode else -policy.extra * weight
    if kind is FindingKind.DUPLICATE:
        return 0.0 if practicode else -policy.rule * weight
    if kind is FindingKind.SEQUENCE_ERROR:
        # Practicode style credits the first-listed key line only in first place.
        return -weight if practicode else -policy.sequence_error * weight
    if kind in details[0]:
        # Detail errors of one matched procedure line share a budget, so a matched code
        # always keeps part of its line.
        budget = budgets.get(finding.line, details[1] * weight)
        cost = min(budget, details[0][kind] * weight)
        budgets[finding.line] = budget - cost
        return -cost
    return -policy.rule * weight


_ANSWER_LISTS = (LineList.DIAGNOSES, LineList.PROCEDURES)


def _cap_lines(findings: list[Finding], policy: ScoringPolicy) -> float:
    """No answer line costs more than ``line_cap`` of its weight, whatever stacks on it
    (an extra code that is also listed first, conflicts with a key code by Excludes1 and
    is a manifestation is one error, not four). Over the cap, the line's deductions are
    scaled down together. Returns the points given back."""
    costs: dict[LineRef, float] = {}
    for finding in findings:
        if finding.points < 0 and finding.line.list in _ANSWER_LISTS:
            costs[finding.line] = costs.get(finding.line, 0.0) + finding.points
    returned = 0.0
    for line, cost in costs.items():
        cap = policy.line_cap * line_weight(policy, line.list)
        if -cost <= cap + 1e-9:
            continue
        scale = cap / -cost
        for position, finding in enumerate(findings):
            if finding.line == line and finding.points < 0:
                scaled = round(finding.points * scale, 6)
                returned += scaled - finding.points
                findings[position] = dataclasses.replace(finding, points=scaled)
    return returned


def _share_overcoding(
    findings: list[Finding],
    shares: list[tuple[int, float]],
    key_weight: float,
    entered: float,
    credited_points: float,
) -> float:
    """Practicode style: when the answer enters more than the key holds, the score is
    credited x key / entered; the difference is shared among uncredited lines. Returns
    the points added (negative)."""
    credited = key_weight + credited_points
    penalty = credited * (entered - key_weight) / entered
    if penalty <= 0:
        return 0.0
    weight = sum(share for _, share in shares)
    for position, share in shares:
        finding = findings[position]
        cost = penalty * share / weight
        findings[position] = dataclasses.replace(finding, points=finding.points - cost)
    return -penalty
