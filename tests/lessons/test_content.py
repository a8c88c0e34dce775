"""The course files: strict parsing, the coverage the course promises, and every code
marker naming a real code of the releases in force on the course's date."""

from __future__ import annotations

from pathlib import Path

import pytest

from coding_course.lessons.content import (
    CourseFileError,
    load_course_folder,
    parse_lesson,
)
from coding_course.lessons.markdown import code_markers
from coding_course.lessons.selectors import course_code_problems

LESSON = """---
title: A lesson
objectives: [Do one thing]
tags: [icd-10-cm]
---
Body with [[I10]].
"""


def test_a_lesson_parses_with_defaults():
    lesson = parse_lesson(LESSON, slug="a-lesson", source="01-a-lesson.md")
    assert lesson.title == "A lesson"
    assert lesson.objectives == ("Do one thing",)
    assert lesson.practice_types == ("best_code", "code_family", "sequencing")
    assert lesson.minutes == 15
    assert lesson.body == "Body with [[I10]].\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("No front matter\n", "front matter"),
        (LESSON.replace("title: A lesson\n", ""), "title: expected text"),
        (LESSON.replace("objectives: [Do one thing]", "objectives: []"), "at least one objective"),
        (LESSON.replace("tags:", "colour: red\ntags:"), "unknown front matter field(s) colour"),
        (
            LESSON.replace("tags:", "practice_types: [essay]\ntags:"),
            "unknown practice type(s) essay",
        ),
        (LESSON.replace("tags:", "minutes: 0\ntags:"), "minutes must be a positive"),
        (LESSON.replace("title: A lesson", "title: [unclosed"), "not valid YAML"),
    ],
)
def test_bad_lessons_fail_naming_the_file(text, message):
    with pytest.raises(CourseFileError) as error:
        parse_lesson(text, slug="a-lesson", source="07-a-lesson.md")
    assert str(error.value).startswith("07-a-lesson.md")
    assert message in str(error.value)


def _course_folder(tmp_path: Path, modules: str) -> Path:
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "01-one.md").write_text(LESSON, encoding="utf-8")
    (tmp_path / "lessons" / "02-two.md").write_text(LESSON, encoding="utf-8")
    (tmp_path / "course.yaml").write_text(
        f"slug: c\ntitle: C\ncodes_as_of: 2026-06-01\nmodules:\n{modules}", encoding="utf-8"
    )
    return tmp_path


def test_a_module_may_only_require_earlier_modules(tmp_path):
    folder = _course_folder(
        tmp_path,
        "  - {slug: a, title: A, requires: [b], lessons: [01-one]}\n"
        "  - {slug: b, title: B, lessons: [02-two]}\n",
    )
    with pytest.raises(CourseFileError, match="module a requires b, which is not an earlier"):
        load_course_folder(folder)


def test_a_lesson_slug_is_used_once(tmp_path):
    folder = _course_folder(
        tmp_path,
        "  - {slug: a, title: A, lessons: [01-one]}\n"
        "  - {slug: b, title: B, requires: [a], lessons: [01-one]}\n",
    )
    with pytest.raises(CourseFileError, match=r"01-one\.md: lesson slug one is used twice"):
        load_course_folder(folder)


def test_the_course_has_five_modules_in_a_prerequisite_chain(course_spec):
    assert [module.slug for module in course_spec.modules] == [
        "foundations",
        "icd-10-cm",
        "cpt",
        "hcpcs-level-ii",
        "linkage",
    ]
    assert [module.requires for module in course_spec.modules] == [
        (),
        ("foundations",),
        ("icd-10-cm",),
        ("cpt",),
        ("hcpcs-level-ii",),
    ]


