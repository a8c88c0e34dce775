"""The CMS alpha-numeric HCPCS parser: synthetic records for the layout rules, and the
real January 2026 file (when the shared reference folder is present) for known facts."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from codesets.importers.hcpcs_cms import (
    HcpcsFile,
    HcpcsFormatError,
    is_active,
    parse_hcpcs_file,
)


def _find_reference_file() -> Path:
    """The CMS January 2026 file in the read-only ``shared/`` folder.

    CI clones the repository elsewhere with ``shared/`` beside the clone, so the folders
    above this file are searched before the workstation's ``/work/shared``.
    """
    name = Path("shared/reference/hcpcs/HCPC2026_JAN_ANWEB_01122026.txt")
    candidates = [parent / name for parent in Path(__file__).resolve().parents]
    candidates.append(Path("/work") / name)
    return next((path for path in candidates if path.exists()), candidates[-1])


REFERENCE_FILE = _find_reference_file()
JAN_1_2026 = dt.date(2026, 1, 1)


def record(
    code: str,
    *,
    record_id: str = "3",
    sequence: str = "00100",
    long: str = "",
    short: str = "",
    added: str = "20200101",
    effective: str = "20200101",
    terminated: str = "",
    action: str = "N",
    pricing: str = "",
    coverage: str = "",
    betos: str = "",
    type_of_service: str = "",
) -> str:
    """One 320-column record with fields at the CMS layout's columns (1-based in comments)."""
    columns = [" "] * 320

    def put(start: int, text: str) -> None:  # ``start`` is the 1-based first column
        columns[start - 1 : start - 1 + len(text)] = list(text)

    put(1, code.rjust(5) if len(code) == 2 else code)
    put(6, sequence)
    put(11, record_id)
    put(12, long[:80])
    if record_id in "37":
        put(92, short[:28])
        put(120, pricing)
        put(230, coverage)
        put(257, betos)
        put(261, type_of_service)
        put(269, added)
        put(277, effective)
        put(285, terminated)
        put(293, action)
    return "".join(columns)


