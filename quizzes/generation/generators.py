"""Exercise generators: seven ways to practise on one library encounter.

Each generator reads an encounter and the catalog in force on its date of service and
returns :class:`Exercise` values; nothing is random except through a
``random.Random`` seeded from (seed, encounter id, exercise type), so the same seed
always gives the same exercises and one type's draws never shift another's. Answers
come from the signed key, distractors and planted errors from the catalog (real,
billable codes), and every explanation quotes the key's ``why``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from codesets.domain.catalog import AGE_RANGES, Catalog, CodeInfo, ancestors
from codesets.domain.shapes import procedure_system
from codesets.domain.systems import System
from quizzes.generation.answers import (
    AUDIT,
    BEST_CODE,
    CODE_FAMILY,
    FULL_CODING,
    LINKAGE,
    SEQUENCING,
    SPECIFICITY,
    Json,
    ResponseError,
    apply_audit_fixes,
    key_to_contract,
    linked,
    procedure_labels,
    procedure_to_contract,
    reordered,
    sheet_from_contract,
    sheet_to_contract,
    substituted,
)
from quizzes.generation.distractors import (
    EXCLUDES1,
    LATERALITY,
    REASONS,
    SEVENTH_CHARACTER,
    SIBLING,
    UNSPECIFIED,
    NearMiss,
    fits_patient,
    laterality_twin,
    near_misses,
)
from quizzes.generation.encounters import EncounterSpec
from quizzes.generation.validation import key_answer_sheet
from quizzes.grading.types import AnswerProcedure, AnswerSheet

EXERCISE_TYPES = (FULL_CODING, BEST_CODE, CODE_FAMILY, SPECIFICITY, SEQUENCING, LINKAGE, AUDIT)
DISTRACTORS_PER_ITEM = 3
FAMILY_CHOICES = (System.ICD10CM.value, System.CPT.value, System.HCPCS.value)

# Audit error kinds, in the order they are planted (sequence first: it moves lines).
WRONG_SEQUENCE = "wrong_sequence"
WRONG_LATERALITY = "wrong_laterality"
MISSING_SEVENTH = "missing_seventh_character"
MISSING_MODIFIER = "missing_modifier"
UNSUPPORTED_CODE = "unsupported_code"
AUDIT_ERRORS = (
    WRONG_SEQUENCE,
    WRONG_LATERALITY,
    MISSING_SEVENTH,
    MISSING_MODIFIER,
    UNSUPPORTED_CODE,
)
MAX_PLANTED_ERRORS = 3

# Categories of common conditions a sloppy claim picks up from a problem list without
# documentation for this visit (reflux, low back pain, hyperlipidaemia, rhinitis,
# migraine, constipation, acne, urinary tract disorders, anxiety, refraction, vitamin D
# deficiency, dermatophytosis): believable extras, never near misses of the key.
UNSUPPORTED_CATEGORIES = (
    "K21", "M54", "E78", "J30", "G43", "K59", "L70", "N39", "F41", "H52", "E55", "B35",
)  # fmt: skip

_UNSPECIFIED_WORD = re.compile(r"\bunspecified\b", re.IGNORECASE)
_REASON_WORDS = {
    LATERALITY: "the other side",
    SEVENTH_CHARACTER: "another encounter or healing stage (7th character)",
    UNSPECIFIED: "less specific than the documentation",
    SIBLING: "a different condition or site in the same subcategory",
    EXCLUDES1: "a condition an Excludes1 note separates from this one",
}
_FAMILY_FACTS = {
    System.ICD10CM: "ICD-10-CM codes report diagnoses and reasons for encounters: a letter, "
    "two more characters, then up to four after the dot.",
    System.CPT: "CPT codes report services and procedures: five digits (Category I), or "
    "four digits and F (Category II) or T (Category III).",
    System.HCPCS: "HCPCS Level II codes report supplies, drugs, equipment and services "
    "CPT does not describe: a letter followed by four digits.",
}


@dataclass(frozen=True, slots=True)
class Exercise:
    """One generated exercise. ``line`` names the key line it is about (empty for
    whole-claim types); ``claim`` is the planted claim of an audit exercise."""

    encounter: str
    type: str
    prompt: str
    answer: Json
    explanation: str
    choices: tuple[str, ...] = ()
    line: str = ""
    claim: AnswerSheet | None = None

    def as_json(self) -> dict[str, Json]:
        """The ``generate_exercises`` contract shape, plus the explanation (and, for an
        audit, the claim to audit)."""
        data: dict[str, Json] = {
            "encounter": self.encounter,
            "type": self.type,
            "prompt": self.prompt,
            "choices": list(self.choices),
            "answer": self.answer,
            "explanation": self.explanation,
        }
        if self.claim is not None:
            data["claim"] = sheet_to_contract(self.claim)
        return data


Generator = Callable[[EncounterSpec, Catalog, random.Random], Iterator[Exercise]]


def generate(
    spec: EncounterSpec, catalog: Catalog, *, types: Iterable[str] = EXERCISE_TYPES, seed: int
) -> list[Exercise]:
    """The exercises of ``types`` (in the order given) that ``spec`` supports.

    ``catalog`` answers for the encounter's date of service. Raises ValueError for an
    unknown type.
    """
    wanted = list(types)
    unknown = [name for name in wanted if name not in _GENERATORS]
    if unknown:
        raise ValueError(
            f"unknown exercise type(s) {', '.join(unknown)}; "
            f"known types are {', '.join(EXERCISE_TYPES)}"
        )
    exercises: list[Exercise] = []
    for name in wanted:
        rng = random.Random(f"{seed}|{spec.id}|{name}")
        exercises.extend(_GENERATORS[name](spec, catalog, rng))
    return exercises


def exercise_answer_sheet(
    exercise: Exercise, spec: EncounterSpec, response: Json | None = None
) -> AnswerSheet | None:
    """The whole claim a response to ``exercise`` amounts to (the exercise's own answer
    when ``response`` is None), ready for the grading engine.

    None for ``code_family``: naming a code set is a fact about the code, not a claim.
    Raises ResponseError when the response has the wrong shape for the type.
    """
    given = exercise.answer if response is None else response
    key = spec.key
    if exercise.type == FULL_CODING:
        return sheet_from_contract(given)
    if exercise.type in (BEST_CODE, SPECIFICITY):
        if not isinstance(given, str):
            raise ResponseError(f"a {exercise.type} answer is one code")
        return substituted(key, _line_index(exercise.line), given)
    if exercise.type == SEQUENCING:
        if not isinstance(given, list) or not all(isinstance(code, str) for code in given):
            raise ResponseError("a sequencing answer is a list of codes")
        return reordered(key_answer_sheet(key), [str(code) for code in given])
    if exercise.type == LINKAGE:
        if not isinstance(given, dict):
            raise ResponseError("a linkage answer maps procedure lines to diagnosis codes")
        return linked(key, given)
    if exercise.type == AUDIT:
        if exercise.claim is None:
            raise ResponseError("an audit exercise carries the claim it audits")
        return apply_audit_fixes(exercise.claim, given)
    return None


# ---------------------------------------------------------------------------- types


def full_coding(spec: EncounterSpec, catalog: Catalog, rng: random.Random) -> Iterator[Exercise]:
    """Code the whole encounter; graded by the engine against the key."""
    reasons = [
        f"{line.code}: {text.why}"
        for line, text in zip(spec.key.diagnoses, spec.diagnosis_text, strict=True)
    ] + [
        f"{_procedure_text(line.code, line.modifiers)}: {text.why}"
        for line, text in zip(spec.key.procedures, spec.procedure_text, strict=True)
    ]
    yield Exercise(
        encounter=spec.id,
        type=FULL_CODING,
        prompt=(
            "Code this encounter: the ICD-10-CM diagnoses in reporting order, then each "
            "CPT or HCPCS Level II line with its modifiers, units and diagnosis pointers.\n\n"
            + _case_text(spec)
        ),
        answer=key_to_contract(spec.key),
        explanation="\n".join(reasons),
    )


def best_code(spec: EncounterSpec, catalog: Catalog, rng: random.Random) -> Iterator[Exercise]:
    """Pick the best code for one documented condition among near misses.

    Conditions with fewer than three real near misses are skipped rather than padded.
    """
    accepted = {code for line in spec.key.diagnoses for code in line.accepted}
    for index, (line, text) in enumerate(zip(spec.key.diagnoses, spec.diagnosis_text, strict=True)):
        if not text.documented_as:
            continue
        misses = near_misses(catalog, line.code, patient=spec.patient, exclude=accepted)
        chosen = _pick_distractors(misses, rng)
        if chosen is None:
            continue
        choices = [line.code, *(miss.info.code for miss in chosen)]
        rng.shuffle(choices)
        wrong = "\n".join(
            f"{miss.info.code} ({miss.info.description}) is {_REASON_WORDS[miss.reason]}."
            for miss in chosen
        )
        yield Exercise(
            encounter=spec.id,
            type=BEST_CODE,
            prompt=(f'Which code best reports "{text.documented_as}"?\n\n' + _case_text(spec)),
            answer=line.code,
            explanation=f"{line.code}: {text.why}\n{wrong}",
            choices=tuple(choices),
            line=f"key.diagnoses[{index}]",
        )


def code_family(spec: EncounterSpec, catalog: Catalog, rng: random.Random) -> Iterator[Exercise]:
    """Name the code set of one key code, for each code set the key uses."""
    by_family: dict[System, list[tuple[str, str, str]]] = {}
    for index, (line, text) in enumerate(zip(spec.key.diagnoses, spec.diagnosis_text, strict=True)):
        by_family.setdefault(System.ICD10CM, []).append(
            (line.code, f"key.diagnoses[{index}]", text.why)
        )
    for index, (procedure, text) in enumerate(
        zip(spec.key.procedures, spec.procedure_text, strict=True)
    ):
        system = procedure_system(procedure.code)
        if system is not None:
            by_family.setdefault(system, []).append(
                (procedure.code, f"key.procedures[{index}]", text.why)
            )
    for system in System:
        if system not in by_family:
            continue
        code, where, why = rng.choice(by_family[system])
        info = catalog.get(system, code)
        description = info.description if info is not None else ""
        yield Exercise(
            encounter=spec.id,
            type=CODE_FAMILY,
            prompt=f'Which code set does {code} belong to? Its description: "{description}".',
            answer=system.value,
            explanation=f"{_FAMILY_FACTS[system]} {code}: {why}",
            choices=FAMILY_CHOICES,
            line=where,
        )


def specificity(spec: EncounterSpec, catalog: Catalog, rng: random.Random) -> Iterator[Exercise]:
    """Complete a required diagnosis from its heading: laterality, 7th character and
    the other characters the note supports. Headings with one completion are skipped."""
    for index, (line, text) in enumerate(zip(spec.key.diagnoses, spec.diagnosis_text, strict=True)):
        if line.optional:
            continue
        info = catalog.get(System.ICD10CM, line.code)
        if info is None:
            continue
        header = _specificity_header(catalog, info)
        if header is None or _billable_below(catalog, header.code, limit=2) < 2:
            continue
        subject = text.documented_as or "the condition the note documents"
        yield Exercise(
            encounter=spec.id,
            type=SPECIFICITY,
            prompt=(
                f'Complete the code for "{subject}": {_blanks(header.code, line.code)}\n'
                f"({header.code}: {header.description})\n\n" + _case_text(spec)
            ),
            answer=line.code,
            explanation=f"{line.code} ({info.description}): {text.why}",
            line=f"key.diagnoses[{index}]",
        )


def sequencing(spec: EncounterSpec, catalog: Catalog, rng: random.Random) -> Iterator[Exercise]:
    """Order the key's required diagnoses; needs two or more of them."""
    required = [
        (line, text)
        for line, text in zip(spec.key.diagnoses, spec.diagnosis_text, strict=True)
        if not line.optional
    ]
    if len(required) < 2:
        return
    ordered = [line.code for line, _ in required]
    shuffled = list(ordered)
    rng.shuffle(shuffled)
    if shuffled == ordered:
        shuffled = shuffled[1:] + shuffled[:1]
    first, first_text = required[0]
    others = "\n".join(f"{line.code}: {text.why}" for line, text in required[1:])
    yield Exercise(
        encounter=spec.id,
        type=SEQUENCING,
        prompt=(
            "Put these diagnoses in reporting order, the first-listed (the main reason "
            f"for this encounter) first: {', '.join(shuffled)}.\n\n" + _case_text(spec)
        ),
        answer=list(ordered),
        explanation=f"{first.code} is listed first: {first_text.why}\n{others}",
        choices=tuple(shuffled),
    )


