"""Write side of the learning path: enrol, complete a lesson, answer practice, and load
the course from its files. Each service owns its transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from coding_course.lessons.content import CourseSpec, LessonSpec, lesson_content_hash
from coding_course.lessons.models import (
    Course,
    Enrollment,
    Lesson,
    LessonCompletion,
    Module,
    PracticeAnswer,
)
from coding_course.lessons.practice import PracticeItem
from coding_course.lessons.selectors import course_outline
from quizzes.api import practice_choice_grade

NOT_ENROLLED = "not_enrolled"
LOCKED = "locked"


class LessonUnavailable(Exception):
    """The learner may not take this lesson yet. ``reason`` is ``not_enrolled`` or
    ``locked``; ``missing`` lists the modules to finish first when locked."""

    def __init__(self, reason: str, missing: list[Module] | None = None) -> None:
        self.reason = reason
        self.missing = missing or []
        super().__init__(reason)


def enrollment_create(*, user: object, course: Course) -> Enrollment:
    """Enrol ``user``; enrolling twice returns the first enrolment."""
    enrollment, _ = Enrollment.objects.get_or_create(user=user, course=course)
    return enrollment


def lesson_check_available(*, user: object, lesson: Lesson) -> None:
    """Raise LessonUnavailable unless ``user`` is enrolled and the module is open."""
    outline = course_outline(course=lesson.module.course, user=user)
    if outline.enrollment is None:
        raise LessonUnavailable(NOT_ENROLLED)
    module_row, _ = outline.row_for(lesson)
    if module_row.locked:
        raise LessonUnavailable(LOCKED, module_row.missing)


def lesson_complete(*, user: object, lesson: Lesson) -> LessonCompletion:
    """Mark ``lesson`` complete (idempotent); the prerequisites are checked here, on the
    server, whatever the page offered."""
    lesson_check_available(user=user, lesson=lesson)
    with transaction.atomic():
        completion, _ = LessonCompletion.objects.get_or_create(user=user, lesson=lesson)
    return completion


def practice_answer_record(
    *, user: object, lesson: Lesson, item: PracticeItem, chosen: str
) -> PracticeAnswer:
    """Record the learner's choice for one practice item; the first answer stands."""
    if chosen not in {choice.value for choice in item.choices}:
        raise ValidationError("Choose one of the answers offered.", code="invalid_choice")
    existing = PracticeAnswer.objects.filter(
        user=user, lesson=lesson, position=item.position
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return PracticeAnswer.objects.create(
                user=user,
                lesson=lesson,
                position=item.position,
                encounter=item.encounter,
                exercise_type=item.exercise_type,
                line=item.line,
                chosen=chosen,
                correct=practice_choice_grade(
                    exercise_type=item.exercise_type,
                    choices=[choice.value for choice in item.choices],
                    answer=item.answer,
                    chosen=chosen,
                    date_of_service=item.date_of_service,
                ).percent
                == 100.0,
            )
    except IntegrityError:
        # A double submit raced us to the unique constraint: the first answer stands.
        return PracticeAnswer.objects.get(user=user, lesson=lesson, position=item.position)


@dataclass
class CourseLoadReport:
    course: str
    modules: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_edits: list[str] = field(default_factory=list)
    not_in_files: list[str] = field(default_factory=list)

    @property
    def lessons(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged) + len(self.kept_edits)


def course_load(*, spec: CourseSpec, overwrite_edits: bool = False) -> CourseLoadReport:
    """Create or update the course, its modules and lessons from ``spec``; running it
    again changes nothing. A lesson an instructor edited in the admin since it was last
    loaded keeps the edit unless ``overwrite_edits``."""
    report = CourseLoadReport(course=spec.slug, modules=len(spec.modules))
    with transaction.atomic():
        course, _ = Course.objects.update_or_create(
            slug=spec.slug,
            defaults={
                "title": spec.title,
                "summary": spec.summary,
                "codes_as_of": spec.codes_as_of,
            },
        )
        modules: dict[str, Module] = {}
        for position, module_spec in enumerate(spec.modules, start=1):
            module, _ = Module.objects.update_or_create(
                course=course,
                slug=module_spec.slug,
                defaults={
                    "title": module_spec.title,
                    "summary": module_spec.summary,
                    "position": position,
                },
            )
            module.prerequisites.set([modules[slug] for slug in module_spec.requires])
            modules[module_spec.slug] = module
            for lesson_position, lesson_spec in enumerate(module_spec.lessons, start=1):
                _lesson_load(module, lesson_position, lesson_spec, overwrite_edits, report)
        listed = {lesson.slug for lesson in spec.lessons()}
        report.not_in_files = sorted(
            Lesson.objects.filter(module__course=course)
            .exclude(slug__in=listed)
            .values_list("slug", flat=True)
        )
    return report


def _lesson_load(
    module: Module,
    position: int,
    spec: LessonSpec,
    overwrite_edits: bool,
    report: CourseLoadReport,
) -> None:
    content = {
        "title": spec.title,
        "summary": spec.summary,
        "objectives": list(spec.objectives),
        "tags": list(spec.tags),
        "practice_types": list(spec.practice_types),
        "minutes": spec.minutes,
        "body_md": spec.body,
        "source_hash": spec.content_hash(),
    }
    lesson = Lesson.objects.filter(slug=spec.slug).first()
    if lesson is None:
        Lesson.objects.create(slug=spec.slug, module=module, position=position, **content)
        report.created.append(spec.slug)
        return
    placement_changed = lesson.module_id != module.pk or lesson.position != position
    lesson.module, lesson.position = module, position
    current = _current_hash(lesson)
    if current == content["source_hash"]:
        if placement_changed or lesson.source_hash != current:
            lesson.source_hash = current
            lesson.save(update_fields=["module", "position", "source_hash"])
        (report.updated if placement_changed else report.unchanged).append(spec.slug)
        return
    if current != lesson.source_hash and not overwrite_edits:
        # Edited in the admin since the last load: the instructor's text wins.
        if placement_changed:
            lesson.save(update_fields=["module", "position"])
        report.kept_edits.append(spec.slug)
        return
    for name, value in content.items():
        setattr(lesson, name, value)
    lesson.save()
    report.updated.append(spec.slug)


def _current_hash(lesson: Lesson) -> str:
    return lesson_content_hash(
        title=lesson.title,
        summary=lesson.summary,
        objectives=lesson.objectives,
        tags=lesson.tags,
        practice_types=lesson.practice_types,
        minutes=lesson.minutes,
        body=lesson.body_md,
    )
