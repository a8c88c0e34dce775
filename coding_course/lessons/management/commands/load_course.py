"""``python manage.py load_course [--folder DIR] [--overwrite-edits]``

Loads the course from its data files (the bundled one by default). Idempotent: a second
run reports every lesson unchanged. Lessons an instructor edited in the admin keep their
edits unless ``--overwrite-edits``. When the code sets are imported, every code marker
is checked against the releases in force on the course's date and problems are listed
(exit status 1 with ``--strict``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from codesets.domain.catalog import NoReleaseInForce
from codesets.selectors import releases_in_force
from coding_course.lessons.content import CourseFileError, bundled_course_path, load_course_folder
from coding_course.lessons.markdown import code_markers
from coding_course.lessons.selectors import course_code_problems
from coding_course.lessons.services import course_load


class Command(BaseCommand):
    help = "Load (or update) the course from its Markdown and YAML files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--folder", type=Path, default=None, help="course folder")
        parser.add_argument(
            "--overwrite-edits",
            action="store_true",
            help="replace lessons edited in the admin with the file content",
        )
        parser.add_argument(
            "--strict", action="store_true", help="exit 1 when a code marker names no code"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["folder"] or bundled_course_path()
        try:
            spec = load_course_folder(folder)
        except CourseFileError as exc:
            raise CommandError(str(exc)) from exc
        report = course_load(spec=spec, overwrite_edits=options["overwrite_edits"])
        links = sum(len(code_markers(lesson.body)) for lesson in spec.lessons())
        self.stdout.write(
            f"Course {spec.slug}: {report.modules} modules, {report.lessons} lessons "
            f"({len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.kept_edits)} kept instructor "
            f"edits); {links} code links."
        )
        for slug in report.kept_edits:
            self.stdout.write(f"  kept the admin edit of {slug} (--overwrite-edits replaces it)")
        for slug in report.not_in_files:
            self.stdout.write(f"  {slug} is no longer in the course files (left in place)")
        try:
            if not releases_in_force(day=spec.codes_as_of):
                self.stdout.write("Code links not checked: no code sets are imported yet.")
                return
            problems = course_code_problems(
                day=spec.codes_as_of,
                lessons=((lesson.source, lesson.body) for lesson in spec.lessons()),
            )
        except NoReleaseInForce as exc:
            self.stdout.write(f"Code links not checked: {exc}.")
            return
        for problem in problems:
            self.stderr.write(f"  {problem}")
        if problems and options["strict"]:
            raise CommandError(f"{len(problems)} code marker(s) name no code")
