"""The pay report's summary rows (PaySummary): written with what they sum, folded by a task.

Every change to what the report sums adds signed rows in the same transaction:
- a timesheet's lines or total priced again (`timesheets_refresh` knows the old figures
  and the new: `SummaryChanges`, no query more than its one insert);
- a worker changing team (`pay_summaries_move_team`).
A status change writes nothing: the summaries have no status (the report filtered by
status reads the lines).
A group's figures are the sum of its rows; `pay_summaries_compact` folds each group's
rows into one. `pay_summaries_differences` compares them with the timesheets themselves:
the tests and the report benchmark check it is empty.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection

from core.db.bulk import insert_rows
from core.db.lookups import int_array
from payroll.models import ADJUSTMENT_KIND, LINE_VALUES, PaySummary

SUMMARY_KEY = ("period", "team_id", "project_id", "currency", "kind")
SUMMARY_COLUMNS = (*SUMMARY_KEY, "seconds", "units", "amount")
ZERO = Decimal("0.00")

# Where a stored line's values (LINE_VALUES order) hold what a summary sums.
_PROJECT, _KIND, _SECONDS, _UNITS, _AMOUNT = (
    LINE_VALUES.index(name) for name in ("project_id", "kind", "seconds", "units", "amount")
)

SummaryKey = tuple[str, int | None, int | None, str, str]


class SummedTimesheet(NamedTuple):
    """What one timesheet adds to the summaries: where it counts, its lines, its total."""

    period: str
    team_id: int | None
    currency: str
    lines: Iterable[Sequence[Any]]  # stored line values, LINE_VALUES order
    total: Decimal  # lines and adjustments: the adjustments are the rest


class SummaryChanges:
    """Signed figures per summary group, added up in memory and inserted as one COPY."""

    def __init__(self) -> None:
        self.sums: defaultdict[SummaryKey, list[Any]] = defaultdict(lambda: [0, 0, ZERO])

    def add(self, figures: SummedTimesheet, sign: int) -> None:
        """Count a timesheet's figures in (+1) or out (-1)."""
        where = (figures.period, figures.team_id)
        lines_amount = ZERO
        for line in figures.lines:
            sums = self.sums[(*where, line[_PROJECT], figures.currency, line[_KIND])]
            sums[0] += sign * line[_SECONDS]
            sums[1] += sign * line[_UNITS]
            sums[2] += sign * line[_AMOUNT]
            lines_amount += line[_AMOUNT]
        adjustments = figures.total - lines_amount
        if adjustments:
            self.sums[(*where, None, figures.currency, ADJUSTMENT_KIND)][2] += sign * adjustments

    def insert(self) -> None:
        """Write the groups whose figures changed (one COPY; none if nothing did)."""
        rows = [(*key, *sums) for key, sums in self.sums.items() if any(sums)]
        if rows:
            insert_rows(PaySummary, SUMMARY_COLUMNS, rows)


# Some timesheets' stored figures counted out of the summaries under the team they had
# (`out_team`; `out_team_given` false: the worker's team now) and in under the worker's
# team now: each timesheet's lines, and its
# adjustments (the total less the lines). One statement over index lookups, whatever the
# number of timesheets: each timesheet and worker looked up by its key (a lateral lookup
# that OFFSET 0 keeps from being flattened into a join); as a join, or `id = ANY(...)`, it
# was planned as a scan of every timesheet per chunk (the benchmark's invoicing took 2x as
# long, most of it re-reading rows a bulk update had just written). `out_sign` 0 counts
# nothing out (a rebuild).
SHIFT_SQL = """
INSERT INTO payroll_paysummary (period, team_id, project_id, currency, kind, seconds, units, amount)
SELECT t.period, CASE WHEN side.team_given THEN side.team_id ELSE w.team_id END, f.project_id,
       t.currency, f.kind,
       SUM(side.sign * f.seconds), SUM(side.sign * f.units), SUM(side.sign * f.amount)
FROM unnest(%(ids)s::bigint[]) AS shifted (id)
CROSS JOIN LATERAL (
    SELECT t.period, t.currency, t.total, t.id, t.worker_id
    FROM payroll_timesheet t WHERE t.id = shifted.id OFFSET 0
) AS t
CROSS JOIN LATERAL (SELECT w.team_id FROM trainers_worker w WHERE w.id = t.worker_id OFFSET 0) AS w
CROSS JOIN LATERAL (
    SELECT l.project_id, l.kind, l.seconds, l.units, l.amount
    FROM payroll_timesheetline l WHERE l.timesheet_id = t.id
    UNION ALL
    SELECT NULL, %(adjustment)s, 0, 0, t.total - COALESCE(
        (SELECT SUM(l.amount) FROM payroll_timesheetline l WHERE l.timesheet_id = t.id), 0)
) AS f
CROSS JOIN (
    VALUES (%(out_team_given)s::boolean, %(out_team)s::bigint, %(out_sign)s::int),
           (false, NULL::bigint, 1)
) AS side (team_given, team_id, sign)
GROUP BY 1, 2, 3, 4, 5
HAVING SUM(side.sign * f.seconds) <> 0 OR SUM(side.sign * f.units) <> 0 OR SUM(side.sign * f.amount) <> 0
"""


