"""Writes of rates (PAY_RULES §3, §8, §9): effective-dated, one currency per worker.

A rate's scope is the worker's default, one project, or one non-production activity.
"""

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction

from core.db import locks
from core.errors import InvalidInput
from payroll.models import RATE_DAYS, Rate
from payroll.services.timesheets import timesheets_reprice_unsigned
from trainers.models import NON_PRODUCTION_ACTIVITIES, Role, User, Worker
from trainers.services.people import ensure_role

RATE_MANAGERS = frozenset({Role.ADMIN, Role.FINANCE})


def rate_create(*, actor: User, fields: Mapping[str, Any]) -> Rate:
    """Add an effective-dated rate for a worker, optionally scoped to one project."""
    ensure_role(actor, RATE_MANAGERS)
    return _save_rate(actor, Rate(**fields))


def rate_update(*, actor: User, rate: Rate, changes: Mapping[str, Any]) -> Rate:
    """Correct a rate; its worker never changes."""
    ensure_role(actor, RATE_MANAGERS)
    if "worker" in changes and changes["worker"] != rate.worker:
        raise InvalidInput({"worker": ["The worker of a rate cannot change; add a new rate."]})
    for field, value in changes.items():
        setattr(rate, field, value)
    return _save_rate(actor, rate)


def rate_delete(*, actor: User, rate: Rate) -> None:
    """Remove a rate entered by mistake (its history is kept)."""
    ensure_role(actor, RATE_MANAGERS)
    with transaction.atomic():
        worker = locks.worker(rate.worker_id)  # as _save_rate: the worker's writes queue
        rate._history_user = actor  # type: ignore[attr-defined]
        rate.delete()
        timesheets_reprice_unsigned(worker)


# The calendar Fairhour holds (periods of 2000-2999); a rate outside it could not be read in
# every zone (local midnight of 0001-01-01 east of UTC is before the first datetime).
EARLIEST_RATE_DAY, LATEST_RATE_DAY = RATE_DAYS
SAME_DAY_MESSAGE = "A rate for this worker and scope already starts on that day."


def _save_rate(actor: User, rate: Rate) -> Rate:
    with transaction.atomic():
        # The worker as it is now, locked as worker_update locks it: a currency changed since
        # the caller read the worker is the one the rate must be in (one currency per worker).
        rate.worker = locks.worker(rate.worker_id)
        _check_rate(rate.worker, rate)
        same_day = Rate.objects.filter(
            worker=rate.worker,
            project=rate.project,
            activity=rate.activity,
            effective_from=rate.effective_from,
        ).exclude(pk=rate.pk)
        if same_day.exists():
            raise InvalidInput({"effective_from": [SAME_DAY_MESSAGE]})
        rate._history_user = actor  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                rate.save()
        except IntegrityError as error:  # a concurrent insert won the race past the check above
            if "unique" not in str(error).lower():
                raise
            raise InvalidInput({"effective_from": [SAME_DAY_MESSAGE]}) from error
        timesheets_reprice_unsigned(rate.worker)
    return rate


SCOPE_MESSAGE = "A rate is scoped to a project or to an activity, not both; leave one empty."
ACTIVITY_SCOPE_MESSAGE = (
    f"Only a non-production activity has rates of its own ({', '.join(NON_PRODUCTION_ACTIVITIES)}); "
    "labelling is paid at the project or default rate."
)


def _check_rate(worker: Worker, rate: Rate) -> None:
    errors: dict[str, list[str]] = {}
    if not EARLIEST_RATE_DAY <= rate.effective_from <= LATEST_RATE_DAY:
        errors["effective_from"] = [
            f"Must be between {EARLIEST_RATE_DAY} and {LATEST_RATE_DAY}, the days Fairhour pays."
        ]
    if rate.currency != worker.currency:
        errors["currency"] = [f"Must be the worker's contract currency, {worker.currency}."]
    if rate.activity is not None and rate.activity not in NON_PRODUCTION_ACTIVITIES:
        errors["activity"] = [ACTIVITY_SCOPE_MESSAGE]
    elif rate.activity is not None and rate.project is not None:
        errors["activity"] = [SCOPE_MESSAGE]
    if rate.project is not None and not rate.project.workers.filter(pk=worker.pk).exists():
        errors["project"] = ["The worker is not assigned to this project."]
    if errors:
        raise InvalidInput(errors)
