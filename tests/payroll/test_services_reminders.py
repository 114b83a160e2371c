"""Reminders: contractors to submit ended periods, managers to approve; each mail once."""

import threading
from datetime import UTC, datetime
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from payroll.models import ReminderSent, Timesheet, TimesheetStatus
from payroll.services.close import timesheets_refresh
from payroll.services.reminders import STAGE_APPROVE, STAGE_SUBMIT, reminders_send
from tests.factories import RateFactory, UserFactory
from trainers.models import Role
from trainers.services.sessions import session_update

pytestmark = pytest.mark.django_db
PERIOD = "2026-W45"  # ended by Mon 9 Nov 2026 06:00 UTC in every zone of the world
AFTER = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
DURING = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def sheets(world) -> dict[str, Timesheet]:
    """Open W45 timesheets of contractors a, a2 (team A) and b (team B): 2 h at 15.00 each."""
    workers = {"a": world.worker_a, "a2": world.worker_a2, "b": world.worker_b}
    for worker in workers.values():
        RateFactory(worker=worker)
    timesheets_refresh(workers=workers.values(), period=PERIOD)
    return {name: Timesheet.objects.get(worker=worker, period=PERIOD) for name, worker in workers.items()}


def submit(timesheet: Timesheet) -> None:
    """Mark submitted as the state machine would (its lines and total are already stored).

    Set directly so these tests stay about reminders: timesheet_transition itself is
    tested with the timesheet services.
    """
    Timesheet.objects.filter(pk=timesheet.pk).update(status=TimesheetStatus.SUBMITTED, submitted_at=AFTER)


def test_contractors_are_reminded_to_submit_once_across_two_runs(world, sheets):
    # when
    first = reminders_send(now=AFTER)
    second = reminders_send(now=AFTER)
    # then
    assert first == {STAGE_SUBMIT: 3, STAGE_APPROVE: 0, "failed": 0}
    assert second == {STAGE_SUBMIT: 0, STAGE_APPROVE: 0, "failed": 0}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.worker_a.email, world.worker_a2.email, world.worker_b.email]
    )
    assert ReminderSent.objects.filter(stage=STAGE_SUBMIT).count() == 3


def test_the_submit_mail_names_the_period_total_and_link(world, sheets, settings):
    # given Fairhour served on its public address
    settings.SITE_URL = "https://fairhour.example"
    # when
    reminders_send(now=AFTER)
    # then
    message = next(m for m in mail.outbox if m.to == [world.worker_a.email])
    timesheet = sheets["a"]
    assert PERIOD in message.subject
    assert "Mon 02 Nov to Sun 08 Nov 2026" in message.body
    assert "30.00 USD" in message.body
    assert f"https://fairhour.example/timesheets/{timesheet.pk}/" in message.body


def test_the_submit_mail_shows_the_current_total_of_an_open_timesheet(world, sheets):
    # given a session lengthened after the week ended: 30.00 before, 45.00 now
    session_update(
        actor=world.contractor_a,
        session=world.session_a,
        changes={"ended_at": world.session_a.ended_at.replace(hour=18)},
        now=AFTER,
    )
    # when
    reminders_send(now=AFTER)
    # then
    message = next(m for m in mail.outbox if m.to == [world.worker_a.email])
    assert "45.00 USD" in message.body


def test_no_submit_reminder_before_the_period_ends(world, sheets):
    # when
    counts = reminders_send(now=DURING)
    # then
    assert counts[STAGE_SUBMIT] == 0
    assert mail.outbox == []


def test_a_rejected_timesheet_is_reminded_with_the_reason(world, sheets):
    # given
    Timesheet.objects.filter(pk=sheets["a"].pk).update(
        status=TimesheetStatus.REJECTED, decision_note="Split Tuesday by project.", decided_at=AFTER
    )
    # when
    reminders_send(now=AFTER)
    # then
    message = next(m for m in mail.outbox if m.to == [world.worker_a.email])
    assert "sent back" in message.body
    assert "Split Tuesday by project." in message.body


