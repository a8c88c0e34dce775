"""Exercise answers as full answer sheets, so the grading engine can judge them.

Every exercise type except ``code_family`` asks about part of a claim. Turning a
response into the whole claim it implies (the key with the response swapped in) lets
one engine grade every exercise the same way the full coding exercise is graded, and
lets the tests prove that each generated answer scores 100 % and each distractor less.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypeAlias, cast

from quizzes.generation.validation import key_answer_sheet
from quizzes.grading.types import AnswerKey, AnswerProcedure, AnswerSheet, KeyProcedure

Json: TypeAlias = str | int | float | bool | list["Json"] | dict[str, "Json"] | None

FULL_CODING = "full_coding"
BEST_CODE = "best_code"
CODE_FAMILY = "code_family"
SPECIFICITY = "specificity"
SEQUENCING = "sequencing"
LINKAGE = "linkage"
AUDIT = "audit"

_LINE = re.compile(r"^(?P<list>diagnoses|procedures)\[(?P<index>[0-9]+)\]$")


class ResponseError(ValueError):
    """A response does not have the shape its exercise type expects."""


def procedure_labels(procedures: Sequence[KeyProcedure]) -> list[str]:
    """How linkage exercises name procedure lines: the code, with its modifiers when
    the code appears on more than one line, and the line number if still ambiguous."""
    counts: dict[str, int] = {}
    for line in procedures:
        counts[line.code] = counts.get(line.code, 0) + 1
    labels = [
        "-".join((line.code, *line.modifiers)) if counts[line.code] > 1 else line.code
        for line in procedures
    ]
    return [
        f"{label} (line {index + 1})" if labels.count(label) > 1 else label
        for index, label in enumerate(labels)
    ]


def key_to_contract(key: AnswerKey) -> dict[str, Json]:
    """The key in the ``grade_cases`` contract shape (objects only where needed)."""
    diagnoses: list[Json] = []
    for line in key.diagnoses:
        if not line.optional and not line.alternatives:
            diagnoses.append(line.code)
            continue
        entry: dict[str, Json] = {"code": line.code}
        if line.optional:
            entry["optional"] = True
        if line.alternatives:
            entry["alternatives"] = list(line.alternatives)
        diagnoses.append(entry)
    procedures: list[Json] = []
    for procedure in key.procedures:
        item: dict[str, Json] = {
            "code": procedure.code,
            "modifiers": list(procedure.modifiers),
            "units": procedure.units,
            "dx_pointers": list(procedure.dx_pointers),
        }
        if procedure.optional:
            item["optional"] = True
        if procedure.alternatives:
            item["alternatives"] = list(procedure.alternatives)
        procedures.append(item)
    return {"diagnoses": diagnoses, "procedures": procedures}


def sheet_to_contract(sheet: AnswerSheet) -> dict[str, Json]:
    """An answer sheet in the ``grade_cases`` answer shape."""
    return {
        "diagnoses": list(sheet.diagnoses),
        "procedures": [procedure_to_contract(line) for line in sheet.procedures],
    }


def procedure_to_contract(line: AnswerProcedure) -> dict[str, Json]:
    return {
        "code": line.code,
        "modifiers": list(line.modifiers),
        "units": line.units,
        "dx_pointers": list(line.dx_pointers),
    }


def sheet_from_contract(data: Json) -> AnswerSheet:
    """Read a ``grade_cases`` answer (or key: objects give their main code)."""
    if not isinstance(data, dict):
        raise ResponseError("a full coding answer is an object with diagnoses and procedures")
    diagnoses = [
        item["code"] if isinstance(item, dict) else item
        for item in _list(data.get("diagnoses", []), "diagnoses")
    ]
    return AnswerSheet(
        diagnoses=tuple(_text(code, "diagnosis") for code in diagnoses),
        procedures=tuple(
            _procedure_from_contract(item)
            for item in _list(data.get("procedures", []), "procedures")
        ),
    )


def substituted(key: AnswerKey, index: int, code: str) -> AnswerSheet:
    """The key as an answer with diagnosis line ``index`` replaced by ``code``."""
    base = key_answer_sheet(key)
    diagnoses = list(base.diagnoses)
    diagnoses[index] = code
    return AnswerSheet(diagnoses=tuple(diagnoses), procedures=base.procedures)


def reordered(sheet: AnswerSheet, order: Sequence[str]) -> AnswerSheet:
    """``sheet`` with the codes in ``order`` first, in that order, then the others as
    they were; diagnosis pointers follow their codes."""
    wanted = [code for code in order if code in sheet.diagnoses]
    rest = [code for code in sheet.diagnoses if code not in wanted]
    new_order = [*wanted, *rest]
    if sorted(new_order) != sorted(sheet.diagnoses):
        raise ResponseError("the order must name each diagnosis once")
    position = {code: index + 1 for index, code in enumerate(new_order)}
    return AnswerSheet(
        diagnoses=tuple(new_order),
        procedures=tuple(
            _with_pointers(
                line, tuple(position[sheet.diagnoses[pointer - 1]] for pointer in line.dx_pointers)
            )
            for line in sheet.procedures
        ),
    )


def linked(key: AnswerKey, mapping: Mapping[str, Json]) -> AnswerSheet:
    """The key as an answer with each labelled procedure pointing at the diagnoses the
    mapping gives it (by code); unlabelled lines keep the key's pointers."""
    base = key_answer_sheet(key)
    position = {code: index + 1 for index, code in enumerate(base.diagnoses)}
    labels = procedure_labels(key.procedures)
    procedures = list(base.procedures)
    for index, label in enumerate(labels):
        if label not in mapping:
            continue
        codes = _list(mapping[label], f"the diagnoses of {label}")
        try:
            pointers = tuple(position[_text(code, "diagnosis")] for code in codes)
        except KeyError as missing:
            raise ResponseError(f"{missing} is not one of the claim's diagnoses") from None
        procedures[index] = _with_pointers(procedures[index], pointers)
    return AnswerSheet(diagnoses=base.diagnoses, procedures=tuple(procedures))


