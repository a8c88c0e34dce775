"""The course as data files: ``course.yaml`` plus one Markdown file per lesson.

``course.yaml`` names the course, the date whose code releases the lessons are written
against, and the modules in order, each with the modules it requires and its lesson
files. A lesson file starts with YAML front matter (title, summary, objectives, tags,
practice types, minutes) between ``---`` lines, followed by the Markdown body.

Parsing is strict and names the file and the problem, so a broken lesson fails at
``load_course`` time rather than as an odd page. Pure: no Django, no database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from quizzes.generation.generators import EXERCISE_TYPES

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FRONT_MATTER = re.compile(r"\A---\n(?P<meta>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)
# Lesson files are named "NN-slug.md": the number orders the files on disk for authors.
_LESSON_FILE = re.compile(r"^\d{2}-(?P<slug>[a-z0-9-]+)$")
_LESSON_FIELDS = {"title", "summary", "objectives", "tags", "practice_types", "minutes"}
DEFAULT_PRACTICE_TYPES = ("best_code", "code_family", "sequencing")


class CourseFileError(ValueError):
    """The course files cannot be used; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class LessonSpec:
    slug: str
    title: str
    summary: str
    objectives: tuple[str, ...]
    tags: tuple[str, ...]
    practice_types: tuple[str, ...]
    minutes: int
    body: str
    source: str

    def content_hash(self) -> str:
        return lesson_content_hash(
            title=self.title,
            summary=self.summary,
            objectives=self.objectives,
            tags=self.tags,
            practice_types=self.practice_types,
            minutes=self.minutes,
            body=self.body,
        )


@dataclass(frozen=True, slots=True)
class ModuleSpec:
    slug: str
    title: str
    summary: str
    requires: tuple[str, ...]
    lessons: tuple[LessonSpec, ...]


@dataclass(frozen=True, slots=True)
class CourseSpec:
    slug: str
    title: str
    summary: str
    codes_as_of: dt.date
    modules: tuple[ModuleSpec, ...]

    def lessons(self) -> list[LessonSpec]:
        return [lesson for module in self.modules for lesson in module.lessons]


