"""Library encounters: the YAML files authors write, as frozen data.

An encounter is a clinical note plus the answer key a senior coder signed, with the
words of the note each key line codes (``documented_as``) and the reason for the code
(``why``). Generators, key validation and the authoring UI all read this one shape, so
the loader is strict: a malformed file fails with the file name and the reason instead
of surfacing later as a wrong grade or an odd exercise. Pure: no Django, no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml

from quizzes.grading.types import (
    AnswerKey,
    Encounter,
    KeyDiagnosis,
    KeyProcedure,
    Patient,
    Sex,
)

_TOP_FIELDS = (
    "id",
    "title",
    "setting",
    "specialty",
    "date_of_service",
    "patient",
    "difficulty",
    "tags",
    "note",
    "key",
)
_PATIENT_FIELDS = ("age_years", "sex")
_DIAGNOSIS_FIELDS = ("code", "optional", "alternatives", "documented_as", "why")
_PROCEDURE_FIELDS = (
    "code",
    "modifiers",
    "units",
    "dx_pointers",
    "optional",
    "alternatives",
    "documented_as",
    "why",
)
_SEXES: tuple[Sex, ...] = ("F", "M")
DIFFICULTIES = (1, 2, 3)
# The oldest age the Medicare Code Editor accepts (its adult range ends at 124).
MAX_AGE_YEARS = 124


class EncounterFileError(ValueError):
    """An encounter file cannot be used; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class KeyLineText:
    """What the note says for one key line and why the code is right: the teaching text."""

    documented_as: str = ""
    why: str = ""


@dataclass(frozen=True, slots=True)
class EncounterSpec:
    """One library encounter. ``diagnosis_text`` and ``procedure_text`` run parallel to
    ``key.diagnoses`` and ``key.procedures`` (the ``why`` is also each key line's
    ``rationale``, which grading quotes)."""

    id: str
    title: str
    setting: str
    specialty: str
    date_of_service: dt.date
    patient: Patient
    difficulty: int
    tags: tuple[str, ...]
    note: str
    key: AnswerKey
    diagnosis_text: tuple[KeyLineText, ...]
    procedure_text: tuple[KeyLineText, ...]

    def encounter(self) -> Encounter:
        """The facts grading needs besides the key and the answer."""
        return Encounter(date_of_service=self.date_of_service, patient=self.patient)


def bundled_library_path() -> Path:
    """The folder of the encounter library shipped with the project."""
    return Path(__file__).resolve().parent.parent / "content" / "encounters"


def load_library(folder: Path) -> list[EncounterSpec]:
    """Every ``*.yaml`` encounter in ``folder``, sorted by id.

    Raises EncounterFileError for the first malformed file.
    """
    specs = [load_encounter_file(path) for path in sorted(folder.glob("*.yaml"))]
    return sorted(specs, key=lambda spec: spec.id)


