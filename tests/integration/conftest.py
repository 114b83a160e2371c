"""Fixtures of the integration tests: a broker, real Celery workers, a producer to the broker."""

import uuid
from collections.abc import Callable, Iterator

import pytest
from celery import Celery
from django.conf import settings

from payroll import tasks
from tests.integration.helpers import SHORT_TIMEOUTS, CeleryWorker, delete_keys_with_prefix, worker_env


@pytest.fixture
def broker_url() -> str:
    """The suite's Redis: REDIS_URL's server, else the checkout's embedded one."""
    return settings.REDIS_URL


@pytest.fixture
def broker_key_prefix(broker_url) -> Iterator[str]:
    """Keys of this test's own on the broker; deleted at the end (never a whole database)."""
    prefix = f"fairhour-test-{uuid.uuid4().hex}:"
    yield prefix
    delete_keys_with_prefix(broker_url, prefix)


@pytest.fixture
def start_worker(
    broker_url, broker_key_prefix, transactional_db, tmp_path, request
) -> Callable[..., CeleryWorker]:
    """Start a worker of a Celery app on the test database and broker; killed at the end.

    Its task time limit and visibility timeout are short (SHORT_TIMEOUTS) unless `timeouts`
    says otherwise: `{}` for the defaults.
    """

    def start(app: str, timeouts: dict[str, str] = SHORT_TIMEOUTS, **extra_env: str) -> CeleryWorker:
        name = request.node.originalname.removeprefix("test_")[:20]
        # PDFs the worker renders land in the test's folder, not the project's
        media = str(tmp_path / "media")
        env = worker_env(broker_url, broker_key_prefix, timeouts, **{"MEDIA_ROOT": media, **extra_env})
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
def producer(broker_url, broker_key_prefix) -> Iterator[Celery]:
    """A Celery app that sends tasks by name to the test's keys on the broker."""
    app = Celery("fairhour-integration", broker=broker_url, set_as_current=False)
    app.conf.broker_transport_options = {"global_keyprefix": broker_key_prefix}
    yield app
    app.close()


@pytest.fixture
def send_to_broker(producer, monkeypatch) -> None:
    """Make job_start's dispatch go to the dedicated broker (the suite's Celery runs inline)."""
    for task in (tasks.close_period, tasks.issue_invoices):
        monkeypatch.setattr(task, "delay", lambda job_id, name=task.name: producer.send_task(name, [job_id]))
