"""What the hourly beat closes: the period that has just ended in each worker's zone.

A period is closed again until a close created after it ended everywhere it ended is done
(payroll.selectors.close), and job_start returns the unfinished one instead of starting a
second.
"""

from datetime import datetime

from payroll.selectors.close import CLOSE_KIND, closed_since, periods_to_close
from payroll.services.jobs import PeriodJobStart, period_jobs_start


def close_ended_periods(*, now: datetime) -> list[PeriodJobStart]:
    """Start (or find running) the close of every period just ended somewhere, unless done."""
    ended = sorted(periods_to_close(now).items())
    return period_jobs_start(
        kind=CLOSE_KIND, periods=[period for period, ended_at in ended if not closed_since(period, ended_at)]
    )