def test_managers_of_the_team_are_asked_to_approve_once(world, sheets):
    # given contractor a submitted; a2 and b have not
    submit(sheets["a"])
    # when
    first = reminders_send(now=AFTER)
    second = reminders_send(now=AFTER)
    # then
    approve_mails = [m for m in mail.outbox if m.to == [world.manager_a.email]]
    assert first[STAGE_APPROVE] == 1
    assert second == {STAGE_SUBMIT: 0, STAGE_APPROVE: 0, "failed": 0}
    assert len(approve_mails) == 1
    assert world.manager_b.email not in {m.to[0] for m in mail.outbox}
    assert world.worker_a.email not in {m.to[0] for m in mail.outbox}  # submitted: nothing to do
    body = approve_mails[0].body
    assert PERIOD in body
    assert world.worker_a.full_name in body
    assert "30.00 USD" in body
    assert f"http://127.0.0.1:8000/timesheets/{sheets['a'].pk}/" in body  # the default SITE_URL


def test_approve_reminders_go_out_as_soon_as_submitted_even_mid_period(world, sheets):
    # given
    submit(sheets["a"])
    # when
    counts = reminders_send(now=DURING)
    # then
    assert counts == {STAGE_SUBMIT: 0, STAGE_APPROVE: 1, "failed": 0}


def test_every_manager_of_the_team_gets_one_but_not_the_worker_nor_one_without_email(world, sheets):
    # given a second manager, a manager with no address, and a manager who is the worker
    second = UserFactory(username="manager_a_two", role=Role.MANAGER)
    silent = UserFactory(username="manager_silent", role=Role.MANAGER, email="")
    world.team_a.managers.add(second, silent, world.contractor_a)
    submit(sheets["a"])
    # when
    counts = reminders_send(now=AFTER)
    # then
    assert counts[STAGE_APPROVE] == 2
    to = sorted(m.to[0] for m in mail.outbox if "approve" in m.subject)
    assert to == sorted([world.manager_a.email, second.email])
    assert not ReminderSent.objects.filter(recipient=silent).exists()


@pytest.mark.parametrize("status", [TimesheetStatus.APPROVED, TimesheetStatus.INVOICED])
def test_nothing_is_sent_for_approved_or_invoiced_timesheets(world, sheets, status):
    # given
    Timesheet.objects.filter(period=PERIOD).update(status=status)
    # when
    counts = reminders_send(now=AFTER)
    # then
    assert counts == {STAGE_SUBMIT: 0, STAGE_APPROVE: 0, "failed": 0}
    assert mail.outbox == []


def test_a_reminder_whose_mail_fails_is_not_recorded_and_goes_out_next_run(world, sheets, monkeypatch):
    # given a mail server that fails the first send
    real_send = EmailBackend.send_messages
    failures = iter([True])

    def flaky(self, messages):
        if next(failures, False):
            raise SMTPServerDisconnected("gone")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    # when
    first = reminders_send(now=AFTER)
    second = reminders_send(now=AFTER)
    # then
    assert (first["failed"], first[STAGE_SUBMIT]) == (1, 2)
    assert (second["failed"], second[STAGE_SUBMIT]) == (0, 1)
    assert len(mail.outbox) == 3
    assert ReminderSent.objects.count() == 3


def test_an_inactive_contractor_is_not_reminded(world, sheets):
    # given
    world.contractor_b.is_active = False
    world.contractor_b.save()
    # when
    reminders_send(now=AFTER)
    # then
    assert world.worker_b.email not in {m.to[0] for m in mail.outbox}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_reminder_once(world, sheets):
    # given
    submit(sheets["a"])
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def run() -> None:
        try:
            barrier.wait()
            outcomes.append(reminders_send(now=AFTER))
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
    # then: 2 submit (a2, b) and 1 approve, each once across both runs
    assert all(isinstance(outcome, dict) for outcome in outcomes), outcomes
    assert sum(o[STAGE_SUBMIT] for o in outcomes) == 2  # type: ignore[index]
    assert sum(o[STAGE_APPROVE] for o in outcomes) == 1  # type: ignore[index]
    assert len(mail.outbox) == 3
    assert ReminderSent.objects.count() == 3