def linkage(spec: EncounterSpec, catalog: Catalog, rng: random.Random) -> Iterator[Exercise]:
    """Match each procedure or supply line to the diagnoses that justify it."""
    key = spec.key
    labels = procedure_labels(key.procedures)
    linked_lines = [
        (label, line, text)
        for label, line, text in zip(labels, key.procedures, spec.procedure_text, strict=True)
        if line.dx_pointers
    ]
    if len(key.diagnoses) < 2 or not linked_lines:
        return
    answer: dict[str, Json] = {
        label: [key.diagnoses[pointer - 1].code for pointer in line.dx_pointers]
        for label, line, _ in linked_lines
    }
    listing = "\n".join(
        f"- {label}: {_description(catalog, line.code)}" for label, line, _ in linked_lines
    )
    yield Exercise(
        encounter=spec.id,
        type=LINKAGE,
        prompt=(
            "Link each line to the diagnosis code(s) that show it was medically necessary. "
            f"Diagnoses on the claim: {', '.join(line.code for line in key.diagnoses)}.\n"
            f"{listing}\n\n" + _case_text(spec)
        ),
        answer=answer,
        explanation="\n".join(f"{label}: {text.why}" for label, _, text in linked_lines),
        choices=tuple(line.code for line in key.diagnoses),
    )