def as_file(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\r\n".join(lines) + "\r\n").encode("ascii"))


SYNTHETIC = as_file(
    record("RT", record_id="7", long="Teaching modifier for the right-hand side", short="Right"),
    record("ZZ", record_id="7", long="Teaching modifier retired long ago", terminated="20191231"),
    record(
        "E9001",
        long="Practice walker with folding frame, wheels, and a seat for resting, sold with",
        short="Practice walker",
        pricing="32",
        coverage="D",
        betos="D1E",
        type_of_service="PR",
    ),
    record("E9001", record_id="4", sequence="00200", long="a carry bag and spare rubber"),
    record("E9001", record_id="4", sequence="00300", long="tips"),
    record(
        "L9001",
        long="Practice splint for the thumb, adjustable in abduction/",
        short="Practice splint",
    ),
    record(
        "L9001", record_id="4", sequence="00200", long="adduction, prefabricated, off-the-shelf"
    ),
    record("J9001", long="Injection, practice drug, 5 mg", terminated="20251231", action="D"),
    record("G9001", long="Practice service added next year", added="20270101"),
    " " * 296,
)


@pytest.fixture(scope="module")
def synthetic() -> HcpcsFile:
    SYNTHETIC.seek(0)
    return parse_hcpcs_file(SYNTHETIC)


def test_codes_and_modifiers_are_kept_apart(synthetic: HcpcsFile) -> None:
    assert [r.code for r in synthetic.codes] == ["E9001", "L9001", "J9001", "G9001"]
    assert [r.code for r in synthetic.modifiers] == ["RT", "ZZ"]
    assert all(r.is_modifier for r in synthetic.modifiers)
    assert synthetic.get("RT") is None


def test_long_description_is_joined_across_continuation_records(synthetic: HcpcsFile) -> None:
    walker = synthetic.get("E9001")
    assert walker is not None
    assert walker.long_description == (
        "Practice walker with folding frame, wheels, and a seat for resting, sold with "
        "a carry bag and spare rubber tips"
    )
    assert walker.short_description == "Practice walker"


def test_a_break_after_a_slash_joins_without_a_space(synthetic: HcpcsFile) -> None:
    splint = synthetic.get("L9001")
    assert splint is not None
    assert "abduction/adduction, prefabricated" in splint.long_description


def test_administrative_fields_are_read_from_the_first_record(synthetic: HcpcsFile) -> None:
    walker = synthetic.get("E9001")
    assert walker is not None
    assert (walker.add_date, walker.effective_date, walker.termination_date) == (
        dt.date(2020, 1, 1),
        dt.date(2020, 1, 1),
        None,
    )
    assert walker.action_code == "N"
    assert walker.pricing_indicators == ("32",)
    assert walker.coverage_code == "D"
    assert walker.betos == "D1E"
    assert walker.type_of_service == ("P", "R")
    assert not walker.is_modifier


@pytest.mark.parametrize(
    ("code", "day", "active"),
    [
        ("J9001", dt.date(2025, 12, 31), True),  # the termination date is the last usable day
        ("J9001", JAN_1_2026, False),
        ("E9001", JAN_1_2026, True),  # no termination date: still in force
        ("G9001", JAN_1_2026, False),  # not added yet
        ("G9001", dt.date(2027, 1, 1), True),
    ],
)
def test_is_active_honours_add_and_termination_dates(
    synthetic: HcpcsFile, code: str, day: dt.date, active: bool
) -> None:
    entry = synthetic.get(code)
    assert entry is not None
    assert is_active(entry, day) is active


def test_terminated_modifier_is_inactive(synthetic: HcpcsFile) -> None:
    by_code = {m.code: m for m in synthetic.modifiers}
    assert is_active(by_code["RT"], JAN_1_2026)
    assert not is_active(by_code["ZZ"], JAN_1_2026)


def test_active_codes_lists_only_codes_in_force(synthetic: HcpcsFile) -> None:
    assert [r.code for r in synthetic.active_codes(JAN_1_2026)] == ["E9001", "L9001"]


def test_a_path_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "hcpcs.txt"
    path.write_bytes(SYNTHETIC.getvalue())
    assert len(parse_hcpcs_file(path).codes) == 4


GOOD = record("A9001", long="Practice supply")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([GOOD[:200]], "line 1: record is 200 characters"),
        ([GOOD, GOOD[:292]], "line 2: record is 292 characters"),
        ([GOOD + "extra data"], "data past column 320"),
        ([GOOD[:10] + "5" + GOOD[11:]], "record id (column 11) is '5'"),
        ([GOOD[:5] + "0A100" + GOOD[10:]], "sequence number"),
        ([record("A9001", record_id="4", long="orphan text")], "without a first record"),
        ([GOOD, record("A9002", record_id="4", long="wrong code")], "follows 'A9001'"),
        ([record("RT", record_id="7"), record("RT", record_id="4")], "without a first record"),
        ([record("12345", long="A CPT code")], "expected a letter and four digits"),
        ([record("RT", record_id="3")], "expected a letter and four digits"),
        ([record("A9001", added="20261399")], "code added date"),
        ([record("A9001", terminated="2026")], "termination date"),
        (["   ", ""], "no HCPCS records found"),
    ],
)
def test_malformed_input_raises_a_clear_error(lines: list[str], message: str) -> None:
    with pytest.raises(HcpcsFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_hcpcs_file(as_file(*lines))


def test_an_unreadable_path_raises_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(HcpcsFormatError, match="cannot read"):
        parse_hcpcs_file(tmp_path / "missing.txt")


# --- the official CMS January 2026 file -------------------------------------------------


@pytest.fixture(scope="module")
def cms_file() -> HcpcsFile:
    if not REFERENCE_FILE.exists():
        pytest.skip(f"CMS reference file not present at {REFERENCE_FILE}")
    return parse_hcpcs_file(REFERENCE_FILE)


def test_reference_file_counts(cms_file: HcpcsFile) -> None:
    # Facts stated in the reference folder's README for this release.
    assert len(cms_file.codes) == 8623
    assert len(cms_file.modifiers) == 383
    assert len(cms_file.active_codes(JAN_1_2026)) == 7323
    assert sum(is_active(m, JAN_1_2026) for m in cms_file.modifiers) == 363


@pytest.mark.parametrize("code", ["E0114", "J1885", "A0427", "L3900", "G2211"])
def test_reference_file_has_known_active_codes(cms_file: HcpcsFile, code: str) -> None:
    entry = cms_file.get(code)
    assert entry is not None
    assert is_active(entry, JAN_1_2026)


def test_reference_file_keeps_terminated_codes_inactive(cms_file: HcpcsFile) -> None:
    # J1030 (methylprednisolone acetate, 40 mg) was replaced by J1010 in 2024.
    entry = cms_file.get("J1030")
    assert entry is not None
    assert entry.termination_date is not None
    assert not is_active(entry, JAN_1_2026)


def test_reference_file_modifiers_are_apart(cms_file: HcpcsFile) -> None:
    modifiers = {m.code for m in cms_file.modifiers}
    assert {"RT", "LT", "KX", "XS"} <= modifiers
    assert all(len(r.code) == 5 for r in cms_file.codes)


@pytest.mark.parametrize(
    ("code", "spanning_text"),
    [
        ("E0114", "tips and handgrips"),  # word break between records
        ("L3900", "extension/flexion"),  # break after a slash: no space inserted
        ("A0427", "1 - emergency"),  # a spaced hyphen keeps its spaces
    ],
)
def test_reference_file_joins_continuation_records(
    cms_file: HcpcsFile, code: str, spanning_text: str
) -> None:
    entry = cms_file.get(code)
    assert entry is not None
    assert len(entry.long_description) > 80
    assert spanning_text in entry.long_description.lower()
