"""Reading a CSV file of sessions: its header, its rows, and the plain values of a row.

Columns: worker (admins only; contractors leave it empty or give their own id),
project (its name, or its id), started_at, ended_at, task_count, notes, activity (empty
is labelling). A
row's line is the physical line it starts on (the header is line 1), so a quoted notes
field spanning lines shifts the rows after it. Nothing here reads the database: checking rows against it is
trainers.services.session_import's work.
"""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import InvalidInput
from trainers import rules
from trainers.models import MAX_NOTES_LENGTH, MAX_TASK_COUNT, Activity
from trainers.rules import EARLIEST_INSTANT, Errors, add_error

REQUIRED_COLUMNS = ("project", "started_at", "ended_at")
KNOWN_COLUMNS = ("worker", "project", "started_at", "ended_at", "task_count", "notes", "activity")
MAX_IMPORT_ROWS = 200_000
EXTRA_FIELDS = "\x00extra"  # marks a row longer than the header (NUL never reaches a header)

Record = tuple[int, dict[str, str]]


class ImportRejected(InvalidInput):
    """The file was refused; `rows` lists every bad line with its reasons."""

    def __init__(self, message: str, rows: dict[int, Errors] | None = None) -> None:
        rows = rows or {}
        details: list[Any] = [{"line": line, "errors": rows[line]} for line in sorted(rows)]
        super().__init__({"file": [message]})
        self.errors["rows"] = details


def read_csv(content: bytes) -> tuple[list[str], list[Record]]:
    """Decode and split the file into its header and (line number, row) pairs."""
    reader = csv.reader(io.StringIO(_decode(content), newline=""), strict=True)
    records = _records(reader)
    header_line, header_fields = next(records, (0, []))
    if not header_line:
        raise ImportRejected("The file is empty.")
    header = [name.strip().lower() for name in header_fields]
    _check_header(header)
    rows: list[Record] = []
    for line, fields in records:
        if len(rows) >= MAX_IMPORT_ROWS:
            raise ImportRejected(f"A file may hold at most {MAX_IMPORT_ROWS} rows.")
        row = dict(zip(header, fields, strict=False))
        if len(fields) > len(header):
            row[EXTRA_FIELDS] = ""
        rows.append((line, row))
    if not rows:
        raise ImportRejected("The file has no rows, only a header.")
    return header, rows


def _decode(content: bytes) -> str:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise ImportRejected(f"The file must be UTF-8 text; line {line} is not.") from error
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportRejected(f"The file contains a NUL byte (line {line}); it must be CSV text.")
    return text


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Yield (first physical line, fields) of each record, skipping blank lines."""
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportRejected(f"Line {start}: {error}; nothing was imported.") from error
        if any(field.strip() for field in fields):
            yield start, fields


def _check_header(header: list[str]) -> None:
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [column or "(empty)" for column in header if column not in KNOWN_COLUMNS]
    repeated = sorted({column for column in header if header.count(column) > 1})
    parts = [
        f"{label}: {', '.join(columns)}"
        for label, columns in (
            ("missing columns", missing),
            ("unknown columns", unknown),
            ("repeated columns", repeated),
        )
        if columns
    ]
    if parts:
        raise ImportRejected(f"Bad header ({'; '.join(parts)}). Expected: {', '.join(KNOWN_COLUMNS)}.")


# A row's values --------------------------------------------------------------------------


def int_or_none(raw: str | None) -> int | None:
    """A row id in ASCII digits, or None."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def ids_in(records: list[Record], column: str) -> set[int]:
    """The ids a column names across the file (values that are no id are left out)."""
    return {pk for _, row in records if (pk := int_or_none(row.get(column))) is not None}


def names_in(records: list[Record], column: str) -> set[str]:
    """The names a column gives across the file (values that are ids left out), lowercased."""
    values = (str(row.get(column) or "").strip() for _, row in records)
    return {value.lower() for value in values if value and int_or_none(value) is None}


def parse_instant(raw: str, field: str, errors: Errors) -> datetime | None:
    """An aware instant in UTC to the whole second, or None with the reason in `errors`."""
    raw = raw.strip()
    if not raw:
        add_error(errors, field, "Required.")
        return None
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        add_error(errors, field, f"'{raw[:40]}' is not an ISO 8601 date-time.")
        return None
    if instant.utcoffset() is not None:
        try:
            instant = instant.astimezone(UTC).replace(microsecond=0)
        except OverflowError:  # past the calendar's end in UTC: year 1 or year 9999
            if instant.year > EARLIEST_INSTANT.year:
                add_error(errors, field, rules.FUTURE_MESSAGE)
                return None
            instant = EARLIEST_INSTANT - timedelta(days=1)
    message = rules.instant_error(instant)
    if message:
        add_error(errors, field, message)
        return None
    return instant


def parse_task_count(raw: str, errors: Errors) -> int:
    """The task count (empty is 0), or 0 with the reason in `errors`."""
    raw = raw.strip()
    if not raw:
        return 0
    # Length first: int() of thousands of digits is slow, and refused past 4300.
    too_long = len(raw.lstrip("0")) > len(str(MAX_TASK_COUNT))
    if not (raw.isascii() and raw.isdigit()) or too_long or int(raw) > MAX_TASK_COUNT:
        add_error(errors, "task_count", f"Must be a whole number from 0 to {MAX_TASK_COUNT}.")
        return 0
    return int(raw)


def parse_activity(raw: str, errors: Errors) -> str:
    """The activity (empty is labelling), or labelling with the reason in `errors`."""
    raw = raw.strip()
    if not raw:
        return Activity.LABELLING
    if raw not in Activity.values:
        add_error(errors, "activity", rules.activity_message(raw))
        return Activity.LABELLING
    return raw


def parse_notes(raw: str, errors: Errors) -> str:
    """The notes as written, with a reason in `errors` if they are too long."""
    if len(raw) > MAX_NOTES_LENGTH:
        add_error(errors, "notes", f"At most {MAX_NOTES_LENGTH} characters.")
    return raw
