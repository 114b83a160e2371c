"""The period close: which workers have time or money in a period, in chunks for the fan-out."""

from django.conf import settings
from django.db.models import Q

from payroll.models import Adjustment
from trainers.models import LabellingSession
from trainers.periods import period_bounds_by_zone
from trainers.selectors import zones_in_use


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


def chunked(ids: list[int], size: int | None = None) -> list[list[int]]:
    """Split ids into consecutive chunks of at most `size` (JOB_CHUNK_SIZE by default).

    Chunks, not one task per worker: ten times faster on a big close (LESSONS).
    """
    size = size or settings.JOB_CHUNK_SIZE
    return [ids[start : start + size] for start in range(0, len(ids), size)]
