"""The ``table_lookup`` command contract (ICD-10-CM index tables)."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bundled_codesets")]


def _run(*args: str) -> Any:
    out, err = StringIO(), StringIO()
    call_command("table_lookup", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue())


def test_neoplasm_breast_upper_outer() -> None:
    result = _run("neoplasm", "breast upper outer")
    assert set(result) == {"table", "index_version", "release", "rows"}
    assert result["table"] == "neoplasm"
    assert result["index_version"] == "2025"
    assert isinstance(result["release"], str)
    row = result["rows"][0]
    assert row["path"] == ["Neoplasm, neoplastic", "breast", "upper-outer quadrant"]
    assert row["cells"] == {
        "malignant_primary": "C50.4-",
        "malignant_secondary": "C79.81",
        "ca_in_situ": "D05.-",
        "benign": "D24.-",
        "uncertain_behavior": "D48.6-",
        "unspecified_behavior": "D49.3",
    }
    assert row["see"] is None
    assert row["see_also"] is None
    checks = row["checks"]
    assert set(checks) <= set(row["cells"])
    assert all(isinstance(value, bool) for value in checks.values())


def test_drug_prednisone_cells() -> None:
    row = _run("drug", "prednisone")["rows"][0]
    assert row["path"] == ["Prednisone"]
    assert row["cells"] == {
        "poisoning_accidental": "T38.0X1",
        "poisoning_intentional": "T38.0X2",
        "poisoning_assault": "T38.0X3",
        "poisoning_undetermined": "T38.0X4",
        "adverse_effect": "T38.0X5",
        "underdosing": "T38.0X6",
    }


def test_external_fall_from_ladder() -> None:
    row = _run("external", "fall from ladder")["rows"][0]
    assert row["path"] == ["Fall, falling", "from, off, out of", "ladder"]
    assert row["cells"] == {"code": "W11"}


def test_words_any_order_prefixes_and_limit() -> None:
    result = _run("external", "ladd FALL", "--limit", "1")
    assert len(result["rows"]) == 1
    assert result["rows"][0]["cells"] == {"code": "W11"}


def test_see_also_is_reported() -> None:
    rows = _run("external", "accident aircraft", "--limit", "1")["rows"]
    assert rows[0]["see_also"] == "Accident, transport, aircraft"


def test_no_match_gives_empty_rows() -> None:
    assert _run("drug", "zzzqqqxx")["rows"] == []


def test_unknown_table_exits_2() -> None:
    with pytest.raises(CommandError) as error:
        _run("procedures", "x")
    assert error.value.returncode == 2
    assert "unknown table" in str(error.value)


def test_date_without_release_gives_null_release_and_no_checks() -> None:
    result = _run("drug", "prednisone", "--date", "1990-01-01", "--limit", "1")
    assert result["release"] is None
    assert "checks" not in result["rows"][0]
    assert result["rows"][0]["cells"]["adverse_effect"] == "T38.0X5"


def test_bad_date_exits_2() -> None:
    with pytest.raises(CommandError) as error:
        _run("drug", "prednisone", "--date", "2026-13-40")
    assert error.value.returncode == 2