def audit(spec: EncounterSpec, catalog: Catalog, rng: random.Random) -> Iterator[Exercise]:
    """Find one to three errors planted in the key's own claim and give the fixes."""
    planter = _AuditPlanter(spec, catalog, rng)
    available = [kind for kind in AUDIT_ERRORS if planter.candidates(kind)]
    if not available:
        return
    count = rng.randint(1, min(MAX_PLANTED_ERRORS, len(available)))
    chosen = set(rng.sample(available, count))
    for kind in AUDIT_ERRORS:
        if kind in chosen:
            planter.plant(kind)
    claim = planter.claim()
    yield Exercise(
        encounter=spec.id,
        type=AUDIT,
        prompt=(
            "Audit this claim against the note. For each wrong line give the line and its "
            "fix (null to delete the line).\n\n" + _claim_text(claim) + "\n\n" + _case_text(spec)
        ),
        answer=planter.answer(),
        explanation="\n".join(planter.explanations),
        claim=claim,
    )


_GENERATORS: dict[str, Generator] = {
    FULL_CODING: full_coding,
    BEST_CODE: best_code,
    CODE_FAMILY: code_family,
    SPECIFICITY: specificity,
    SEQUENCING: sequencing,
    LINKAGE: linkage,
    AUDIT: audit,
}


