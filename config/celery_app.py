"""The Celery application; configuration comes from Django settings (CELERY_*).

The beat schedule lives here, beside the app, and names tasks by their stable names.
Each entry expires before the next run is due, so a backlog after an outage runs once.
"""

import gc
import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init

from config.redis_broker import LeaseRenewal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("fairhour")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Each worker renews the messages it holds, so a short visibility timeout hands out again
# only a dead worker's (config/redis_broker.py, which also fixes kombu's closed channels).
app.steps["consumer"].add(LeaseRenewal)


@worker_process_init.connect
def freeze_start_up_objects(**kwargs: Any) -> None:
    """Leave the objects a worker process starts with out of the garbage collector's scans.

    A chunk allocates hundreds of thousands of objects, and each full collection walked
    all of Django, Celery and kombu again: a quarter of a close chunk's CPU, measured.
    """
    gc.collect()
    gc.freeze()


HOUR = 60 * 60
app.conf.beat_schedule = {
    # Periods end at local Monday 00:00: in some zone nearly every hour of a UTC weekend
    # (and at :30 or :45 in a few). Five minutes past lets timers stopped at midnight land.
    "close-ended-periods": {
        "task": "payroll.close_ended_periods",
        "schedule": crontab(minute=5),
        "options": {"expires": HOUR - 5 * 60},
    },
    # Once a day, mid-afternoon in Europe and morning in the Americas (CELERY_TIMEZONE is UTC).
    "send-reminders": {
        "task": "payroll.send_reminders",
        "schedule": crontab(hour=14, minute=0),
        "options": {"expires": 12 * HOUR},
    },
    # Periods over in every zone for a day (PAY_RULES additions, docs/pay-rules.md): invoiced.
    "invoice-ended-periods": {
        "task": "payroll.invoice_ended_periods",
        "schedule": crontab(hour=6, minute=0),
        "options": {"expires": 12 * HOUR},
    },
    "stop-forgotten-timers": {
        "task": "trainers.stop_forgotten_timers",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 9 * 60},
    },
}
# Jobs whose messages a Redis restart lost would block every later job with the same
# arguments: planned or sent again, or failed past the attempts cap (payroll.services.jobs).
# The pay report's summary rows are appended on every write; folded, a week keeps a few.
app.conf.beat_schedule["compact-pay-summaries"] = {
    "task": "payroll.compact_pay_summaries",
    "schedule": crontab(minute="*/10"),
    "options": {"expires": 9 * 60},
}
app.conf.beat_schedule["sweep-stalled-jobs"] = {
    "task": "payroll.sweep_stalled_jobs",
    "schedule": crontab(minute="*/10"),
    "options": {"expires": 9 * 60},
}
