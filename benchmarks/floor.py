"""The SQL floor of the payroll scenario: the same pay, hand-written in one SQL statement.

Exact for the synthetic workforce (benchmarks.workforce), and only for data like
it: every session lies inside one local day of its worker, so none crosses the period
boundary or a rate change (rates change at local midnights), and its tasks, delivered
with its last second, belong to the same period and rate. So a session's rate is the
first scope in force on its local start date (PAY_RULES §8: the activity's rate unless it
is labelling, then the project's, then the default), and GROUP BYs with one rounding per
line are the pay engine's answer: hourly lines by (worker, project, activity, rate, kind),
task lines by (worker, project, activity, task rate) at round(units x task rate). Overtime
is split inside sessions by a running sum of seconds in start order, as the engine walks
them (all activities; it multiplies hourly pay only). A worker with a floor whose lines
earned less than round(worked seconds x minimum_hourly / 3600) gets a top-up line of the
difference, with no project or activity (§10). PostgreSQL's round() on numeric rounds
half away from zero (half-up for pay), and seconds x rate x multiplier / 3600 is never
within 1e-8 of a half cent unless exactly on it, so numeric division's 16+ digits round
it exactly (units x task rate is exact).

The result lands in two temporary tables, `floor_lines` and `floor_invoices`, which the
scenario compares with the real invoices, to the cent.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection

FLOOR_SQL = """
CREATE TEMPORARY TABLE floor_lines AS
WITH rate_spans AS (
    SELECT worker_id, project_id, activity, hourly_rate, task_rate, effective_from,
           LEAD(effective_from) OVER (PARTITION BY worker_id, project_id, activity ORDER BY effective_from)
               AS until
    FROM payroll_rate
), pieces AS (
    SELECT s.worker_id, s.project_id, s.activity, s.task_count, s.started_at,
           w.overtime_after_hours, w.overtime_multiplier,
           EXTRACT(EPOCH FROM s.ended_at - s.started_at)::bigint AS secs,
           (s.started_at AT TIME ZONE w.time_zone)::date AS day
    FROM trainers_labellingsession s JOIN trainers_worker w ON w.id = s.worker_id
    WHERE s.ended_at IS NOT NULL AND s.started_at >= %(low)s AND s.started_at < %(high)s
), in_period AS (
    SELECT * FROM pieces WHERE day >= %(monday)s AND day < %(next_monday)s
), priced AS (
    -- The first scope in force: the activity's rate (not for labelling), the project's, the default.
    SELECT p.*,
           CASE WHEN act.worker_id IS NOT NULL THEN act.hourly_rate
                WHEN own.worker_id IS NOT NULL THEN own.hourly_rate ELSE dflt.hourly_rate END AS rate,
           CASE WHEN act.worker_id IS NOT NULL THEN act.task_rate
                WHEN own.worker_id IS NOT NULL THEN own.task_rate ELSE dflt.task_rate END AS task_rate
    FROM in_period p
    LEFT JOIN rate_spans act ON act.worker_id = p.worker_id AND act.activity = p.activity
         AND p.activity <> 'labelling' AND act.project_id IS NULL
         AND act.effective_from <= p.day AND (act.until IS NULL OR p.day < act.until)
    LEFT JOIN rate_spans own ON own.worker_id = p.worker_id AND own.project_id = p.project_id
         AND own.activity IS NULL
         AND own.effective_from <= p.day AND (own.until IS NULL OR p.day < own.until)
    LEFT JOIN rate_spans dflt ON dflt.worker_id = p.worker_id AND dflt.project_id IS NULL
         AND dflt.activity IS NULL
         AND dflt.effective_from <= p.day AND (dflt.until IS NULL OR p.day < dflt.until)
), split AS (
    SELECT worker_id, project_id, activity, rate, task_rate, overtime_multiplier, secs, task_count,
           CASE WHEN overtime_after_hours IS NULL THEN secs
                ELSE GREATEST(0, LEAST(secs, (overtime_after_hours * 3600)::bigint
                     - (SUM(secs) OVER (PARTITION BY worker_id ORDER BY started_at
                                        ROWS UNBOUNDED PRECEDING) - secs)))
           END AS regular
    FROM priced
), grouped AS (
    SELECT worker_id, project_id, activity, rate, task_rate, overtime_multiplier,
           SUM(regular) AS regular, SUM(secs - regular) AS overtime, SUM(task_count) AS units
    FROM split GROUP BY worker_id, project_id, activity, rate, task_rate, overtime_multiplier
), hourly AS (
    SELECT worker_id, project_id, activity, rate, overtime_multiplier,
           SUM(regular) AS regular, SUM(overtime) AS overtime
    FROM grouped GROUP BY worker_id, project_id, activity, rate, overtime_multiplier
), lines AS (
    SELECT worker_id, project_id, activity, rate, 'regular'::text AS kind, regular AS seconds,
           0::bigint AS units, round(regular * rate / 3600, 2) AS amount
    FROM hourly WHERE regular > 0
    UNION ALL
    SELECT worker_id, project_id, activity, rate, 'overtime', overtime, 0,
           round(overtime * rate * overtime_multiplier / 3600, 2)
    FROM hourly WHERE overtime > 0
    UNION ALL
    SELECT worker_id, project_id, activity, task_rate, 'tasks', 0, SUM(units),
           round(SUM(units) * task_rate, 2)
    FROM grouped WHERE task_rate IS NOT NULL
    GROUP BY worker_id, project_id, activity, task_rate HAVING SUM(units) > 0
), worked AS (
    SELECT worker_id, SUM(regular + overtime) AS seconds FROM hourly GROUP BY worker_id
), earned AS (
    SELECT worker_id, SUM(amount) AS amount FROM lines GROUP BY worker_id
), top_ups AS (
    SELECT worker_id, minimum_hourly, seconds, floor - amount AS amount
    FROM (SELECT k.worker_id, w.minimum_hourly, k.seconds, e.amount,
                 round(k.seconds * w.minimum_hourly / 3600, 2) AS floor
          FROM worked k JOIN earned e ON e.worker_id = k.worker_id
          JOIN trainers_worker w ON w.id = k.worker_id
          WHERE w.minimum_hourly IS NOT NULL) f
    WHERE amount < floor
)
SELECT * FROM lines
UNION ALL
SELECT worker_id, NULL::bigint, NULL::varchar, minimum_hourly, 'top_up', seconds, 0, amount FROM top_ups;