# ---------------------------------------------------------------------------- audit


class _AuditPlanter:
    """Plants errors into the key's claim, one line each, and records the fixes."""

    def __init__(self, spec: EncounterSpec, catalog: Catalog, rng: random.Random) -> None:
        self.spec = spec
        self.catalog = catalog
        self.rng = rng
        base = key_answer_sheet(spec.key)
        self.diagnoses = list(base.diagnoses)
        self.procedures = list(base.procedures)
        self.touched: set[str] = set()
        self.fixes: list[tuple[int, int, dict[str, Json]]] = []
        self.explanations: list[str] = []

    def candidates(self, kind: str) -> list[int]:
        """Key line indices where ``kind`` can be planted (one fake index for extras)."""
        key = self.spec.key
        if kind == WRONG_SEQUENCE:
            first_two = key.diagnoses[:2]
            return [0] if len(first_two) == 2 and not any(d.optional for d in first_two) else []
        if kind == WRONG_LATERALITY:
            return [i for i, line in enumerate(key.diagnoses) if self._twin(i) is not None]
        if kind == MISSING_SEVENTH:
            return [i for i, line in enumerate(key.diagnoses) if self._stem(line.code)]
        if kind == MISSING_MODIFIER:
            return [i for i, line in enumerate(key.procedures) if line.modifiers]
        return [0] if self._unsupported_pool() else []

    def plant(self, kind: str) -> None:
        if kind == UNSUPPORTED_CODE:
            self._plant_unsupported()
            return
        free = [
            index
            for index in self.candidates(kind)
            if self._line_name(kind, index) not in self.touched
            and not (kind == WRONG_SEQUENCE and self.touched & {"diagnoses[0]", "diagnoses[1]"})
        ]
        if not free:
            return
        index = self.rng.choice(free)
        if kind == WRONG_SEQUENCE:
            self._plant_sequence()
        elif kind == WRONG_LATERALITY:
            self._plant_laterality(index)
        elif kind == MISSING_SEVENTH:
            self._plant_seventh(index)
        else:
            self._plant_modifier(index)

    def claim(self) -> AnswerSheet:
        return AnswerSheet(diagnoses=tuple(self.diagnoses), procedures=tuple(self.procedures))

    def answer(self) -> list[Json]:
        return [fix for _, _, fix in sorted(self.fixes, key=lambda item: item[:2])]

    # --- planting --------------------------------------------------------------

    def _plant_sequence(self) -> None:
        first, second = self.diagnoses[0], self.diagnoses[1]
        self.diagnoses[0], self.diagnoses[1] = second, first
        swap = {1: 2, 2: 1}
        self.procedures = [
            _repointed(line, tuple(swap.get(p, p) for p in line.dx_pointers))
            for line in self.procedures
        ]
        self.touched |= {"diagnoses[0]", "diagnoses[1]"}
        why = self.spec.diagnosis_text[0].why
        self._record(
            0, 0, "diagnoses[0]", WRONG_SEQUENCE, second, first,
            f"{first} must be listed first and {second} second: {why}",
        )  # fmt: skip

    def _plant_laterality(self, index: int) -> None:
        key_code = self.diagnoses[index]
        twin = self._twin(index)
        assert twin is not None  # candidates() only offers lines with a twin
        self.diagnoses[index] = twin.code
        line = f"diagnoses[{index}]"
        self.touched.add(line)
        self._record(
            0, index, line, WRONG_LATERALITY, twin.code, key_code,
            f"{twin.code} ({twin.description}) is the wrong side; the note supports "
            f"{key_code} ({_description(self.catalog, key_code)}).",
        )  # fmt: skip

    def _plant_seventh(self, index: int) -> None:
        key_code = self.diagnoses[index]
        stem = key_code[:-1]
        self.diagnoses[index] = stem
        line = f"diagnoses[{index}]"
        self.touched.add(line)
        self._record(
            0, index, line, MISSING_SEVENTH, stem, key_code,
            f"{stem} cannot be reported without its 7th character: {key_code}. "
            f"{self.spec.diagnosis_text[index].why}",
        )  # fmt: skip

    def _plant_modifier(self, index: int) -> None:
        key_line = self.procedures[index]
        # The fix is the key's own line: its pointers refer to the corrected diagnoses.
        fixed = self.spec.key.procedures[index]
        dropped = self.rng.choice(key_line.modifiers)
        kept = tuple(m for m in key_line.modifiers if m != dropped)
        self.procedures[index] = AnswerProcedure(
            code=key_line.code,
            modifiers=kept,
            units=key_line.units,
            dx_pointers=key_line.dx_pointers,
        )
        line = f"procedures[{index}]"
        self.touched.add(line)
        self._record(
            1, index, line, MISSING_MODIFIER,
            procedure_to_contract(self.procedures[index]),
            procedure_to_contract(
                AnswerProcedure(
                    code=fixed.code,
                    modifiers=fixed.modifiers,
                    units=fixed.units,
                    dx_pointers=fixed.dx_pointers,
                )
            ),
            f"{key_line.code} needs modifier {dropped}: {self.spec.procedure_text[index].why}",
        )  # fmt: skip

    def _plant_unsupported(self) -> None:
        pool = self._unsupported_pool()
        extra = self.rng.choice(pool)
        index = len(self.diagnoses)
        self.diagnoses.append(extra.code)
        line = f"diagnoses[{index}]"
        self.touched.add(line)
        self._record(
            0, index, line, UNSUPPORTED_CODE, extra.code, None,
            f"{extra.code} ({extra.description}) is not documented in this note: delete it.",
        )  # fmt: skip

    def _record(
        self,
        list_order: int,
        index: int,
        line: str,
        error: str,
        reported: Json,
        fix: Json,
        message: str,
    ) -> None:
        self.fixes.append(
            (
                list_order,
                index,
                {
                    "line": line,
                    "error": error,
                    "reported": reported,
                    "fix": fix,
                    "message": message,
                },
            )
        )
        self.explanations.append(f"{line}: {message}")

    # --- lookups ---------------------------------------------------------------

    def _line_name(self, kind: str, index: int) -> str:
        return f"procedures[{index}]" if kind == MISSING_MODIFIER else f"diagnoses[{index}]"

    def _twin(self, index: int) -> CodeInfo | None:
        line = self.spec.key.diagnoses[index]
        if line.optional:
            return None
        info = self.catalog.get(System.ICD10CM, line.code)
        if info is None:
            return None
        twin = laterality_twin(self.catalog, info)
        taken = {code for other in self.spec.key.diagnoses for code in other.accepted}
        return twin if twin is not None and twin.code not in taken else None

    def _stem(self, code: str) -> bool:
        """True for a 7-character code whose first six characters are a code that needs
        the 7th (S93.491 for S93.491A): the dropped character is then a real mistake."""
        if len(code.replace(".", "")) != 7:
            return False
        stem = self.catalog.get(System.ICD10CM, code[:-1])
        return stem is not None and stem.needs_seventh and not stem.billable

    def _unsupported_pool(self) -> list[CodeInfo]:
        used = {
            code.replace(".", "")[:3] for line in self.spec.key.diagnoses for code in line.accepted
        }
        pool: list[CodeInfo] = []
        for category in UNSUPPORTED_CATEGORIES:
            if category in used:
                continue
            pool.extend(
                info
                for info in _billable_descendants(self.catalog, category)
                # Unspecified codes are what a problem list carries over unexamined.
                if _UNSPECIFIED_WORD.search(info.description)
                and fits_patient(info, self.spec.patient)
                and not info.manifestation
            )
        return pool


