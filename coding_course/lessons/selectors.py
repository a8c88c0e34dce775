"""Read side of the learning path: outlines with completion and locks, lesson pages,
code descriptors for lesson links and the practice set.

A module is open when every lesson of each module it requires is complete; lessons
inside an open module may be taken in any order. Each selector reads a bounded number
of rows whatever the size of the course.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Prefetch

from codesets.adapters import catalog_for_date, memory_catalog_for_date
from codesets.domain.catalog import NoReleaseInForce
from codesets.domain.systems import System
from coding_course.accounts.errors import NotFound
from coding_course.lessons.markdown import CodeProblem, Describe, code_problems, marker_codes
from coding_course.lessons.models import (
    Course,
    Enrollment,
    Lesson,
    LessonCompletion,
    Module,
    PracticeAnswer,
)
from coding_course.lessons.practice import PracticeItem, choose_practice, practice_seed
from quizzes.generation.encounters import EncounterSpec, bundled_library_path, load_library


@dataclass
class LessonRow:
    lesson: Lesson
    done: bool
    locked: bool


@dataclass
class ModuleRow:
    module: Module
    lessons: list[LessonRow]
    # Required modules not yet finished: empty when the module is open.
    missing: list[Module] = field(default_factory=list)

    @property
    def locked(self) -> bool:
        return bool(self.missing)

    @property
    def done_count(self) -> int:
        return sum(row.done for row in self.lessons)

    @property
    def total(self) -> int:
        return len(self.lessons)

    @property
    def finished(self) -> bool:
        return self.done_count == self.total


@dataclass
class CourseOutline:
    course: Course
    enrollment: Enrollment | None
    modules: list[ModuleRow]

    @property
    def done_count(self) -> int:
        return sum(row.done_count for row in self.modules)

    @property
    def total(self) -> int:
        return sum(row.total for row in self.modules)

    @property
    def next_lesson(self) -> Lesson | None:
        """Where the learner left off: the first incomplete lesson of an open module."""
        for module_row in self.modules:
            if module_row.locked:
                continue
            for row in module_row.lessons:
                if not row.done:
                    return row.lesson
        return None

    def row_for(self, lesson: Lesson) -> tuple[ModuleRow, LessonRow]:
        for module_row in self.modules:
            for row in module_row.lessons:
                if row.lesson.pk == lesson.pk:
                    return module_row, row
        raise LookupError(f"lesson {lesson.slug} is not in course {self.course.slug}")

    def neighbours(self, lesson: Lesson) -> tuple[LessonRow | None, LessonRow | None]:
        """The lessons before and after ``lesson`` in course order."""
        rows = [row for module_row in self.modules for row in module_row.lessons]
        index = next(i for i, row in enumerate(rows) if row.lesson.pk == lesson.pk)
        before = rows[index - 1] if index > 0 else None
        after = rows[index + 1] if index + 1 < len(rows) else None
        return before, after


def course_list() -> list[Course]:
    return list(Course.objects.order_by("title"))


def enrolled_course_ids(*, user: object) -> set[int]:
    return set(Enrollment.objects.filter(user=user).values_list("course_id", flat=True))


def course_get(*, slug: str) -> Course:
    course = Course.objects.filter(slug=slug).first()
    if course is None:
        raise NotFound("No such course.")
    return course


def lesson_get(*, course_slug: str, lesson_slug: str) -> Lesson:
    lesson = (
        Lesson.objects.select_related("module__course")
        .filter(slug=lesson_slug, module__course__slug=course_slug)
        .first()
    )
    if lesson is None:
        raise NotFound("No such lesson.")
    return lesson


def course_outline(*, course: Course, user: object) -> CourseOutline:
    """Modules in order with their lessons, what the learner completed and what is locked
    (four queries)."""
    modules = list(
        Module.objects.filter(course=course)
        .order_by("position", "id")
        .prefetch_related(
            Prefetch("lessons", queryset=Lesson.objects.order_by("position", "id")),
            Prefetch("prerequisites", queryset=Module.objects.order_by("position", "id")),
        )
    )
    for module in modules:
        # Lesson URLs read module.course: share the instance instead of one query each.
        module.course = course
    enrollment = Enrollment.objects.filter(user=user, course=course).first()
    done_ids = set(
        LessonCompletion.objects.filter(user=user, lesson__module__course=course).values_list(
            "lesson_id", flat=True
        )
    )
    finished: dict[int, bool] = {
        module.pk: all(lesson.pk in done_ids for lesson in module.lessons.all())
        for module in modules
    }
    rows: list[ModuleRow] = []
    for module in modules:
        missing = [required for required in module.prerequisites.all() if not finished[required.pk]]
        rows.append(
            ModuleRow(
                module=module,
                lessons=[
                    LessonRow(lesson=lesson, done=lesson.pk in done_ids, locked=bool(missing))
                    for lesson in module.lessons.all()
                ],
                missing=missing,
            )
        )
    return CourseOutline(course=course, enrollment=enrollment, modules=rows)


def code_describer(*, day: dt.date, texts: Iterable[str]) -> Describe:
    """Descriptors for the codes cited in ``texts``, from the releases in force on
    ``day``, read in one query; unknown codes describe as None. Raises NoReleaseInForce
    when a family has releases but none in force that day."""
    catalog = catalog_for_date(day)
    catalog.prefetch(marker_codes(texts))

    def describe(system: System, code: str) -> str | None:
        info = catalog.get(system, code)
        return info.description if info is not None else None

    return describe


def lesson_code_describer(*, course: Course, texts: Iterable[str]) -> Describe:
    """As :func:`code_describer` on the course's date; without releases for that date
    the lesson still renders, its codes marked as not found."""
    try:
        return code_describer(day=course.codes_as_of, texts=texts)
    except NoReleaseInForce:
        return lambda system, code: None


@functools.lru_cache(maxsize=1)
def _bundled_library() -> tuple[EncounterSpec, ...]:
    # The library ships with the code; one read per process serves every lesson page.
    return tuple(load_library(bundled_library_path()))


def lesson_practice(*, lesson: Lesson, user: object) -> list[PracticeItem]:
    """The learner's practice set for ``lesson`` (the same on every visit)."""
    return choose_practice(
        tags=lesson.tags,
        types=lesson.practice_types,
        library=_bundled_library(),
        catalog_for=memory_catalog_for_date,
        seed=practice_seed(user.pk, lesson.slug),  # type: ignore[attr-defined]
    )


