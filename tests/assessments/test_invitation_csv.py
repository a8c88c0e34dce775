"""Reading candidate lists: every bad row named with its number and a stable code;
whole-file problems refuse the file; cell text is kept verbatim."""

from __future__ import annotations

import pytest

from coding_course.assessments.invitation_csv import (
    MAX_BYTES,
    MAX_ROWS,
    InvitationFileRefused,
    InvitationRowsRefused,
    read_invitations,
)


def test_a_good_list_reads_every_row():
    data = b"email,name,extra_minutes\nAnn@Example.test,Ann Lee,15\nbob@example.test,,\n"
    rows = read_invitations(data, already_invited=set())
    assert [(r.row_number, r.email, r.name, r.extra_minutes) for r in rows] == [
        (2, "ann@example.test", "Ann Lee", 15),
        (3, "bob@example.test", "", 0),
    ]


def test_columns_may_come_in_any_order_with_a_byte_order_mark():
    data = "\ufeffName,Email\nAnn,ann@example.test\n".encode()
    (row,) = read_invitations(data, already_invited=set())
    assert (row.email, row.name) == ("ann@example.test", "Ann")


def test_bad_rows_are_each_named_and_nothing_is_accepted():
    data = (
        b"email,name,extra_minutes\n"
        b"ann@example.test,Ann,\n"  # row 2: fine
        b"not-an-address,Bob,\n"  # row 3
        b"ANN@example.test,Ann again,\n"  # row 4: same as row 2
        b"cy@example.test,Cy,ten\n"  # row 5
        b"old@example.test,Old,\n"  # row 6: already invited
        b"\n"  # blank lines are skipped
        b"dee@example.test,Dee,601\n"  # row 8: over the cap
    )
    with pytest.raises(InvitationRowsRefused) as refused:
        read_invitations(data, already_invited={"old@example.test"})
    assert [(p.row_number, p.code) for p in refused.value.problems] == [
        (3, "invalid_email"),
        (4, "duplicate_row"),
        (5, "bad_extra_minutes"),
        (6, "already_invited"),
        (8, "bad_extra_minutes"),
    ]
    assert refused.value.problems[0].value == "not-an-address"
    assert "row 2" in refused.value.problems[1].message


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"", "empty", 400),
        (b"name\nAnn\n", "no_email_column", 400),
        (b"email\n", "no_rows", 400),
        (b"email\n\xff\xfe bad", "not_utf8", 400),
        (b"PK\x03\x04\x00\x00 a renamed zip", "binary", 400),
        (b"email\n" + b"a@example.test\n" * (MAX_BYTES // 15 + 1), "too_large", 413),
    ],
)
def test_unreadable_files_are_refused_whole(data, code, status):
    with pytest.raises(InvitationFileRefused) as refused:
        read_invitations(data, already_invited=set())
    assert (refused.value.code, refused.value.status) == (code, status)


def test_too_many_rows_are_refused():
    rows = "".join(f"c{n}@example.test\n" for n in range(MAX_ROWS + 1))
    with pytest.raises(InvitationFileRefused) as refused:
        read_invitations(("email\n" + rows).encode(), already_invited=set())
    assert refused.value.code == "too_many_rows"


def test_formula_looking_names_are_kept_verbatim():
    data = b'email,name\nann@example.test,"=HYPERLINK(""http://x"",""y"")"\n'
    (row,) = read_invitations(data, already_invited=set())
    assert row.name == '=HYPERLINK("http://x","y")'