# ---------------------------------------------------------------------------- helpers


def _pick_distractors(misses: Sequence[NearMiss], rng: random.Random) -> list[NearMiss] | None:
    """Three distractors: one per reason (the other side first, when there is one),
    then any other near misses; None when fewer than three exist."""
    if len(misses) < DISTRACTORS_PER_ITEM:
        return None
    others = [reason for reason in REASONS if reason != LATERALITY]
    rng.shuffle(others)
    chosen: list[NearMiss] = []
    for reason in (LATERALITY, *others):
        bucket = [miss for miss in misses if miss.reason == reason]
        if bucket and len(chosen) < DISTRACTORS_PER_ITEM:
            chosen.append(rng.choice(bucket))
    rest = [miss for miss in misses if miss not in chosen]
    while len(chosen) < DISTRACTORS_PER_ITEM:
        pick = rng.choice(rest)
        rest.remove(pick)
        chosen.append(pick)
    return chosen


def _specificity_header(catalog: Catalog, info: CodeInfo) -> CodeInfo | None:
    """The nearest ancestor at least two characters shorter than the code (at most the
    category): the heading a coder starts from in the tabular."""
    length = len(info.code.replace(".", ""))
    if length <= 3:
        return None
    header: CodeInfo | None = None
    for ancestor in ancestors(catalog, System.ICD10CM, info.code):
        header = ancestor
        if len(ancestor.code.replace(".", "")) <= length - 2:
            break
    return header


