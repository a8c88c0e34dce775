"""Encounter templates: one clinical story, many variants, keys computed from the tabular.

A template (``quizzes/content/templates/*.yaml``) is written like a library encounter,
with ``{slot.field}`` placeholders and ``slots`` whose values multiply into variants
(side x ligament x encounter ...). Its ICD-10-CM key lines say where to look, not what
the answer is: ``find: {under: S93.49, words: ["right ankle", "initial encounter"]}``
selects the one billable code below S93.49 whose tabular descriptor contains those
words. A hard-coded table of final codes would silently go stale with the next release
and teach nothing about how the classification is built; a search that must match
exactly one code fails loudly instead. Every variant is then checked with
:func:`~quizzes.generation.validation.check_key`, like a library encounter.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from codesets.domain.catalog import Catalog, CodeInfo
from codesets.domain.systems import System
from quizzes.generation.encounters import EncounterFileError, EncounterSpec, encounter_from_dict
from quizzes.generation.validation import check_key

_TEMPLATE_FIELDS = (
    "id",
    "title",
    "setting",
    "specialty",
    "date_of_service",
    "difficulty",
    "tags",
    "patients",
    "slots",
    "note",
    "key",
)
# How deep slot values may nest placeholders inside each other.
_FILL_DEPTH = 3
# Most codes a failed search names in its error message.
_SHOWN_MATCHES = 5


class TemplateError(ValueError):
    """A template cannot produce a valid variant; the message names template and slot
    values, and what went wrong."""


@dataclass(frozen=True, slots=True)
class EncounterTemplate:
    """A parsed template: its slots in declared order and the raw encounter skeleton."""

    id: str
    source: str
    slots: tuple[tuple[str, tuple[Mapping[str, str], ...]], ...]
    patients: tuple[Mapping[str, Any], ...]
    skeleton: Mapping[str, Any]

    @property
    def variant_count(self) -> int:
        count = 1
        for _, values in self.slots:
            count *= len(values)
        return count


def bundled_templates_path() -> Path:
    """The folder of the encounter templates shipped with the project."""
    return Path(__file__).resolve().parent.parent / "content" / "templates"


def load_templates(folder: Path) -> list[EncounterTemplate]:
    """Every ``*.yaml`` template in ``folder``, sorted by id."""
    templates = [load_template_file(path) for path in sorted(folder.glob("*.yaml"))]
    return sorted(templates, key=lambda template: template.id)


def load_template_file(path: Path) -> EncounterTemplate:
    """Read one template; its id must equal the file name without ``.yaml``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path.name}: cannot read the template ({exc})") from exc
    if not isinstance(document, dict):
        raise TemplateError(f"{path.name}: a template is a mapping of fields")
    unknown = sorted(set(document) - set(_TEMPLATE_FIELDS))
    missing = [name for name in _TEMPLATE_FIELDS if name not in document]
    if unknown or missing:
        raise TemplateError(
            f"{path.name}: unknown field(s) {unknown or 'none'}, missing field(s) "
            f"{missing or 'none'}"
        )
    if document["id"] != path.stem:
        raise TemplateError(f"{path.name}: id {document['id']!r} differs from the file name")
    slots = document["slots"]
    if not isinstance(slots, dict) or not slots:
        raise TemplateError(f"{path.name}: slots must map each slot name to its values")
    parsed_slots: list[tuple[str, tuple[Mapping[str, str], ...]]] = []
    for name, values in slots.items():
        if not isinstance(values, list) or not values:
            raise TemplateError(f"{path.name}: slot {name!r} needs a list of values")
        parsed_slots.append((str(name), tuple(_slot_value(path.name, name, v) for v in values)))
    patients = document["patients"]
    if not isinstance(patients, list) or not patients:
        raise TemplateError(f"{path.name}: patients must be a non-empty list")
    skeleton = {
        name: document[name] for name in _TEMPLATE_FIELDS if name not in ("slots", "patients")
    }
    return EncounterTemplate(
        id=str(document["id"]),
        source=path.name,
        slots=tuple(parsed_slots),
        patients=tuple(patients),
        skeleton=skeleton,
    )