# Every topic issue 8 lists, and the lesson that teaches it.
TOPICS = {
    "why coding exists and how a claim carries codes": "why-coding-exists",
    "ICD-10-CM structure": "icd-10-cm-structure",
    "the Index and the Tabular": "index-and-tabular",
    "conventions and instructional notes": "conventions-and-notes",
    "Excludes1 and Excludes2": "excludes1-and-excludes2",
    "code first and use additional code": "code-first-and-use-additional-code",
    "7th characters and placeholders": "seventh-characters-and-placeholders",
    "laterality": "laterality",
    "sequencing of first-listed and principal diagnoses": "sequencing-first-listed-and-principal",
    "combination codes": "combination-codes",
    "signs and symptoms": "signs-and-symptoms",
    "Z codes": "z-codes",
    "injuries and external causes": "injuries-and-external-causes",
    "the three CPT categories": "cpt-categories",
    "the six Category I sections": "cpt-category-i-sections",
    "E/M level selection": "em-level-selection",
    "modifiers 25 and 59": "modifiers-25-and-59",
    "modifiers 50, 51 and 76": "modifiers-50-51-and-76",
    "modifiers 26 and TC": "modifiers-26-and-tc",
    "what HCPCS Level II covers and its letter sections": "hcpcs-level-ii-overview",
    "DME": "durable-medical-equipment",
    "drugs and units": "drugs-and-billing-units",
    "ambulance": "ambulance-services",
    "modifiers RT/LT, NU/RR, KX, GA/GY": "hcpcs-modifiers",
    "linkage and medical necessity": "linkage-and-medical-necessity",
}


@pytest.mark.parametrize(("topic", "slug"), TOPICS.items(), ids=list(TOPICS))
def test_every_topic_has_a_lesson(course_spec, topic, slug):
    assert slug in {lesson.slug for lesson in course_spec.lessons()}, topic


def test_every_lesson_has_objectives_examples_tags_and_practice(course_spec):
    lessons = course_spec.lessons()
    assert len(lessons) >= 22
    for lesson in lessons:
        assert lesson.objectives, lesson.slug
        assert "Worked example" in lesson.body, lesson.slug
        assert len(code_markers(lesson.body)) >= 3, lesson.slug
        assert lesson.tags, lesson.slug
        assert lesson.practice_types, lesson.slug


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("seventh-characters-and-placeholders", {"chapter-19", "missing_seventh_character"}),
        ("excludes1-and-excludes2", {"excludes1_conflict"}),
        ("sequencing-first-listed-and-principal", {"sequence_error"}),
        ("modifiers-25-and-59", {"cpt", "modifier_error"}),
        ("drugs-and-billing-units", {"hcpcs", "units_error"}),
        ("linkage-and-medical-necessity", {"linkage_error"}),
        ("laterality", {"partial_match", "laterality"}),
        ("em-level-selection", {"cpt-em"}),
    ],
)
def test_lessons_are_tagged_with_the_areas_they_teach(course_spec, slug, expected):
    lesson = next(lesson for lesson in course_spec.lessons() if lesson.slug == slug)
    assert expected <= set(lesson.tags)


@pytest.mark.django_db
def test_every_code_in_every_lesson_exists_in_the_release_in_force(course_spec):
    problems = course_code_problems(
        day=course_spec.codes_as_of,
        lessons=((lesson.source, lesson.body) for lesson in course_spec.lessons()),
    )
    assert problems == [], "\n".join(str(problem) for problem in problems)
    assert sum(len(code_markers(lesson.body)) for lesson in course_spec.lessons()) >= 300


@pytest.mark.django_db
def test_a_lesson_citing_a_code_that_does_not_exist_is_caught(course_spec):
    good = course_spec.lessons()[0]
    problems = course_code_problems(
        day=course_spec.codes_as_of,
        lessons=[
            (good.source, good.body),
            ("99-fake.md", "A real one [[S93.401A]] and a fake one [[Q99.999X]]."),
            ("98-deleted.md", "A deleted CPT code: [[99201]]."),
        ],
    )
    assert [str(problem) for problem in problems] == [
        "99-fake.md: [[Q99.999X]] is not in the ICD-10-CM release in force",
        "98-deleted.md: [[99201]] is not in the CPT release in force",
    ]
