"""A timesheet's stored lines and total: kept current on every write, frozen at submit.

Set-based whatever the number of timesheets: one statement deletes their old lines and
stores their totals, one COPY writes the new lines.
"""

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from operator import attrgetter
from typing import Any, NamedTuple

from django.db import connection
from django.utils import timezone

from core.db.bulk import insert_rows
from core.db.lookups import decimal_array, int_array
from payroll.models import LINE_VALUES, TimesheetLine
from payroll.selectors.timesheets import LineFigures

LINE_COLUMNS = ("timesheet_id", *LINE_VALUES)


# Time with no rate on one project: (project id, seconds), as Timesheet.unpriced stores it.
UnpricedSeconds = tuple[int, int]


class FreshFigures(NamedTuple):
    """A timesheet's figures as just priced: lines, total (adjustments in), currency, unpriced time."""

    lines: list[LineFigures]
    total: Decimal
    currency: str
    unpriced: tuple[UnpricedSeconds, ...] = ()


def unpriced_json(figures: FreshFigures) -> str:
    """The unpriced time as Timesheet.unpriced stores it: `[[project id, seconds], ...]`."""
    return json.dumps([list(gap) for gap in figures.unpriced])


def line_key(line: LineFigures) -> tuple[object, ...]:
    """A line's stored values but its timesheet, in LINE_COLUMNS order."""
    return tuple(_LINE_VALUES_OF(line))


_LINE_VALUES_OF = attrgetter(*LINE_VALUES)


def timesheet_lines_insert(lines: Mapping[int, Iterable[LineFigures]]) -> None:
    """Insert the lines of timesheets that have none yet ({timesheet id: lines}): one COPY, if any."""
    if not lines:
        return
    rows = ((timesheet_id, *line_key(line)) for timesheet_id, its in lines.items() for line in its)
    insert_rows(TimesheetLine, LINE_COLUMNS, rows)


# The old lines go and the totals are stored in one statement (one round trip on every
# session write); one row of arrays per timesheet, each array one parameter.
STORE_TOTALS_SQL = """
WITH gone AS (DELETE FROM payroll_timesheetline WHERE timesheet_id = ANY(%(ids)s::bigint[]))
UPDATE payroll_timesheet AS t
SET total = v.total, currency = v.currency, unpriced = v.unpriced::jsonb, updated_at = %(now)s
FROM unnest(%(ids)s::bigint[], %(totals)s::numeric[], %(currencies)s::varchar[], %(unpriced)s::text[])
    AS v (id, total, currency, unpriced)
WHERE t.id = v.id
"""


def timesheets_store_figures(figures: Mapping[int, FreshFigures]) -> None:
    """Replace these timesheets' lines; store their totals, currency and unpriced time ({id: figures})."""
    if not figures:
        return
    params: dict[str, Any] = {
        "ids": int_array(figures),
        "totals": decimal_array(fresh.total for fresh in figures.values()),
        "currencies": [fresh.currency for fresh in figures.values()],
        "unpriced": [unpriced_json(fresh) for fresh in figures.values()],
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(STORE_TOTALS_SQL, params)
    timesheet_lines_insert({timesheet_id: fresh.lines for timesheet_id, fresh in figures.items()})
