"""Encounter templates: variants whose keys are computed from the tabular and valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesets.domain.catalog import InMemoryCatalog
from quizzes.generation.generators import exercise_answer_sheet, generate
from quizzes.generation.templates import (
    EncounterTemplate,
    TemplateError,
    build_variants,
    bundled_templates_path,
    find_code,
    load_template_file,
    load_templates,
)
from quizzes.generation.validation import check_key
from quizzes.grading.engine import grade

TEMPLATES = load_templates(bundled_templates_path())
MIN_TEMPLATES = 10
MIN_VARIANTS = 4


def test_there_are_enough_templates() -> None:
    assert len(TEMPLATES) >= MIN_TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.id for t in TEMPLATES])
def test_each_template_gives_distinct_valid_variants(
    full_catalog: InMemoryCatalog, template: EncounterTemplate
) -> None:
    variants = build_variants(template, full_catalog)

    assert len(variants) == template.variant_count >= MIN_VARIANTS
    assert len({v.id for v in variants}) == len(variants)
    assert len({v.key for v in variants}) >= MIN_VARIANTS
    assert len({v.note for v in variants}) == len(variants)
    for variant in variants:
        assert check_key(variant, full_catalog) == []
        assert "{" not in variant.note
        assert "}" not in variant.note


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.id for t in TEMPLATES])
def test_template_variants_feed_the_generators(
    full_catalog: InMemoryCatalog, template: EncounterTemplate
) -> None:
    for variant in build_variants(template, full_catalog):
        for exercise in generate(variant, full_catalog, seed=1):
            sheet = exercise_answer_sheet(exercise, variant)
            if sheet is None:
                continue
            result = grade(
                key=variant.key, answer=sheet, encounter=variant.encounter(), catalog=full_catalog
            )
            assert result.percent == 100.0, (variant.id, exercise.type)


@pytest.mark.parametrize(
    ("under", "words", "without", "expected"),
    [
        ("S93.49", ["right ankle", "initial encounter"], [], "S93.491A"),
        ("S93.4", ["deltoid", "left ankle", "sequela"], [], "S93.422S"),
        # "displaced" must not match inside "Nondisplaced".
        ("S52.51", ["displaced fracture of left", "initial encounter for closed"], [], "S52.512A"),
        (
            "S52.51",
            ["nondisplaced fracture of left", "initial encounter for closed"],
            [],
            "S52.515A",
        ),
        ("H66.00", ["right ear"], ["recurrent"], "H66.001"),
        ("H66.00", ["right ear", "recurrent"], [], "H66.004"),
        ("J13", [], [], "J13"),
    ],
)
def test_find_code_selects_the_one_matching_descriptor(
    full_catalog: InMemoryCatalog,
    under: str,
    words: list[str],
    without: list[str],
    expected: str,
) -> None:
    assert find_code(full_catalog, under=under, words=words, without=without).code == expected


@pytest.mark.parametrize(
    ("under", "words", "message"),
    [
        ("S93.49", ["right ankle"], "3 billable codes"),
        ("S93.49", ["elbow"], "0 billable codes"),
        ("S99.99", [], "not in the ICD-10-CM release"),
    ],
)
def test_find_code_refuses_ambiguous_or_empty_searches(
    full_catalog: InMemoryCatalog, under: str, words: list[str], message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        find_code(full_catalog, under=under, words=words)


def test_a_template_whose_search_is_ambiguous_fails_naming_the_variant(
    full_catalog: InMemoryCatalog, tmp_path: Path
) -> None:
    source = (bundled_templates_path() / "tpl-ankle-sprain.yaml").read_text(encoding="utf-8")
    broken = source.replace('"{visit.words}"', '"{side.value}"')
    path = tmp_path / "tpl-ankle-sprain.yaml"
    path.write_text(broken, encoding="utf-8")

    with pytest.raises(TemplateError, match=r"tpl-ankle-sprain \(right, talofibular, initial\)"):
        build_variants(load_template_file(path), full_catalog)


def test_a_template_id_must_match_its_file_name(tmp_path: Path) -> None:
    source = (bundled_templates_path() / "tpl-asthma.yaml").read_text(encoding="utf-8")
    path = tmp_path / "tpl-wheeze.yaml"
    path.write_text(source, encoding="utf-8")

    with pytest.raises(TemplateError, match="differs from the file name"):
        load_template_file(path)
