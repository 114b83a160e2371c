"""Every read of pay data, scoped by the caller's role."""

from django.db.models import QuerySet

from payroll.models import Rate
from trainers.models import Role, User
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