def load_encounter_file(path: Path) -> EncounterSpec:
    """Read one encounter file; its ``id`` must equal the file name without ``.yaml``."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDateLoader)
    except OSError as exc:
        raise EncounterFileError(f"{path.name}: cannot read the file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise EncounterFileError(f"{path.name}: not valid YAML ({exc})") from exc
    spec = encounter_from_dict(document, source=path.name)
    if spec.id != path.stem:
        raise EncounterFileError(
            f"{path.name}: id {spec.id!r} differs from the file name; name the file "
            f"{spec.id}.yaml or change the id to {path.stem!r}"
        )
    return spec


def encounter_from_dict(document: object, *, source: str = "encounter") -> EncounterSpec:
    """Build an encounter from its YAML shape (the authoring UI imports through here)."""
    return _Reader(source).encounter(document)


def encounter_to_dict(spec: EncounterSpec) -> dict[str, Any]:
    """The YAML shape of ``spec``; :func:`encounter_from_dict` reads it back unchanged.

    Default-valued line fields (``optional: false``, no alternatives, empty text) are
    left out, as authors leave them out; procedure lines always show modifiers, units
    and pointers because a reviewer checks those on every line.
    """
    diagnoses = [
        _diagnosis_to_dict(line, text)
        for line, text in zip(spec.key.diagnoses, spec.diagnosis_text, strict=True)
    ]
    procedures = [
        _procedure_to_dict(line, text)
        for line, text in zip(spec.key.procedures, spec.procedure_text, strict=True)
    ]
    return {
        "id": spec.id,
        "title": spec.title,
        "setting": spec.setting,
        "specialty": spec.specialty,
        "date_of_service": spec.date_of_service,
        "patient": {"age_years": spec.patient.age_years, "sex": spec.patient.sex},
        "difficulty": spec.difficulty,
        "tags": list(spec.tags),
        "note": spec.note,
        "key": {"diagnoses": diagnoses, "procedures": procedures},
    }


def encounter_to_yaml(spec: EncounterSpec) -> str:
    """The file text of ``spec``: notes as literal blocks so they stay readable."""
    return yaml.dump(
        encounter_to_dict(spec),
        Dumper=_LiteralDumper,
        sort_keys=False,
        allow_unicode=True,
        width=88,
    )


def _diagnosis_to_dict(line: KeyDiagnosis, text: KeyLineText) -> dict[str, Any]:
    data: dict[str, Any] = {"code": line.code}
    if line.optional:
        data["optional"] = True
    if line.alternatives:
        data["alternatives"] = list(line.alternatives)
    return data | _text_to_dict(text)


def _procedure_to_dict(line: KeyProcedure, text: KeyLineText) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": line.code,
        "modifiers": list(line.modifiers),
        "units": line.units,
        "dx_pointers": list(line.dx_pointers),
    }
    if line.optional:
        data["optional"] = True
    if line.alternatives:
        data["alternatives"] = list(line.alternatives)
    return data | _text_to_dict(text)


def _text_to_dict(text: KeyLineText) -> dict[str, str]:
    data: dict[str, str] = {}
    if text.documented_as:
        data["documented_as"] = text.documented_as
    if text.why:
        data["why"] = text.why
    return data


class _TextDateLoader(yaml.SafeLoader):
    """Leaves dates as text, so that an impossible date is reported with its field name
    instead of failing inside the YAML parser."""


_TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _LiteralDumper(yaml.SafeDumper):
    """Writes multi-line strings as ``|`` blocks instead of quoted escapes."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_LiteralDumper.add_representer(str, _represent_text)


