"""Start a bulk rescore from the command line, or requeue stalled jobs.

Examples::

    manage.py regrade --rules-version 2025.1 --user admin          # after a rules upgrade
    manage.py regrade --release 12 --user admin --dry-run          # after a release import
    manage.py regrade --quiz 3 --user teacher                      # after a key change
    manage.py regrade --resume                                     # after a broker loss

Prints one JSON object: the job (or the requeued chunks per job).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from coding_course.accounts.errors import NotFound
from quizzes.bulk import services as bulk_services
from quizzes.errors import InvalidScope, ScopeBusy
from quizzes.models import BulkJobKind


class Command(BaseCommand):
    help = "Rescore in bulk (rules version, release, quiz, exercise or encounter)."

    def add_arguments(self, parser: Any) -> None:
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--rules-version", help="rescore scores of this older rules version")
        scope.add_argument("--release", type=int, help="rescore against this release (id)")
        scope.add_argument("--quiz", type=int, help="rescore a quiz after a key change")
        scope.add_argument("--item", type=int, help="rescore one exercise after a key change")
        scope.add_argument("--encounter", type=int, help="rescore an encounter's exercises")
        scope.add_argument(
            "--resume", action="store_true", help="requeue pending chunks of running jobs"
        )
        parser.add_argument("--user", help="whose reach the job has (a staff user: all)")
        parser.add_argument("--dry-run", action="store_true", help="report, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["resume"]:
            requeued = bulk_services.bulk_jobs_requeue()
            self.stdout.write(json.dumps({"requeued": requeued}))
            return
        if not options.get("user"):
            raise CommandError("--user is required to start a job", returncode=2)
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}", returncode=2)
        kind, scope = self._kind_and_scope(options)
        try:
            job = bulk_services.bulk_job_start(
                kind=kind, user=user, scope=scope, dry_run=options["dry_run"]
            )
        except ScopeBusy as busy:
            running = busy.running.pk if busy.running else None
            message = f"a job over this scope is running: {running}"
            raise CommandError(message, returncode=3) from busy
        except (InvalidScope, NotFound) as problem:
            raise CommandError(str(problem) or "not in reach", returncode=2) from problem
        job.refresh_from_db()
        self.stdout.write(
            json.dumps(
                {
                    "job": job.pk,
                    "kind": job.kind,
                    "status": job.status,
                    "dry_run": job.dry_run,
                    "total": job.total,
                    "done": job.done,
                    "failed": job.failed,
                    "chunks": job.chunks_total,
                }
            )
        )

    @staticmethod
    def _kind_and_scope(options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if options.get("rules_version"):
            return BulkJobKind.RESCORE_RULES, {"rules_version": options["rules_version"]}
        if options.get("release"):
            return BulkJobKind.RESCORE_RELEASE, {"release": options["release"]}
        for name in ("item", "quiz", "encounter"):
            if options.get(name):
                return BulkJobKind.RESCORE_KEY, {name: options[name]}
        raise CommandError("name what to rescore", returncode=2)
