"""Fixtures of the integration tests: a broker, real Celery workers, a producer to the broker."""

from collections.abc import Callable, Iterator

import pytest
import redis
from celery import Celery
from django.db import connection

from payroll import tasks
from tests.integration.helpers import CeleryWorker, dedicated_redis_url, worker_env


@pytest.fixture
def broker_url() -> str:
    """The dedicated Redis database, flushed; skip with the reason when there is none."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL (CI does)")
    url = dedicated_redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(f"needs a reachable Redis at {url}: {error}")
    return url


@pytest.fixture
def start_worker(broker_url, transactional_db, tmp_path, request) -> Callable[..., CeleryWorker]:
    """Start a worker of a Celery app on the test database and broker; killed at the end."""

    def start(app: str, **extra_env: str) -> CeleryWorker:
        name = request.node.originalname.removeprefix("test_")[:20]
        # PDFs the worker renders land in the test's folder, not the project's
        env = worker_env(broker_url, **{"MEDIA_ROOT": str(tmp_path / "media"), **extra_env})
        celery_worker = CeleryWorker(env, tmp_path / "worker.log", app, name)
        request.addfinalizer(celery_worker.kill)  # whatever happens, no worker outlives the test
        celery_worker.start()
        return celery_worker

    return start


@pytest.fixture
def worker(start_worker) -> CeleryWorker:
    """A running worker of Fairhour's Celery app."""
    return start_worker("config")


@pytest.fixture
def producer(broker_url) -> Iterator[Celery]:
    """A Celery app that sends tasks by name to the dedicated broker."""
    app = Celery("fairhour-integration", broker=broker_url, set_as_current=False)
    yield app
    app.close()


@pytest.fixture
def send_to_broker(producer, monkeypatch) -> None:
    """Make job_start's dispatch go to the dedicated broker (the suite's Celery runs inline)."""
    for task in (tasks.close_period, tasks.issue_invoices):
        monkeypatch.setattr(task, "delay", lambda job_id, name=task.name: producer.send_task(name, [job_id]))
