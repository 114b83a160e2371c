"""Reading the import's file: encodings, line ends, the header, and files refused whole.

Through the service, as a person sends a file: what session_csv reads is what
sessions_import answers with.
"""

from datetime import UTC, datetime

import pytest

from tests.trainers.import_helpers import HEADER, csv_file, hours, imported, iso, rejection, row
from trainers.services import session_csv
from trainers.services.session_import import sessions_import

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # Mon 09:00 in Chicago, period 2026-W47


# Files that are read ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "newline"),
    [(b"\xef\xbb\xbf", "\n"), (b"", "\r\n"), (b"", "\n\n")],
    ids=["utf8-bom", "crlf", "blank-lines"],
)
def test_bom_crlf_and_blank_lines_are_accepted(world, frozen_now, prefix, newline):
    # given
    lines = [
        HEADER,
        row(world.project_a, T0, T0 + hours(1)),
        row(world.project_a, T0 + hours(1), T0 + hours(2)),
    ]
    content = prefix + (newline.join(lines) + newline).encode()
    # when / then
    assert sessions_import(actor=world.contractor_a, content=content) == 2


def test_header_names_are_trimmed_and_case_insensitive_and_order_is_free(world, frozen_now):
    # given
    content = csv_file(
        f"ok,{iso(T0 + hours(1))},{world.project_a.pk},{iso(T0)}",
        header=" Notes , ENDED_AT,project,started_at",
    )
    # when
    sessions_import(actor=world.contractor_a, content=content)
    # then
    (session,) = imported(world.worker_a)
    assert (session.started_at, session.notes, session.task_count) == (T0, "ok", 0)


def test_an_unterminated_quote_names_the_line_where_the_row_starts(world, frozen_now):
    # given
    content = csv_file(row(world.project_a, T0, T0 + hours(1)), f'{world.project_a.pk},{iso(T0)},x,1,"open')
    # when
    refused = rejection(world.contractor_a, content)
    # then
    assert refused.errors["file"][0].startswith("Line 3: unexpected end of data")
    assert refused.errors["rows"] == []


# Files refused whole ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "The file is empty."),
        (b"\n\n", "The file is empty."),
        (HEADER.encode() + b"\n", "no rows, only a header"),
        (b"project,started_at,task_count\n1,x,1\n", "missing columns: ended_at"),
        (f"{HEADER},hours\n".encode(), "unknown columns: hours"),
        (f"{HEADER},\n".encode(), "unknown columns: (empty)"),
        (f"{HEADER},notes\n".encode(), "repeated columns: notes"),
        (b"project;started_at;ended_at\n1;2;3\n", "missing columns: project, started_at, ended_at"),
        (f"{HEADER}\n1,caf\xe9".encode("latin-1"), "must be UTF-8 text; line 2 is not"),
        (f"{HEADER}\n1,\x002026".encode(), "NUL byte (line 2)"),
        (b'project,started_at,ended_at\n1,"x"y,2\n', "Line 2: ',' expected after '\"'"),
    ],
    ids=[
        "empty",
        "blank-lines-only",
        "header-only",
        "missing-column",
        "unknown-column",
        "empty-column-name",
        "repeated-column",
        "semicolons",
        "latin-1",
        "nul-byte",
        "stray-quote",
    ],
)
def test_a_malformed_file_is_refused_as_a_whole(world, frozen_now, content, words):
    # given / when
    refused = rejection(world.contractor_a, content)
    # then
    assert words in refused.errors["file"][0]
    assert refused.errors["rows"] == []


def test_a_file_over_the_row_limit_is_refused(world, frozen_now, monkeypatch):
    # given
    monkeypatch.setattr(session_csv, "MAX_IMPORT_ROWS", 2)
    rows = [row(world.project_a, T0 + hours(i), T0 + hours(i + 1)) for i in range(3)]
    # when
    refused = rejection(world.contractor_a, csv_file(*rows))
    # then
    assert refused.errors["file"] == ["A file may hold at most 2 rows."]
