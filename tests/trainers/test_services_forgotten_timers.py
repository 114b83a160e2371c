"""Forgotten timers: stopped at exactly MAX_SESSION_HOURS, flagged, the contractor told once."""

import threading
from datetime import UTC, datetime, timedelta
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from tests.factories import SessionFactory
from trainers.models import LabellingSession, SessionSource
from trainers.services.forgotten_timers import CHANGE_REASON, forgotten_timer_stop, forgotten_timers_stop
from trainers.tasks import stop_forgotten_timers as stop_forgotten_timers_task

pytestmark = pytest.mark.django_db
STARTED = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # Mon 09:00 in Chicago


def running_timer(world, started_at: datetime = STARTED) -> LabellingSession:
    return SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=started_at,
        ended_at=None,
        source=SessionSource.TIMER,
    )


def test_a_timer_running_past_16_h_stops_at_exactly_16_h_flagged_and_mailed(world):
    # given
    timer = running_timer(world)
    # when
    counts = forgotten_timers_stop(now=STARTED + timedelta(hours=17, minutes=3))
    # then
    timer.refresh_from_db()
    assert counts == {"stopped": 1, "failed": 0}
    assert timer.ended_at == STARTED + timedelta(hours=16)
    assert timer.duration_seconds == 16 * 3600
    assert timer.needs_review
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [world.worker_a.email]
    assert "16 hours" in message.subject
    assert "Mon 16 Nov 2026 09:00" in message.body  # local start, Chicago
    assert "Tue 17 Nov 2026 01:00" in message.body  # local stop
    assert f"http://127.0.0.1:8000/sessions/{timer.pk}/edit/" in message.body  # the page to correct it


def test_the_stop_is_recorded_in_history_as_the_system(world):
    # given
    timer = running_timer(world)
    # when
    forgotten_timers_stop(now=STARTED + timedelta(hours=20))
    # then
    latest = timer.history.latest()
    assert latest.history_user is None
    assert latest.history_change_reason == CHANGE_REASON
    assert latest.ended_at == STARTED + timedelta(hours=16)


def test_a_timer_running_exactly_16_h_is_stopped_now(world):
    # given
    timer = running_timer(world)
    # when
    forgotten_timers_stop(now=STARTED + timedelta(hours=16))
    # then
    timer.refresh_from_db()
    assert timer.ended_at == STARTED + timedelta(hours=16)


def test_a_timer_running_15_h_is_untouched(world):
    # given
    timer = running_timer(world)
    history = timer.history.count()
    # when
    counts = forgotten_timers_stop(now=STARTED + timedelta(hours=15, minutes=59, seconds=59))
    # then
    timer.refresh_from_db()
    assert counts == {"stopped": 0, "failed": 0}
    assert timer.is_running
    assert not timer.needs_review
    assert timer.history.count() == history
    assert mail.outbox == []


def test_running_it_twice_changes_nothing_more(world):
    # given
    timer = running_timer(world)
    forgotten_timers_stop(now=STARTED + timedelta(hours=17))
    timer.refresh_from_db()
    state = (timer.ended_at, timer.needs_review, timer.updated_at, timer.history.count())
    # when
    counts = forgotten_timers_stop(now=STARTED + timedelta(hours=30))
    # then
    timer.refresh_from_db()
    assert counts == {"stopped": 0, "failed": 0}
    assert (timer.ended_at, timer.needs_review, timer.updated_at, timer.history.count()) == state
    assert len(mail.outbox) == 1


def test_a_timer_stopped_meanwhile_is_left_as_it_is(world):
    # given the contractor stopped it between the listing and the lock
    timer = running_timer(world)
    LabellingSession.objects.filter(pk=timer.pk).update(ended_at=STARTED + timedelta(hours=2))
    # when
    stopped = forgotten_timer_stop(session_id=timer.pk, now=STARTED + timedelta(hours=17))
    # then
    timer.refresh_from_db()
    assert not stopped
    assert timer.ended_at == STARTED + timedelta(hours=2)
    assert not timer.needs_review
    assert mail.outbox == []


def test_finished_sessions_and_other_workers_timers_are_not_touched(world):
    # given a finished 16 h session of a, and b's timer started 3 h ago
    long_done = SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=STARTED - timedelta(days=2),
        ended_at=STARTED - timedelta(days=2) + timedelta(hours=16),
    )
    fresh = SessionFactory(
        worker=world.worker_b,
        project=world.project_b,
        started_at=STARTED + timedelta(hours=14),
        ended_at=None,
    )
    # when
    forgotten_timers_stop(now=STARTED + timedelta(hours=17))
    # then
    long_done.refresh_from_db()
    fresh.refresh_from_db()
    assert not long_done.needs_review
    assert fresh.is_running


def test_the_limit_follows_max_session_hours(world, settings):
    # given
    settings.MAX_SESSION_HOURS = 10
    timer = running_timer(world)
    # when
    forgotten_timers_stop(now=STARTED + timedelta(hours=12))
    # then
    timer.refresh_from_db()
    assert timer.ended_at == STARTED + timedelta(hours=10)
    assert "10 hours" in mail.outbox[0].subject


def test_a_timer_of_an_inactive_worker_on_an_inactive_project_is_still_stopped(world):
    # given: a contractor's own stop would be refused, but a timer must not run on
    timer = running_timer(world)
    world.worker_a.is_active = False
    world.worker_a.save()
    world.project_a.is_active = False
    world.project_a.save()
    # when
    forgotten_timers_stop(now=STARTED + timedelta(hours=17))
    # then
    timer.refresh_from_db()
    assert timer.ended_at == STARTED + timedelta(hours=16)


def test_when_the_mail_fails_the_timer_keeps_running_and_stops_at_the_same_instant_later(world, monkeypatch):
    # given a mail server that fails once
    timer = running_timer(world)
    real_send = EmailBackend.send_messages
    failures = iter([True])

    def flaky(self, messages):
        if next(failures, False):
            raise SMTPServerDisconnected("gone")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    # when
    first = forgotten_timers_stop(now=STARTED + timedelta(hours=17))
    timer.refresh_from_db()
    still_running = timer.is_running
    second = forgotten_timers_stop(now=STARTED + timedelta(hours=17, minutes=10))
    # then
    timer.refresh_from_db()
    assert (first, still_running) == ({"stopped": 0, "failed": 1}, True)
    assert second == {"stopped": 1, "failed": 0}
    assert timer.ended_at == STARTED + timedelta(hours=16)
    assert len(mail.outbox) == 1


def test_the_ten_minute_task_stops_forgotten_timers(world, frozen_now):
    # given a timer started 17 h before the frozen now
    timer = running_timer(world, started_at=frozen_now - timedelta(hours=17))
    # when
    counts = stop_forgotten_timers_task.delay().get()
    # then
    timer.refresh_from_db()
    assert counts == {"stopped": 1, "failed": 0}
    assert timer.ended_at == frozen_now - timedelta(hours=1)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_stop_and_mail_once(world):
    # given
    timer = running_timer(world)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def run() -> None:
        try:
            barrier.wait()
            outcomes.append(forgotten_timers_stop(now=STARTED + timedelta(hours=17)))
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then
    timer.refresh_from_db()
    assert sorted(o["stopped"] for o in outcomes) == [0, 1], outcomes  # type: ignore[index]
    assert timer.ended_at == STARTED + timedelta(hours=16)
    assert len(mail.outbox) == 1