def lesson_content_hash(
    *,
    title: str,
    summary: str,
    objectives: Sequence[str],
    tags: Sequence[str],
    practice_types: Sequence[str],
    minutes: int,
    body: str,
) -> str:
    """A stable fingerprint of what an author writes in a lesson: it tells a lesson
    still as loaded from the files from one an instructor has since edited."""
    document = {
        "title": title,
        "summary": summary,
        "objectives": list(objectives),
        "tags": list(tags),
        "practice_types": list(practice_types),
        "minutes": minutes,
        "body": body.replace("\r\n", "\n"),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def bundled_course_path() -> Path:
    """The folder of the course shipped with the project."""
    return Path(__file__).resolve().parent / "content"


def load_course_folder(folder: Path) -> CourseSpec:
    """Read ``folder/course.yaml`` and every lesson file it names."""
    index = folder / "course.yaml"
    document = _read_yaml(index, index.read_text(encoding="utf-8") if index.exists() else None)
    data = _mapping(document, "course.yaml")
    course_slug = _slug(data.get("slug"), "course.yaml: slug")
    raw_date = data.get("codes_as_of")
    if not isinstance(raw_date, dt.date):
        raise CourseFileError("course.yaml: codes_as_of must be a date such as 2026-06-01")
    modules: list[ModuleSpec] = []
    seen_modules: set[str] = set()
    seen_lessons: set[str] = set()
    for number, raw in enumerate(_list(data.get("modules"), "course.yaml: modules"), start=1):
        entry = _mapping(raw, f"course.yaml: module {number}")
        slug = _slug(entry.get("slug"), f"course.yaml: module {number} slug")
        requires = tuple(_strings(entry.get("requires", []), f"course.yaml: {slug}.requires"))
        # Requiring only earlier modules keeps the prerequisite graph free of cycles.
        unknown = [name for name in requires if name not in seen_modules]
        if unknown:
            raise CourseFileError(
                f"course.yaml: module {slug} requires {', '.join(unknown)}, which is not an "
                "earlier module"
            )
        lessons = []
        for stem in _strings(entry.get("lessons"), f"course.yaml: {slug}.lessons"):
            lesson = load_lesson_file(folder / "lessons" / f"{stem}.md")
            if lesson.slug in seen_lessons:
                raise CourseFileError(f"{lesson.source}: lesson slug {lesson.slug} is used twice")
            seen_lessons.add(lesson.slug)
            lessons.append(lesson)
        if not lessons:
            raise CourseFileError(f"course.yaml: module {slug} has no lessons")
        seen_modules.add(slug)
        modules.append(
            ModuleSpec(
                slug=slug,
                title=_text(entry.get("title"), f"course.yaml: {slug}.title"),
                summary=str(entry.get("summary", "")).strip(),
                requires=requires,
                lessons=tuple(lessons),
            )
        )
    return CourseSpec(
        slug=course_slug,
        title=_text(data.get("title"), "course.yaml: title"),
        summary=str(data.get("summary", "")).strip(),
        codes_as_of=raw_date,
        modules=tuple(modules),
    )


def load_lesson_file(path: Path) -> LessonSpec:
    """One ``NN-slug.md`` lesson: front matter, then the Markdown body."""
    match = _LESSON_FILE.match(path.stem)
    if match is None:
        raise CourseFileError(f"{path.name}: lesson files are named NN-slug.md")
    try:
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    except OSError as exc:
        raise CourseFileError(f"{path.name}: cannot read the file ({exc.strerror})") from exc
    return parse_lesson(text, slug=match["slug"], source=path.name)


def parse_lesson(text: str, *, slug: str, source: str) -> LessonSpec:
    """A lesson from its text (front matter and body); ``source`` names it in errors."""
    parts = _FRONT_MATTER.match(text)
    if parts is None:
        raise CourseFileError(f"{source}: a lesson starts with front matter between --- lines")
    meta = _mapping(_read_yaml(Path(source), parts["meta"]), source)
    unknown = sorted(set(meta) - _LESSON_FIELDS)
    if unknown:
        raise CourseFileError(f"{source}: unknown front matter field(s) {', '.join(unknown)}")
    objectives = _strings(meta.get("objectives"), f"{source}: objectives")
    if not objectives:
        raise CourseFileError(f"{source}: a lesson states at least one objective")
    practice_types = tuple(
        _strings(meta.get("practice_types", list(DEFAULT_PRACTICE_TYPES)), f"{source}: types")
    )
    unknown_types = [name for name in practice_types if name not in EXERCISE_TYPES]
    if unknown_types:
        raise CourseFileError(
            f"{source}: unknown practice type(s) {', '.join(unknown_types)}; "
            f"known types are {', '.join(EXERCISE_TYPES)}"
        )
    minutes = meta.get("minutes", 15)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
        raise CourseFileError(f"{source}: minutes must be a positive whole number")
    body = parts["body"].strip() + "\n"
    if not body.strip():
        raise CourseFileError(f"{source}: the lesson has no body")
    return LessonSpec(
        slug=_slug(slug, f"{source}: slug"),
        title=_text(meta.get("title"), f"{source}: title"),
        summary=str(meta.get("summary", "")).strip(),
        objectives=tuple(objectives),
        tags=tuple(_strings(meta.get("tags", []), f"{source}: tags")),
        practice_types=practice_types,
        minutes=minutes,
        body=body,
        source=source,
    )


def _read_yaml(path: Path, text: str | None) -> Any:
    if text is None:
        raise CourseFileError(f"{path.name}: file not found")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CourseFileError(f"{path.name}: not valid YAML ({exc})") from exc


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CourseFileError(f"{where}: expected a mapping of fields")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise CourseFileError(f"{where}: expected a non-empty list")
    return value


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CourseFileError(f"{where}: expected a list of strings")
    return [item.strip() for item in value]


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CourseFileError(f"{where}: expected text")
    return value.strip()


def _slug(value: object, where: str) -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise CourseFileError(f"{where}: expected a slug of lower-case letters, digits and -")
    return value
