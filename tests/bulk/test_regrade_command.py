"""``manage.py regrade``: starts a bulk rescore and prints the job as JSON."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from quizzes.models import BulkJob, BulkJobStatus, Score


def test_regrade_a_quiz_runs_in_process_and_prints_the_job(
    world, instructor, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("regrade", "--quiz", str(world.quiz.pk), "--user", instructor.username)
    printed = json.loads(capsys.readouterr().out)
    job = BulkJob.objects.get(pk=printed["job"])
    assert printed["kind"] == "rescore_key"
    assert printed["total"] == len(world.response_ids)
    assert job.status == BulkJobStatus.SUCCEEDED
    assert Score.objects.filter(response_id__in=world.response_ids).count() == 20


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--quiz", "1"], "--user is required"),
        (["--quiz", "1", "--user", "nobody"], "no user"),
        (["--rules-version", "0.1", "--user", "{me}", "--quiz", "1"], "not allowed with"),
    ],
)
def test_regrade_refuses_bad_arguments(world, instructor, argv, message):
    argv = [arg.replace("{me}", instructor.username) for arg in argv]
    with pytest.raises(CommandError, match=message):
        call_command("regrade", *argv)


def test_regrade_resume_requeues_pending_chunks(world, instructor, capsys):
    from quizzes.bulk.services import bulk_job_start
    from quizzes.models import BulkJobKind

    job = bulk_job_start(kind=BulkJobKind.COHORT, user=instructor, scope={"quiz": world.quiz.pk})
    call_command("regrade", "--resume")
    assert json.loads(capsys.readouterr().out) == {"requeued": {str(job.pk): 5}}
    job.refresh_from_db()
    assert job.status == BulkJobStatus.SUCCEEDED