def build_variants(template: EncounterTemplate, catalog: Catalog) -> list[EncounterSpec]:
    """Every variant of ``template``, its key computed from ``catalog`` and checked.

    Raises TemplateError when a search does not match exactly one billable code or a
    variant's key fails :func:`check_key`.
    """
    names = [name for name, _ in template.slots]
    variants: list[EncounterSpec] = []
    for number, combination in enumerate(
        itertools.product(*(values for _, values in template.slots))
    ):
        chosen = dict(zip(names, combination, strict=True))
        patient = template.patients[number % len(template.patients)]
        label = f"{template.id} ({', '.join(value['value'] for value in combination)})"
        spec = _Variant(template, chosen, patient, catalog, label).build()
        problems = check_key(spec, catalog)
        if problems:
            details = "; ".join(f"{p.line} {p.code}: {p.message}" for p in problems)
            raise TemplateError(f"{label}: the computed key is not valid: {details}")
        variants.append(spec)
    return variants


def find_code(
    catalog: Catalog, *, under: str, words: Sequence[str], without: Sequence[str] = ()
) -> CodeInfo:
    """The one billable ICD-10-CM code at or below ``under`` whose descriptor contains
    every phrase of ``words`` and none of ``without`` (whole words, any case).

    Raises TemplateError naming the candidates when none or several match.
    """
    root = catalog.get(System.ICD10CM, under)
    if root is None:
        raise TemplateError(f"{under} is not in the ICD-10-CM release")
    candidates = [root] if root.billable else []
    stack = list(reversed(catalog.children(System.ICD10CM, under)))
    while stack:
        info = catalog.get(System.ICD10CM, stack.pop())
        if info is None:
            continue
        if info.billable:
            candidates.append(info)
        stack.extend(reversed(catalog.children(System.ICD10CM, info.code)))
    matches = [
        info
        for info in candidates
        if all(_contains(info.description, phrase) for phrase in words)
        and not any(_contains(info.description, phrase) for phrase in without)
    ]
    if len(matches) != 1:
        shown = ", ".join(f"{m.code} ({m.description})" for m in matches[:_SHOWN_MATCHES])
        raise TemplateError(
            f"{len(matches)} billable codes under {under} match {list(words)} without "
            f"{list(without)}; exactly one must{': ' + shown if shown else ''}"
        )
    return matches[0]


def _contains(description: str, phrase: str) -> bool:
    # Whole words: "displaced" must not match "Nondisplaced", "insulin" not "non-insulin".
    pattern = r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])"
    return re.search(pattern, description, re.IGNORECASE) is not None


def _slot_value(source: str, slot: object, raw: object) -> Mapping[str, str]:
    if isinstance(raw, str | int):
        return {"value": str(raw)}
    if not isinstance(raw, dict) or "value" not in raw:
        raise TemplateError(f"{source}: each value of slot {slot!r} needs a 'value' field")
    return {str(name): "" if item is None else str(item) for name, item in raw.items()}