def apply_audit_fixes(claim: AnswerSheet, fixes: Json) -> AnswerSheet:
    """The claim after an auditor's fixes: a list of ``{"line": ..., "fix": ...}``.

    Diagnosis fixes come first. One that names a code found on another line moves it
    there (the two lines swap and pointers follow their codes: a sequencing fix); any
    other code replaces the line's code; ``null`` deletes the line (pointers to it are
    dropped, later ones shift). A procedure fix is a whole line in the contract shape
    whose pointers refer to the corrected diagnoses; ``null`` deletes the line.
    """
    diagnoses = list(claim.diagnoses)
    procedures = list(claim.procedures)
    dx_fixes: list[tuple[int, Json]] = []
    proc_fixes: list[tuple[int, Json]] = []
    for raw in _list(fixes, "the audit answer"):
        if not isinstance(raw, dict):
            raise ResponseError("each audit fix is an object with line and fix")
        match = _LINE.match(_text(raw.get("line"), "line"))
        if match is None:
            raise ResponseError(f"unknown claim line {raw.get('line')!r}")
        index = int(match["index"])
        is_dx = match["list"] == "diagnoses"
        if index >= len(diagnoses if is_dx else procedures):
            raise ResponseError(f"the claim has no {match[0]}")
        (dx_fixes if is_dx else proc_fixes).append((index, raw.get("fix")))
    for index, fix in dx_fixes:
        if fix is not None:
            _fix_diagnosis(diagnoses, procedures, index, _text(fix, "fix"))
    for index in sorted((i for i, fix in dx_fixes if fix is None), reverse=True):
        del diagnoses[index]
        procedures = [_without_pointer(line, index + 1) for line in procedures]
    for index, fix in proc_fixes:
        if fix is not None:
            procedures[index] = _procedure_from_contract(fix)
    for index in sorted((i for i, fix in proc_fixes if fix is None), reverse=True):
        del procedures[index]
    return AnswerSheet(diagnoses=tuple(diagnoses), procedures=tuple(procedures))


def _fix_diagnosis(
    diagnoses: list[str], procedures: list[AnswerProcedure], index: int, code: str
) -> None:
    if code in diagnoses and diagnoses.index(code) != index:
        other = diagnoses.index(code)
        diagnoses[index], diagnoses[other] = diagnoses[other], diagnoses[index]
        swap = {index + 1: other + 1, other + 1: index + 1}
        procedures[:] = [
            _with_pointers(line, tuple(swap.get(p, p) for p in line.dx_pointers))
            for line in procedures
        ]
    else:
        diagnoses[index] = code


def _without_pointer(line: AnswerProcedure, removed: int) -> AnswerProcedure:
    kept = tuple(p - 1 if p > removed else p for p in line.dx_pointers if p != removed)
    return _with_pointers(line, kept)


def _with_pointers(line: AnswerProcedure, pointers: tuple[int, ...]) -> AnswerProcedure:
    return AnswerProcedure(
        code=line.code, modifiers=line.modifiers, units=line.units, dx_pointers=pointers
    )


def _procedure_from_contract(raw: Json) -> AnswerProcedure:
    if isinstance(raw, str):
        return AnswerProcedure(code=raw)
    if not isinstance(raw, dict):
        raise ResponseError("a procedure line is a code or an object with a code")
    units = raw.get("units", 1)
    if isinstance(units, bool) or not isinstance(units, int):
        raise ResponseError(f"units must be a whole number, not {units!r}")
    pointers = _list(raw.get("dx_pointers", []), "dx_pointers")
    if any(isinstance(p, bool) or not isinstance(p, int) for p in pointers):
        raise ResponseError("dx_pointers are whole numbers")
    return AnswerProcedure(
        code=_text(raw.get("code"), "procedure code"),
        modifiers=tuple(_text(m, "modifier") for m in _list(raw.get("modifiers", []), "modifiers")),
        units=units,
        dx_pointers=tuple(cast(list[int], pointers)),
    )


def _list(raw: Json, what: str) -> list[Json]:
    if not isinstance(raw, list):
        raise ResponseError(f"{what} must be a list")
    return raw


def _text(raw: Json, what: str) -> str:
    if not isinstance(raw, str):
        raise ResponseError(f"{what} must be text, not {raw!r}")
    return raw