def practice_answers(*, lesson: Lesson, user: object) -> dict[int, PracticeAnswer]:
    return {
        answer.position: answer
        for answer in PracticeAnswer.objects.filter(user=user, lesson=lesson)
    }


def lessons_tagged(*, tags: Iterable[str], course: Course | None = None) -> list[Lesson]:
    """Lessons carrying any of ``tags``: for recommendations from a weak area (a chapter,
    a CPT section or a finding kind) to what teaches it. Most shared tags first, then
    the most focused lesson (the larger share of its own tags), then course order."""
    wanted = set(tags)
    lessons = Lesson.objects.select_related("module__course").order_by(
        "module__course", "module__position", "position"
    )
    if course is not None:
        lessons = lessons.filter(module__course=course)
    scored = [
        (len(wanted & set(lesson.tags)), len(wanted & set(lesson.tags)) / len(lesson.tags), lesson)
        for lesson in lessons
        if lesson.tags
    ]
    ranked = sorted(scored, key=lambda entry: (-entry[0], -entry[1]))
    return [lesson for shared, _, lesson in ranked if shared]


def course_code_problems(*, day: dt.date, lessons: Iterable[tuple[str, str]]) -> list[CodeProblem]:
    """Code markers in ``lessons`` (name, Markdown) that name no code of the releases in
    force on ``day``."""
    pairs = list(lessons)
    return code_problems(pairs, code_describer(day=day, texts=(text for _, text in pairs)))