class _Variant:
    """Fills one combination of slot values into the template skeleton."""

    def __init__(
        self,
        template: EncounterTemplate,
        chosen: Mapping[str, Mapping[str, str]],
        patient: Mapping[str, Any],
        catalog: Catalog,
        label: str,
    ) -> None:
        self.template = template
        self.chosen = chosen
        self.catalog = catalog
        self.label = label
        self.patient = patient
        self.fields: dict[str, object] = {
            name: SimpleNamespace(**value) for name, value in chosen.items()
        }
        self.fields["patient"] = _patient_words(patient)

    def build(self) -> EncounterSpec:
        skeleton = self.template.skeleton
        diagnoses, labels = self._diagnoses(skeleton["key"].get("diagnoses", []))
        procedures = [
            self._procedure(raw, labels)
            for raw in skeleton["key"].get("procedures", [])
            if self._applies(raw)
        ]
        suffix = "-".join(value["value"] for value in self.chosen.values())
        document = {
            "id": f"{self.template.id}-{suffix}",
            "title": self.fill(skeleton["title"]),
            "setting": self.fill(skeleton["setting"]),
            "specialty": self.fill(skeleton["specialty"]),
            "date_of_service": skeleton["date_of_service"],
            "patient": {"age_years": self.patient["age_years"], "sex": self.patient["sex"]},
            "difficulty": skeleton["difficulty"],
            "tags": skeleton["tags"],
            "note": self.fill(skeleton["note"]),
            "key": {"diagnoses": diagnoses, "procedures": procedures},
        }
        try:
            return encounter_from_dict(document, source=self.label)
        except EncounterFileError as exc:
            raise TemplateError(str(exc)) from exc

    def fill(self, text: object) -> str:
        # Slot values may themselves hold placeholders ("{side.Word} ankle, three
        # views"): fill until nothing changes, a few levels deep at most.
        filled = str(text)
        for _ in range(_FILL_DEPTH):
            try:
                again = filled.format_map(self.fields)
            except (AttributeError, KeyError, IndexError, ValueError) as exc:
                raise TemplateError(f"{self.label}: cannot fill {filled[:60]!r}: {exc}") from exc
            if again == filled:
                break
            filled = again
        return filled

    def _applies(self, raw: Mapping[str, Any]) -> bool:
        conditions = raw.get("only_if", {})
        return all(
            self.chosen[slot]["value"] in [str(v) for v in allowed]
            for slot, allowed in conditions.items()
        )

    def _diagnoses(
        self, raws: Sequence[Mapping[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        lines: list[dict[str, Any]] = []
        labels: dict[str, int] = {}
        for raw in raws:
            if not self._applies(raw):
                continue
            line: dict[str, Any] = {"code": self._diagnosis_code(raw)}
            if raw.get("optional"):
                line["optional"] = True
            line.update(self._text(raw))
            lines.append(line)
            if "label" in raw:
                labels[str(raw["label"])] = len(lines)
        return lines, labels

    def _diagnosis_code(self, raw: Mapping[str, Any]) -> str:
        if "code" in raw:
            return self.fill(raw["code"])
        search = raw["find"]
        try:
            info = find_code(
                self.catalog,
                under=self.fill(search["under"]),
                words=self._phrases(search.get("words", [])),
                without=self._phrases(search.get("without", [])),
            )
        except TemplateError as exc:
            raise TemplateError(f"{self.label}: {exc}") from exc
        return info.code

    def _procedure(self, raw: Mapping[str, Any], labels: Mapping[str, int]) -> dict[str, Any]:
        try:
            pointers = [labels[str(label)] for label in raw.get("links", [])]
        except KeyError as missing:
            raise TemplateError(f"{self.label}: no diagnosis labelled {missing}") from None
        line: dict[str, Any] = {
            "code": self.fill(raw["code"]),
            "modifiers": self._phrases(raw.get("modifiers", [])),
            "units": int(self.fill(raw.get("units", 1))),
            "dx_pointers": pointers,
        }
        line.update(self._text(raw))
        return line

    def _phrases(self, raws: Sequence[object]) -> list[str]:
        # An empty filled value drops out: a slot may add a word or a modifier, or not.
        return [text for text in (self.fill(raw).strip() for raw in raws) if text]

    def _text(self, raw: Mapping[str, Any]) -> dict[str, str]:
        return {
            name: " ".join(self.fill(raw[name]).split())
            for name in ("documented_as", "why")
            if name in raw
        }


def _patient_words(patient: Mapping[str, Any]) -> SimpleNamespace:
    """Words a note uses for the patient: "34-year-old woman", "she", "her"."""
    age = int(patient["age_years"])
    female = patient["sex"] == "F"
    adult = age >= 18
    person = {(True, True): "woman", (True, False): "man", (False, True): "girl"}.get(
        (adult, female), "boy"
    )
    return SimpleNamespace(
        age=age,
        person=person,
        he="she" if female else "he",
        He="She" if female else "He",
        his="her" if female else "his",
        His="Her" if female else "His",
    )
