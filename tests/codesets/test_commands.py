"""The command-line contracts: JSON shapes on stdout, messages on stderr, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from codesets.models import Code, Release

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bundled_codesets")]


def _run(*args: str) -> tuple[object, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


@pytest.mark.full_release
def test_codeset_stats_shape_and_counts() -> None:
    stats, _ = _run("codeset_stats")
    assert isinstance(stats, dict)
    releases = stats["releases"]
    assert [r["system"] for r in releases] == ["ICD-10-CM", "CPT", "HCPCS"]
    icd = releases[0]
    assert set(icd) == {
        "system",
        "version",
        "effective_from",
        "effective_to",
        "source",
        "codes",
        "billable",
    }
    assert (icd["version"], icd["effective_from"], icd["effective_to"]) == (
        "2026-04",
        "2026-04-01",
        "2026-09-30",
    )
    assert (icd["codes"], icd["billable"]) == (98186, 74719)


def test_search_codes_shape() -> None:
    hits, _ = _run("search_codes", "strep throat", "--date", "2026-05-01")
    assert isinstance(hits, list)
    assert set(hits[0]) == {"code", "system", "description", "billable"}
    assert "J02.0" in [hit["code"] for hit in hits[:3]]


@pytest.mark.parametrize(
    ("args", "expected_first"),
    [
        (["s52.52"], "S52.52"),
        (["crutches", "--system", "hcpcs"], "E0110"),
        (["established patient office visit", "--system", "CPT"], None),
    ],
)
def test_search_codes_examples(args: list[str], expected_first: str | None) -> None:
    hits, _ = _run("search_codes", *args)
    assert isinstance(hits, list)
    assert hits
    if expected_first:
        assert hits[0]["code"] == expected_first
    else:
        assert {"99212", "99213", "99214", "99215"} <= {hit["code"] for hit in hits}


def test_search_codes_limit() -> None:
    hits, _ = _run("search_codes", "fracture", "--limit", "3")
    assert isinstance(hits, list)
    assert len(hits) == 3


@pytest.mark.parametrize(
    "args",
    [
        ["search_codes", "x", "--system", "LOINC"],
        ["search_codes", "x", "--limit", "0"],
        ["search_codes", "x", "--date", "2026-13-01"],
        ["search_codes", "cholera", "--date", "2019-01-01"],
        ["import_codesets", "--icd10cm", "/nonexistent/file.xml", "--version", "v"],
        ["import_codesets", "--icd10cm", __file__, "--version", "v"],
        ["import_codesets", "--cpt", __file__],
        ["import_codesets", "--cpt", __file__, "--hcpcs", __file__, "--version", "v"],
    ],
)
def test_unusable_arguments_exit_2(args: list[str]) -> None:
    with pytest.raises(CommandError) as error:
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    assert error.value.returncode == 2
    assert "\n" not in str(error.value)


@pytest.mark.full_release
def test_import_codesets_bundled_twice_says_unchanged() -> None:
    summary, messages = _run("import_codesets")
    assert isinstance(summary, dict)
    assert [(i["system"], i["status"]) for i in summary["imports"]] == [
        ("ICD-10-CM", "unchanged"),
        ("CPT", "unchanged"),
        ("HCPCS", "unchanged"),
    ]
    assert messages.count("unchanged") == 3


def test_import_codesets_truncated_file_exits_2_and_changes_nothing(tmp_path: Path) -> None:
    source = Path(__file__).with_name("conftest.py").read_text()
    xml = source[source.index("<?xml") : source.index("</ICD10CM.tabular>")]
    truncated = tmp_path / "cut.xml"
    truncated.write_text(xml[: len(xml) // 2])
    before = (Release.objects.count(), Code.objects.count())
    with pytest.raises(CommandError) as error:
        call_command(
            "import_codesets",
            "--icd10cm",
            str(truncated),
            "--version",
            "cut",
            "--effective-from",
            "2099-01-01",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert error.value.returncode == 2
    assert "cut.xml" in str(error.value)
    assert (Release.objects.count(), Code.objects.count()) == before


def test_import_codesets_icd10cm_file(small_tabular: Path) -> None:
    summary, messages = _run(
        "import_codesets",
        "--icd10cm",
        str(small_tabular),
        "--version",
        "small",
        "--effective-from",
        "2099-01-01",
        "--effective-to",
        "2099-12-31",
    )
    assert summary == {
        "imports": [
            {
                "system": "ICD-10-CM",
                "version": "small",
                "status": "created",
                "codes": 3,
                "billable": 2,
                "seconds": summary["imports"][0]["seconds"],  # type: ignore[index]
            }
        ]
    }
    assert "ICD-10-CM small: created, 3 codes (2 billable)" in messages


def test_exit_code_and_single_stderr_line_from_the_command_line() -> None:
    completed = subprocess.run(
        [sys.executable, "manage.py", "search_codes", "x", "--system", "LOINC"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "coding_course.settings.test"},
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert len(completed.stderr.strip().splitlines()) == 1
    assert "LOINC" in completed.stderr
