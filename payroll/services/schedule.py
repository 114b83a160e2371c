"""What the hourly beat closes: the period that has just ended in each worker's zone.

A period ends at local Monday 00:00, so it ends 26 hours apart across the world's zones.
The close of a period reads every zone's bounds (payroll.services.close), and may run
before some zones have finished the week; so a close counts for a zone only if its job
was created after the period ended there. A period is closed again until one such job is
done, and job_start returns the unfinished one instead of starting a second.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from payroll.models import Job, JobStatus
from payroll.services.jobs import PeriodJobStart, period_jobs_start
from trainers.periods import iso_week_key, period_bounds
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


def close_ended_periods(*, now: datetime) -> list[PeriodJobStart]:
    """Start (or find running) the close of every period just ended somewhere, unless done."""
    ended = sorted(periods_to_close(now).items())
    return period_jobs_start(
        kind=CLOSE_KIND, periods=[period for period, ended_at in ended if not closed_since(period, ended_at)]
    )
