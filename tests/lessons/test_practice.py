"""The practice set: drawn from the generators, stable per learner, answers kept back."""

from __future__ import annotations

import datetime as dt

import pytest

from codesets.adapters import memory_catalog_for_date
from codesets.domain.catalog import NoReleaseInForce
from coding_course.lessons.practice import (
    SINGLE_CHOICE_TYPES,
    choose_practice,
    practice_item,
    practice_seed,
)
from quizzes.generation.encounters import bundled_library_path, load_library
from quizzes.generation.generators import generate

pytestmark = pytest.mark.django_db

LIBRARY = load_library(bundled_library_path())


def _choose(tags, seed, types=("best_code", "code_family", "sequencing")):
    return choose_practice(
        tags=tags, types=types, library=LIBRARY, catalog_for=memory_catalog_for_date, seed=seed
    )


@pytest.mark.parametrize(
    "tags",
    [["chapter-19", "7th-character"], ["cpt-em", "cpt"], ["hcpcs-drugs", "units"], ["z-codes"]],
)
def test_three_single_choice_items_from_encounters_sharing_the_tags(tags):
    items = _choose(tags, seed=7)
    assert len(items) == 3
    by_id = {spec.id: spec for spec in LIBRARY}
    assert len({item.encounter for item in items}) == 3
    for position, item in enumerate(items):
        assert item.position == position
        assert item.exercise_type in SINGLE_CHOICE_TYPES
        assert item.answer in [choice.value for choice in item.choices]
        assert set(tags) & set(by_id[item.encounter].tags)


def test_the_same_seed_gives_the_same_set_and_another_seed_another():
    assert _choose(["chapter-19"], seed=1) == _choose(["chapter-19"], seed=1)
    sets = {tuple(item.key for item in _choose(["chapter-19"], seed=seed)) for seed in range(6)}
    assert len(sets) > 1


def test_code_family_questions_ask_about_the_family_the_lesson_teaches():
    items = _choose(["hcpcs", "units"], seed=3, types=("code_family",))
    assert [item.answer for item in items] == ["HCPCS"] * 3


def test_sequencing_is_asked_as_the_first_listed_diagnosis():
    spec = next(spec for spec in LIBRARY if "sequencing" in spec.tags)
    catalog = memory_catalog_for_date(spec.date_of_service)
    exercise = generate(spec, catalog, types=["sequencing"], seed=1)[0]
    item = practice_item(exercise, catalog, position=0)
    assert item is not None
    assert item.answer == exercise.answer[0]
    assert "listed first" in item.question
    assert all(" " in choice.label for choice in item.choices)  # code and descriptor


def test_other_exercise_types_are_not_single_choice():
    spec = LIBRARY[0]
    catalog = memory_catalog_for_date(spec.date_of_service)
    exercise = generate(spec, catalog, types=["full_coding"], seed=1)[0]
    assert practice_item(exercise, catalog, position=0) is None


def test_encounters_without_a_release_in_force_are_skipped():
    def no_release(day: dt.date):
        raise NoReleaseInForce.__new__(NoReleaseInForce)

    assert (
        choose_practice(
            tags=["cpt"], types=["best_code"], library=LIBRARY, catalog_for=no_release, seed=1
        )
        == []
    )


def test_seeds_are_stable_and_differ_per_learner_and_lesson():
    assert practice_seed(1, "laterality") == practice_seed(1, "laterality")
    assert (
        len(
            {
                practice_seed(1, "laterality"),
                practice_seed(2, "laterality"),
                practice_seed(1, "z-codes"),
            }
        )
        == 3
    )