CREATE TEMPORARY TABLE floor_invoices AS
SELECT t.worker_id, t.subtotal, round(t.subtotal * w.tax_rate, 2) AS tax,
       t.subtotal + round(t.subtotal * w.tax_rate, 2) AS total
FROM (SELECT worker_id, SUM(amount) AS subtotal FROM floor_lines GROUP BY worker_id) t
JOIN trainers_worker w ON w.id = t.worker_id;
"""

# Zones run from UTC-12 to UTC+14: these UTC bounds hold the period in every zone.
ZONE_SLACK = timedelta(hours=15)


def floor_run(period_monday: date) -> int:
    """Compute the floor's lines and invoices; return how many lines it found."""
    next_monday = period_monday + timedelta(days=7)
    params = {
        "monday": period_monday,
        "next_monday": next_monday,
        "low": _utc_midnight(period_monday) - ZONE_SLACK,
        "high": _utc_midnight(next_monday) + ZONE_SLACK,
    }
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS floor_lines, floor_invoices")
        for statement in FLOOR_SQL.split(";\n\n"):
            cursor.execute(statement, params)
        cursor.execute("SELECT COUNT(*) FROM floor_lines")
        return int(cursor.fetchone()[0])


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


COMPARE_SQL = """
SELECT
    (SELECT COUNT(*) FROM floor_invoices) AS floor_invoices,
    (SELECT COUNT(*) FROM payroll_invoice WHERE period = %(period)s) AS invoices,
    (SELECT COALESCE(SUM(total), 0) FROM floor_invoices) AS floor_total,
    (SELECT COALESCE(SUM(total), 0) FROM payroll_invoice WHERE period = %(period)s) AS invoiced_total,
    (SELECT COUNT(*) FROM floor_invoices f
       FULL JOIN (SELECT * FROM payroll_invoice WHERE period = %(period)s) i ON i.worker_id = f.worker_id
       WHERE i.id IS NULL OR f.worker_id IS NULL
          OR (i.subtotal, i.tax, i.total) IS DISTINCT FROM (f.subtotal, f.tax, f.total)) AS differing,
    (SELECT COUNT(*) FROM floor_lines) AS floor_lines,
    (SELECT COUNT(*) FROM payroll_invoiceline l JOIN payroll_invoice i ON i.id = l.invoice_id
       WHERE i.period = %(period)s AND l.kind <> 'adjustment') AS invoice_lines,
    -- A top-up has no project or activity: the join matches them as 0 and '' (a FULL JOIN
    -- takes only equalities, not IS NOT DISTINCT FROM).
    (SELECT COUNT(*) FROM floor_lines f FULL JOIN (
        SELECT i.worker_id, tl.project_id, tl.activity, tl.hourly_rate, tl.kind, tl.seconds, tl.units,
               tl.amount
        FROM payroll_timesheetline tl JOIN payroll_timesheet t ON t.id = tl.timesheet_id
        JOIN payroll_invoice i ON i.timesheet_id = t.id WHERE t.period = %(period)s) s
       ON (s.worker_id, COALESCE(s.project_id, 0), COALESCE(s.activity, ''), s.hourly_rate, s.kind)
        = (f.worker_id, COALESCE(f.project_id, 0), COALESCE(f.activity, ''), f.rate, f.kind)
       WHERE s.worker_id IS NULL OR f.worker_id IS NULL
          OR (s.seconds, s.units, s.amount) IS DISTINCT FROM (f.seconds, f.units, f.amount)
    ) AS differing_lines
"""


def floor_compare(period: str) -> dict[str, object]:
    """Invoices against the floor: counts, grand totals and how many differ (line by line too)."""
    with connection.cursor() as cursor:
        cursor.execute(COMPARE_SQL, {"period": period})
        names = [column.name for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))
