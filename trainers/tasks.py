"""Thin Celery tasks of the trainers app: call a service; safe to run twice."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from trainers.services import forgotten_timers

# Idempotent tasks only (the same options as payroll's; trainers may not import payroll).
RELIABLE = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(name="trainers.stop_forgotten_timers", **RELIABLE)
def stop_forgotten_timers() -> dict[str, int]:
    """Stop timers left running past MAX_SESSION_HOURS and tell their contractors."""
    return forgotten_timers.forgotten_timers_stop(now=timezone.now())
