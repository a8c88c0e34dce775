"""The fair-scoring principles (docs/decisions/0010-fair-scoring.md) as properties over
the encounter library's keys and generated answers, plus the examples that motivated
them, graded against the full April 2026 release."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesets.domain.catalog import InMemoryCatalog
from codesets.domain.systems import System
from quizzes.generation.encounters import EncounterSpec, bundled_library_path, load_library
from quizzes.generation.validation import key_answer_sheet
from quizzes.grading.engine import grade
from quizzes.grading.kinds import FindingKind, LineList
from quizzes.grading.policy import DEFAULT_POLICY, line_weight
from quizzes.grading.types import (
    AnswerKey,
    AnswerProcedure,
    AnswerSheet,
    Encounter,
    GradeResult,
    KeyDiagnosis,
    KeyProcedure,
    Patient,
)

LIBRARY = load_library(bundled_library_path())
PROPERTY = settings(max_examples=150, deadline=None)
# Codes an answer may add: manifestation codes, Excludes1 partners of common keys,
# symptoms, unrelated conditions, external causes and invalid texts.
EXTRAS = [
    "G63", "E11.9", "E10.9", "R50.9", "R07.89", "J02.9", "I10", "N39.0", "Z79.4",
    "W19.XXXA", "Y92.009", "Y93.01", "Y99.8", "J02", "S52.532", "zz", "99213",
]  # fmt: skip


def graded(spec: EncounterSpec, answer: AnswerSheet, catalog: InMemoryCatalog) -> GradeResult:
    return grade(key=spec.key, answer=answer, encounter=spec.encounter(), catalog=catalog)


def required_lines(spec: EncounterSpec) -> list[int]:
    return [i for i, line in enumerate(spec.key.diagnoses) if not line.optional]


def attempts_at(code: str) -> list[str]:
    """Texts a learner types when aiming at ``code``: without its 7th character, with
    the last character changed, two neighbours swapped, cut back to its category."""
    flat = code.replace(".", "")
    texts = [code[:3]]
    if len(flat) == 7:
        texts.append(code[:-1])
    texts.append(code[:-1] + ("9" if code[-1] != "9" else "8"))
    if len(flat) >= 5:
        swapped = flat[:3] + flat[4] + flat[3] + flat[5:]
        texts.append(swapped)
    return texts


def without_line(answer: AnswerSheet, index: int) -> AnswerSheet:
    """The answer with diagnosis ``index`` left out, pointers to it dropped."""
    diagnoses = answer.diagnoses[:index] + answer.diagnoses[index + 1 :]
    procedures = tuple(
        dataclasses.replace(
            line,
            dx_pointers=tuple(
                p - 1 if p > index + 1 else p for p in line.dx_pointers if p != index + 1
            ),
        )
        for line in answer.procedures
    )
    return AnswerSheet(diagnoses=diagnoses, procedures=procedures)


def with_line(answer: AnswerSheet, index: int, text: str) -> AnswerSheet:
    diagnoses = list(answer.diagnoses)
    diagnoses[index] = text
    return AnswerSheet(diagnoses=tuple(diagnoses), procedures=answer.procedures)


specs_with_required = [spec for spec in LIBRARY if required_lines(spec)]


@PROPERTY
@given(data=st.data())
def test_an_attempt_at_a_key_line_never_scores_below_leaving_it_out(data, full_catalog):
    spec = data.draw(st.sampled_from(specs_with_required), label="encounter")
    index = data.draw(st.sampled_from(required_lines(spec)), label="line")
    code = spec.key.diagnoses[index].code
    text = data.draw(st.sampled_from(attempts_at(code)))
    other = full_catalog.get(System.ICD10CM, text)
    if other is not None and other.billable and text[:3] != code[:3]:
        return  # a valid code of another category is a wrong code, not an attempt
    perfect = key_answer_sheet(spec.key)
    attempt = graded(spec, with_line(perfect, index, text), full_catalog)
    omitted = graded(spec, without_line(perfect, index), full_catalog)
    assert attempt.score >= omitted.score - 1e-9, (spec.id, text, attempt.findings)


@PROPERTY
@given(data=st.data())
def test_no_answer_line_costs_more_than_it_is_worth_times_the_cap(data, full_catalog):
    spec = data.draw(st.sampled_from(LIBRARY), label="encounter")
    added = data.draw(st.lists(st.sampled_from(EXTRAS), max_size=4), label="extras")
    first = data.draw(st.booleans(), label="extras first")
    perfect = key_answer_sheet(spec.key)
    diagnoses = (*added, *perfect.diagnoses) if first else (*perfect.diagnoses, *added)
    shift = len(added) if first else 0
    procedures = tuple(
        dataclasses.replace(line, dx_pointers=tuple(p + shift for p in line.dx_pointers))
        for line in perfect.procedures
    )
    result = graded(spec, AnswerSheet(diagnoses=diagnoses, procedures=procedures), full_catalog)
    costs: dict[str, float] = {}
    for finding in result.findings:
        if finding.line.list in (LineList.DIAGNOSES, LineList.PROCEDURES):
            costs[str(finding.line)] = costs.get(str(finding.line), 0.0) + min(finding.points, 0)
    for line, cost in costs.items():
        weight = line_weight(DEFAULT_POLICY, LineList(line.split("[")[0]))
        assert -cost <= DEFAULT_POLICY.line_cap * weight + 1e-6, (spec.id, line, result.findings)
    # A present key code never scores 0.
    assert result.score > 0, (spec.id, added)


@PROPERTY
@given(data=st.data())
def test_an_unkeyed_external_cause_code_costs_nothing(data, full_catalog):
    spec = data.draw(st.sampled_from(LIBRARY), label="encounter")
    chapter_20 = sorted(
        code
        for code, info in full_catalog.entries[System.ICD10CM].items()
        if code[:1] in "VWXY" and info.billable and code[:3] in {"W19", "W01", "Y92", "Y93", "Y99"}
    )
    code = data.draw(st.sampled_from(chapter_20), label="external cause")
    if any(accepted[:3] == code[:3] for line in spec.key.diagnoses for accepted in line.accepted):
        return  # a near miss of a key line, graded as one
    perfect = key_answer_sheet(spec.key)
    answer = AnswerSheet(diagnoses=(*perfect.diagnoses, code), procedures=perfect.procedures)
    result = graded(spec, answer, full_catalog)
    assert result.percent == 100.0, (spec.id, code, result.findings)
    (added,) = [f for f in result.findings if f.code == code]
    assert added.advisory
    assert "not in the answer key" in added.message or "optional line" in added.message


# --- the examples that motivated the principles --------------------------------------

DAY = dt.date(2026, 5, 2)
FRACTURE = AnswerKey(
    diagnoses=(KeyDiagnosis("S52.532A"),),
    procedures=(
        KeyProcedure("99203", modifiers=("57",), dx_pointers=(1,)),
        KeyProcedure("25600", modifiers=("LT",), dx_pointers=(1,)),
        KeyProcedure("73110", modifiers=("LT",), dx_pointers=(1,)),
        KeyProcedure("Q4010", dx_pointers=(1,)),
    ),
)


def fracture_answer(diagnoses: tuple[str, ...]) -> AnswerSheet:
    return AnswerSheet(
        diagnoses=diagnoses,
        procedures=tuple(
            AnswerProcedure(line.code, line.modifiers, line.units, line.dx_pointers)
            for line in FRACTURE.procedures
        ),
    )


def fracture(diagnoses: tuple[str, ...], catalog: InMemoryCatalog) -> GradeResult:
    encounter = Encounter(DAY, Patient(67, "F"))
    return grade(key=FRACTURE, answer=fracture_answer(diagnoses), encounter=encounter,
                 catalog=catalog)  # fmt: skip


def test_a_missing_7th_character_is_counted_once_not_on_every_pointer(full_catalog):
    omitted = fracture((), full_catalog).percent
    no_seventh = fracture(("S52.532",), full_catalog)
    typo = fracture(("S52.523A",), full_catalog)
    wrong_seventh = fracture(("S52.532D",), full_catalog).percent
    assert omitted <= no_seventh.percent < wrong_seventh
    assert omitted <= typo.percent < wrong_seventh
    assert not any(f.kind is FindingKind.LINKAGE_ERROR for f in no_seventh.findings)


def test_stacked_findings_on_one_line_cost_at_most_its_cap(full_catalog):
    key = AnswerKey(diagnoses=(KeyDiagnosis("E11.42"),))
    answer = AnswerSheet(diagnoses=("G63", "E11.42"))
    result = grade(key=key, answer=answer, encounter=Encounter(DAY, Patient(60, "M")),
                   catalog=full_catalog)  # fmt: skip
    assert result.percent == 50.0
    # The Excludes1 conflict is charged to the code that was added, not the key code.
    (conflict,) = [f for f in result.findings if f.kind is FindingKind.EXCLUDES1_CONFLICT]
    assert conflict.code == "G63"


@pytest.mark.parametrize(
    ("key_code", "reported", "kind", "words"),
    [
        ("99213", "99214", FindingKind.LEVEL_MISMATCH, "wrong level"),
        ("G0008", "90471", FindingKind.PAYER_CODE, "requires G0008"),
    ],
)
def test_procedure_near_misses_name_the_real_error(key_code, reported, kind, words, full_catalog):
    key = AnswerKey(
        diagnoses=(KeyDiagnosis("Z23"),), procedures=(KeyProcedure(key_code, dx_pointers=(1,)),)
    )
    answer = AnswerSheet(
        diagnoses=("Z23",), procedures=(AnswerProcedure(reported, dx_pointers=(1,)),)
    )
    result = grade(key=key, answer=answer, encounter=Encounter(DAY, Patient(70, "F")),
                   catalog=full_catalog)  # fmt: skip
    (near,) = [f for f in result.findings if f.kind is kind]
    assert words in near.message
    assert "does not document" not in near.message
    omitted = grade(key=key, answer=AnswerSheet(diagnoses=("Z23",)),
                    encounter=Encounter(DAY, Patient(70, "F")), catalog=full_catalog)  # fmt: skip
    assert omitted.score < result.score < result.max_score


def test_both_accepted_alternatives_are_told_to_report_one(full_catalog):
    key = AnswerKey(diagnoses=(KeyDiagnosis("R50.9", alternatives=("R50.81",)),))
    result = grade(key=key, answer=AnswerSheet(diagnoses=("R50.9", "R50.81")),
                   encounter=Encounter(DAY, Patient(30, "F")), catalog=full_catalog)  # fmt: skip
    assert [f.kind for f in result.findings] == [FindingKind.CORRECT, FindingKind.EXTRA]
    assert "report one of these" in result.findings[1].message


def test_an_x_modifier_is_accepted_in_place_of_59(full_catalog):
    key = AnswerKey(
        diagnoses=(KeyDiagnosis("M17.11"),),
        procedures=(KeyProcedure("20610", modifiers=("59", "RT"), dx_pointers=(1,)),),
    )
    answer = AnswerSheet(
        diagnoses=("M17.11",),
        procedures=(AnswerProcedure("20610", modifiers=("XU", "RT"), dx_pointers=(1,)),),
    )
    result = grade(key=key, answer=answer, encounter=Encounter(DAY, Patient(60, "F")),
                   catalog=full_catalog)  # fmt: skip
    assert result.percent == 100.0


def test_a_deleted_cpt_code_names_its_replacement(full_catalog):
    key = AnswerKey(diagnoses=(KeyDiagnosis("J02.0"),), procedures=(KeyProcedure("99202"),))
    answer = AnswerSheet(diagnoses=("J02.0",), procedures=(AnswerProcedure("99201"),))
    result = grade(key=key, answer=answer, encounter=Encounter(DAY, Patient(30, "F")),
                   catalog=full_catalog)  # fmt: skip
    (unknown,) = [f for f in result.findings if f.kind is FindingKind.UNKNOWN_CODE]
    assert "99202 replaced it" in unknown.message
    assert "Alphabetic Index" not in unknown.message


def test_an_extra_symptom_cites_the_integral_symptom_guideline(full_catalog):
    key = AnswerKey(diagnoses=(KeyDiagnosis("J02.0"),))
    result = grade(key=key, answer=AnswerSheet(diagnoses=("J02.0", "R50.9")),
                   encounter=Encounter(DAY, Patient(30, "F")), catalog=full_catalog)  # fmt: skip
    (extra,) = [f for f in result.findings if f.kind is FindingKind.EXTRA]
    assert "Section I.B.5" in extra.message
