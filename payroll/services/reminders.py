"""Reminders by email: contractors to submit ended periods, managers to approve.

Each reminder goes out once per (timesheet, stage, recipient): the ReminderSent row is
inserted and the mail sent in one transaction, and the row's unique constraint makes a
second run, or a concurrent one, skip it. A mail that fails to send rolls its row back,
so the next run tries again.
"""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from payroll.models import FROZEN_STATUSES, ReminderSent, Timesheet, TimesheetStatus
from payroll.selectors.timesheets import timesheet_figures
from trainers.models import Role, User

logger = logging.getLogger(__name__)

STAGE_SUBMIT = "submit"
STAGE_APPROVE = "approve"
AWAITING_SUBMISSION = (TimesheetStatus.OPEN, TimesheetStatus.REJECTED)
APPROVER_ROLES = (Role.MANAGER, Role.ADMIN)  # who may decide a team's timesheet (§6)
BATCH_SIZE = 500


@dataclass(frozen=True)
class Reminder:
    """One mail to one person about one timesheet at one stage."""

    timesheet: Timesheet
    stage: str
    recipient: User
    address: str


def reminders_send(*, now: datetime | None = None) -> dict[str, int]:
    """Send every reminder due at `now` that has not gone out yet; return counts per stage."""
    now = now or timezone.now()
    counts = {STAGE_SUBMIT: 0, STAGE_APPROVE: 0, "failed": 0}
    with get_connection() as connection:
        for reminder in _due_reminders(now):
            outcome = reminder_send(reminder=reminder, now=now, connection=connection)
            if outcome is None:
                counts["failed"] += 1
            elif outcome:
                counts[reminder.stage] += 1
    return counts


def reminder_send(
    *, reminder: Reminder, now: datetime, connection: BaseEmailBackend | None = None
) -> bool | None:
    """Record and send one reminder together: True if sent, False if it already went out,
    None if the mail could not be sent (nothing is recorded, so it is retried later)."""
    message = reminder_message(reminder, connection=connection)
    try:
        with transaction.atomic():
            ReminderSent.objects.create(
                timesheet=reminder.timesheet, stage=reminder.stage, recipient=reminder.recipient, sent_at=now
            )
            message.send()
    except IntegrityError:  # sent by an earlier or concurrent run
        return False
    except (SMTPException, OSError, BadHeaderError):  # one mail failing never stops the run
        logger.exception("Reminder %s for timesheet %s not sent", reminder.stage, reminder.timesheet.pk)
        return None
    return True


def _due_reminders(now: datetime) -> Iterator[Reminder]:
    yield from _submit_reminders(now)
    yield from _approve_reminders()


def _submit_reminders(now: datetime) -> Iterator[Reminder]:
    """Contractors whose timesheet is still open or rejected after its period ended."""
    already = ReminderSent.objects.filter(
        timesheet=OuterRef("pk"), stage=STAGE_SUBMIT, recipient=OuterRef("worker__user")
    )
    ids = list(
        Timesheet.objects.filter(
            status__in=AWAITING_SUBMISSION, period_end__lt=now, worker__user__is_active=True
        )
        .exclude(worker__email="")
        .exclude(Exists(already))
        .order_by("period_end", "pk")
        .values_list("pk", flat=True)
    )
    for batch in _batches(ids):
        for timesheet in Timesheet.objects.filter(pk__in=batch).select_related("worker__user").order_by("pk"):
            yield Reminder(timesheet, STAGE_SUBMIT, timesheet.worker.user, timesheet.worker.email)


def _approve_reminders() -> Iterator[Reminder]:
    """Each manager of the worker's team, for every submitted timesheet (never their own)."""
    ids = list(
        Timesheet.objects.filter(status=TimesheetStatus.SUBMITTED).order_by("pk").values_list("pk", flat=True)
    )
    for batch in _batches(ids):
        sent = set(
            ReminderSent.objects.filter(timesheet_id__in=batch, stage=STAGE_APPROVE).values_list(
                "timesheet_id", "recipient_id"
            )
        )
        timesheets = (
            Timesheet.objects.filter(pk__in=batch, worker__team__isnull=False)
            .select_related("worker__team")
            .prefetch_related("worker__team__managers")
            .order_by("pk")
        )
        for timesheet in timesheets:
            for manager in _approvers(timesheet):
                if (timesheet.pk, manager.pk) not in sent:
                    yield Reminder(timesheet, STAGE_APPROVE, manager, manager.email)


def _approvers(timesheet: Timesheet) -> list[User]:
    team = timesheet.worker.team
    assert team is not None  # noqa: S101 - filtered above; tells the type checker
    return [
        manager
        for manager in team.managers.all()
        if manager.is_active
        and manager.email
        and manager.role in APPROVER_ROLES
        and manager.pk != timesheet.worker.user_id
    ]


def _batches(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]


# The mails ----------------------------------------------------------------------------


def reminder_message(reminder: Reminder, *, connection: BaseEmailBackend | None = None) -> EmailMessage:
    """The reminder's mail: it names the period, the total and where to act."""
    timesheet = reminder.timesheet
    if reminder.stage == STAGE_SUBMIT:
        subject, body = _submit_text(timesheet)
    else:
        subject, body = _approve_text(timesheet, reminder.recipient)
    # A name may hold a line break (typed or pasted): a subject is one line, or Django refuses
    # the header (BadHeaderError) and the run stopped at that mail.
    subject = " ".join(subject.split())
    return EmailMessage(subject=subject, body=body, to=[reminder.address], connection=connection)


def _submit_text(timesheet: Timesheet) -> tuple[str, str]:
    worker = timesheet.worker
    state = "was sent back and not resubmitted" if timesheet.status == TimesheetStatus.REJECTED else "is open"
    subject = f"Please submit your timesheet for {timesheet.period}"
    body = (
        f"Hello {worker.full_name},\n\n"
        f"The pay period {timesheet.period} ({_local_dates(timesheet)}) has ended and your "
        f"timesheet {state}.\n"
        f"Total so far: {_total(timesheet)} {timesheet.currency}.\n\n"
        f"Please check it and submit it: {_page(timesheet)}\n"
    )
    if timesheet.status == TimesheetStatus.REJECTED and timesheet.decision_note:
        body += f"\nWhy it was sent back: {timesheet.decision_note}\n"
    return subject, body


def _approve_text(timesheet: Timesheet, manager: User) -> tuple[str, str]:
    worker = timesheet.worker
    subject = f"Timesheet to approve: {worker.full_name}, {timesheet.period}"
    body = (
        f"Hello {manager.get_full_name() or manager.username},\n\n"
        f"{worker.full_name} submitted the timesheet for {timesheet.period} "
        f"({_local_dates(timesheet)}), total {_total(timesheet)} {timesheet.currency}. "
        f"It is waiting for your approval.\n\n"
        f"Review it: {_page(timesheet)}\n"
    )
    return subject, body


def _page(timesheet: Timesheet) -> str:
    """The timesheet's web page, as an absolute link."""
    return settings.SITE_URL + reverse("payroll:timesheet", args=[timesheet.pk])


def _total(timesheet: Timesheet) -> Decimal:
    """The stored total once submitted; otherwise the figures the contractor sees now."""
    if timesheet.status in FROZEN_STATUSES:
        return timesheet.total
    return timesheet_figures(timesheet).total


def _local_dates(timesheet: Timesheet) -> str:
    zone = timesheet.worker.zone
    first = timesheet.period_start.astimezone(zone).date()
    last = (timesheet.period_end.astimezone(zone) - timedelta(days=1)).date()
    return f"{first:%a %d %b} to {last:%a %d %b %Y}"
