"""Reads of rates: who sees which, and whether a worker's currency is fixed by them."""

from django.db.models import QuerySet

from payroll.models import Rate
from trainers.models import Role, User, Worker
from trainers.selectors import role_of

RATE_READERS_OF_ALL = frozenset({Role.ADMIN, Role.FINANCE})


def rates_visible_to(user: User) -> QuerySet[Rate]:
    """Admin and finance see all rates; a contractor their own; managers none."""
    rates = Rate.objects.select_related("worker", "project")
    if role_of(user) in RATE_READERS_OF_ALL:
        return rates
    if role_of(user) == Role.CONTRACTOR:
        return rates.filter(worker__user=user)
    return rates.none()


def currency_change_refusal_for_rates(worker: Worker, new_currency: str) -> str | None:
    """A worker's currency is fixed once rates exist (PAY_RULES §3: one currency per worker)."""
    if Rate.objects.filter(worker=worker).exclude(currency=new_currency).exists():
        return (
            f"The worker has rates in {worker.currency}; all of a worker's rates share one "
            "currency, so the contract currency cannot change."
        )
    return None