def _billable_below(catalog: Catalog, code: str, *, limit: int) -> int:
    count = 0
    for _ in _billable_descendants(catalog, code):
        count += 1
        if count >= limit:
            break
    return count


def _billable_descendants(catalog: Catalog, code: str) -> Iterator[CodeInfo]:
    stack = list(reversed(catalog.children(System.ICD10CM, code)))
    while stack:
        current = stack.pop()
        info = catalog.get(System.ICD10CM, current)
        if info is None:
            continue
        if info.billable:
            yield info
        stack.extend(reversed(catalog.children(System.ICD10CM, current)))


def _blanks(header: str, code: str) -> str:
    missing = len(code.replace(".", "")) - len(header.replace(".", ""))
    dot = "." if len(header) == 3 else ""
    return header + dot + " ".join("_" * missing)


def _line_index(line: str) -> int:
    try:
        return int(line.rsplit("[", 1)[1].rstrip("]"))
    except (IndexError, ValueError):
        raise ResponseError(f"the exercise names no key line ({line!r})") from None


def _repointed(line: AnswerProcedure, pointers: tuple[int, ...]) -> AnswerProcedure:
    return AnswerProcedure(
        code=line.code, modifiers=line.modifiers, units=line.units, dx_pointers=pointers
    )


def _description(catalog: Catalog, code: str) -> str:
    system = procedure_system(code) or System.ICD10CM
    info = catalog.get(system, code) or catalog.get(System.ICD10CM, code)
    return info.description if info is not None else code


