"""What a close covers: the periods just ended somewhere, and the workers with time in one.

A period ends at local Monday 00:00, so it ends 26 hours apart across the world's zones.
The close of a period reads every zone's bounds, and may run before some zones have
finished the week; so a close counts for a zone only if its job was created after the
period ended there.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from core.periods import iso_week_key, period_bounds, period_bounds_by_zone
from payroll.models import Adjustment, Job, JobStatus
from trainers.models import LabellingSession
from trainers.selectors import zones_in_use

CLOSE_KIND = "close_period"


def last_ended_period(now: datetime, zone: ZoneInfo) -> tuple[str, datetime]:
    """The period that most recently ended in `zone` at `now`, and the instant it ended."""
    current_start, _ = period_bounds(iso_week_key(now, zone), zone)
    return iso_week_key(current_start - timedelta(seconds=1), zone), current_start


def periods_to_close(now: datetime) -> dict[str, datetime]:
    """Each period that most recently ended in some worker's zone, with its latest such end."""
    ended: dict[str, datetime] = {}
    for zone_name in zones_in_use():
        period, ended_at = last_ended_period(now, ZoneInfo(zone_name))
        ended[period] = max(ended_at, ended.get(period, ended_at))
    return ended


def closed_since(period: str, instant: datetime) -> bool:
    """Whether a close of `period` created at or after `instant` has finished."""
    return Job.objects.filter(
        kind=CLOSE_KIND, params__period=period, status=JobStatus.DONE, created_at__gte=instant
    ).exists()


def workers_to_close(period: str) -> list[int]:
    """Ids of workers with time or an adjustment in `period`: the timesheets the close builds.

    An adjustment lands on the worker's next open period (PAY_RULES §6) and shows on that
    week's timesheet and invoice, so back pay or a clawback on a week without time still
    needs its timesheet (a worker on leave, or whose contract has ended).
    """
    adjusted = Adjustment.objects.filter(applies_to_period=period).values_list("worker_id", flat=True)
    return sorted(set(_workers_with_time(period)) | set(adjusted))


def _workers_with_time(period: str) -> list[int]:
    """Ids of workers with any session overlapping `period`, each read in their own zone."""
    condition = Q(pk__in=[])
    for zone_name, (start, end) in period_bounds_by_zone(period, zones_in_use()).items():
        condition |= Q(worker__time_zone=zone_name, started_at__lt=end) & (
            Q(ended_at__isnull=True) | Q(ended_at__gt=start)
        )
    return list(
        LabellingSession.objects.filter(condition).order_by().values_list("worker_id", flat=True).distinct()
    )
