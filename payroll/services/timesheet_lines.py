"""A timesheet's stored lines and total: refreshed by the close, stored for good at submit.

Set-based whatever the number of timesheets: one DELETE of their old lines, one COPY of
the new ones, one UPDATE of their totals.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from operator import attrgetter
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from core.db.bulk import insert_rows
from core.db.lookups import decimal_array, int_array
from payroll.models import LINE_VALUES, TimesheetLine
from payroll.selectors.timesheets import LineFigures

LINE_COLUMNS = ("timesheet_id", *LINE_VALUES)


class FreshFigures(NamedTuple):
    """A timesheet's figures as just priced: its lines, total (adjustments in) and currency."""

    lines: list[LineFigures]
    total: Decimal
    currency: str


def line_key(line: LineFigures) -> tuple[object, ...]:
    """A line's stored values but its timesheet, in LINE_COLUMNS order."""
    return tuple(_LINE_VALUES_OF(line))


_LINE_VALUES_OF = attrgetter(*LINE_VALUES)


def timesheet_lines_insert(lines: Mapping[int, Iterable[LineFigures]]) -> None:
    """Insert the lines of timesheets that have none yet ({timesheet id: lines}): one COPY."""
    rows = ((timesheet_id, *line_key(line)) for timesheet_id, its in lines.items() for line in its)
    insert_rows(TimesheetLine, LINE_COLUMNS, rows)


# The model's table and columns; one row of arrays per timesheet, each array one parameter.
STORE_TOTALS_SQL = """
UPDATE payroll_timesheet AS t SET total = v.total, currency = v.currency, updated_at = %s
FROM unnest(%s::bigint[], %s::numeric[], %s::varchar[]) AS v (id, total, currency)
WHERE t.id = v.id
"""


def timesheets_store_figures(figures: Mapping[int, FreshFigures]) -> None:
    """Replace these timesheets' lines and store their totals and currency ({timesheet id: figures})."""
    if not figures:
        return
    ids = list(figures)
    TimesheetLine.objects.filter(timesheet_id__any_of=ids).delete()
    timesheet_lines_insert({timesheet_id: fresh.lines for timesheet_id, fresh in figures.items()})
    totals = decimal_array(fresh.total for fresh in figures.values())
    currencies = [fresh.currency for fresh in figures.values()]
    with connection.cursor() as cursor:
        cursor.execute(STORE_TOTALS_SQL, [timezone.now(), int_array(ids), totals, currencies])
