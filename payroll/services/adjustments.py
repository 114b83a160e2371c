"""Adjustments (PAY_RULES §6): signed corrections paid in the worker's next open period."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.db import locks
from core.errors import Conflict, Forbidden, InvalidInput
from payroll.models import MAX_ADJUSTMENT, Adjustment
from payroll.money import CENT
from payroll.selectors.timesheets import next_open_period
from payroll.services.close import timesheets_refresh
from trainers.models import Role, User, Worker
from trainers.selectors import manages_worker

REASON_NEEDED = "Say why the adjustment is made."


def adjustment_create(
    *, actor: User, worker: Worker, amount: Decimal, currency: str, reason: str, now: datetime | None = None
) -> Adjustment:
    """Add a signed correction to the worker's next open period (PAY_RULES §6)."""
    _guard_adjustment(actor, worker)
    now = now or timezone.now()
    with transaction.atomic():
        # Locked first: it serialises double submits, and the currency is checked as it now
        # is (a change committed since the caller read the worker would mix two currencies).
        worker = locks.worker(worker.pk)
        errors = _adjustment_errors(worker, amount, currency, reason)
        if errors:
            raise InvalidInput(errors)
        _refuse_repeated_adjustment(worker, actor, amount, reason, now)
        period = next_open_period(worker, now)
        adjustment = Adjustment.objects.create(
            worker=worker,
            amount=amount.quantize(CENT),  # whole cents (checked above), shown as such: 12.50
            currency=currency,
            reason=reason,
            applies_to_period=period,
            created_by=actor,
        )
        timesheets_refresh(workers=[worker.pk], period=period)  # its week shows it at once
    return adjustment


def _adjustment_errors(worker: Worker, amount: Decimal, currency: str, reason: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if currency != worker.currency:
        errors["currency"] = [f"Must be the worker's contract currency, {worker.currency}."]
    if amount.is_finite() and amount == 0:
        errors["amount"] = ["An adjustment must not be zero."]
    elif (
        not amount.is_finite()
        or amount != amount.quantize(CENT)
        or not -MAX_ADJUSTMENT < amount < MAX_ADJUSTMENT
    ):
        errors["amount"] = [f"Whole cents, strictly between -{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}."]
    if not reason.strip():
        errors["reason"] = [REASON_NEEDED]
    return errors


REPEAT_WINDOW = timedelta(minutes=2)


def _refuse_repeated_adjustment(
    worker: Worker, actor: User, amount: Decimal, reason: str, now: datetime
) -> None:
    """The same money twice within moments is a double click, not a decision (LESSONS)."""
    twin = Adjustment.objects.filter(
        worker=worker, created_by=actor, amount=amount, reason=reason, created_at__gte=now - REPEAT_WINDOW
    ).first()
    if twin is not None:
        raise Conflict(
            f"The same adjustment ({twin.amount} {twin.currency}, '{reason}') was just added "
            f"(#{twin.pk}). If it is meant twice, say so in the reason."
        )


def _guard_adjustment(actor: User, worker: Worker) -> None:
    if worker.user_id == actor.pk:
        raise Forbidden("Nobody adjusts their own pay.")
    if actor.role in (Role.FINANCE, Role.ADMIN):
        return
    if actor.role == Role.MANAGER and manages_worker(actor, worker):
        return
    raise Forbidden("Only finance, an admin or a manager of the worker's team may add adjustments.")
