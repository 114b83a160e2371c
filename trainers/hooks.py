"""Extension points through which payroll constrains trainers without a reverse import.

trainers never imports payroll (ARCHITECTURE.md). payroll registers its checks here in
its AppConfig.ready(): which periods are locked by a timesheet, whether a worker's contract
currency or time zone may still change, and what follows when a worker's terms or logged
time change (their weeks are priced again in the same transaction).
"""

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trainers.models import Worker

PeriodLockCheck = Callable[["Worker", str], str | None]
ContractChangeCheck = Callable[["Worker", Any], str | None]
# (the worker as it now is, {each field that changed: its value before})
WorkerChanged = Callable[["Worker", Mapping[str, Any]], None]
# {period key: the workers whose finished time in that period changed}, each as the writer
# read it under its row lock (SELECT ... FOR UPDATE), which it holds until commit
TimeChanged = Callable[[Mapping[str, set["Worker"]]], None]

_period_lock_checks: list[PeriodLockCheck] = []
_contract_change_checks: dict[str, list[ContractChangeCheck]] = {}
_worker_changed_callbacks: list[WorkerChanged] = []
_time_changed_callbacks: list[TimeChanged] = []


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


def register_contract_change_check(field: str, check: ContractChangeCheck) -> None:
    """Add a check that returns why a worker's `field` may not take a new value, or None."""
    checks = _contract_change_checks.setdefault(field, [])
    if check not in checks:
        checks.append(check)


def contract_change_refusal(worker: "Worker", field: str, new_value: object) -> str | None:
    """Return why the worker's `field` may not become `new_value`, or None."""
    for check in _contract_change_checks.get(field, []):
        reason = check(worker, new_value)
        if reason:
            return reason
    return None


def register_worker_changed(callback: WorkerChanged) -> None:
    """Add a callback run inside the transaction after a worker's profile or terms changed."""
    if callback not in _worker_changed_callbacks:
        _worker_changed_callbacks.append(callback)


def worker_changed(worker: "Worker", previous: Mapping[str, Any]) -> None:
    """Tell the registered callbacks which of the worker's fields just changed, and from what."""
    for callback in _worker_changed_callbacks:
        callback(worker, previous)


def register_time_changed(callback: TimeChanged) -> None:
    """Add a callback run inside the transaction after sessions were written or deleted."""
    if callback not in _time_changed_callbacks:
        _time_changed_callbacks.append(callback)


def time_changed(changes: Mapping[str, set["Worker"]]) -> None:
    """Tell the registered callbacks whose finished time changed in which periods."""
    if not changes:
        return
    for callback in _time_changed_callbacks:
        callback(changes)
