"""Timers left running: stopped at exactly MAX_SESSION_HOURS, flagged, and the contractor told.

This is what session_stop does when a contractor stops a timer too late (PAY_RULES §1),
done by Fairhour itself so a forgotten timer never runs on. The §1 checks a contractor's
stop passes (active project and worker, unlocked period) are not asked here: a running
timer must end whatever changed while it ran, and needs_review puts it before a person.
"""

import logging
from datetime import datetime, timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.db import locks
from trainers.models import LabellingSession
from trainers.services.sessions import announce_time_changed

logger = logging.getLogger(__name__)
CHANGE_REASON = "Stopped by Fairhour at the maximum session length"


def forgotten_timers_stop(*, now: datetime | None = None) -> dict[str, int]:
    """Stop every timer running MAX_SESSION_HOURS or longer at `now`; count what happened.

    A timer whose mail cannot be sent stays running until a later run: its end is
    started_at + MAX_SESSION_HOURS whenever it is stopped, so waiting changes no figure.
    """
    now = now or timezone.now()
    ids = list(
        LabellingSession.objects.filter(ended_at__isnull=True, started_at__lte=now - _longest())
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    counts = {"stopped": 0, "failed": 0}
    for session_id in ids:
        try:
            counts["stopped"] += forgotten_timer_stop(session_id=session_id, now=now)
        except (SMTPException, OSError):
            logger.exception("Forgotten timer %s not stopped: its mail could not be sent", session_id)
            counts["failed"] += 1
    return counts


def forgotten_timer_stop(*, session_id: int, now: datetime) -> bool:
    """Stop one forgotten timer at started_at + MAX_SESSION_HOURS; False if no longer due."""
    longest = _longest()
    with transaction.atomic():
        worker_id = LabellingSession.objects.filter(pk=session_id).values_list("worker_id", flat=True).first()
        if worker_id is None:
            return False
        locks.worker(worker_id)  # the lock order of every session write
        session = locks.session(session_id)
        if session is None or not session.is_running or now - session.started_at < longest:
            return False  # stopped (or deleted) meanwhile
        session.ended_at, session.needs_review = session.started_at + longest, True
        session._history_user = None  # type: ignore[attr-defined]  # the system, not a person
        session._change_reason = CHANGE_REASON  # type: ignore[attr-defined]
        session.save(update_fields=["ended_at", "needs_review", "updated_at"])
        announce_time_changed(session.worker, session)
        # Sent inside the transaction: if the mail fails, the timer stays running and the
        # next run stops it and tries the mail again.
        if session.worker.email and session.worker.user.is_active:  # who cannot sign in cannot correct it
            _stopped_message(session).send()
    return True


def _longest() -> timedelta:
    return timedelta(hours=settings.MAX_SESSION_HOURS)


def _stopped_message(session: LabellingSession) -> EmailMessage:
    worker = session.worker
    assert session.ended_at is not None  # noqa: S101 - just set; tells the type checker
    zone = worker.zone
    started = session.started_at.astimezone(zone)
    ended = session.ended_at.astimezone(zone)
    hours = settings.MAX_SESSION_HOURS
    body = (
        f"Hello {worker.full_name},\n\n"
        f"Your timer on '{session.project.name}' had been running for {hours} hours or more, "
        f"so Fairhour stopped it at exactly {hours} hours:\n"
        f"  started {started:%a %d %b %Y %H:%M}, stopped {ended:%a %d %b %Y %H:%M} ({worker.time_zone}).\n\n"
        "The session is marked for review. If you worked a different time, correct it: "
        f"{settings.SITE_URL}{reverse('trainers:session-edit', args=[session.pk])}\n"
    )
    subject = f"Fairhour stopped your timer after {hours} hours"
    return EmailMessage(subject=subject, body=body, to=[worker.email])