class _Reader:
    """Checks one document field by field, keeping the source name for messages."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> EncounterFileError:
        return EncounterFileError(f"{self.source}: {where}: {problem}")

    def encounter(self, document: object) -> EncounterSpec:
        top = self.mapping(document, "the document", _TOP_FIELDS, required=_TOP_FIELDS)
        key = self.mapping(top["key"], "key", ("diagnoses", "procedures"), ("diagnoses",))
        diagnoses = [
            self.diagnosis(raw, f"key.diagnoses[{index}]")
            for index, raw in enumerate(self.sequence(key["diagnoses"], "key.diagnoses"))
        ]
        if not diagnoses:
            raise self.fail("key.diagnoses", "a key needs at least one diagnosis")
        procedures = [
            self.procedure(raw, f"key.procedures[{index}]")
            for index, raw in enumerate(self.sequence(key.get("procedures", []), "key.procedures"))
        ]
        return EncounterSpec(
            id=self.text(top["id"], "id"),
            title=self.text(top["title"], "title"),
            setting=self.text(top["setting"], "setting"),
            specialty=self.text(top["specialty"], "specialty"),
            date_of_service=self.date(top["date_of_service"], "date_of_service"),
            patient=self.patient(top["patient"]),
            difficulty=self.difficulty(top["difficulty"]),
            tags=tuple(
                self.text(tag, f"tags[{index}]")
                for index, tag in enumerate(self.sequence(top["tags"], "tags"))
            ),
            note=self.text(top["note"], "note"),
            key=AnswerKey(
                diagnoses=tuple(line for line, _ in diagnoses),
                procedures=tuple(line for line, _ in procedures),
            ),
            diagnosis_text=tuple(text for _, text in diagnoses),
            procedure_text=tuple(text for _, text in procedures),
        )

    def diagnosis(self, raw: object, where: str) -> tuple[KeyDiagnosis, KeyLineText]:
        line = self.mapping(raw, where, _DIAGNOSIS_FIELDS, ("code",))
        text = self.line_text(line, where)
        return (
            KeyDiagnosis(
                code=self.code(line["code"], f"{where}.code"),
                optional=self.flag(line.get("optional", False), f"{where}.optional"),
                alternatives=self.codes(line.get("alternatives", []), f"{where}.alternatives"),
                rationale=text.why,
            ),
            text,
        )

    def procedure(self, raw: object, where: str) -> tuple[KeyProcedure, KeyLineText]:
        line = self.mapping(raw, where, _PROCEDURE_FIELDS, ("code",))
        text = self.line_text(line, where)
        units = line.get("units", 1)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise self.fail(f"{where}.units", f"must be a whole number of 1 or more, not {units!r}")
        pointers = self.sequence(line.get("dx_pointers", []), f"{where}.dx_pointers")
        for pointer in pointers:
            if isinstance(pointer, bool) or not isinstance(pointer, int):
                raise self.fail(
                    f"{where}.dx_pointers", f"pointers are 1-based positions, not {pointer!r}"
                )
        return (
            KeyProcedure(
                code=self.code(line["code"], f"{where}.code"),
                modifiers=self.codes(line.get("modifiers", []), f"{where}.modifiers"),
                units=units,
                dx_pointers=tuple(cast(list[int], pointers)),
                optional=self.flag(line.get("optional", False), f"{where}.optional"),
                alternatives=self.codes(line.get("alternatives", []), f"{where}.alternatives"),
                rationale=text.why,
            ),
            text,
        )

    def line_text(self, line: Mapping[str, object], where: str) -> KeyLineText:
        return KeyLineText(
            documented_as=self.text(line.get("documented_as", ""), f"{where}.documented_as", True),
            why=self.text(line.get("why", ""), f"{where}.why", True),
        )

    def patient(self, raw: object) -> Patient:
        data = self.mapping(raw, "patient", _PATIENT_FIELDS, _PATIENT_FIELDS)
        age = data["age_years"]
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= MAX_AGE_YEARS:
            raise self.fail(
                "patient.age_years",
                f"must be a whole number from 0 to {MAX_AGE_YEARS}, not {age!r}",
            )
        sex = data["sex"]
        if sex not in _SEXES:
            raise self.fail("patient.sex", f"must be F or M, not {sex!r}")
        return Patient(age_years=age, sex=sex)

    def difficulty(self, raw: object) -> int:
        if isinstance(raw, bool) or raw not in DIFFICULTIES:
            raise self.fail("difficulty", f"must be 1, 2 or 3, not {raw!r}")
        assert isinstance(raw, int)  # one of DIFFICULTIES
        return raw

    def date(self, raw: object, where: str) -> dt.date:
        if isinstance(raw, dt.datetime):
            raise self.fail(where, f"must be a date (YYYY-MM-DD) without a time, not {raw!r}")
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw.strip())
            except ValueError:
                pass
        raise self.fail(where, f"must be a date written YYYY-MM-DD, not {raw!r}")

    def mapping(
        self, raw: object, where: str, allowed: Sequence[str], required: Sequence[str]
    ) -> dict[str, object]:
        if not isinstance(raw, dict):
            raise self.fail(where, f"must be a mapping, not {type(raw).__name__}")
        unknown = sorted(str(name) for name in raw if name not in allowed)
        if unknown:
            raise self.fail(
                where, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
            )
        missing = [name for name in required if name not in raw or raw[name] is None]
        if missing:
            raise self.fail(where, f"missing field(s) {', '.join(missing)}")
        return cast(dict[str, object], raw)

    def sequence(self, raw: object, where: str) -> list[object]:
        if not isinstance(raw, list):
            raise self.fail(where, f"must be a list, not {type(raw).__name__}")
        return raw

    def text(self, raw: object, where: str, empty_ok: bool = False) -> str:
        if not isinstance(raw, str) or (not empty_ok and not raw.strip()):
            raise self.fail(where, f"must be non-empty text, not {raw!r}")
        return raw.strip() if "\n" not in raw.strip() else raw

    def code(self, raw: object, where: str) -> str:
        # YAML reads an unquoted 99213 or modifier 25 as a number: accept it as written.
        if isinstance(raw, int) and not isinstance(raw, bool):
            return str(raw)
        return self.text(raw, where)

    def codes(self, raw: object, where: str) -> tuple[str, ...]:
        items = self.sequence(raw, where)
        return tuple(self.code(item, f"{where}[{index}]") for index, item in enumerate(items))

    def flag(self, raw: object, where: str) -> bool:
        if not isinstance(raw, bool):
            raise self.fail(where, f"must be true or false, not {raw!r}")
        return raw
