"""Extension points through which payroll constrains trainers without a reverse import.

trainers never imports payroll (ARCHITECTURE.md). payroll registers its checks here in
its AppConfig.ready(): which periods are locked by a timesheet, and whether a worker's
contract currency may still change.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trainers.models import Worker

PeriodLockCheck = Callable[["Worker", str], str | None]
CurrencyChangeCheck = Callable[["Worker", str], str | None]

_period_lock_checks: list[PeriodLockCheck] = []
_currency_change_checks: list[CurrencyChangeCheck] = []


def register_period_lock(check: PeriodLockCheck) -> None:
    """Add a check that returns why a worker's period is locked, or None."""
    if check not in _period_lock_checks:
        _period_lock_checks.append(check)


def unregister_period_lock(check: PeriodLockCheck) -> None:
    """Remove a period lock check (tests use this to clean up)."""
    if check in _period_lock_checks:
        _period_lock_checks.remove(check)


def period_lock_reason(worker: "Worker", period: str) -> str | None:
    """Return why `period` is locked for `worker`, or None if sessions may change."""
    for check in _period_lock_checks:
        reason = check(worker, period)
        if reason:
            return reason
    return None


def register_currency_change_check(check: CurrencyChangeCheck) -> None:
    """Add a check that returns why a worker's currency may not become `new`, or None."""
    if check not in _currency_change_checks:
        _currency_change_checks.append(check)


def currency_change_refusal(worker: "Worker", new_currency: str) -> str | None:
    """Return why the worker's currency may not change, or None."""
    for check in _currency_change_checks:
        reason = check(worker, new_currency)
        if reason:
            return reason
    return None
