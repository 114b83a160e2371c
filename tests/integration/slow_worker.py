"""The Celery app for a worker whose close chunks take their time.

`celery -A tests.integration.slow_worker worker` runs Fairhour's app, but in each pool
process a close chunk sleeps SLOW_CHUNK_SECONDS (0.5 by default) inside its transaction
before it does its work, so a job lasts long enough for the broker to fail under it.
"""

import os
import time
from typing import Any

from celery.signals import worker_process_init

from config.celery_app import app

__all__ = ["app"]


@worker_process_init.connect
def slow_down_the_close(**kwargs: Any) -> None:
    """In each pool process (Django is ready by now), make every close chunk sleep first."""
    from payroll import tasks

    refresh = tasks.timesheets_close
    seconds = float(os.environ.get("SLOW_CHUNK_SECONDS", "0.5"))

    def slow_refresh(**kwargs: Any) -> int:
        time.sleep(seconds)
        return refresh(**kwargs)

    tasks.timesheets_close = slow_refresh  # type: ignore[assignment]
