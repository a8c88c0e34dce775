"""S9: every upload refuses what it cannot safely take, creates nothing when it does,
and keeps formula-looking text verbatim (ASVS 5.2.1, 5.2.2).

The uploads: the bulk answer-sheet import, the assessment invitation list and the
encounter YAML import. Each is tried with a file over its size limit (413), too many
rows, text that is not UTF-8 and a binary renamed to .csv (400, with a message).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coding_course.assessments.invitation_csv import MAX_BYTES as INVITE_MAX_BYTES
from coding_course.assessments.invitation_csv import MAX_ROWS as INVITE_MAX_ROWS
from coding_course.assessments.models import Candidate
from quizzes.encounters.forms import MAX_IMPORT_BYTES as ENCOUNTER_MAX_BYTES
from quizzes.imports.csv_import import MAX_BYTES as SHEET_MAX_BYTES
from quizzes.imports.csv_import import MAX_ROWS as SHEET_MAX_ROWS
from quizzes.models import Attempt, BulkJob, BulkJobChange, Encounter
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.test","click")'
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"
XLSX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"


@dataclass(frozen=True)
class Upload:
    url: Callable[[Any], str]
    field: str
    user: Callable[[Any], Any]
    header: bytes
    row: bytes
    max_bytes: int
    max_rows: int | None
    created: Callable[[], tuple[int, ...]]


UPLOADS = {
    "answer sheets": Upload(
        url=lambda w: reverse("bulk:import", args=[w.a.exam_quiz.pk]),
        field="sheet",
        user=lambda w: w.a.instructor,
        header=b"learner,exercise,line,code\n",
        row=b"student-a1,1,dx,N30.01\n",
        max_bytes=SHEET_MAX_BYTES,
        max_rows=SHEET_MAX_ROWS,
        created=lambda: (BulkJob.objects.count(), Attempt.objects.count()),
    ),
    "invitation list": Upload(
        url=lambda w: reverse("assessments:invite_list", args=[w.a.assessment.pk]),
        field="file",
        user=lambda w: w.a.manager,
        header=b"email,name\n",
        row=b"someone@side-a.test,Some One\n",
        max_bytes=INVITE_MAX_BYTES,
        max_rows=INVITE_MAX_ROWS,
        created=lambda: (Candidate.objects.count(),),
    ),
    "encounter import": Upload(
        url=lambda w: reverse("quizzes:author_home"),
        field="file",
        user=lambda w: w.a.instructor,
        header=b"id: uploaded-case\n",
        row=b"",
        max_bytes=ENCOUNTER_MAX_BYTES,
        max_rows=None,
        created=lambda: (Encounter.objects.count(),),
    ),
}


def post_file(world, upload: Upload, content: bytes, name: str = "upload.csv"):
    client = signed_in(upload.user(world))
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(upload.url(world), {upload.field: file})


def _refused_cases(upload: Upload) -> list[tuple[str, bytes, int]]:
    oversize = upload.header + b"x" * (upload.max_bytes + 1 - len(upload.header))
    cases = [
        ("over the size limit", oversize, 413),
        ("not UTF-8", upload.header + "Jérôme,Müller\n".encode("latin-1"), 400),
        ("a renamed PNG", PNG, 400),
        ("a renamed workbook", XLSX, 400),
    ]
    if upload.max_rows is not None:
        cases.append(("too many rows", upload.header + upload.row * (upload.max_rows + 1), 400))
    return cases


CASES = [
    pytest.param(name, label, content, status, id=f"{name}: {label}")
    for name, upload in UPLOADS.items()
    for label, content, status in _refused_cases(upload)
]


@pytest.mark.parametrize(("name", "label", "content", "status"), CASES)
def test_a_refused_upload_gets_a_clear_status_and_creates_nothing(
    world, name, label, content, status
):
    upload = UPLOADS[name]
    before = upload.created()
    response = post_file(world, upload, content)
    assert response.status_code == status
    page = response.content.decode()
    assert any(word in page for word in ("limit", "larger", "UTF-8", "binary", "text", "more than"))
    assert upload.created() == before


def test_a_formula_in_an_invitation_name_is_stored_verbatim(world):
    upload = UPLOADS["invitation list"]
    cell = FORMULA.replace('"', '""')
    content = f'email,name\nformula@side-a.test,"{cell}"\n'.encode()
    assert post_file(world, upload, content).status_code == 302
    assert Candidate.objects.get(email="formula@side-a.test").name == FORMULA


def test_a_formula_in_an_answer_sheet_is_kept_verbatim_as_the_refused_value(world):
    upload = UPLOADS["answer sheets"]
    cell = FORMULA.replace('"', '""')
    content = upload.header + f'student-a1,1,dx,"{cell}"\n'.encode() + upload.row
    assert post_file(world, upload, content).status_code == 302
    refused = BulkJobChange.objects.get(reason_code="bad_code_shape")
    assert refused.raw == FORMULA