def _shift(
    ids: Sequence[int],
    *,
    out_team: int | None = None,
    out_team_given: bool = False,
    out_sign: int = -1,
) -> None:
    """Count these timesheets out as they were (under `out_team`) and in as they are."""
    if not ids:
        return
    params = {
        "ids": int_array(ids),
        "out_team": out_team,
        "out_team_given": out_team_given,
        "out_sign": out_sign,
        "adjustment": ADJUSTMENT_KIND,
    }
    with connection.cursor() as cursor:
        cursor.execute(SHIFT_SQL, params)


def pay_summaries_move_team(worker_id: int, previous_team_id: int | None) -> None:
    """A worker has just changed team: every timesheet of theirs counts under the new one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM payroll_timesheet WHERE worker_id = %s", [worker_id])
        timesheets = [pk for (pk,) in cursor.fetchall()]
    _shift(timesheets, out_team=previous_team_id, out_team_given=True)


def pay_summaries_rebuild() -> None:
    """Replace every summary row by the timesheets' figures (the migration that adds them)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM payroll_paysummary")
        cursor.execute("SELECT id FROM payroll_timesheet ORDER BY id")
        timesheets = [pk for (pk,) in cursor.fetchall()]
    for start in range(0, len(timesheets), 10_000):
        _shift(timesheets[start : start + 10_000], out_sign=0)
    pay_summaries_compact()


# Rows deleted are those this statement sees; a row inserted meanwhile stays, to be folded
# next time; two compactions at once each fold the rows they deleted. No figure is lost.
COMPACT_SQL = """
WITH folded AS (
    DELETE FROM payroll_paysummary WHERE period IN (
        SELECT period FROM payroll_paysummary GROUP BY period
        HAVING COUNT(*) > COUNT(DISTINCT (team_id, project_id, currency, kind))
    )
    RETURNING period, team_id, project_id, currency, kind, seconds, units, amount
)
INSERT INTO payroll_paysummary (period, team_id, project_id, currency, kind, seconds, units, amount)
SELECT period, team_id, project_id, currency, kind, SUM(seconds), SUM(units), SUM(amount)
FROM folded GROUP BY 1, 2, 3, 4, 5
HAVING SUM(seconds) <> 0 OR SUM(units) <> 0 OR SUM(amount) <> 0
"""


def pay_summaries_compact() -> int:
    """Fold each group's rows into one, in the weeks that have more; how many rows remain there."""
    with connection.cursor() as cursor:
        cursor.execute(COMPACT_SQL)
        return cursor.rowcount


# What the summaries should hold, from the timesheets, beside what they hold.
DIFFERENCES_SQL = """
WITH truth AS (
    SELECT t.period, w.team_id, l.project_id, t.currency, l.kind,
           SUM(l.seconds) AS seconds, SUM(l.units) AS units, SUM(l.amount) AS amount
    FROM payroll_timesheetline l JOIN payroll_timesheet t ON t.id = l.timesheet_id
    JOIN trainers_worker w ON w.id = t.worker_id
    GROUP BY 1, 2, 3, 4, 5
    UNION ALL
    SELECT t.period, w.team_id, NULL::bigint, t.currency, %(adjustment)s::varchar, 0, 0,
           SUM(t.total - COALESCE((SELECT SUM(l.amount) FROM payroll_timesheetline l
                                   WHERE l.timesheet_id = t.id), 0))
    FROM payroll_timesheet t JOIN trainers_worker w ON w.id = t.worker_id
    GROUP BY 1, 2, 3, 4, 5
),
held AS (
    SELECT period, team_id, project_id, currency, kind,
           SUM(seconds) AS seconds, SUM(units) AS units, SUM(amount) AS amount
    FROM payroll_paysummary GROUP BY 1, 2, 3, 4, 5
)
SELECT * FROM (SELECT * FROM truth EXCEPT SELECT * FROM held) missing
UNION ALL
SELECT * FROM (SELECT * FROM held EXCEPT SELECT * FROM truth) extra
"""


def pay_summaries_differences() -> list[tuple[Any, ...]]:
    """The groups whose summed rows differ from the timesheets' figures (empty: all agree).

    Zero groups count as absent on both sides.
    """
    with connection.cursor() as cursor:
        cursor.execute(DIFFERENCES_SQL, {"adjustment": ADJUSTMENT_KIND})
        rows = cursor.fetchall()
    return [row for row in rows if any(row[5:])]