def _procedure_text(code: str, modifiers: Sequence[str]) -> str:
    return "-".join((code, *modifiers))


def _case_text(spec: EncounterSpec) -> str:
    patient = spec.patient
    sex = {"F": "female", "M": "male"}.get(patient.sex or "", "")
    age = (
        "newborn"
        if patient.age_years <= AGE_RANGES["newborn"][1]
        else f"{patient.age_years}-year-old"
    )
    return (
        f"{spec.title}\nSetting: {spec.setting}. Date of service: "
        f"{spec.date_of_service.isoformat()}. Patient: {age} {sex}.\n\n{spec.note.rstrip()}"
    )


def _claim_text(claim: AnswerSheet) -> str:
    lines = ["Claim", "Diagnoses:"]
    lines += [f"  diagnoses[{i}] {code}" for i, code in enumerate(claim.diagnoses)]
    lines.append("Procedures and supplies:")
    for index, line in enumerate(claim.procedures):
        modifiers = ", ".join(line.modifiers) or "none"
        pointers = ", ".join(str(p) for p in line.dx_pointers) or "none"
        lines.append(
            f"  procedures[{index}] {line.code}  modifiers: {modifiers}  units: {line.units}  "
            f"pointers: {pointers}"
        )
    return "\n".join(lines)
