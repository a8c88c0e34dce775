"""Grade one answer sheet against one answer key, from in-memory data.

The engine is pure: it reads the releases in force on the date of service through a
:class:`~codesets.domain.catalog.Catalog` and returns a :class:`GradeResult`. Order of
work for each list: classify every reported text (shape, family, validity), set aside
duplicates, pair the valid codes with key lines (exactly, then near misses in the same
category), then grade what pairing leaves: details of matched procedure lines, the
first-listed diagnosis, the registered guideline rules (:data:`~quizzes.grading.rules.RULES`).
The engine only detects: :func:`quizzes.grading.policy.price` gives the findings their
points.

Findings name the answer line they are about (``diagnoses[0]``, ``procedures[1]``); a
``missing`` finding is about a key line the answer lacks and names it ``key.diagnoses[1]``
or ``key.procedures[0]``. Findings come in list order: each diagnosis line's match finding
(the ``sequence_error`` right after line 0), then rule findings, then missing diagnoses;
then the procedure lines the same way.

Everything that depends only on the catalog or only on the key is memoised in a
:class:`Grader` (entry verdicts, ancestor walks, Excludes1 verdicts, per-key plans), so
bulk grading of many sheets against a few keys costs little more than the comparisons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codesets.domain.catalog import Catalog, CodeInfo
from codesets.domain.shapes import compact, icd10cm_canonical
from codesets.domain.systems import System
from quizzes.grading import messages
from quizzes.grading.entries import Entry, EntryClassifier
from quizzes.grading.kinds import (
    FindingKind,
    diagnosis_line,
    key_diagnosis_line,
    key_procedure_line,
    procedure_line,
)
from quizzes.grading.matching import common_prefix, maximum_matching
from quizzes.grading.policy import DEFAULT_POLICY, RULES_VERSION, Detection, ScoringPolicy, price
from quizzes.grading.rules import (
    RULES,
    NoteIndex,
    ReportedDiagnosis,
    Rule,
    RuleContext,
    duplicate_positions,
)
from quizzes.grading.types import (
    AnswerKey,
    AnswerProcedure,
    AnswerSheet,
    Encounter,
    Finding,
    GradeResult,
)

_PLAN_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class _KeyDiagnosis:
    accepted: tuple[str, ...]
    infos: tuple[CodeInfo | None, ...]
    optional: bool

    def closest(self, code: str) -> int:
        """Index of the accepted code sharing the longest prefix with ``code``."""
        best, best_len = 0, -1
        for index, accepted in enumerate(self.accepted):
            shared = common_prefix(accepted, code)
            if shared > best_len:
                best, best_len = index, shared
        return best


@dataclass(frozen=True, slots=True)
class _KeyProcedure:
    accepted: tuple[str, ...]
    infos: tuple[CodeInfo | None, ...]
    modifiers: tuple[str, ...]
    modifier_set: frozenset[str]
    units: int
    # 0-based key diagnosis lines the key links this procedure to.
    pointers: tuple[int, ...]
    optional: bool


@dataclass(frozen=True, slots=True)
class _KeyPlan:
    """What grading needs from a key, computed once per key."""

    diagnoses: tuple[_KeyDiagnosis, ...]
    procedures: tuple[_KeyProcedure, ...]
    # Canonical code -> key lines accepting it, required lines first.
    dx_lines_by_code: dict[str, tuple[int, ...]]
    # Category -> required key lines with an accepted code in it (near-miss candidates).
    dx_lines_by_category: dict[str, tuple[int, ...]]
    # Category -> optional key lines with an accepted code in it.
    optional_by_category: dict[str, tuple[int, ...]]
    # Whether the key has a required diagnosis that is not a sign or symptom (R00-R99).
    has_definitive: bool
    external_causes_required: bool
    proc_lines_by_code: dict[str, tuple[int, ...]]
    max_score: float


class Grader:
    """Grades sheets against one catalog and policy, memoising what repeats."""

    def __init__(
        self,
        catalog: Catalog,
        policy: ScoringPolicy = DEFAULT_POLICY,
        rules: Sequence[Rule] = RULES,
    ) -> None:
        self._catalog = catalog
        self._policy = policy
        self._rules = tuple(rules)
        self._entries = EntryClassifier(catalog)
        self._notes = NoteIndex(catalog)
        self._plans: dict[AnswerKey, _KeyPlan] = {}
        self._correct: dict[tuple[str, bool], str] = {}
        self._extra: dict[str, str] = {}
        releases = {}
        for system in System:
            release = catalog.release(system)
            if release is not None:
                releases[system.value] = release.version
        self._releases = releases

    @property
    def policy(self) -> ScoringPolicy:
        return self._policy

    # --- key plans ---------------------------------------------------------------

    def _plan(self, key: AnswerKey) -> _KeyPlan:
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= _PLAN_LIMIT:
                self._plans.clear()
            plan = self._plans[key] = self._build_plan(key)
        return plan

    def _build_plan(self, key: AnswerKey) -> _KeyPlan:
        get = self._catalog.get
        diagnoses = []
        for line in key.diagnoses:
            accepted = tuple(dict.fromkeys(icd10cm_canonical(code) for code in line.accepted))
            infos = tuple(get(System.ICD10CM, code) for code in accepted)
            diagnoses.append(_KeyDiagnosis(accepted, infos, line.optional))
        procedures = []
        for proc in key.procedures:
            accepted = tuple(dict.fromkeys(compact(code) for code in proc.accepted))
            infos = tuple(self._procedure_info(code) for code in accepted)
            modifiers = tuple(compact(mod) for mod in proc.modifiers)
            pointers = tuple(p - 1 for p in proc.dx_pointers if 1 <= p <= len(diagnoses))
            procedures.append(
                _KeyProcedure(
                    accepted,
                    infos,
                    modifiers,
                    frozenset(modifiers),
                    proc.units,
                    pointers,
                    proc.optional,
                )
            )
        return _KeyPlan(
            diagnoses=tuple(diagnoses),
            procedures=tuple(procedures),
            dx_lines_by_code=_lines_by_code(diagnoses),
            dx_lines_by_category=_lines_by_category(diagnoses),
            optional_by_category=_lines_by_category(diagnoses, optional=True),
            has_definitive=any(
                not line.optional and not line.accepted[0].startswith("R") for line in diagnoses
            ),
            external_causes_required=key.external_causes_required,
            proc_lines_by_code=_lines_by_code(procedures),
            max_score=self._policy.diagnosis_line * sum(not d.optional for d in diagnoses)
            + self._policy.procedure_line * sum(not p.optional for p in procedures),
        )

    def _procedure_info(self, code: str) -> CodeInfo | None:
        return self._catalog.get(System.CPT, code) or self._catalog.get(System.HCPCS, code)

    # --- grading -----------------------------------------------------------------

    def grade(self, key: AnswerKey, answer: AnswerSheet, encounter: Encounter) -> GradeResult:
        plan = self._plan(key)
        sheet: list[Detection] = []
        dx_entries, dx_key_line = self._grade_diagnoses(plan, answer.diagnoses, encounter, sheet)
        self._grade_procedures(plan, answer.procedures, dx_entries, dx_key_line, sheet)
        priced = price(sheet, max_score=plan.max_score, policy=self._policy)
        return GradeResult(
            score=priced.score,
            max_score=plan.max_score,
            findings=priced.findings,
            releases=dict(self._releases),
            rules_version=RULES_VERSION,
        )

    def _grade_diagnoses(
        self, plan: _KeyPlan, texts: Sequence[str], encounter: Encounter, sheet: list[Detection]
    ) -> tuple[list[Entry], list[int]]:
        """Findings for the diagnosis list; returns the entries and, per answer line,
        the key line it matched exactly or nearly (-1: none), for linkage."""
        entries = [self._entries.diagnosis(text) for text in texts]
        count = len(entries)
        earlier = duplicate_positions(
            [entry.code if entry.kind != FindingKind.INVALID_FORMAT else None for entry in entries]
        )
        # In answer order: of two accepted alternatives the one listed first is matched.
        candidates = [i for i in range(count) if entries[i].valid and earlier[i] < 0]
        key_lines = len(plan.diagnoses)
        exact = [-1] * count
        reported_at = [-1] * key_lines
        options = [plan.dx_lines_by_code.get(entries[i].code or "", ()) for i in candidates]
        for position, line in enumerate(maximum_matching(options, key_lines)):
            if line >= 0:
                exact[candidates[position]] = line
                reported_at[line] = candidates[position]
        near = [-1] * count
        near_at = [-1] * key_lines
        leftovers = [i for i in candidates if exact[i] < 0]
        if leftovers and plan.dx_lines_by_category:
            near_options = []
            for i in leftovers:
                code = entries[i].code or ""
                lines = [
                    line
                    for line in plan.dx_lines_by_category.get(code[:3], ())
                    if reported_at[line] < 0
                ]
                if len(lines) > 1:
                    lines.sort(key=lambda line: -_closeness(plan.diagnoses[line], code))
                near_options.append(lines)
            for position, line in enumerate(maximum_matching(near_options, key_lines)):
                if line >= 0:
                    near[leftovers[position]] = line
                    near_at[line] = leftovers[position]

        attempt = self._attempts(plan, entries, earlier, reported_at, near_at)
        attempt_at = [-1] * key_lines
        for i, line in enumerate(attempt):
            if line >= 0:
                attempt_at[line] = i

        reported: list[ReportedDiagnosis] = []
        first_misplaced = bool(key_lines) and not plan.diagnoses[0].optional and reported_at[0] > 0
        for i, entry in enumerate(entries):
            line_name = diagnosis_line(i)
            info = entry.info
            if earlier[i] >= 0:
                finding = Finding(
                    kind=FindingKind.DUPLICATE,
                    line=line_name,
                    code=entry.code,
                    message=messages.duplicate(
                        entry.code or "", info, str(diagnosis_line(earlier[i])), System.ICD10CM
                    ),
                )
                entered = True
            elif not entry.valid or info is None:
                finding = Finding(
                    kind=entry.finding_kind,
                    line=line_name,
                    code=entry.code,
                    message=entry.message,
                )
                # An invalid attempt at a key line costs through that line's missing
                # finding only: the error is counted once.
                sheet.append(Detection(finding, entered=True, costs=attempt[i] < 0))
                if i == 0 and first_misplaced:
                    sheet.append(Detection(self._sequence_finding(plan, entries, reported_at[0])))
                continue
            else:
                reported.append(ReportedDiagnosis(line_name, info, keyed=exact[i] >= 0))
                finding, entered = self._diagnosis_verdict(
                    plan, i, info, exact[i], near[i], reported_at, entries
                )
            sheet.append(Detection(finding, entered=entered))
            if i == 0 and first_misplaced:
                sheet.append(Detection(self._sequence_finding(plan, entries, reported_at[0])))
        for line, key_line in enumerate(plan.diagnoses):
            if key_line.optional or reported_at[line] >= 0:
                continue
            near_miss = near_at[line]
            missing = Finding(
                kind=FindingKind.MISSING,
                line=key_diagnosis_line(line),
                code=key_line.accepted[0],
                message=messages.missing_diagnosis(
                    key_line.infos[0],
                    key_line.accepted[0],
                    key_line.accepted[1:],
                    entries[near_miss].code if near_miss >= 0 else None,
                    entries[attempt_at[line]].code if attempt_at[line] >= 0 else None,
                ),
            )
            sheet.append(Detection(missing))

        if reported:
            self._grade_rules(reported, entries, encounter, sheet)

        # Linkage compares the codes pointers reach: map each answer line (duplicates
        # through the line they repeat) to the key line it stands for.
        dx_key_line = [
            exact[root] if exact[root] >= 0 else near[root] if near[root] >= 0 else attempt[root]
            for root in (e if e >= 0 else i for i, e in enumerate(earlier))
        ]
        return entries, dx_key_line

    def _attempts(
        self,
        plan: _KeyPlan,
        entries: list[Entry],
        earlier: list[int],
        reported_at: list[int],
        near_at: list[int],
    ) -> list[int]:
        """Per answer line, the required key line an invalid entry is an attempt at (-1:
        none): a code of the same category (a missing 7th character, a subcategory) or
        one character away from an accepted code (a typo), for a key line the answer
        does not otherwise report."""
        attempt = [-1] * len(entries)
        taken: set[int] = set()
        for i, entry in enumerate(entries):
            if entry.valid or earlier[i] >= 0 or not entry.code:
                continue
            typed = compact(entry.code)
            for line, key_line in enumerate(plan.diagnoses):
                if key_line.optional or line in taken:
                    continue
                if reported_at[line] >= 0 or near_at[line] >= 0:
                    continue
                if any(_near_text(typed, compact(code)) for code in key_line.accepted):
                    attempt[i] = line
                    taken.add(line)
                    break
        return attempt

    def _grade_rules(
        self,
        reported: list[ReportedDiagnosis],
        entries: list[Entry],
        encounter: Encounter,
        sheet: list[Detection],
    ) -> None:
        context = RuleContext(
            diagnoses=reported,
            first_listed=entries[0].valid,
            notes=self._notes,
            patient=encounter.patient,
            date_of_service=encounter.date_of_service,
        )
        for rule in self._rules:
            sheet.extend(Detection(finding) for finding in rule.check(context))

    def _diagnosis_verdict(
        self,
        plan: _KeyPlan,
        index: int,
        info: CodeInfo,
        exact: int,
        near: int,
        reported_at: list[int],
        entries: list[Entry],
    ) -> tuple[Finding, bool]:
        """The match finding for a valid reported diagnosis and whether it counts as an
        entered line (a line matched to an optional key line does not)."""
        line_name = diagnosis_line(index)
        if exact >= 0:
            finding = Finding(
                kind=FindingKind.CORRECT,
                line=line_name,
                code=info.code,
                message=self._correct_message(info, index == 0 and exact == 0),
            )
            return finding, not plan.diagnoses[exact].optional
        if near >= 0:
            key_line = plan.diagnoses[near]
            closest = key_line.closest(info.code)
            key_info = key_line.infos[closest]
            finding = Finding(
                kind=FindingKind.PARTIAL_MATCH,
                line=line_name,
                code=info.code,
                expected=(key_line.accepted[closest],),
                message=(
                    messages.partial_match(info, key_info)
                    if key_info is not None
                    else messages.extra_diagnosis(info)
                ),
            )
            return finding, True
        for line in plan.optional_by_category.get(info.code[:3], ()):
            if reported_at[line] < 0:
                key_line = plan.diagnoses[line]
                closest = key_line.closest(info.code)
                finding = Finding(
                    kind=FindingKind.PARTIAL_MATCH,
                    line=line_name,
                    code=info.code,
                    expected=(key_line.accepted[closest],),
                    message=messages.optional_near_miss(
                        info, key_line.infos[closest], key_line.accepted[closest]
                    ),
                    advisory=True,
                )
                return finding, False
        if _is_external_cause(info.code) and not plan.external_causes_required:
            finding = Finding(
                kind=FindingKind.EXTRA,
                line=line_name,
                code=info.code,
                message=messages.extra_external_cause(info),
                advisory=True,
            )
            return finding, False
        for line in plan.dx_lines_by_code.get(info.code, ()):
            # Another accepted code of a key line the answer already matched.
            kept = reported_at[line]
            if kept >= 0 and kept != index:
                message = messages.extra_alternative(info.code, info, entries[kept].code or "")
                break
        else:
            if info.code.startswith("R") and plan.has_definitive:
                message = messages.extra_symptom(info)
            else:
                message = self._extra_message(info)
        finding = Finding(kind=FindingKind.EXTRA, line=line_name, code=info.code, message=message)
        return finding, True

    def _sequence_finding(self, plan: _KeyPlan, entries: list[Entry], at: int) -> Finding:
        key_line = plan.diagnoses[0]
        first = entries[0]
        return Finding(
            kind=FindingKind.SEQUENCE_ERROR,
            line=diagnosis_line(0),
            code=first.code,
            expected=(key_line.accepted[0],),
            message=messages.sequence_error(
                first.info,
                first.code or "",
                key_line.infos[0],
                key_line.accepted[0],
                str(diagnosis_line(at)),
            ),
        )

    def _correct_message(self, info: CodeInfo, first_listed: bool) -> str:
        memo = (info.code, first_listed)
        message = self._correct.get(memo)
        if message is None:
            message = self._correct[memo] = messages.correct_diagnosis(info, first_listed)
        return message

    def _extra_message(self, info: CodeInfo) -> str:
        message = self._extra.get(info.code)
        if message is None:
            if info.system is System.ICD10CM:
                message = messages.extra_diagnosis(info)
            else:
                message = messages.extra_procedure(info)
            self._extra[info.code] = message
        return message

    def _grade_procedures(
        self,
        plan: _KeyPlan,
        lines: Sequence[AnswerProcedure],
        dx_entries: list[Entry],
        dx_key_line: list[int],
        sheet: list[Detection],
    ) -> None:
        entries = [self._entries.procedure(line.code) for line in lines]
        modifiers: list[tuple[str, ...]] = []
        malformed: list[tuple[str, ...]] = []
        for line in lines:
            good: list[str] = []
            bad: list[str] = []
            for text in line.modifiers:
                canonical = self._entries.modifier(text)
                if canonical is None:
                    bad.append(text.strip())
                else:
                    good.append(canonical)
            modifiers.append(tuple(good))
            malformed.append(tuple(bad))
        count = len(entries)
        earlier = duplicate_positions(
            [
                (entry.code, frozenset(modifiers[j]), malformed[j])
                if entry.kind != FindingKind.INVALID_FORMAT
                else None
                for j, entry in enumerate(entries)
            ]
        )
        candidates = [j for j in range(count) if entries[j].valid and earlier[j] < 0]
        if len(candidates) > 1:
            candidates.sort(key=lambda j: (entries[j].code or "", modifiers[j]))
        key_lines = len(plan.procedures)
        options: list[Sequence[int]] = []
        for j in candidates:
            choices: Sequence[int] = plan.proc_lines_by_code.get(entries[j].code or "", ())
            if len(choices) > 1:
                choices = sorted(
                    choices,
                    key=lambda k: _detail_distance(plan.procedures[k], modifiers[j], lines[j]),
                )
            options.append(choices)
        matched = [-1] * count
        reported_at = [-1] * key_lines
        for position, k in enumerate(maximum_matching(options, key_lines)):
            if k >= 0:
                matched[candidates[position]] = k
                reported_at[k] = candidates[position]
        near, near_at = _procedure_near_misses(plan, entries, candidates, matched, reported_at)

        for j, entry in enumerate(entries):
            line_name = procedure_line(j)
            if earlier[j] >= 0:
                duplicate = Finding(
                    kind=FindingKind.DUPLICATE,
                    line=line_name,
                    code=entry.code,
                    message=messages.duplicate(
                        entry.code or "",
                        entry.info,
                        str(procedure_line(earlier[j])),
                        entry.system or System.CPT,
                    ),
                )
                sheet.append(Detection(duplicate, entered=True))
            elif not entry.valid:
                invalid = Finding(
                    kind=entry.finding_kind,
                    line=line_name,
                    code=entry.code,
                    message=entry.message,
                )
                sheet.append(Detection(invalid, entered=True))
            elif (procedure_near := near[j]) is not None:
                k, kind = procedure_near
                key_line = plan.procedures[k]
                shown = (
                    messages.level_mismatch
                    if kind is FindingKind.LEVEL_MISMATCH
                    else messages.payer_code
                )
                near_miss = Finding(
                    kind=kind,
                    line=line_name,
                    code=entry.code,
                    expected=(key_line.accepted[0],),
                    message=shown(
                        entry.info, entry.code or "", key_line.infos[0], key_line.accepted[0]
                    ),
                )
                sheet.append(Detection(near_miss, entered=True))
            elif matched[j] >= 0:
                self._grade_procedure_details(
                    plan,
                    plan.procedures[matched[j]],
                    j,
                    entry,
                    modifiers[j],
                    malformed[j],
                    lines[j],
                    dx_entries,
                    dx_key_line,
                    sheet,
                )
            else:
                info = entry.info
                assert info is not None  # a valid entry always has its catalog entry
                extra = Finding(
                    kind=FindingKind.EXTRA,
                    line=line_name,
                    code=entry.code,
                    message=self._extra_message(info),
                )
                sheet.append(Detection(extra, entered=True))
            # A malformed modifier always comes with a finding that costs (the line's
            # modifiers cannot equal the key's), so it is reported without points.
            for text in malformed[j]:
                bad_modifier = Finding(
                    kind=FindingKind.INVALID_FORMAT,
                    line=line_name,
                    code=compact(text) or None,
                    message=messages.invalid_modifier(text, entry.code or "this line"),
                )
                sheet.append(Detection(bad_modifier, costs=False))

        for k, key_line in enumerate(plan.procedures):
            if key_line.optional or reported_at[k] >= 0:
                continue
            missing = Finding(
                kind=FindingKind.MISSING,
                line=key_procedure_line(k),
                code=key_line.accepted[0],
                message=messages.missing_procedure(
                    key_line.infos[0],
                    key_line.accepted[0],
                    key_line.modifiers,
                    key_line.units,
                    entries[near_at[k]].code if near_at[k] >= 0 else None,
                ),
            )
            sheet.append(Detection(missing))

    def _grade_procedure_details(
        self,
        plan: _KeyPlan,
        key_line: _KeyProcedure,
        index: int,
        entry: Entry,
        modifiers: tuple[str, ...],
        malformed: tuple[str, ...],
        line: AnswerProcedure,
        dx_entries: list[Entry],
        dx_key_line: list[int],
        sheet: list[Detection],
    ) -> None:
        """The findings of a reported line matched to a key line: ``correct`` when code,
        modifiers and units agree, then one finding per wrong detail. The first finding
        of the line stands for the entered line."""
        info = entry.info
        code = entry.code or ""
        line_name = procedure_line(index)
        entered = not key_line.optional
        in_place_of_59 = _x_modifier_for_59(modifiers, key_line.modifier_set)
        given = frozenset(modifiers)
        if in_place_of_59:
            given = (given - {in_place_of_59}) | {"59"}
        modifiers_ok = not malformed and given == key_line.modifier_set
        units_ok = line.fractional_units is None and line.units == key_line.units
        linkage = self._linkage_problem(plan, key_line, code, info, line, dx_entries, dx_key_line)
        found: list[Finding] = []
        if modifiers_ok and units_ok:
            found.append(
                Finding(
                    kind=FindingKind.CORRECT,
                    line=line_name,
                    code=code,
                    message=messages.correct_procedure(
                        code, info, modifiers, line.units, in_place_of_59
                    ),
                )
            )
        if not modifiers_ok:
            found.append(
                Finding(
                    kind=FindingKind.MODIFIER_ERROR,
                    line=line_name,
                    code=code,
                    expected=key_line.modifiers,
                    message=messages.modifier_error(
                        info, code, key_line.modifiers, modifiers + malformed
                    ),
                )
            )
        if not units_ok:
            found.append(
                Finding(
                    kind=FindingKind.UNITS_ERROR,
                    line=line_name,
                    code=code,
                    expected=(str(key_line.units),),
                    message=messages.units_error(
                        info, code, key_line.units, line.units, line.fractional_units
                    ),
                )
            )
        if linkage is not None:
            expected_codes, linkage_message = linkage
            found.append(
                Finding(
                    kind=FindingKind.LINKAGE_ERROR,
                    line=line_name,
                    code=code,
                    expected=expected_codes,
                    message=linkage_message,
                )
            )
        sheet.append(Detection(found[0], entered=entered))
        sheet.extend(Detection(finding) for finding in found[1:])

    def _linkage_problem(
        self,
        plan: _KeyPlan,
        key_line: _KeyProcedure,
        code: str,
        info: CodeInfo | None,
        line: AnswerProcedure,
        dx_entries: list[Entry],
        dx_key_line: list[int],
    ) -> tuple[tuple[str, ...], str] | None:
        """None when the pointers reach the key's linked diagnoses (compared by the key
        lines the reported codes stand for, so the order of secondary diagnoses does not
        matter); otherwise the expected codes and the learner message.

        A key line without pointers does not grade linkage. Linked key diagnoses the
        answer does not report at all are not required (their ``missing`` finding
        already costs); every pointer must reach a linked diagnosis.
        """
        if not key_line.pointers:
            return None
        wanted = set(key_line.pointers)
        listed = len(dx_entries)
        reached_lines: set[int] = set()
        stray = False
        out_of_range: list[int] = []
        for pointer in line.dx_pointers:
            if not 1 <= pointer <= listed:
                out_of_range.append(pointer)
                continue
            target = dx_key_line[pointer - 1]
            if target < 0 or target not in wanted:
                stray = True
            reached_lines.add(target)
        reachable = {k for k in wanted if k in dx_key_line}
        if not out_of_range and not stray and reached_lines == reachable:
            return None
        expected = tuple(plan.diagnoses[k].accepted[0] for k in key_line.pointers)
        message = messages.linkage_error(
            code,
            info,
            [
                messages.describe(plan.diagnoses[k].accepted[0], plan.diagnoses[k].infos[0])
                for k in key_line.pointers
            ],
            [
                messages.describe(dx_entries[p - 1].code or "?", dx_entries[p - 1].info)
                for p in line.dx_pointers
                if 1 <= p <= listed
            ],
            out_of_range,
            listed,
        )
        return expected, message


def _lines_by_code(lines: Sequence[_KeyDiagnosis | _KeyProcedure]) -> dict[str, tuple[int, ...]]:
    table: dict[str, list[int]] = {}
    ordered = sorted(range(len(lines)), key=lambda k: lines[k].optional)
    for index in ordered:
        for code in lines[index].accepted:
            table.setdefault(code, []).append(index)
    return {code: tuple(indices) for code, indices in table.items()}


def _lines_by_category(
    lines: Sequence[_KeyDiagnosis], *, optional: bool = False
) -> dict[str, tuple[int, ...]]:
    table: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        if line.optional != optional:
            continue
        for category in dict.fromkeys(code[:3] for code in line.accepted):
            table.setdefault(category, []).append(index)
    return {category: tuple(indices) for category, indices in table.items()}


def _near_text(typed: str, code: str) -> bool:
    """Whether ``typed`` reads as an attempt at ``code``: the same category, or one
    character added, dropped, changed or two neighbours swapped (compact forms)."""
    if typed[:3] == code[:3]:
        return True
    if abs(len(typed) - len(code)) > 1:
        return False
    if len(typed) == len(code):
        diffs = [i for i, (a, b) in enumerate(zip(typed, code, strict=True)) if a != b]
        if len(diffs) <= 1:
            return True
        first, second = diffs[0], diffs[-1]
        return (
            len(diffs) == 2
            and second == first + 1
            and typed[first] == code[second]
            and typed[second] == code[first]
        )
    shorter, longer = sorted((typed, code), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


# Evaluation and management families: a code of the same family at another level is a
# level error, not an unsupported service (CPT E/M section, 2021 office and 2023
# hospital, emergency department, consultation and preventive medicine codes).
_EM_FAMILIES: tuple[frozenset[str], ...] = tuple(
    frozenset(str(code) for code in codes)
    for codes in (
        range(99202, 99206),
        range(99211, 99216),
        range(99221, 99224),
        range(99231, 99234),
        range(99238, 99240),
        range(99242, 99246),
        range(99252, 99256),
        range(99281, 99286),
        range(99304, 99311),
        range(99381, 99388),
        range(99391, 99398),
    )
)
# HCPCS codes Medicare requires in place of CPT codes for the same service (CMS Medicare
# Claims Processing Manual, Chapter 18): vaccine administration and screening endoscopy.
_PAYER_EQUIVALENTS: dict[str, frozenset[str]] = {
    "G0008": frozenset({"90471", "90472"}),
    "G0009": frozenset({"90471", "90472"}),
    "G0010": frozenset({"90471", "90472"}),
    "G0104": frozenset({"45330"}),
    "G0105": frozenset({"45378"}),
    "G0121": frozenset({"45378"}),
}


def _same_em_family(first: str, second: str) -> bool:
    return any(first in family and second in family for family in _EM_FAMILIES)


def _payer_equivalent(reported: str, key_code: str) -> bool:
    return reported in _PAYER_EQUIVALENTS.get(key_code, ()) or key_code in (
        _PAYER_EQUIVALENTS.get(reported, ())
    )


def _procedure_near_misses(
    plan: _KeyPlan,
    entries: list[Entry],
    candidates: list[int],
    matched: list[int],
    reported_at: list[int],
) -> tuple[list[tuple[int, FindingKind] | None], list[int]]:
    """Per answer line, the unmatched required key line it is a near miss of (an E/M code
    at another level of the same family, or the other payer's code for the service) and
    which kind; per key line, the answer line standing for it (-1: none)."""
    near: list[tuple[int, FindingKind] | None] = [None] * len(entries)
    near_at = [-1] * len(plan.procedures)
    for j in candidates:
        if matched[j] >= 0:
            continue
        code = entries[j].code or ""
        for k, key_line in enumerate(plan.procedures):
            if key_line.optional or reported_at[k] >= 0 or near_at[k] >= 0:
                continue
            key_code = key_line.accepted[0]
            if _same_em_family(code, key_code):
                near[j], near_at[k] = (k, FindingKind.LEVEL_MISMATCH), j
                break
            if _payer_equivalent(code, key_code):
                near[j], near_at[k] = (k, FindingKind.PAYER_CODE), j
                break
    return near, near_at


def _is_external_cause(code: str) -> bool:
    """ICD-10-CM Chapter 20, External causes of morbidity (V00-Y99)."""
    return code[:1] in ("V", "W", "X", "Y")


_X_MODIFIERS = frozenset({"XE", "XS", "XP", "XU"})


def _x_modifier_for_59(modifiers: Sequence[str], key_modifiers: frozenset[str]) -> str:
    """The X modifier reported where the key has 59 (and not that X modifier), or ""."""
    if "59" not in key_modifiers or "59" in modifiers:
        return ""
    for modifier in modifiers:
        if modifier in _X_MODIFIERS and modifier not in key_modifiers:
            return modifier
    return ""


def _closeness(line: _KeyDiagnosis, code: str) -> int:
    return max(common_prefix(accepted, code) for accepted in line.accepted)


def _detail_distance(
    key_line: _KeyProcedure, modifiers: tuple[str, ...], line: AnswerProcedure
) -> tuple[bool, bool, bool]:
    """Sort key preferring, among key lines with the same code, the required line whose
    modifiers and then units agree with the reported line."""
    return (
        key_line.optional,
        frozenset(modifiers) != key_line.modifier_set,
        line.units != key_line.units,
    )


# Graders are reused per catalog object and policy so that module-level ``grade`` calls
# keep their memo tables. A few are kept (first in, first out); each holds its catalog,
# which must not change while it is graded against (build a new catalog instead, as
# ReleaseLibrary.for_date does).
_GRADERS: dict[tuple[int, ScoringPolicy], Grader] = {}
_GRADER_LIMIT = 8


def grader_for(catalog: Catalog, policy: ScoringPolicy = DEFAULT_POLICY) -> Grader:
    """The memoising grader for this catalog and policy, created on first use."""
    slot = (id(catalog), policy)
    grader = _GRADERS.get(slot)
    if grader is None:
        if len(_GRADERS) >= _GRADER_LIMIT:
            del _GRADERS[next(iter(_GRADERS))]
        grader = _GRADERS[slot] = Grader(catalog, policy)
    return grader


def grade(
    *,
    key: AnswerKey,
    answer: AnswerSheet,
    encounter: Encounter,
    catalog: Catalog,
    policy: ScoringPolicy = DEFAULT_POLICY,
) -> GradeResult:
    """Grade one answer sheet against one key on the encounter's date of service.

    ``catalog`` must answer for the releases in force on ``encounter.date_of_service``
    (``ReleaseLibrary.for_date`` or the Django equivalent selects it).
    """
    return grader_for(catalog, policy).grade(key, answer, encounter)
