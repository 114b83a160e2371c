"""The Celery app for a worker whose close chunks kill their own process (celery #9082).

`celery -A tests.integration.poison_worker worker` runs Fairhour's app, but in each pool
process the close's chunk work is replaced by a SIGKILL of that process: the chunk is
redelivered each time (`reject_on_worker_lost`) until the attempts cap fails its job.
"""

import os
import signal
from typing import Any

from celery.signals import worker_process_init

from config.celery_app import app

__all__ = ["app"]


@worker_process_init.connect
def poison_the_close(**kwargs: Any) -> None:
    """In each pool process (Django is ready by now), make every close chunk kill its process."""
    from payroll import tasks

    def die(**kwargs: Any) -> int:
        os.kill(os.getpid(), signal.SIGKILL)
        return 0

    tasks.timesheets_close = die  # type: ignore[assignment]
