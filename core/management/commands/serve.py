"""`manage.py serve`: the web pages and API, a Celery worker and beat, in one command."""

import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from core.embedded import LOCAL_DIR


class Command(BaseCommand):
    help = "Serve Fairhour (runserver) with a Celery worker and beat beside it; Ctrl-C stops all three."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")

    def handle(self, *args: Any, addrport: str, concurrency: int, **options: Any) -> None:
        worker = self._start_worker(concurrency)
        try:
            # No autoreload: a reloaded server would start a second worker beside this one.
            call_command("runserver", addrport, use_reloader=False)
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    def _start_worker(self, concurrency: int) -> subprocess.Popen[bytes]:
        """A worker with an embedded beat, on this process's settings and broker."""
        schedule = LOCAL_DIR / "celerybeat-schedule"  # beside the embedded servers' data
        schedule.parent.mkdir(exist_ok=True)
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat"]
        command += ["--schedule", str(schedule), "-c", str(concurrency), "--loglevel=INFO"]
        self.stdout.write(f"Celery worker and beat: {settings.CELERY_BROKER_URL}")
        return subprocess.Popen(command, cwd=settings.BASE_DIR)  # noqa: S603 - fixed command
